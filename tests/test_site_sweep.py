"""The slider's snapshots, folded forward once (``projections.sweep``), are the statuses the
ledger's own fold gives at each instant, folded from the start (``Book``), on the bundled
cases and on generated timelines with corrections, temporary and partial lifts, rulings
and observations on thousands of days."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from ledger.application import open_ledger
from ledger.interchange import read_facts
from ledger.storage import parse_target
from projections.book import Book
from projections.importing import import_facts
from projections.status import platform_status
from projections.sweep import Sweep
from website.snapshots import _at, _shown, change_points, daily, snapshots

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


def book_of(tmp_path: Path, lines: list[bytes]) -> Book:
    source = tmp_path / "events.jsonl"
    source.write_bytes(b"".join(lines))
    target = parse_target(str(tmp_path / "ledger.db"))
    with open_ledger(target, create=True) as ledger, source.open("rb") as facts:
        import_facts(ledger, read_facts(facts), operator="test")
    with open_ledger(target) as ledger:
        return Book(ledger.entries())


def folded_from_the_start(book: Book, platform: str, codes: tuple[str, ...]) -> list[dict]:
    """What ``snapshots`` gave before the sweep: a full fold at every instant, and one
    for each jurisdiction asked by name (None where it is the whole answer)."""
    out: list[dict] = []
    since: dict = {}  # when each answer (None: the whole) last changed
    for instant in daily(change_points(book, platform), NOW):
        if book.state("platform", platform, instant) is None:
            continue
        whole = _shown(platform_status(book, platform, as_of=_at(instant)))
        each = {code: _shown(platform_status(book, platform, as_of=_at(instant),
                                             jurisdiction=code)) for code in codes}
        shown = {**whole, "jurisdictions": {code: None if answer == whole else answer
                                            for code, answer in each.items()}}
        if not out or out[-1]["status"] != shown:
            at = instant.astimezone(UTC).isoformat()
            for code, answer in {None: whole, **each}.items():
                if code not in since or since[code][0] != answer:
                    since[code] = (answer, at)
            out.append({"at": at, "ms": int(instant.timestamp() * 1000), "status": shown,
                        "changed": since[None][1],
                        "changed_in": {code: since[code][1] for code in codes}})
    return out


def every_platform_agrees(book: Book) -> int:
    compared = 0
    for ref in book.refs("platform"):
        fresh = Book.__new__(Book)  # the same facts with no fold kept from the sweep
        fresh.__dict__.update({**vars(book), "_memo": {}})
        # Every jurisdiction the platform has an answer in now, and one it has none in.
        codes = (*platform_status(book, ref, now=NOW)["jurisdictions"], "BR")
        assert snapshots(book, ref, NOW, codes) == folded_from_the_start(fresh, ref, codes), ref
        compared += 1
    return compared


@pytest.mark.parametrize("case", ["telegram-indonesia-2017.jsonl",
                                  "turkey-wikipedia-2017.jsonl"])
def test_the_bundled_cases(tmp_path, case):
    """The 2017 Telegram case and the Turkey case (a ruling with a later effect)."""
    book = book_of(tmp_path, [(EXAMPLES / case).read_bytes()])
    assert every_platform_agrees(book) >= 1


def test_generated_platforms_with_lifts_corrections_and_observations(tmp_path):
    """Forty platforms of the benchmark's generator: partial, temporary and full lifts,
    corrections of a block's date, observations that diverge."""
    from synthetic import events

    book = book_of(tmp_path, [orjson.dumps(e) + b"\n" for e in events(1_600)])
    assert every_platform_agrees(book) >= 30


def test_a_long_platform_observed_on_hundreds_of_days(tmp_path):
    """One platform and one order, a fact a day, a temporary lift every tenth."""
    from synthetic import long_histories

    book = book_of(tmp_path, [orjson.dumps(e) + b"\n"
                              for e in long_histories(600, subjects=2, shuffled=True)])
    assert len(change_points(book, "platform-0")) > 290
    assert every_platform_agrees(book) == 1


def test_an_earlier_instant_not_passed_is_folded_from_the_start(tmp_path):
    """Asked back in time where it kept no copy, the sweep answers with Book's fold."""
    book = book_of(tmp_path, [(EXAMPLES / "telegram-indonesia-2017.jsonl").read_bytes()])
    sweep = Sweep(book)
    late, early = datetime(2017, 8, 20, tzinfo=UTC), datetime(2017, 7, 20, tzinfo=UTC)
    [order] = book.related("telegram", "order")
    assert sweep.state("order", order, late).state == "lifted"
    assert sweep.state("order", order, early).state == "in-effect"
    assert sweep.state("order", order, late).state == "lifted"


def test_disputed_as_the_book_says_at_every_instant(tmp_path):
    """The 2017 case holds a dispute: the sweep's kept answer is the book's, for every
    subject at every change point and between."""
    book = book_of(tmp_path, [(EXAMPLES / "telegram-indonesia-2017.jsonl").read_bytes()])
    sweep = Sweep(book)
    instants = change_points(book, "telegram")
    asked = sorted({*instants, *(i.replace(hour=23) for i in instants)})
    answers = {(kind, ref, at): sweep.is_disputed(kind, ref, at)
               for kind, ref in book.subjects for at in asked}
    assert any(answers.values()) and not all(answers.values())
    assert answers == {(kind, ref, at): book.is_disputed(kind, ref, at)
                       for kind, ref, at in answers}


# --- a report summary's course (``projections.report_summary._course``) -----------------


def courses(tmp_path: Path, lines: list[bytes], monkeypatch,
            jurisdiction: str | None = None) -> tuple[int, int, int]:
    """Every platform's course (answering for ``jurisdiction`` when given), through the
    sweep and through ``Book``'s fold from the start at every instant (as before), which
    must be equal; how many folds from the start each made, and the longest course."""
    from projections import book as book_module
    from projections.provenance import provenance
    from projections.report_summary import summarise

    source = tmp_path / "events.jsonl"
    source.write_bytes(b"".join(lines))
    target = parse_target(str(tmp_path / "course.db"))
    with open_ledger(target, create=True) as ledger, source.open("rb") as facts:
        import_facts(ledger, read_facts(facts), operator="test")
    with open_ledger(target) as ledger:
        reports = [provenance(ledger, ref, jurisdiction=jurisdiction)
                   for ref in Book(ledger.entries()).refs("platform")]
    folds = [0]
    real = book_module.fold

    def counted(*args, **kwargs):
        folds[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(book_module, "fold", counted)
    swept = [summarise(report).course for report in reports]
    by_sweep, folds[0] = folds[0], 0
    with monkeypatch.context() as m:
        m.setattr("projections.report_summary.Sweep", lambda book, stops: book)
        assert [summarise(report).course for report in reports] == swept
    # A platform with no order in the jurisdiction asked has no course there.
    assert all(swept) if jurisdiction is None else any(swept) != (jurisdiction == "BR")
    return by_sweep, folds[0], max(len(course) for course in swept)


@pytest.mark.parametrize("case", ["telegram-indonesia-2017.jsonl",
                                  "turkey-wikipedia-2017.jsonl", "india-apps-2020.jsonl"])
def test_the_course_of_the_bundled_cases(tmp_path, monkeypatch, case):
    """The course through the sweep is the fold's, on each bundled case."""
    courses(tmp_path, [(EXAMPLES / case).read_bytes()], monkeypatch)


@pytest.mark.parametrize("jurisdiction", ["ID", "TR", "IN", "BR"])
def test_the_course_for_one_jurisdiction(tmp_path, monkeypatch, jurisdiction):
    """The three bundled cases in one ledger, each report answering for one state: the
    course through the sweep is the fold's there too (BR has no order: no course)."""
    cases = ["telegram-indonesia-2017.jsonl", "turkey-wikipedia-2017.jsonl",
             "india-apps-2020.jsonl"]
    courses(tmp_path, [(EXAMPLES / case).read_bytes() for case in cases], monkeypatch,
            jurisdiction)


def test_the_course_of_a_long_order_folds_each_fact_once(tmp_path, monkeypatch):
    """An order with a temporary lift every tenth day for 600 days: the same course, and
    no fold from the start for each of its hundreds of changes."""
    from synthetic import events, long_histories

    lines = [orjson.dumps(e) + b"\n" for e in long_histories(600, subjects=2, shuffled=True)]
    by_sweep, from_the_start, longest = courses(tmp_path, lines, monkeypatch)
    assert longest > 50
    assert from_the_start > 100 and by_sweep < from_the_start / 10, (by_sweep, from_the_start)
    (tmp_path / "generated").mkdir()
    courses(tmp_path / "generated", [orjson.dumps(e) + b"\n" for e in events(800)],
            monkeypatch)
