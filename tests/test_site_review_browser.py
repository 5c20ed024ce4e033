"""A hostile review of the published site (issue #17), each finding a regression test:
the home's row of a platform some of whose orders name no jurisdiction (M2); a host that
edits only a page's HTML, its filters' option values or an inline style, under a green
badge (M3); "Verify" after a failure found by a lazy load (L1); a platform page's slider
and summary in one jurisdiction (L2); an earlier publication's page served beside newer
scripts (L3)."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.clitools import key_pair, run
from tests.site_browser import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser,
    published,
    show_day,
    sign_root_only,
    tab,
    tamper,
)
from tests.test_publish import page_data
from tests.test_publish_jurisdictions import two_jurisdictions
from tests.test_site_parts_browser import (  # noqa: F401 (fixture)
    listed,
    searched_an_edited_index,
)

pytestmark = NEEDS_CHROMIUM

SOURCE = ("--source", "https://example.org/s")


def shown(page) -> list[tuple[str, str]]:
    """(jurisdiction, state) of each row shown."""
    return [(row.query_selector("td[data-label=Jurisdiction]").inner_text(),
             row.query_selector(".state").inner_text())
            for row in page.query_selector_all("table.platforms tbody tr") if row.is_visible()]


@pytest.fixture
def unattributed(runner, sqlite_path, example, tmp_path) -> Path:
    """The reviewer's ledger: Indonesia's order (lifted), Brazil's in force, and x-2023,
    which names no jurisdiction, lifted."""
    two_jurisdictions(runner, sqlite_path, example)
    for args in (("record", "blocked", "x-2023", "--at", "2023-01-01", "--platform", "telegram",
                  "--authority", "Someone", "--target", "web.telegram.org", "--reason", "y"),
                 ("record", "unblocked", "x-2023", "--at", "2023-02-01")):
        done = run(runner, sqlite_path, *args, *SOURCE)
        assert done.exit_code == 0, done.output
    return published(runner, sqlite_path, tmp_path / "site")


class TestTheRowOfOrdersNamingNone:
    def test_it_says_it_is_the_whole_answer(self, tab, unattributed):
        """The row with no jurisdiction carries the whole answer (Brazil's order in
        force, every authority): labelled so, never "none named" as if x-2023, lifted,
        were in force; the filter's choice says the same."""
        whole = [r for r in page_data(unattributed / "index.html")["rows"]
                 if r["jurisdiction"] is None]
        assert [r["state"] for r in whole] == ["partially-blocked"]
        page = tab.open(unattributed / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        label = "all orders (some name no jurisdiction)"
        assert (label, "partially-blocked") in shown(page)
        assert "none named" not in page.inner_text("table.platforms")
        page.select_option("#f-jurisdiction", "-")
        assert shown(page) == [(label, "partially-blocked")]
        chosen = "s => s.options[s.selectedIndex].text"
        assert page.eval_on_selector("#f-jurisdiction", chosen) == label
        assert label in page.inner_text("#f-count")


@pytest.fixture
def jurisdictions(runner, sqlite_path, example, tmp_path) -> Path:
    """Indonesia's order (lifted) and Brazil's (in force): rows of two states and two
    authorities."""
    two_jurisdictions(runner, sqlite_path, example)
    return published(runner, sqlite_path, tmp_path / "site")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


class TestAHostEditingOnlyHtml:
    def test_swapped_state_options_are_rebuilt_from_the_signed_rows(self, tab, jurisdictions):
        """The State filter's "any" made to select accessible rows only (and an authority's
        option another's value): the options come from the signed rows, every row shows."""
        path = jurisdictions / "index.html"
        edit(path, '<select id="f-state"><option value="">any</option>',
             '<select id="f-state"><option value="accessible" selected>any</option>')
        edit(path, "<option>Kominfo</option>",
             '<option value="Supreme Federal Court">Kominfo</option>')
        page = tab.open(path)
        assert "ok" in tab.badge()[0], tab.badge()
        assert sorted(shown(page)) == [("BR", "partially-blocked"), ("ID", "accessible")]
        options = page.eval_on_selector_all(
            "#f-state option, #f-authority option", "os => os.map(o => [o.value, o.text])")
        assert options == [["", "any"], ["accessible", "accessible"],
                           ["partially-blocked", "partially-blocked"], ["", "any"],
                           ["Kominfo", "Kominfo"],
                           ["Supreme Federal Court", "Supreme Federal Court"]]
        page.select_option("#f-authority", label="Kominfo")
        assert shown(page) == [("ID", "accessible")]

    def test_an_inline_style_does_not_apply(self, tab, jurisdictions):
        """A <style> in the page's head relabelling blocked rows "accessible" and hiding
        "Blocked for": the Content-Security-Policy allows no inline style."""
        path = jurisdictions / "index.html"
        edit(path, "</head>", '<style>.state-partially-blocked{font-size:0!important}'
             '.state-partially-blocked::after{content:"accessible";font-size:16px}'
             'td[data-label="Blocked for"]{visibility:hidden}</style></head>')
        page = tab.open(path)
        assert "ok" in tab.badge()[0], tab.badge()
        cell = ".state.state-partially-blocked"
        assert page.eval_on_selector(cell, "e => getComputedStyle(e).fontSize") != "0px"
        after = page.eval_on_selector(cell, "e => getComputedStyle(e, '::after').content")
        assert after in ("none", "normal")
        assert page.eval_on_selector('td[data-label="Blocked for"]',
                                     "e => getComputedStyle(e).visibility") == "visible"

    def test_no_page_needs_an_inline_style(self, tab, jurisdictions):
        """No published page carries a style attribute or element, and the report
        legend's colours still apply, from static/site.css, under the policy."""
        for page in jurisdictions.rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            assert "'unsafe-inline'" not in text, page
            assert not re.search(r"<style|\sstyle=", text), page
        page = tab.open(jurisdictions / "platform/telegram.html")
        assert "ok" in tab.badge()[0], tab.badge()
        colour = "e => getComputedStyle(e).color"
        assert page.eval_on_selector(".ink-color-b71c1c", colour) == "rgb(183, 28, 28)"
        background = "e => getComputedStyle(e).backgroundColor"
        assert page.eval_on_selector(".dot.ink-background-0072b2", background) == "rgb(0, 114, 178)"


class TestALazyFailureStaysRed:
    def test_verify_again_after_a_bad_search_index_stays_red(self, tab, listed):
        """search.js edited: the first search turns the page red; "Verify" does not turn
        it green while the bad file is there (its failed load is kept)."""
        page = searched_an_edited_index(tab, listed)
        page.click("#verify-button")
        page.wait_for_selector("#badge.ok, #badge.bad, #badge.stale")
        page.wait_for_timeout(300)
        cls, text = tab.badge()
        assert "bad" in cls and "search index is not the one the publisher signed" in text, text
        assert not page.is_visible("table.platforms")

    def test_verify_again_after_a_bad_chunk_stays_red(self, tab, runner, sqlite_path, example,
                                                      tmp_path, monkeypatch):
        """A snapshot chunk edited: red when the slider reaches it, and still red after
        "Verify"."""
        monkeypatch.setattr("website.slider.SNAPSHOT_CHUNK", 2)
        site = published(runner, sqlite_path, tmp_path / "site", sources=(example,))
        for chunk in (site / "snapshots/telegram").glob("*.js"):
            chunk.write_text(chunk.read_text().replace('"partially-blocked"', '"accessible"'))
        page = tab.open(site / "platform/telegram.html")
        assert "ok" in tab.badge()[0]
        show_day(page, "2017-07-20")
        page.wait_for_selector("#badge.bad")
        page.click("#verify-button")
        page.wait_for_timeout(500)
        cls, text = tab.badge()
        assert "bad" in cls and "is not the one the publisher signed" in text, text


class TestAPlatformPageInOneJurisdiction:
    def test_the_slider_dates_the_last_change_there(self, tab, jurisdictions):
        """telegram.html#in-ID: the slider's status is as of Indonesia's last change (its
        order's lift in 2017), not Brazil's order of 2022; in every jurisdiction, as of
        Brazil's; the summary and timeline say they cover every jurisdiction."""
        tab.page.goto((jurisdictions / "platform/telegram.html").as_uri() + "#in-ID")
        page = tab.page
        page.wait_for_selector("#badge.ok, #badge.bad, #badge.stale")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.input_value("#jurisdiction") == "ID"
        out = page.inner_text("#day-out")
        assert "Status as of its last change in ID, at 2017-" in out, out
        assert "2022-03-18" not in out
        page.select_option("#jurisdiction", "")
        assert "Status as of its last change, at 2022-03-18" in page.inner_text("#day-out")
        assert "cover every jurisdiction" in page.inner_text("p.drawn")


#: The prefixes of the statements an earlier `publish` signed (version 1: bound to the
#: checkpoint's root only).
HOME_V1 = b"blockledger site home v1\n"
SNAPSHOTS_V1 = b"blockledger site snapshots v1\n"


def older_home(data: dict) -> None:
    """A home page as adb47bb wrote it: no jurisdiction, search, filters or part digests;
    a row per platform with the list of its jurisdictions."""
    del data["jurisdiction"], data["search"], data["filters"], data["part_digests"]
    rows = {}
    for row in data["rows"]:
        old = rows.setdefault(row["ref"], {k: row[k] for k in ("ref", "name", "state", "blocked",
                                                            "authorities", "since")})
        old.setdefault("jurisdictions", [])
        if row["jurisdiction"]:
            old["jurisdictions"].append(row["jurisdiction"])
    data["rows"] = list(rows.values())


class TestAnEarlierPublicationsPage:
    @pytest.fixture
    def earlier(self, runner, sqlite_path, example, tmp_path) -> tuple[Path, str]:
        key, _ = key_pair(tmp_path, "publisher")
        return published(runner, sqlite_path, tmp_path / "site", sources=(example,), key=key), key

    def test_it_reads_out_of_date_not_tampered(self, tab, earlier):
        """The home and platform pages in adb47bb's format, signed by the publisher: amber,
        naming the earlier version, their rows and status shown."""
        site, key = earlier
        tamper(site / "index.html", older_home)
        data = page_data(site / "index.html")
        sign_root_only(site / "index.html", key, HOME_V1,
                       {"rows": data["rows"], "part": 1, "parts": 1}, "rows_signature")
        tamper(site / "platform/telegram.html", lambda d: d.pop("jurisdiction"))
        data = page_data(site / "platform/telegram.html")
        sign_root_only(site / "platform/telegram.html", key, SNAPSHOTS_V1,
                       {"platform": "telegram", "name": data["name"],
                        "chunks": data["snapshots"]}, "snapshots_signature")
        page = tab.open(site / "index.html")
        cls, text = tab.badge()
        assert "stale" in cls and "an earlier version of blockledger publish" in text, text
        assert shown(page) == [("ID", "accessible")]
        page = tab.open(site / "platform/telegram.html")
        cls, text = tab.badge()
        assert "stale" in cls and "no jurisdiction" in text, text
        assert "accessible" in page.inner_text("#now-line")
        show_day(page, "2017-07-20")
        page.locator("#day-out", has_text="On 2017-07-20").wait_for()
        assert page.inner_text("#day-state") == "partially-blocked"

    def test_fields_taken_off_a_newer_page_are_red(self, tab, earlier):
        """A host that takes the site's jurisdiction or the search off a newer page, to
        pass it for an earlier one: the signature covered them, red."""
        site, _ = earlier
        tamper(site / "index.html", lambda d: d.pop("search"))
        tab.open(site / "index.html")
        cls, text = tab.badge()
        assert "bad" in cls and "not the one the publisher signed" in text, text
        tamper(site / "platform/telegram.html", lambda d: d.pop("jurisdiction"))
        tab.open(site / "platform/telegram.html")
        cls, text = tab.badge()
        assert "bad" in cls and "not the ones the publisher signed" in text, text

    def test_a_page_missing_a_field_that_was_always_there_is_red(self, tab, earlier):
        site, _ = earlier
        tamper(site / "index.html", lambda d: d.pop("part"))
        tab.open(site / "index.html")
        assert "other fields than expected" in tab.badge()[1]

