"""Bulk import: stream numbered facts into the ledger and its views, in large batches.

The file is read as a stream (``ledger.interchange.read_facts``) and taken ``batch_size``
facts at a time: each batch is validated (while it is read), checked by the rules
(``ledger.bulk.Bulk``), written through the chained recorder, and added to the views from
memory (``Views.take``). Memory stays flat in the size of the file: one batch, and a
bounded number of subjects, are held at a time.

By default the whole import is one transaction that spans every batch
(``ledger.bulk.one_transaction``): stage, then commit. A bad or refused line raises before
the commit, so nothing is written. With ``batch_commit`` every batch commits on its own
(and is drawn from the stream inside its transaction, under the write lock): a failure
keeps the batches before it, and a re-run skips what landed (ids already in the ledger are
skipped).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from attrs import frozen

from domain.errors import BadInput, LedgerError
from domain.fact import Fact
from ledger.application import Ledger
from ledger.bulk import REMEMBERED, Bulk, one_transaction
from projections.collection import paused
from projections.views import Views

BATCH_SIZE = 20_000
#: Facts imported between two collections of cyclic garbage (see projections.collection).
COLLECT_EVERY = 200_000


@frozen
class Imported:
    """How many facts an import wrote, and how many it skipped (already in the ledger)."""

    recorded: int
    skipped: int


def import_facts(ledger: Ledger, numbered: Iterable[tuple[int, Fact]], *, operator: str,
                 batch_size: int = BATCH_SIZE, batch_commit: bool = False,
                 progress: Callable[[int], None] | None = None,
                 remembered: int = REMEMBERED, drawn_in_lock: bool = False) -> Imported:
    """Import ``(line number, fact)`` pairs; a refusal names its line.

    All or nothing by default; with ``batch_commit``, one transaction per batch.
    ``drawn_in_lock``: with ``batch_commit``, each batch is drawn from ``numbered`` inside
    its transaction, under the write lock, for a source that reads the ledger as it makes
    its facts (a registry's diff). Only such a source asks for it: an import that holds the
    lock while it reads its input as well makes every other writer wait for that too.
    """
    views = Views(ledger, remembered=remembered)
    bulk = Bulk(ledger, operator, remembered=remembered)
    recorded = skipped = collected = 0
    batches = _chunks(numbered, batch_size)
    whole = contextlib.nullcontext() if batch_commit else one_transaction(ledger, views.store)
    with whole, paused():
        if batch_commit:
            steps = _each_committed(ledger, bulk, views, batches, drawn_in_lock)
        else:
            views.catch_up()  # inside the lock: the views stand at the ledger's head
            bulk.start_write()
            steps = _all_or_nothing(bulk, views, batches)
        for written, passed in steps:
            recorded += written
            skipped += passed
            if recorded + skipped - collected >= COLLECT_EVERY:
                gc.collect(1)  # cyclic garbage, if any (see projections.collection)
                collected = recorded + skipped
            if progress is not None:
                progress(recorded + skipped)
    return Imported(recorded=recorded, skipped=skipped)


# Each batch is let go before the next is drawn: a source that makes its facts as they
# are drawn (a registry's snapshot) otherwise held two batches of facts while it made the
# second (``tests/test_registry_memory.py``).


def _all_or_nothing(bulk: Bulk, views: Views, batches: Iterator[list[tuple[int, Fact]]],
                    ) -> Iterator[tuple[int, int]]:
    """Every batch in the import's one transaction (its caller holds it)."""
    while (batch := next(batches, None)) is not None:
        done = _record(bulk, views, batch)
        del batch
        yield done
    bulk.check_write()  # the whole import, at its end (``domain.dependents``)


def _each_committed(ledger: Ledger, bulk: Bulk, views: Views,
                    batches: Iterator[list[tuple[int, Fact]]], drawn_in_lock: bool,
                    ) -> Iterator[tuple[int, int]]:
    """Each batch in a transaction of its own, drawn inside it with ``drawn_in_lock``."""
    while True:
        if not drawn_in_lock and (batch := next(batches, None)) is None:
            return  # the input is done
        with one_transaction(ledger, views.store):
            if drawn_in_lock and (batch := next(batches, None)) is None:
                return
            bulk.forget()  # another writer may have written since the last batch
            views.catch_up()
            bulk.start_write()
            done = _record(bulk, views, batch)
            del batch
            bulk.check_write()  # each batch, as it commits on its own
        yield done


def _record(bulk: Bulk, views: Views, batch: list[tuple[int, Fact]]) -> tuple[int, int]:
    """Check and write one batch, and add it to the views."""
    try:
        written, skipped = bulk.record([fact for _, fact in batch],
                                       lines=[number for number, _ in batch])
    except LedgerError as error:
        index = getattr(error, "index", None)
        if index is None:
            raise
        if isinstance(error, BadInput):  # keep its field: "line N, field 'x': ..."
            raise error.at_line(batch[index][0]) from None
        raise type(error)(f"line {batch[index][0]}: {error}") from None
    views.take(written)
    return len(written), len(skipped)


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
