"""``blockledger import``: JSON Lines into the ledger, all or nothing, or in batches.

Registered on the ``blockledger`` group by ``cli``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click

from cli import Context, pass_context, progress
from domain.errors import BadInput, LedgerError
from domain.fact import Fact
from ledger.application import Outcome
from ledger.interchange import read_facts


@click.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--batch-commit", is_flag=True,
              help="Commit every --batch-size events (for huge files): a failure keeps the "
              "batches before it, and re-running the import skips what landed.")
@click.option("--batch-size", type=click.IntRange(1), default=20_000, show_default=True,
              help="Events per transaction with --batch-commit.")
@pass_context
def import_(obj: Context, file: Any, batch_commit: bool, batch_size: int) -> None:
    """Import events from JSON Lines (FILE or - for stdin): all or nothing, idempotent by id.

    By default every line is validated and checked against the rules before anything is
    written, in one transaction (the file is held in memory). --batch-commit streams it in
    transactions of --batch-size events instead: a bad or refused line stops the import
    there, keeping the batches before it, and a re-run skips what landed.
    """
    if not batch_commit:
        facts = list(read_facts(file))
        outcome = _record_lines(obj, facts)
    else:
        recorded = skipped = 0
        for chunk in _chunks(read_facts(file), batch_size):
            outcome = _record_lines(obj, chunk)
            recorded += len(outcome.recorded)
            skipped += len(outcome.skipped)
        outcome = Outcome(recorded=(None,) * recorded, skipped=(None,) * skipped)
    click.echo(f"imported {len(outcome.recorded)} events"
               + (f" ({len(outcome.skipped)} already in the ledger, skipped)"
                  if outcome.skipped else ""))


def _chunks(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _record_lines(obj: Context, facts: list[tuple[int, Fact]]) -> Outcome:
    """Record numbered facts in one transaction; a refusal names its line."""
    with obj.ledger(write=True) as ledger, progress(len(facts), "checking") as advance:
        try:
            return ledger.record([f for _, f in facts], operator=obj.operator,
                                 on_checked=advance)
        except LedgerError as error:
            index = getattr(error, "index", None)
            if index is None:
                raise
            if isinstance(error, BadInput):  # keep its field: "line N, field 'x': ..."
                raise error.at_line(facts[index][0]) from None
            raise type(error)(f"line {facts[index][0]}: {error}") from None


def register(group: click.Group) -> None:
    group.add_command(import_)
