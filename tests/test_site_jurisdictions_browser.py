"""The published site per jurisdiction, in the browser: the 2017 Telegram case (Indonesia)
and Brazil's order of 2022 in one ledger. The home filters its rows by jurisdiction and
reads each one's state; the platform page answers now and on any day in the jurisdiction
chosen, from the signed snapshots; a host that changes a row's jurisdiction, the site's,
or one jurisdiction's answer in a snapshot turns the badge red."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

from pathlib import Path

import pytest

from tests.site_browser import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser,
    published,
    show_day,
    tab,
    tamper,
)
from tests.test_publish_jurisdictions import two_jurisdictions

pytestmark = NEEDS_CHROMIUM


@pytest.fixture
def site(runner, sqlite_path, example, tmp_path) -> Path:
    """Both orders, published as an Indonesian site (--jurisdiction ID)."""
    two_jurisdictions(runner, sqlite_path, example)
    return published(runner, sqlite_path, tmp_path / "site", "--jurisdiction", "ID")


def visible_rows(page) -> list[tuple[str, str]]:
    """(jurisdiction, state) of each row shown."""
    return [(row.query_selector("td[data-label=Jurisdiction]").inner_text(),
             row.query_selector(".state").inner_text())
            for row in page.query_selector_all("table.platforms tbody tr")
            if row.is_visible()]


class TestHome:
    def test_the_filter_starts_on_the_site_jurisdiction_and_reads_each(self, tab, site):
        """Green; Indonesia's row first (accessible since August 2017), Brazil's when
        chosen (partially blocked), both with any."""
        page = tab.open(site / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.input_value("#f-jurisdiction") == "ID"
        assert visible_rows(page) == [("ID", "accessible")]
        page.select_option("#f-jurisdiction", "BR")
        assert visible_rows(page) == [("BR", "partially-blocked")]
        assert page.inner_text("#f-count").startswith("1 of 1 platforms (1 of 2 rows)")
        page.select_option("#f-jurisdiction", "")
        assert sorted(visible_rows(page)) == [("BR", "partially-blocked"), ("ID", "accessible")]
        page.select_option("#f-state", "partially-blocked")
        assert visible_rows(page) == [("BR", "partially-blocked")]

    def test_a_row_moved_to_another_jurisdiction_is_red(self, tab, site):
        """Brazil's row relabelled Indonesia's (the signed list differs): red."""
        path = site / "index.html"
        tamper(path, lambda data: [r.update(jurisdiction="ID") for r in data["rows"]
                                   if r["jurisdiction"] == "BR"])
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "platforms' list is not the one" in text, text
        assert not tab.page.is_visible("table.platforms")

    def test_the_site_jurisdiction_changed_is_red(self, tab, site):
        """The host makes the home open on Brazil: the site's jurisdiction is signed."""
        path = site / "index.html"
        tamper(path, lambda data: data.update(jurisdiction="BR"))
        tab.open(path)
        assert "bad" in tab.badge()[0]


class TestPlatform:
    def test_the_brazil_row_opens_brazil_answer_then_indonesia_on_a_day(self, tab, site):
        """From Brazil's row: now partially blocked in BR (2 targets); Indonesia chosen,
        on 20 July 2017 partially blocked with 11 names, on 20 August accessible; Brazil
        on 20 July 2017 accessible (no order of its own yet)."""
        page = tab.open(site / "index.html")
        page.select_option("#f-jurisdiction", "BR")
        page.click("table.platforms tbody tr:not([hidden]) a")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.input_value("#jurisdiction") == "BR"
        assert page.inner_text("#now-line").startswith("Now in BR")
        assert page.inner_text("#now-state") == "partially-blocked"
        each = {li.get_attribute("data-jurisdiction"): li.inner_text()
                for li in page.query_selector_all("#now-each li")}
        assert each["BR"].startswith("BR: partially-blocked, 2 targets blocked")
        assert each["ID"].startswith("ID: accessible")
        page.select_option("#jurisdiction", "ID")
        assert page.inner_text("#now-state") == "accessible"
        show_day(page, "2017-07-20")
        assert page.inner_text("#day-state") == "partially-blocked"
        assert len(page.query_selector_all("#day-blocked li")) == 11
        show_day(page, "2017-08-20")
        assert page.inner_text("#day-state") == "accessible"
        page.select_option("#jurisdiction", "BR")
        show_day(page, "2017-07-20")
        assert page.inner_text("#day-out").startswith("On 2017-07-20 in BR")
        assert page.inner_text("#day-state") == "accessible"
        page.select_option("#jurisdiction", "")  # every jurisdiction: the whole answer
        show_day(page, "2022-03-19")
        assert page.inner_text("#day-state") == "partially-blocked"

    def test_the_page_opens_on_the_site_jurisdiction(self, tab, site):
        """Opened without a choice, the page answers in the site's jurisdiction."""
        page = tab.open(site / "platform/telegram.html")
        assert page.input_value("#jurisdiction") == "ID"
        assert page.inner_text("#now-line").startswith("Now in ID")

    def test_one_jurisdiction_answer_changed_in_a_snapshot_is_red(self, tab, site):
        """Brazil's answer now rewritten as accessible: the chunk's SHA-256 is not the
        one the publisher signed, so nothing of it is shown."""
        path = site / "platform/telegram.html"

        def lie(data):
            last = data["snapshots_now"]["snapshots"][-1]["status"]
            last["jurisdictions"]["BR"] = {**last, "state": "accessible",
                                           "blocked_targets": []}
            del last["jurisdictions"]["BR"]["jurisdictions"]
        tamper(path, lie)
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "SHA-256 differs" in text, text
        assert "Not shown" in tab.page.inner_text("#now-line")
