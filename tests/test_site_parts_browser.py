"""A long platform's history in parts (``website.pages.HISTORY_PAGE`` set to 10 for the
33 events of the 2017 case): each part is a page of its own that proves its run of the
platform index, so no page grows with the platform; against a version 1 checkpoint (whose
index has no run of an order's own), an order's page of such a platform ships only its own
events and says, signed, where their completeness is proven (from version 2 it proves its
own run: tests/test_site_subject_run_browser.py)."""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.clitools import key_pair, run
from tests.site_browser import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser,
    long_site,
    published,
    settled,
    tab,
    tamper,
)
from tests.test_publish import page_data

pytestmark = NEEDS_CHROMIUM

ORDER = "order/kominfo-2017-07-14.html"


@pytest.fixture
def v1_site(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    """As ``long_site``, checkpointed with a version 1 index (platforms only), as a ledger of
    the release before version 2 publishes."""
    monkeypatch.setattr("website.pages.HISTORY_PAGE", 10)
    monkeypatch.setattr("ledger.platform_index.VERSION", 1)
    return published(runner, sqlite_path, tmp_path / "site", sources=(example,))


class TestWritten:
    def test_four_parts_of_at_most_ten_events(self, long_site):
        """Part 1 on the platform's page, parts 2-4 under history/telegram/, every event
        in exactly one, numbered as in the whole history."""
        first = page_data(long_site / "platform/telegram.html")
        rest = [page_data(long_site / f"history/telegram/{n}.html") for n in (2, 3, 4)]
        assert not (long_site / "history/telegram/5.html").exists()
        numbers = [e["n"] for data in (first, *rest) for e in data["events"]]
        assert sorted(numbers) == list(range(1, 34))
        assert [len(d["events"]) for d in (first, *rest)] == [10, 10, 10, 3]
        assert [d["index"]["part"] for d in (first, *rest)] == [1, 2, 3, 4]
        assert {d["index"]["proof"]["count"] for d in (first, *rest)} == {33}

    def test_an_order_page_ships_only_its_own_events(self, v1_site):
        """With its platform in parts, an order's page ships its own events and no
        proof of its platform's run; its signed headline names where completeness is."""
        data = page_data(v1_site / ORDER)
        assert data["index"] is None
        assert data["headline"]["complete_on"] == "telegram"
        assert all('"subject":"kominfo-2017-07-14"' in e["canonical"] for e in data["events"])


class TestInTheBrowser:
    def test_each_part_is_green_and_names_its_range(self, tab, long_site):
        """Parts 1 and 3 verify, naming their range of the 33; the pager links them."""
        page = tab.open(long_site / "platform/telegram.html")
        cls, text = tab.badge()
        assert "ok" in cls, text
        assert "events 1\u201310 of 33 is left out" in text
        assert len(page.query_selector_all("#events > li")) == 10
        page.click("text=events 21\u201330")
        page.wait_for_selector("#badge.ok, #badge.bad")
        cls, text = tab.badge()
        assert "ok" in cls, text
        assert "events 21\u201330 of 33 is left out" in text
        assert page.inner_text("#part-range").startswith("Events 21\u201330 of 33")
        assert len(page.query_selector_all("#events > li")) == 10

    def test_an_event_left_out_of_a_part_is_red(self, tab, long_site):
        """One event taken off part 2: red, the index names it missing."""
        path = long_site / "history/telegram/2.html"
        tamper(path, lambda data: data["events"].pop(4))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "an event was left out" in text, text

    def test_a_part_copied_over_another_is_red(self, tab, long_site):
        """Part 3 served as part 2: red (a reader would miss part 2's events)."""
        shutil.copy(long_site / "history/telegram/3.html", long_site / "history/telegram/2.html")
        tab.open(long_site / "history/telegram/2.html")
        cls, text = tab.badge()
        assert "bad" in cls and "a page copied over another's" in text, text

    def test_a_part_renumbered_is_red(self, tab, long_site):
        """Part 3's data claiming to be part 2 (its proof still of part 3): red."""
        path = long_site / "history/telegram/2.html"
        shutil.copy(long_site / "history/telegram/3.html", path)
        tamper(path, lambda data: data["index"].update(part=2))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "does not carry that part" in text, text

    def test_a_shorter_count_is_red(self, tab, long_site):
        """The run's length cut to 30 (hiding the last 3 events): its neighbour after no
        longer sits where the proof says, red."""
        path = long_site / "platform/telegram.html"
        tamper(path, lambda data: data["index"].update(parts=3)
               or data["index"]["proof"].update(count=30))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "neighbour after" in text, text

    def test_the_order_page_says_where_completeness_is_proven(self, tab, v1_site):
        """Green, its own events shown, and the badge says this page does not prove them
        complete but telegram's history does."""
        page = tab.open(v1_site / ORDER)
        cls, text = tab.badge()
        assert "ok" in cls, text
        assert "does not prove that none of kominfo-2017-07-14's events is left out" in text
        assert len(page.query_selector_all("#events > li")) == len(
            page_data(v1_site / ORDER)["events"])

    def test_the_order_page_cannot_drop_the_claim(self, tab, v1_site):
        """The host setting complete_on to nothing (to pass as complete): the headline's
        signature fails, red."""
        path = v1_site / ORDER
        tamper(path, lambda data: data["headline"].update(complete_on=None))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls, text


VIBER = {"type": "platform-registered", "subject": "viber", "occurred_at": "2017-01-01",
         "sources": [{"title": "A registry"}],
         "data": {"name": "Viber", "targets": ["viber.com"]}}


def edited_then_red(tab, site: Path, file: str, old: str, new: str, act):
    """The home of ``site`` with ``old`` changed to ``new`` in ``file`` (one the home
    loads only when asked), opened (still green) and ``act(page)`` done, until its badge
    turns red; the page."""
    path = site / file
    path.write_text(path.read_text().replace(old, new))
    page = tab.open(site / "index.html")
    assert "ok" in tab.badge()[0]
    act(page)
    page.wait_for_selector("#badge.bad")
    return page


def searched_an_edited_index(tab, listed: Path):
    """The home of ``listed`` with a name changed in home/search.js, opened (green: the
    index is loaded on the first search) and searched, until its badge turns red; the
    page."""
    return edited_then_red(tab, listed, "home/search.js", '"Viber"', '"Viper"',
                           lambda page: page.fill("#f-search", "vi"))


@pytest.fixture
def listed(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    """Two platforms, published with one a part of the home page."""
    import json

    monkeypatch.setattr("website.home.HOME_PAGE", 1)
    more = tmp_path / "viber.jsonl"
    more.write_text(json.dumps(VIBER) + "\n")
    return published(runner, sqlite_path, tmp_path / "site", sources=(example, more))


class TestHomeInParts:
    def test_each_part_lists_its_platforms_signed(self, tab, listed):
        """index.html lists telegram, home/2.html viber; both green; the pager names
        each part's first and last platform and its links lead to the pages."""
        assert page_data(listed / "index.html")["rows"][0]["ref"] == "telegram"
        page = tab.open(listed / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.inner_text("#f-count") == "1 of 1 platforms"
        page.click("nav.pager >> text=viber")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0], tab.badge()
        assert "part 2 of 2" in page.inner_text("#list-title")
        assert not page.query_selector("#archive-title")
        page.click("table.platforms >> text=Viber")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.url.endswith("/platform/viber.html")

    def test_a_part_served_as_the_first_is_red(self, tab, listed):
        """home/2.html's data served as index.html (telegram would vanish from the
        list): red."""
        second = page_data(listed / "home/2.html")
        tamper(listed / "index.html", lambda data: data.update(second))
        tab.open(listed / "index.html")
        cls, text = tab.badge()
        assert "bad" in cls and "a page copied over another's" in text, text

    def test_a_part_renumbered_is_red(self, tab, listed):
        """Part 2's rows claiming to be part 1: the signature binds the number, red."""
        second = page_data(listed / "home/2.html")
        tamper(listed / "index.html", lambda data: data.update({**second, "part": 1}))
        tab.open(listed / "index.html")
        cls, text = tab.badge()
        assert "bad" in cls and "platforms' list is not the one the publisher signed" in text


class TestSearchAcrossParts:
    def test_the_search_finds_a_platform_of_another_part(self, tab, listed):
        """On part 1 (telegram), "vib" finds Viber in part 2, from the signed index, and
        its link opens its green page; on part 2, "teleg" finds Telegram in part 1."""
        assert page_data(listed / "index.html")["search"]["count"] == 2
        page = tab.open(listed / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        page.fill("#f-search", "vib")
        page.wait_for_selector("#f-elsewhere:not([hidden])")
        assert page.inner_text("#f-count") == "0 of 1 platforms"
        assert "In other parts of the list: 1 platform" in page.inner_text("#f-elsewhere")
        assert page.inner_text("#f-elsewhere li").startswith("Viber viber (part 2)")
        page.fill("#f-search", "nothing-like-it")
        page.wait_for_selector("#f-elsewhere >> text=none")
        page.fill("#f-search", "VIBER")
        page.click("#f-elsewhere >> text=Viber")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.url.endswith("/platform/viber.html")
        page = tab.open(listed / "home/2.html")
        page.fill("#f-search", "teleg")
        page.wait_for_selector("#f-elsewhere li")
        page.click("#f-elsewhere >> text=part 1")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert page.url.endswith("/index.html")

    def test_an_edited_search_index_is_red(self, tab, listed):
        """A name changed in home/search.js: its SHA-256 is not the signed one, red."""
        searched_an_edited_index(tab, listed)
        assert "search index is not the one the publisher signed" in tab.badge()[1]

    def test_one_part_has_no_search_index(self, runner, listed, sqlite_path, tmp_path,
                                          monkeypatch):
        """A list in one part searches itself: no index, none signed."""
        monkeypatch.setattr("website.home.HOME_PAGE", 500)
        private, _ = key_pair(tmp_path, "other")
        out = tmp_path / "one"
        assert run(runner, sqlite_path, "publish", str(out), "--key", private).exit_code == 0
        assert page_data(out / "index.html")["search"] is None
        assert not (out / "home").exists()


@pytest.fixture
def small_parts(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    """The 2017 case with three events a part: the order's own 8 events in 3 parts."""
    monkeypatch.setattr("website.pages.HISTORY_PAGE", 3)
    return published(runner, sqlite_path, tmp_path / "site", sources=(example,))


class TestOrderInParts:
    def test_an_order_of_a_long_platform_in_parts(self, tab, small_parts):
        """order/<ref>.html, then order/<ref>/2.html and 3.html, each green, showing its
        own verified events, all 8 in all, the headline on each."""
        base = small_parts / "order"
        assert (base / "kominfo-2017-07-14/3.html").exists()
        assert not (base / "kominfo-2017-07-14/4.html").exists()
        shown = 0
        for path in (base / "kominfo-2017-07-14.html", base / "kominfo-2017-07-14/2.html",
                     base / "kominfo-2017-07-14/3.html"):
            page = tab.open(path)
            cls, text = tab.badge()
            assert "ok" in cls, (path, text)
            shown += len(page.query_selector_all("#events > li"))
            assert "lifted" in page.inner_text("#headline")
        assert shown == 8
        page.click("nav.pager >> text=part 1")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert page.url.endswith("/order/kominfo-2017-07-14.html")

    def test_a_part_copied_over_another_is_red(self, tab, small_parts):
        base = small_parts / "order/kominfo-2017-07-14"
        shutil.copy(base / "3.html", base / "2.html")
        tab.open(base / "2.html")
        cls, text = tab.badge()
        assert "bad" in cls and "a page copied over another's" in text, text

    def test_fewer_parts_than_signed_is_red(self, tab, small_parts):
        """The host saying there are 2 parts (hiding the third): the order's run proves 3
        parts (and the headline's signature would fail too)."""
        path = small_parts / "order/kominfo-2017-07-14/2.html"
        tamper(path, lambda data: (data["headline"].update(parts=2),
                                   data["part"].update(parts=2)))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "but proves part 2 of 3" in text, text

    def test_fewer_parts_than_signed_under_version_1_is_red(self, tab, runner, sqlite_path,
                                                             example, tmp_path, monkeypatch):
        """The same against a version 1 checkpoint (no run): the headline's signature
        fails."""
        monkeypatch.setattr("website.pages.HISTORY_PAGE", 3)
        monkeypatch.setattr("ledger.platform_index.VERSION", 1)
        site = published(runner, sqlite_path, tmp_path / "site", sources=(example,))
        path = site / "order/kominfo-2017-07-14/2.html"
        tamper(path, lambda data: (data["headline"].update(parts=2),
                                   data["part"].update(parts=2)))
        tab.open(path)
        cls, text = tab.badge()
        assert "bad" in cls and "headline" in text, text


WECHAT = [
    {"type": "platform-registered", "subject": "wechat", "occurred_at": "2018-01-01",
     "sources": [{"title": "A registry"}],
     "data": {"name": "WeChat", "targets": ["wechat.com"]}},
    {"type": "blocked", "subject": "kominfo-2019-wechat", "occurred_at": "2019-01-01",
     "sources": [{"title": "An order"}],
     "data": {"platform": "wechat", "authority": "Kominfo", "targets": ["wechat.com"],
              "reasons": ["illustration"], "jurisdiction": "ID"}}]


@pytest.fixture
def three_parts(runner, sqlite_path, example, tmp_path, monkeypatch) -> Path:
    """Telegram (2017, ID, Kominfo, lifted), Viber (registered only) and WeChat (blocked
    by Kominfo in ID since 2019), one a part of the home page: Kominfo's rows are in
    parts 1 and 3, not 2."""
    import json

    monkeypatch.setattr("website.home.HOME_PAGE", 1)
    more = tmp_path / "more.jsonl"
    more.write_text("".join(json.dumps(e) + "\n" for e in (VIBER, *WECHAT)))
    return published(runner, sqlite_path, tmp_path / "site", sources=(example, more))


def loading(tab) -> list[str]:
    """The names of the data files of the home (home/*.js) that ``tab`` asks for from now
    on, as it asks."""
    asked: list[str] = []
    tab.page.on("request", lambda r: "/home/" in r.url and r.url.endswith(".js")
                and asked.append(r.url.rsplit("/", 1)[1]))
    return asked


def rows(page) -> list[str]:
    """The references of the rows shown."""
    return page.eval_on_selector_all("table.platforms tbody tr:not([hidden])",
                                     "rs => rs.map(r => r.dataset.ref)")


def shown(page, refs: list[str]) -> None:
    """Wait until the rows shown are those of ``refs`` (the parts a filter needs are
    loaded and checked first); fail after ten seconds."""
    settled(page, rows, refs)


class TestFiltersAcrossParts:
    def test_a_filter_shows_the_matching_rows_of_every_part(self, tab, three_parts):
        """On part 1, authority Kominfo shows Telegram (part 1) and WeChat (part 3), the
        latter from home/3.js, verified; part 2 is not loaded; the choices are every
        part's (WeChat's state 'blocked' is offered on part 1); any again shows part 1."""
        asked = loading(tab)
        page = tab.open(three_parts / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        assert rows(page) == ["telegram"]
        states = page.eval_on_selector_all("#f-state option", "os => os.map(o => o.value)")
        assert states == ["", "accessible", "blocked"]
        page.select_option("#f-authority", "Kominfo")
        shown(page, ["telegram", "wechat"])
        assert page.inner_text("#f-count").startswith("2 of 3 platforms, from every part")
        assert "ok" in tab.badge()[0], tab.badge()
        assert sorted(asked) == ["3.js", "filters.js"]
        page.select_option("#f-state", "blocked")
        shown(page, ["wechat"])
        page.select_option("#f-state", "")
        page.select_option("#f-authority", "")
        shown(page, ["telegram"])
        assert page.inner_text("#f-count") == "1 of 1 platforms"
        page.select_option("#f-jurisdiction", "ID")
        shown(page, ["telegram", "wechat"])
        page.click("table.platforms >> text=WeChat")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0], tab.badge()
        assert page.url.endswith("/platform/wechat.html#in-ID")

    def test_from_another_part_too(self, tab, three_parts):
        """On part 2 (Viber), state 'accessible' shows Telegram (part 1) and Viber."""
        page = tab.open(three_parts / "home/2.html")
        assert "ok" in tab.badge()[0], tab.badge()
        page.select_option("#f-state", "accessible")
        shown(page, ["telegram", "viber"])
        page.click("table.platforms >> text=Telegram")
        page.wait_for_selector("#badge.ok, #badge.bad")
        assert "ok" in tab.badge()[0] and page.url.endswith("/platform/telegram.html#in-ID")

    def test_an_edited_part_is_red_and_stays_red(self, tab, three_parts):
        """WeChat made accessible in home/3.js: its SHA-256 is not the one the page's
        statement signs for part 3 when the filter loads it, red, naming the part; no row
        is shown, nor after the filter is cleared."""
        page = edited_then_red(tab, three_parts, "home/3.js", '"state": "blocked"',
                               '"state": "accessible"',
                               lambda page: page.select_option("#f-authority", "Kominfo"))
        text = tab.badge()[1]
        assert "part 3 of the list (home/3.js)" in text
        assert "not the one the publisher signed" in text
        assert page.is_hidden("table.platforms")
        page.select_option("#f-authority", "")
        page.click("#verify-button")
        page.wait_for_timeout(300)
        assert "bad" in tab.badge()[0] and page.is_hidden("table.platforms")

    def test_a_part_served_as_another_is_red(self, tab, three_parts):
        """Part 1's rows filed as part 3 (WeChat would vanish from Kominfo's rows): not
        the rows whose SHA-256 the page signs for part 3, red."""
        first = (three_parts / "home/1.js").read_text()
        (three_parts / "home/3.js").write_text(first.replace("BL_HOME_PARTS[1]",
                                                             "BL_HOME_PARTS[3]"))
        page = tab.open(three_parts / "index.html")
        page.select_option("#f-authority", "Kominfo")
        page.wait_for_selector("#badge.bad")
        assert "part 3 of the list (home/3.js) is not the one the publisher signed" in \
            tab.badge()[1]

    def test_an_edited_filters_index_is_red(self, tab, three_parts):
        """Part 3 taken off Kominfo's parts in home/filters.js (hiding WeChat): its SHA-256
        is not the signed one, red."""
        path = three_parts / "home/filters.js"
        text = path.read_text()
        assert '["Kominfo", [1, 3]]' in text
        path.write_text(text.replace('["Kominfo", [1, 3]]', '["Kominfo", [1]]'))
        tab.open(three_parts / "index.html")
        tab.page.wait_for_selector("#badge.bad")
        assert "the filters' index is not the one the publisher signed" in tab.badge()[1]
