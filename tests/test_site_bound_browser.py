"""The publisher's statements are bound to the whole checkpoint, and no value of the data
is ever a key (issue 17, the hostile review of publish).

One tree published twice, a day apart: its statements differ ("blocked for N days" grew,
a temporary lift ended), and each was bound to the checkpoint's root only, which both
publications share; so the earlier one's rows, snapshots or headline, filed in the later
one, verified under a green badge naming the later checkpoint. Bound to the checkpoint's
signed text (size, root and time), they are red there; a statement of the older format
(root only) is an earlier publication's, amber. And authorities named BTK in fullwidth
brackets, or after a flag, or ``__proto__`` (the filters' index used them as object keys:
Python and JavaScript sort such keys differently, and ``__proto__`` in a script sets a
prototype) turned every home in parts red.
"""

# ruff: noqa: F811 (the fixtures imported from tests.site_browser are parameters here)
from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.clitools import key_pair, run
from tests.site_browser import (  # noqa: F401 (fixtures)
    NEEDS_CHROMIUM,
    browser,
    published,
    settled,
    sign_root_only,
    tab,
    tamper,
)
from tests.test_publish import page_data

pytestmark = NEEDS_CHROMIUM


def ev(type_: str, subject: str, at: str, **data) -> dict:
    return {"type": type_, "subject": subject, "occurred_at": at,
            "sources": [{"title": "A source"}], "data": data}


def blocked(order: str, platform: str, target: str, authority: str = "K") -> dict:
    return ev("blocked", order, "2019-01-01", platform=platform, authority=authority,
              targets=[target], reasons=["x"], jurisdiction="ID")


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def a_day_apart(runner, sqlite_path, tmp_path, monkeypatch, lines: list[dict],
                day: datetime) -> tuple[Path, Path, str]:
    """``lines`` imported, then published with one platform a part of the home into ``a``
    with its checkpoint signed at 01:00 on ``day``, and into ``b`` at 03:00 the day after:
    one tree, two checkpoints."""
    monkeypatch.setattr("website.home.HOME_PAGE", 1)
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert run(runner, sqlite_path, "import", str(source)).exit_code == 0
    key, _ = key_pair(tmp_path, "publisher")
    sites = []
    for name, at in (("a", day + timedelta(hours=1)), ("b", day + timedelta(days=1, hours=3))):
        monkeypatch.setattr("ledger.checkpointing._note_time", lambda *_, at=at: stamp(at))
        sites.append(published(runner, sqlite_path, tmp_path / name, key=key))
    a, b = sites
    assert page_data(a / "index.html")["checkpoint"].split("\n")[:3] == \
        page_data(b / "index.html")["checkpoint"].split("\n")[:3]  # one tree
    return a, b, key


def day_after_tomorrow() -> datetime:
    return (datetime.now(UTC) + timedelta(days=2)).replace(hour=0, minute=0, second=0,
                                                           microsecond=0)


@pytest.fixture
def listed(runner, sqlite_path, tmp_path, monkeypatch) -> tuple[Path, Path, str]:
    """a0 (accessible) and b1 (blocked since 2019), a day apart: b1 has been blocked a
    day longer in ``b``, and nothing else differs (the same filters, the same search)."""
    lines = [ev("platform-registered", "a0", "2018-01-01", name="A0", targets=["a0.com"]),
             ev("platform-registered", "b1", "2018-01-01", name="B1", targets=["b1.com"]),
             blocked("o-b1", "b1", "b1.com")]
    return a_day_apart(runner, sqlite_path, tmp_path, monkeypatch, lines,
                       day_after_tomorrow())


@pytest.fixture
def lifted(runner, sqlite_path, tmp_path, monkeypatch) -> tuple[Path, Path, str]:
    """b3, whose two orders are lifted until 00:30 and 02:00 on day D, a day apart: in
    ``a`` o-b3x is temporarily lifted, in ``b`` in effect again; b3's snapshots of day D
    differ (``a`` keeps the last change of D before its time and the last after)."""
    day = day_after_tomorrow()
    lines = [ev("platform-registered", "b3", "2018-01-01", name="B3",
                targets=["b3.com", "b3.net"]),
             blocked("o-b3", "b3", "b3.com"), blocked("o-b3x", "b3", "b3.net"),
             ev("unblocked", "o-b3", "2020-01-01", until=stamp(day + timedelta(minutes=30))),
             ev("unblocked", "o-b3x", "2020-01-01", until=stamp(day + timedelta(hours=2)))]
    return a_day_apart(runner, sqlite_path, tmp_path, monkeypatch, lines, day)


def red(tab, path: Path) -> str:
    tab.open(path)
    cls, text = tab.badge()
    assert "bad" in cls, text
    return text


def shown(page) -> list[tuple[str, str]]:
    return [tuple(row) for row in page.eval_on_selector_all(
        "table.platforms tbody tr:not([hidden])",
        "rs => rs.map(r => [r.dataset.ref, r.dataset.state])")]


def wait_shown(page, rows: list[tuple[str, str]]) -> None:
    settled(page, shown, rows)


class TestAnEarlierPublicationOfTheSameTree:
    def test_the_later_publication_is_green(self, tab, listed):
        """The control: b's list, filtered on every part, shows b's rows."""
        _, b, _ = listed
        page = tab.open(b / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        page.select_option("#f-authority", "K")
        wait_shown(page, [("b1", "blocked")])
        assert "ok" in tab.badge()[0], tab.badge()

    def test_its_part_file_is_red(self, tab, listed):
        """a's home/2.js (b1 blocked a day less) filed in b: the filter loading it turns
        the page red, naming the part; its rows are never shown."""
        a, b, _ = listed
        assert (a / "home/2.js").read_text() != (b / "home/2.js").read_text()
        shutil.copy(a / "home/2.js", b / "home/2.js")
        page = tab.open(b / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        page.select_option("#f-authority", "K")
        page.wait_for_selector("#badge.bad")
        text = tab.badge()[1]
        assert "part 2 of the list (home/2.js) is not the one the publisher signed" in text
        assert page.is_hidden("table.platforms")

    def test_its_signed_list_pasted_into_a_part_is_red(self, tab, listed):
        """a's whole signed statement of part 2 (rows, digests, signature) in b's
        home/2.html, under b's checkpoint: red."""
        a, b, _ = listed
        older = page_data(a / "home/2.html")
        assert older["rows"] != page_data(b / "home/2.html")["rows"]
        tamper(b / "home/2.html", lambda d: d.update(
            {k: older[k] for k in ("rows", "rows_signature", "part_digests") if k in older}))
        assert "the platforms' list is not the one the publisher signed" in red(
            tab, b / "home/2.html")

    def test_its_snapshots_pasted_into_a_platform_page_are_red(self, tab, lifted):
        a, b, _ = lifted
        older = page_data(a / "platform/b3.html")
        assert older["snapshots"] != page_data(b / "platform/b3.html")["snapshots"]
        fields = ("snapshots", "snapshots_now", "snapshots_signature")
        tamper(b / "platform/b3.html", lambda d: d.update({k: older[k] for k in fields}))
        assert "the status snapshots are not the ones the publisher signed" in red(
            tab, b / "platform/b3.html")

    def test_its_headline_pasted_into_an_order_page_is_red(self, tab, lifted):
        """a's headline of o-b3x (temporarily-lifted) under b's checkpoint (in effect
        again): red, never shown."""
        a, b, _ = lifted
        older = page_data(a / "order/o-b3x.html")
        assert older["headline"]["state"] != page_data(b / "order/o-b3x.html")["headline"]["state"]
        fields = ("headline", "headline_signature")
        tamper(b / "order/o-b3x.html", lambda d: d.update({k: older[k] for k in fields}))
        assert "the headline" in red(tab, b / "order/o-b3x.html")
        assert "temporarily" not in tab.page.inner_text("#headline")


def test_a_headline_of_the_older_format_is_an_earlier_publications(tab, lifted):
    """An order's headline signed over the root only (version 1): amber, naming why, and
    shown; the same message with version 2's prefix is red (a version is never mixed)."""
    _, b, key = lifted
    path = b / "order/o-b3x.html"
    headline = page_data(path)["headline"]
    sign_root_only(path, key, b"blockledger site subject v1\n", headline, "headline_signature")
    page = tab.open(path)
    cls, text = tab.badge()
    assert "stale" in cls, text
    assert "bound to the checkpoint's root only" in text, text
    assert "in-effect" in page.inner_text("#headline")
    sign_root_only(path, key, b"blockledger site subject v2\n", headline, "headline_signature")
    assert "the headline" in red(tab, path)


AWKWARD = ["Kominfo", "\uff08BTK\uff09", "\U0001f1f9\U0001f1f7 BTK", "__proto__",
           "constructor"]


def authorities_site(runner, sqlite_path, tmp_path, names: list[str]) -> Path:
    lines = []
    for i, name in enumerate(names):
        lines += [ev("platform-registered", f"p{i}", "2018-01-01", name=f"P{i}",
                     targets=[f"p{i}.com"]),
                  blocked(f"o{i}", f"p{i}", f"p{i}.com", authority=name)]
    source = tmp_path / "events.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return published(runner, sqlite_path, tmp_path / "site", sources=(source,))


def options(page, select: str) -> list[list[str]]:
    return page.eval_on_selector_all(f"{select} option",
                                     "os => os.map(o => [o.value, o.textContent])")


class TestNamesThatAreNotKeys:
    def test_awkward_authorities_filter_a_home_in_parts(self, tab, runner, sqlite_path,
                                                        tmp_path, monkeypatch):
        """Honest authority names (fullwidth brackets, a flag, __proto__, constructor),
        one platform a part: green; each is offered as itself and shows its platform's
        row, from its part."""
        monkeypatch.setattr("website.home.HOME_PAGE", 1)
        site = authorities_site(runner, sqlite_path, tmp_path, AWKWARD)
        page = tab.open(site / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        page.wait_for_function("document.querySelectorAll('#f-authority option').length > 2")
        offered = options(page, "#f-authority")[1:]
        assert sorted(value for value, _ in offered) == sorted(AWKWARD)
        assert all(value == label for value, label in offered), offered
        for i, name in enumerate(AWKWARD):
            page.select_option("#f-authority", name)
            wait_shown(page, [(f"p{i}", "blocked")])
        assert "ok" in tab.badge()[0], tab.badge()

    def test_option_labels_are_the_values(self, tab, runner, sqlite_path, tmp_path):
        """A list of one part: authorities named like members of Object.prototype are
        labelled as themselves, not as what the prototype holds."""
        site = authorities_site(runner, sqlite_path, tmp_path,
                                ["Kominfo", "constructor", "toString"])
        page = tab.open(site / "index.html")
        assert "ok" in tab.badge()[0], tab.badge()
        assert options(page, "#f-authority") == [
            ["", "any"], ["Kominfo", "Kominfo"], ["constructor", "constructor"],
            ["toString", "toString"]]
        page.select_option("#f-authority", "constructor")
        wait_shown(page, [("p1", "blocked")])


def test_a_home_part_of_the_version_before_part_digests(tab, listed):
    """Part 1 as the version before wrote it (filters and search, but no part digests,
    signed over the root only), beside this version's scripts: amber, naming both; its
    filters act on its own rows only, loading no other part (its statement vouches for
    no other part's rows)."""
    _, b, key = listed
    path = b / "index.html"
    tamper(path, lambda d: d.pop("part_digests"))
    data = page_data(path)
    sign_root_only(path, key, b"blockledger site home v1\n",
                   {k: data[k] for k in ("rows", "part", "parts", "jurisdiction", "search",
                                         "filters")}, "rows_signature")
    asked: list[str] = []
    tab.page.on("request", lambda r: "/home/" in r.url and asked.append(r.url))
    page = tab.open(path)
    cls, text = tab.badge()
    assert "stale" in cls, text
    assert "it has no part_digests" in text and "root only" in text, text
    assert shown(page) == [("a0", "accessible")]
    assert options(page, "#f-state") == [["", "any"], ["accessible", "accessible"]]
    page.select_option("#f-state", "accessible")
    wait_shown(page, [("a0", "accessible")])
    assert page.inner_text("#f-count") == "1 of 1 platforms"
    page.wait_for_timeout(300)
    assert asked == [] and "stale" in tab.badge()[0]
