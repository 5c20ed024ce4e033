"""The demo: the 2017 Telegram case, its status on key dates and its history."""

from __future__ import annotations

from rich.console import Console
from rich.rule import Rule

from domain.values import When
from ledger.application import Ledger, Outcome
from projections import render
from projections.book import Book
from projections.history import history
from projections.status import platform_status

KEY_DATES = (
    ("2017-07-13", "the night the ministry decided to block, after six unanswered emails"),
    ("2017-07-20", "a week into the block of the web service; the apps still work"),
    ("2017-08-01", "the day the CEO met the minister"),
    ("2017-08-20", "ten days after the block was lifted"),
)


def run_demo(ledger: Ledger, outcome: Outcome, out: Console, *, where: str | None) -> None:
    """Print what the bundled case shows: status on key dates, then the whole history."""
    book = Book(ledger.entries())
    out.print(Rule("blockledger demo: Indonesia blocks Telegram's web service, 2017"))
    out.print(f"Loaded {len(outcome.recorded)} events"
              + (f" ({len(outcome.skipped)} already there)" if outcome.skipped else "")
              + (f" into {where}" if where else " into a temporary ledger") + ".\n")
    for day, why in KEY_DATES:
        out.print(f"[bold]As of {day}[/bold] ({why}):")
        out.print(render.status_view(platform_status(book, "telegram",
                                                     as_of=When.parse(day, end_of_day=True))))
        out.print()
    out.print(Rule("history of telegram, by the date things happened"))
    out.print(render.history_table(history(book, "telegram")))
    out.print("\nTry: blockledger status telegram --as-of 2017-07-20 --json   (with --db to keep "
              "a ledger)")
