"""``blockledger import``: JSON Lines into the ledger, streamed, all or nothing or in batches.

Registered on the ``blockledger`` group by ``cli``. The work is ``projections.importing``.
"""

from __future__ import annotations

import os
import stat
from typing import Any

import click

from commands.context import Context, pass_context, progress
from ledger.interchange import read_facts
from projections.importing import BATCH_SIZE, import_facts


def batch_options(command: Any) -> Any:
    """``--batch-commit`` and ``--batch-size``, as every import takes them (``import``,
    ``import-ooni``, ``import-registry``: one path, ``projections.importing``)."""
    command = click.option(
        "--batch-size", type=click.IntRange(1), default=BATCH_SIZE, show_default=True,
        help="Events checked and written at a time (and per transaction with "
        "--batch-commit).")(command)
    return click.option(
        "--batch-commit", is_flag=True,
        help="Commit every --batch-size events (for huge inputs): a failure keeps the "
        "batches before it, and re-running the import skips what landed.")(command)


@click.command("import")
@click.argument("file", type=click.File("rb"))
@batch_options
@pass_context
def import_(obj: Context, file: Any, batch_commit: bool, batch_size: int) -> None:
    """Import events from JSON Lines (FILE or - for stdin): all or nothing, idempotent by id.

    The file is streamed: validated, checked against the rules and written --batch-size
    events at a time, so memory stays flat however large it is. By default everything is
    one transaction, committed at the end: a bad or refused line (named in the error)
    writes nothing. --batch-commit commits every batch instead: a failure keeps the batches
    before it, and a re-run skips what landed.

    \b
    Examples:
      blockledger import examples/telegram-indonesia-2017.jsonl
      blockledger export | blockledger --db copy.db import -
      blockledger import big.jsonl --batch-commit       # keep what landed on failure
    """
    with obj.ledger(write=True) as ledger, progress(_size(file), "importing") as advance:
        before = default_jurisdiction(ledger)
        done = import_facts(ledger, read_facts(file), operator=obj.operator,
                            batch_size=batch_size, batch_commit=batch_commit,
                            progress=lambda _: advance(_position(file)))
        after = default_jurisdiction(ledger)
    click.echo(f"imported {done.recorded} events"
               + (f" ({done.skipped} already in the ledger, skipped)" if done.skipped else ""))
    if after != before:  # another ledger's setting, adopted with its events: say so
        click.echo(f"the ledger's default jurisdiction is now {after or 'none'} (was "
                   f"{before or 'none'}), set by the imported events: every order and "
                   "observation that names no jurisdiction counts there")


def default_jurisdiction(ledger: Any) -> str | None:
    """The ledger's default jurisdiction as it holds it now."""
    from domain.jurisdictions import LEDGER

    settings = ledger.subject("ledger", LEDGER)
    return getattr(settings.state(), "jurisdiction", None) if settings else None


def _size(file: Any) -> int:
    """The file's size in bytes, for the progress bar (0 for a pipe: no bar)."""
    try:
        info = os.fstat(file.fileno())
    except (OSError, ValueError, AttributeError):
        return 0
    return info.st_size if stat.S_ISREG(info.st_mode) else 0


def _position(file: Any) -> int:
    try:
        return max(0, file.tell() - 1)
    except (OSError, ValueError, AttributeError):
        return 0


def register(group: click.Group) -> None:
    group.add_command(import_)
