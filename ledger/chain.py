"""The hash chain over the ledger's events: ``chain_i = SHA-256(chain_{i-1} || hash_i)``.

The chain starts from ``GENESIS`` (32 zero bytes) and follows the ledger's global order
(the notification ids). Each link is written in the same transaction as its event, by the
recorders in ``ledger.recorders``; ``verify`` recomputes it with these same functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, NamedTuple

from eventsourcing.persistence import StoredEvent

from ledger.canonical import canonical, event_hash

#: The chain value before the first event.
GENESIS = bytes(32)


class ChainRow(NamedTuple):
    """One link of the chain, as stored in the chain table."""

    seq: int
    position: int
    event_id: str | None
    event_hash: bytes
    chain: bytes


def chain_next(prev: bytes, event_hash: bytes) -> bytes:
    """The chain value after ``prev``: SHA-256(prev || event_hash)."""
    if len(prev) != 32 or len(event_hash) != 32:
        raise ValueError("chain values and event hashes are 32 bytes")
    return hashlib.sha256(prev + event_hash).digest()


def raw_event_hash(position: int, stored: StoredEvent) -> bytes:
    """SHA-256 of the canonical JSON of a stored row, for events written without an export.

    Only the library's own recorder tests (and any writer that passes no ``exports``) end
    up here; ledger events are hashed from their export form (``export_event_hash``), so
    that anyone can recompute the hash from an export line.
    """
    row = {
        "position": position,
        "originator_id": str(stored.originator_id),
        "originator_version": stored.originator_version,
        "topic": stored.topic,
        "state": stored.state.hex(),
    }
    return hashlib.sha256(canonical(row)).digest()


def export_event_hash(position: int, export: dict[str, Any]) -> bytes:
    """SHA-256 of the canonical JSON of an event's export with its ``position`` set.

    ``ledger.canonical.event_hash`` is the one definition of the event hash (it leaves out
    any ``hash`` field), so the chain and an export line can never disagree.
    """
    return bytes.fromhex(event_hash(dict(export, position=position)))


def link(prev: bytes, seq_before: int, items: Iterable[tuple[int, str | None, bytes]],
         ) -> list[ChainRow]:
    """Chain rows for ``(position, event_id, event_hash)`` items after a head.

    ``prev`` is the head's chain value (``GENESIS`` for an empty chain) and ``seq_before``
    its seq (0 for an empty chain).
    """
    rows = []
    for seq, (position, event_id, hashed) in enumerate(items, start=seq_before + 1):
        prev = chain_next(prev, hashed)
        rows.append(ChainRow(seq, position, event_id, hashed, prev))
    return rows


def first_break(rows: Iterable[ChainRow], prev: bytes = GENESIS, seq_before: int = 0,
                ) -> ChainRow | None:
    """The first row whose seq or chain value does not follow from the rows before it.

    Positions must increase strictly along the chain. Returns None when all rows link.
    """
    last_position = None
    for row in rows:
        if row.seq != seq_before + 1 or row.chain != chain_next(prev, row.event_hash):
            return row
        if last_position is not None and row.position <= last_position:
            return row
        prev, seq_before, last_position = row.chain, row.seq, row.position
    return None
