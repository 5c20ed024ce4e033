"""The demo: a bundled case (the 2017 Telegram case by default), its status on key dates
and its history."""

from __future__ import annotations

from datetime import datetime

from attrs import frozen
from rich.rule import Rule
from rich.text import Text

from domain.values import When
from ledger.application import Ledger, Outcome
from projections.book import Book
from projections.history import history
from projections.history_text import HistoryTable
from projections.status import platform_status, status_detail
from projections.status_text import platform_text, styled
from projections.terminal import Screen, zone_name

KEY_DATES = (
    ("2017-07-13", "the night the ministry decided to block, after six unanswered emails"),
    ("2017-07-20", "a week into the block of the web service; the apps still work"),
    ("2017-08-01", "the day the CEO met the minister"),
    ("2017-08-20", "ten days after the block was lifted"),
)


BEFORE_BLOCK = "2017-07-14T10:00:00+07:00"


@frozen
class Case:
    """A bundled case (``examples/NAME.jsonl``) and what the demo shows of it."""

    title: str
    platform: str
    zone: str
    key_dates: tuple[tuple[str, str], ...]
    #: Whether the case holds the correction the demo's two-time-axes question is about.
    bitemporal: bool = False


CASES = {
    "telegram-indonesia-2017": Case("Indonesia blocks Telegram's web service, 2017",
                                    "telegram", "Asia/Jakarta", KEY_DATES, bitemporal=True),
    "turkey-wikipedia-2017": Case(
        "Turkey blocks Wikipedia, 2017-2020", "wikipedia", "Europe/Istanbul",
        (("2017-04-28", "the day before the block"),
         ("2017-05-15", "two weeks into the block of every language edition"),
         ("2019-12-31", "the Constitutional Court has ruled; the ruling is not yet published"),
         ("2020-01-16", "the day after the ruling took effect, on its publication"))),
    "india-apps-2020": Case(
        "India blocks 59 apps in one order, 2020", "tiktok", "Asia/Kolkata",
        (("2020-06-29", "the order of 29 June 2020 under Section 69A, over many apps"),
         ("2021-01-01", "six months on: still in effect"))),
}


def _rule(screen: Screen, title: str) -> Rule | Text:
    """A heading rule across the screen; piped with no width, a short one (not one as long
    as the console's unbounded width)."""
    return Rule(title) if screen.width else Text(f"== {title} ==")


def run_demo(ledger: Ledger, outcome: Outcome, screen: Screen, *, where: str | None,
             learned_at: datetime, case: Case = CASES["telegram-indonesia-2017"]) -> None:
    """Print what the bundled case shows: status on key dates, one bitemporal question,
    then the whole history. ``learned_at`` separates what the ledger learned first from the
    corrections and disputes it recorded afterwards."""
    book = Book(ledger.entries())
    out = screen.console()
    out.print(_rule(screen, f"blockledger demo: {case.title}"))
    out.print(f"Loaded {len(outcome.recorded)} events"
              + (f" ({len(outcome.skipped)} already there)" if outcome.skipped else "")
              + (f" into {where}" if where else " into a temporary ledger")
              + f"; times are shown in {zone_name(screen.tz)} (BLOCKLEDGER_TZ sets another "
              "zone).\n")
    ref = case.platform
    for day, why in case.key_dates:
        out.print(Text.assemble((f"As of {day}", "bold"), f" ({why}):"))
        as_of = When.parse(day, end_of_day=True)
        out.print(platform_text(platform_status(book, ref, as_of=as_of),
                                status_detail(book, ref, as_of=as_of), screen))
        out.print()
    if not case.bitemporal:
        out.print(_rule(screen, f"history of {ref}, by the date things happened"))
        HistoryTable(screen).write(history(book, ref))
        return
    out.print(_rule(screen, "two time axes: what the ledger said before a correction"))
    out.print("The block was first recorded with its day only, then corrected to 11:00 WIB.")
    earlier = Book(ledger.entries(), as_known_at=learned_at)
    then = When.of(learned_at)
    for label, known in ((f"as known at {screen.time(then.text)} (before the correction)",
                          earlier),
                         ("as known now", book)):
        status = platform_status(known, "telegram", as_of=When.parse(BEFORE_BLOCK))
        out.print(Text.assemble("  ", (f"As of {screen.time(BEFORE_BLOCK)}", "bold"),
                                f", {label}: ",
                                styled(status["state"])))
    out.print()
    out.print(_rule(screen, "history of telegram, by the date things happened"))
    HistoryTable(screen).write(history(book, "telegram"))
    # (a command a line: at 80 columns one line of both broke the second in two)
    out.print("\nTry:\n  blockledger --db case.db demo\n"
              "  blockledger --db case.db status telegram --as-of 2017-07-20 --json")
