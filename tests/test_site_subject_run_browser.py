"""An order's or a request's page proves its own events complete (index version 2 on): it
ships exactly the events of its run of the checkpoint's index (``order/REF``), with that
run's completeness proof, and the browser checks that none is missing and none is another's,
however long its platform; against a version 1 checkpoint it proves its platform's run."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import base64
from pathlib import Path

import pytest

from tests.site_browser import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser,
    long_site,
    published,
    site,
    tab,
    tamper,
)
from tests.test_publish import page_data

pytestmark = NEEDS_CHROMIUM

REF = "kominfo-2017-07-14"
ORDER = f"order/{REF}.html"


def _own_positions(site: Path) -> list[int]:
    return page_data(site / ORDER)["index"]["proof"]["positions"]


class TestWritten:
    def test_the_page_ships_exactly_its_run(self, site):
        """The 2017 case: the order's page carries its run's proof and exactly its events
        (8 of telegram's 33), each naming it, and a headline that claims no other page."""
        data = page_data(site / ORDER)
        assert data["index"]["platform"] == f"order/{REF}"
        positions = data["index"]["proof"]["positions"]
        assert [int(e["canonical"].split('"position":')[1].split(",")[0].rstrip("}"))
                for e in data["events"]] == positions
        assert len(positions) == data["index"]["proof"]["count"] == 8
        assert all(f'"subject":"{REF}"' in e["canonical"] for e in data["events"])
        assert data["headline"]["complete_on"] is None


class TestInTheBrowser:
    def test_the_order_page_is_green_and_shows_its_events(self, tab, site):
        page = tab.open(site / ORDER)
        cls, text = tab.badge()
        assert "ok" in cls, text
        assert f"none of {REF}'s own events 1\u20138 of 8 is left out and none is another's" \
            in text
        assert len(page.query_selector_all("#events > li")) == 8
        assert "lifted" in page.inner_text("#headline")

    def test_an_event_removed_is_red(self, tab, site):
        path = site / ORDER
        gone = _own_positions(site)[3]
        tamper(path, lambda data: data["events"].pop(3))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text
        assert f"the event at position {gone}, which concerns order/{REF}, is missing" in text

    def test_a_foreign_event_added_is_red(self, tab, site):
        """An event of telegram's that is not the order's (it verifies on its own)."""
        own = set(_own_positions(site))
        foreign = next(e for e in page_data(site / "platform/telegram.html")["events"]
                       if not any(f'"position":{p},' in e["canonical"]
                                  or f'"position":{p}}}' in e["canonical"] for p in own))
        path = site / ORDER
        tamper(path, lambda data: data["events"].append({**foreign, "n": 9}))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text
        assert f"event 9 does not concern order/{REF} (a foreign event was added)" in text

    @pytest.mark.parametrize(("change", "named"), [
        (lambda proof: proof["proofs"][2].__setitem__(
            0, base64.b64encode(bytes(32)).decode()), "is not in the checkpoint's index"),
        (lambda proof: proof.update(count=7, positions=proof["positions"][:7],
                                    proofs=proof["proofs"][:7]), "neighbour after"),
        (lambda proof: proof["after"].update(position=proof["after"]["position"] + 1),
         "the neighbour after is not in the index"),
    ], ids=["a-hash", "a-shorter-run", "a-neighbour"])
    def test_an_edited_run_proof_is_red(self, tab, site, change, named):
        """One hash of the run's proof, the run cut short (with an event taken off to
        match), or a neighbour moved: red, naming the run's proof."""
        path = site / ORDER

        def edit(data):
            change(data["index"]["proof"])
            data["events"] = data["events"][:len(data["index"]["proof"]["positions"])]
        tamper(path, edit)
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text
        assert f"the completeness proof of order/{REF}" in text and named in text, text

    def test_the_platforms_proof_in_its_place_is_red(self, tab, site):
        """The host shipping telegram's run and events instead (the page of a version 1
        checkpoint): the checkpoint's index has the order's run, so the page must prove
        it."""
        platform = page_data(site / "platform/telegram.html")
        path = site / ORDER
        tamper(path, lambda data: data.update(index=platform["index"],
                                              events=platform["events"]))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text
        assert f"does not prove {REF}'s own events complete" in text

    def test_another_orders_run_is_red(self, tab, site):
        """The run, events and headline of another subject's page: it is not this one."""
        other = next(p for p in (site / "request").glob("*.html"))
        path = site / ORDER
        tamper(path, lambda data: data.update(
            {k: v for k, v in page_data(other).items() if k in ("index", "events")}))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text
        assert "own events complete" in text

    def test_a_request_page_is_green(self, tab, site):
        for path in sorted((site / "request").glob("*.html")):
            page = tab.open(path)
            cls, text = tab.badge()
            assert "ok" in cls, (path, text)
            assert "is left out and none is another's" in text
            assert len(page.query_selector_all("#events > li")) == len(
                page_data(path)["index"]["proof"]["positions"])


@pytest.fixture
def v1_site(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    """The 2017 case checkpointed with a version 1 index (platforms only)."""
    monkeypatch.setattr("ledger.platform_index.VERSION", 1)
    return published(runner, sqlite_path, tmp_path / "site", sources=(example,))


class TestLongAndOld:
    def test_a_long_platforms_order_proves_itself(self, tab, long_site):
        """No pointer to telegram's history pages: the order's page proves its own run."""
        data = page_data(long_site / ORDER)
        assert data["headline"]["complete_on"] is None
        assert data["index"]["platform"] == f"order/{REF}"
        page = tab.open(long_site / ORDER)
        cls, text = tab.badge()
        assert "ok" in cls, text
        assert "own events 1\u20138 of 8 is left out" in text
        assert "does not prove" not in text
        assert len(page.query_selector_all("#events > li")) == 8

    def test_a_long_platforms_order_missing_an_event_is_red(self, tab, long_site):
        path = long_site / ORDER
        tamper(path, lambda data: data["events"].pop(0))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "an event was left out" in text, text

    def test_a_version_1_checkpoint_falls_back_to_its_platform(self, tab, v1_site):
        """The page proves telegram's run and shows the events naming the order."""
        assert page_data(v1_site / ORDER)["index"]["platform"] == "telegram"
        page = tab.open(v1_site / ORDER)
        cls, text = tab.badge()
        assert "ok" in cls, text
        assert "none of telegram's events is left out" in text
        assert len(page.query_selector_all("#events > li")) == 8

    def test_a_version_1_page_cannot_claim_a_run(self, tab, v1_site):
        """A page naming the order's run under a version 1 checkpoint: that index has no
        such run (red, naming it)."""
        path = v1_site / ORDER
        tamper(path, lambda data: data["index"].update(platform=f"order/{REF}"))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and f"(version 1) has no run of order/{REF}" in text, text

    def test_a_version_1_page_proving_a_foreign_platform_is_red(self, tab, v1_site):
        """Under version 1 the page must prove one of the order's own platforms."""
        path = v1_site / ORDER
        tamper(path, lambda data: data["index"].update(platform="viber"))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "which is none of" in text, text
