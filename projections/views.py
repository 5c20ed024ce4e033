"""Keeping the persisted views current, and reading status and history from them.

Every write command catches the views up before it exits; reads catch up first too (a
no-op when nothing is new). A platform's status at any valid or record time is folded from
that platform's rows only, read through an index: it never replays the whole log. Where the
views cannot be written (a read-only connection), reads fall back to replaying the log.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from eventsourcing.persistence import IntegrityError

from domain.declaration import REGISTRY
from domain.fact import Fact
from domain.timeline import OrderState
from ledger.application import Entry, Ledger
from ledger.views import VIEWS, PostgresViews, SQLiteViews
from projections.book import Book
from projections.status import platform_status

BATCH = 5000
RETRIES = 10


class Views:
    """The ledger's views: catch up, rebuild, and read from them."""

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        cls = PostgresViews if ledger.target.postgres else SQLiteViews
        self.store = ledger.factory.tracking_recorder(cls)

    # --- keeping current ----------------------------------------------------------------

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Bring every view up to the ledger's last event; return how many events were
        added to the history view.

        Another process catching up at the same moment makes one of the two transactions
        conflict (the same positions, the same tracking row): that one starts again from
        the position the other reached.
        """
        for attempt in range(RETRIES):
            try:
                added = self._catch_up_history(progress)
                self._catch_up_status()
                return added
            except IntegrityError:
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def rebuild(self, view: str | None = None,
                progress: Callable[[int], None] | None = None) -> None:
        """Empty ``view`` (or all) and rebuild from the first event. An interrupted rebuild
        resumes where it stopped: each batch commits with its position."""
        for name in [view] if view else VIEWS:
            self.store.drop(name)
        self.catch_up(progress)

    def lag(self) -> dict[str, dict[str, int]]:
        """Each view's position, and how many events it has yet to take in."""
        counts = self.store.counts()
        out = {}
        for view in VIEWS:
            position = self.store.position(view)
            behind = 0
            while batch := self.ledger.recorder.select_notifications(
                    position, BATCH, inclusive_of_start=False):
                behind += len(batch)
                position = batch[-1].id
            out[view] = {"position": self.store.position(view), "lag": behind,
                         "rows": counts[view]}
        return out

    def _catch_up_history(self, progress: Callable[[int], None] | None) -> int:
        position, added = self.store.position("history"), 0
        decode = self.ledger.mapper.decode_state
        platform_of: dict[tuple[str, str], str] = {}
        event_of: dict[str, tuple[str, str]] = {}
        while notifications := self.ledger.recorder.select_notifications(
                position, BATCH, inclusive_of_start=False):
            rows = []
            for notification in notifications:
                obj = orjson.loads(decode(notification.state))
                kind, platform = self._locate(obj, platform_of, event_of)
                event_of[obj["id"]] = (kind, platform)
                rows.append((notification.id, obj["id"], kind, obj["subject"], platform,
                             obj["recorded_at"], notification.state))
            position = notifications[-1].id
            self.store.write_history(rows, position)
            added += len(rows)
            if progress is not None:
                progress(added)
        return added

    def _locate(self, obj: dict[str, Any], platform_of: dict[tuple[str, str], str],
                event_of: dict[str, tuple[str, str]]) -> tuple[str, str]:
        """The kind of an event's subject and the platform it concerns."""
        kind = REGISTRY[obj["type"]].subject
        if kind == "any":  # an amendment: where its target is
            target = obj["data"]["target"]
            if target not in event_of:
                event_of.update(self.store.kinds_of([target]))
            return event_of[target]
        if kind == "platform":
            return kind, obj["subject"]
        key = (kind, obj["subject"])
        if key not in platform_of:
            if REGISTRY[obj["type"]].creates:
                platform_of[key] = obj["data"]["platform"]
            else:
                known = dict(self.store.subject_kinds(obj["subject"]))
                platform_of[key] = known[kind]
        return kind, platform_of[key]

    def _catch_up_status(self) -> None:
        since = self.store.position("status")
        head = self.store.position("history")
        if head <= since:
            return
        changed = set(self.store.platforms_since(since))
        now = datetime.now(UTC)
        rows = []
        for platform in sorted(changed):
            book = self.book(platform=platform)
            if not book.has("platform", platform):
                continue  # its orders arrived before it in an as-known-at sense: skip
            status = platform_status(book, platform)
            rows.append((platform, self._seal(orjson.dumps(status)),
                         _stale_after(book, platform, now)))
        self.store.write_status(rows, head)

    def _seal(self, body: bytes) -> bytes:
        cipher = self.ledger.mapper.cipher
        return cipher.encrypt(body) if cipher else body

    def _open(self, body: bytes) -> bytes:
        cipher = self.ledger.mapper.cipher
        return cipher.decrypt(body) if cipher else body

    # --- reading ------------------------------------------------------------------------

    def entries(self, **where: Any) -> Iterator[Entry]:
        """Entries of one platform (``platform=``), one subject (``subject=(kind, ref)``) or
        of all, from the history view."""
        decode = self.ledger.mapper.decode_state
        for position, body in self.store.history_rows(**where):
            yield Entry(position=position, fact=Fact.from_stored(orjson.loads(decode(body))))

    def book(self, *, as_known_at: datetime | None = None, **where: Any) -> Book:
        """A ``Book`` of the rows ``where`` selects, as known at ``as_known_at``."""
        return Book(self.entries(**where), as_known_at=as_known_at)

    def current_status(self, platform: str | None = None) -> list[dict[str, Any]] | None:
        """The kept "now, as known now" status of one platform or all; None where a kept
        status has gone stale (a temporary lift ended since), so the caller folds afresh."""
        now = datetime.now(UTC).isoformat()
        out = []
        for _, body, stale_after in self.store.status_rows(platform):
            if stale_after is not None and stale_after <= now:
                return None
            out.append(orjson.loads(self._open(body)))
        return out

    def subject_keys(self, subject: str) -> list[tuple[str, str]]:
        """``(kind, platform)`` for each subject called ``subject``."""
        return self.store.subject_kinds(subject)


def _stale_after(book: Book, platform: str, now: datetime) -> str | None:
    """When the status folded now stops holding: the earliest end of a temporary lift."""
    ends = []
    for ref in book.related(platform, "order"):
        state = book.state("order", ref, now)
        if isinstance(state, OrderState):
            ends += [until for until in state.suspended.values() if until > now]
    return min(ends).isoformat() if ends else None
