"""Record time, which nobody sets by hand: the recorders keep it non-decreasing in the
ledger's order, and on PostgreSQL within ``CLOCK_TOLERANCE`` of the server's clock.

``recorded_at`` is set by the writing process, once it holds the store's write lock
(``Ledger.record`` stamps a write's events when it takes the lock to store them; an import
as it checks each batch under the lock), and it is inside the hashed bytes. The recorders
check, in the insert transaction, each new event's time against its predecessor's: a
writer meets ``RecordTimeBehind`` only if its clock is behind the last writer's, and is
told so. (Writers once stamped before waiting for the lock: one that stamped while an
``import --batch-commit`` held it was overtaken by the batch's stamps at every retry.)
``verify`` checks the same rule over the whole log (``ledger.consistency``), and against
the checkpoints kept in the ledger.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from eventsourcing.persistence import IntegrityError, StoredEvent

from domain.errors import Refused


class RecordTimeBehind(IntegrityError):
    """An insert whose record time is earlier than its predecessor's: this writer's clock
    is behind the one that wrote the predecessor (``Ledger.record`` tries once more under
    the lock, then says so)."""


class ClockSkew(Refused):
    """A writer whose clock is too far from the PostgreSQL server's."""


#: How far a writer's record time may be from the PostgreSQL server's clock, either way.
CLOCK_TOLERANCE = timedelta(minutes=5)
#: How far behind the last record time a writer's clock may be and its write still be
#: stamped (with that time; ``stamp``): clocks kept by NTP are well within it.
STAMP_CATCH_UP = timedelta(seconds=2)
_RECORDED_AT_VALUE = b'"recorded_at":"'


def recorded_at_of(plain: bytes) -> datetime | None:
    """The record time in an event's canonical JSON (None where there is none: the
    recorders' own tests store other rows)."""
    at = plain.find(_RECORDED_AT_VALUE)
    if at < 0:
        return None
    start = at + len(_RECORDED_AT_VALUE)
    end = plain.find(b'"', start)
    try:
        return datetime.fromisoformat(plain[start:end].decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        return None


def new_record_times(stored_events: Sequence[StoredEvent],
                      exports: list | None) -> list[datetime | None]:
    if exports is None:
        return [None] * len(stored_events)
    out: list[datetime | None] = []
    for export, stored in zip(exports, stored_events, strict=True):
        if isinstance(export, tuple):
            out.append(recorded_at_of(stored.state if export[1] is None else export[1]))
        else:
            text = export.get("recorded_at")
            out.append(datetime.fromisoformat(text) if isinstance(text, str) else None)
    return out


def check_record_times(previous: datetime | None, times: Sequence[datetime | None],
                       positions: Sequence[int], server_now: datetime | None = None) -> None:
    """Refuse record times that go backwards from ``previous`` (the last committed event's)
    or along the batch (``RecordTimeBehind``), or, given the server's clock, that are more
    than ``CLOCK_TOLERANCE`` from it (``ClockSkew``): the store keeps record time
    non-decreasing in ledger order, so "what the ledger said at K" cannot be forged by a
    writer's clock."""
    for position, at in zip(positions, times, strict=True):
        if at is None:
            continue
        if server_now is not None and abs(at - server_now) > CLOCK_TOLERANCE:
            raise ClockSkew(f"refused: this writer's clock says {at.isoformat()}, the "
                            f"database server's {server_now.isoformat()}: more than "
                            f"{CLOCK_TOLERANCE} apart; set the clock right and try again")
        if previous is not None and at < previous:
            raise RecordTimeBehind(f"the event at position {position} would be recorded at "
                                   f"{at.isoformat()}, before its predecessor "
                                   f"({previous.isoformat()})")
        previous = at


def stamp(ledger: Any, checked: datetime) -> datetime:
    """A write's record time, taken under the store's write lock (``Ledger._store``): now,
    never before ``checked`` (the rules' now); or the last event's record time, where this
    writer's clock is behind it by at most ``STAMP_CATCH_UP`` (two writers' clocks a few
    hundred milliseconds apart: the second was refused as "behind", a review, 2026-12-08;
    the record time says the ledger learned it no earlier than the event before). Further
    behind, now: the store refuses it, and the writer is told its clock is behind. (Not
    ``CLOCK_TOLERANCE``: a writer whose clock ran that far ahead would have lent its future
    time to every honest writer after it, a second review.)"""
    now = max(datetime.now(UTC), checked)
    last = recorded_at(ledger, ledger.recorder.max_notification_id())
    if last is not None and now < last <= now + STAMP_CATCH_UP:
        return last
    return now


def recorded_at(ledger: Any, position: int | None) -> datetime | None:
    """The record time of the event at ``position`` (None where there is none, or it
    cannot be read: ``verify`` names such an event)."""
    found = ledger.recorder.select_notifications(position, 1) if position else ()
    if not found or found[0].id != position:
        return None
    return recorded_at_of(ledger.mapper.decode_state(found[0].state))


def stamped(events: list[Any], at: datetime) -> list[Any]:
    """``events`` (the aggregates' domain events) recorded at ``at``: their ``timestamp``,
    which the mapper stores as ``recorded_at``."""
    return [dataclasses.replace(event, timestamp=at) for event in events]
