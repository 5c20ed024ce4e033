"""Writing a checkpoint: verify the ledger, then sign its Merkle root, size, chain head,
time and index root (of the current index version) as a note (``ledger.checkpoint``), and
keep a copy in the ledger."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.errors import Refused
from ledger import index_cache, platform_index
from ledger.chain import GENESIS
from ledger.checkpoint import Checkpoint
from ledger.merkle import root
from ledger.record_time import recorded_at
from ledger.verify import Broken, walk


def checkpoint_note(ledger: Any, *, origin: str, private_key: Any = None,
                    key_name: str | None = None,
                    progress: Callable[[int], None] | None = None, keep: bool = True) -> str:
    """Verify the ledger and write a checkpoint of it: root, size, chain head, time and
    the root of the platform index (of the current version: platform, order and request
    leaves) over the same events (``ledger.platform_index``); with
    ``keep``, a copy goes into the ledger (a read-only auditor passes ``keep=False``).

    Refuses (``Refused``) a ledger that does not verify: a checkpoint vouches for history.
    The chain head is the link of the last verified event, not the head at the end, so a
    write committed meanwhile cannot slip into one of the three and not the others.
    """
    leaves: list[bytes] = []
    positions: list[int] = []
    try:
        walk(ledger, leaves=leaves, on_leaf=lambda position, _: positions.append(position),
             progress=progress)
    except Broken as broken:
        raise Refused(f"refused: the ledger does not verify at position {broken.position}: "
                      f"{broken.reason}") from None
    head = GENESIS
    if leaves:
        [row] = ledger.recorder.select_chain(len(leaves) - 1, 1)
        head = row.chain
    index = platform_index.build(ledger, positions, platform_index.VERSION)
    checkpoint = Checkpoint(origin=origin, tree_size=len(leaves), root_hash=root(leaves),
                            chain_head=head, time=_note_time(ledger, positions),
                            index_size=len(index), index_root=root(index),
                            index_version=platform_index.VERSION)
    note = checkpoint.to_note(private_key, key_name)
    if keep:
        ledger.recorder.insert_checkpoint(len(leaves), note)
        # Beside the note, its index: reports then read only their subject's events.
        index_cache.keep(ledger, len(leaves), index)
    return note


def _note_time(ledger: Any, positions: list[int]) -> str:
    """The checkpoint's time: the clock the ledger's record times answer to (the
    PostgreSQL server's; this machine's for SQLite), and never before the record time of
    the last event it covers (rounded up to its second), so that the note's time bounds
    what it covers whatever the checkpointer's clock says. A checkpointer whose clock ran
    behind the writers' used to keep a note that made ``verify`` fail for ever."""
    now = datetime.now(UTC)
    if ledger.target.postgres:
        with ledger.recorder.datastore.transaction(commit=False) as curs:
            now = curs.execute("SELECT clock_timestamp() AS now").fetchone()["now"]
    if positions:
        last = recorded_at(ledger, positions[-1])
        if last is not None and last > now:
            now = last.replace(microsecond=0) + timedelta(seconds=1)
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

