"""Keeping the persisted views current, and reading status and history from them.

Every write command catches the views up before it exits (a bulk import feeds them each
batch from memory, in its own transaction: ``take``); reads catch up first too (a no-op
when nothing is new). A platform's status at any valid or record time is folded from that
platform's rows only, read through an index: it never replays the whole log. Where the
views cannot be written (a read-only connection), reads fall back to replaying the log.

The index columns hold blinded values (``ledger.blinding``): the references themselves
without a cipher, keyed hashes of them with one, so that an encrypted ledger's views hold
no plaintext. Nothing needs them back: a status row is found by its blinded platform, and
the platform's reference is read from its (decrypted) events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure, SubjectNotFound
from domain.fact import Fact
from domain.jurisdictions import LEDGER
from domain.timeline import OrderState
from ledger.blinding import ledger_blinder
from ledger.entry import Entry, load_fact
from ledger.views import STATUS_FORMAT, VIEWS, moves_named
from projections.book import KINDS, Book
from projections.collection import paused
from projections.status import platform_status

if TYPE_CHECKING:
    from ledger.application import Ledger

BATCH = 5000
RETRIES = 10
#: Lookups remembered while catching up (event -> its subject's kind and platform); past
#: this many they are forgotten and asked of the history view again, so memory stays flat.
REMEMBERED = 200_000
#: A history view filled from empty with at least this many events goes without its
#: indexes until the end (``ledger.views.history_indexes``); a smaller one keeps them.
FILL_UNINDEXED = 50_000
#: How many platforms' rows one query reads while their status is folded: 50, not 500,
#: so that an import's peak memory does not grow with the length of the platforms'
#: histories (500 platforms of long histories decoded at once: the peak of a 200,000-event
#: import was 1.34x that of a 50,000-event one; with 50, 1.26x, the rest the page cache).
PLATFORMS = 50


class Views:
    """The ledger's views: catch up, rebuild, take a recorded batch, and read from them."""

    def __init__(self, ledger: Ledger, *, remembered: int = REMEMBERED):
        self.ledger = ledger
        self.remembered = remembered
        self.store = ledger.view_store()
        self.blind = ledger_blinder(ledger)
        self._kind_of_key = {self.blind(kind): kind for kind in KINDS}
        #: The ledger's settings (its default jurisdiction), which every status reads.
        self.settings = (self.blind("ledger"), self.blind(LEDGER))
        self._platform_of: dict[tuple[str, str], str] = {}
        self._event_of: dict[str, tuple[str, str]] = {}
        self._absent: set[tuple[str, str]] = set()  # subjects found missing (``_exists``)
        #: Facts of the batch being taken, by position: their status needs no decoding.
        #: Only that batch: keeping the one before too saved decoding its rows once more
        #: but held a second batch of facts between batches, which made the import's peak
        #: memory climb for its first three batches (an import of 50,000 events peaked
        #: lower than one of 200,000: ``benchmarks/run.py --rss``).
        self._recent: dict[int, Fact] = {}

    # --- keeping current ----------------------------------------------------------------

    def catch_up(self, progress: Callable[[int], None] | None = None) -> int:
        """Bring every view up to the ledger's last event; return how many events were
        added to the history view.

        Another process catching up at the same moment makes one of the two transactions
        conflict (the same positions, the same tracking row): that one starts again from
        the position the other reached.
        """
        from eventsourcing.persistence import IntegrityError  # a write: the library's

        if not self.store.exists():
            # A ledger last written before they existed, or a table dropped by hand (then
            # create_table empties them all and their tracking rows: they start from zero).
            self.ledger.create_view_tables()
            self._forget()
        for attempt in range(RETRIES):
            try:
                added = self._catch_up_history(progress)
                self._catch_up_status()
                return added
            except IntegrityError:
                self._forget()
                if attempt == RETRIES - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def rebuild(self, view: str | None = None,
                progress: Callable[[int], None] | None = None) -> None:
        """Empty ``view`` (or all) and rebuild from the first event. An interrupted rebuild
        resumes where it stopped: each batch commits with its position."""
        if not self.store.exists():
            self.ledger.create_view_tables()
        for name in [view] if view else VIEWS:
            self.store.drop(name)
        self._forget()
        with paused():
            self.catch_up(progress)

    def take(self, batch: Sequence[tuple[int, Fact, dict[str, Any]]]) -> None:
        """Add a batch the ledger has just written to both views, from memory: each item is
        ``(position, fact, exported object)``. Both views must stand where the batch starts
        (caught up before it); both move to its end in one transaction. The caller holds
        the views' lock from before its catch-up (an import's ``one_transaction``), so no
        rebuild empties them in between (``write_in``'s ``history_from`` is for writers
        that do not).
        """
        if not batch:
            return
        self._bound()
        rows, moves = [], []
        mine: dict[str, list[Entry]] = {}  # the batch's entries of each platform it changed
        settings = False
        for position, _, obj in batch:
            row = self._row(position, obj)
            rows.append(row)
            moves.extend(self._moves(row, obj))
            settings = settings or (row[1], row[2]) == self.settings
        moved: dict[tuple[str, str], list[str]] = {}  # the batch's subjects moved earlier
        for platform, kind, subject, _ in self.store.moves_of(row[2] for row in rows):
            moved.setdefault((kind, subject), []).append(platform)
        for row, (position, fact, _) in zip(rows, batch, strict=True):
            entry = Entry(position=position, fact=fact)
            for platform in {row[3], *moved.get((row[1], row[2]), ())} - {""}:
                mine.setdefault(platform, []).append(entry)
        self._recent = {position: fact for position, fact, _ in batch}
        now = datetime.now(UTC)
        end = batch[-1][0]
        if moves or settings:
            # A subject moved to another platform: that platform's status needs all of the
            # subject's events, so the rows go in first and its status is read back whole.
            # A new default jurisdiction: every platform's status changes.
            self.store.write(rows, (), history_to=end, moves=moves)
            keys = {*mine, *(move[0] for move in moves)}
            if settings:
                keys.update(self._all_platforms())
            status = self._status_rows(keys, now, gone=True)
            self.store.write((), status, status_to=end)
        else:
            # Inside the import's transaction (``ledger.bulk.one_transaction``), the
            # status rows are folded as the write takes them, on the connection it lends.
            status = self._status_rows(mine, now, before=batch[0][0], extra=mine,
                                       gone=True)
            self.store.write(rows, status, history_to=end, status_to=end)
        # Let the batch's facts go once taken: held to the next batch, they were a second
        # batch alive while it is made, checked and written.
        self._recent = {}

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

    def lag_estimate(self) -> int:
        """How many committed events the history view has yet to take in, at most (one
        query; PostgreSQL's positions have gaps, so this can over-count)."""
        head = self.ledger.recorder.max_notification_id() or 0
        return max(0, head - min(self.store.position("history"),
                                 self.store.position("status")))

    def _bound(self) -> None:
        """Forget lookups past ``remembered``, between batches (never within one: its
        amendments may target its own events, not yet in the view)."""
        if len(self._event_of) > self.remembered:
            self._event_of.clear()
        if len(self._platform_of) > self.remembered:
            self._platform_of.clear()
        self._absent.clear()  # another writer may have made them since

    def _forget(self) -> None:
        self._absent.clear()
        self._platform_of.clear()
        self._event_of.clear()
        self._recent.clear()

    def _catch_up_history(self, progress: Callable[[int], None] | None) -> int:
        mapper = self.ledger.mapper
        if mapper.cipher is None and mapper.compressor is None:
            return self._copy_history(progress)
        return self._decode_history(progress)

    def _decode_history(self, progress: Callable[[int], None] | None) -> int:
        """``_catch_up_history`` in Python: each event decoded (decrypted) and located."""
        position, added = self.store.position("history"), 0
        decode = self.ledger.mapper.decode_state
        while notifications := self.ledger.recorder.select_notifications(
                position, BATCH, inclusive_of_start=False):
            self._bound()
            rows, moves = [], []
            for n in notifications:
                obj = orjson.loads(decode(n.state))
                row = self._row(n.id, obj)
                rows.append(row)
                moves.extend(self._moves(row, obj))
            since, position = position, notifications[-1].id
            self.store.write(rows, (), history_to=position, moves=moves, history_from=since)
            added += len(rows)
            if progress is not None:
                progress(added)
        return added

    def _copy_history(self, progress: Callable[[int], None] | None) -> int:
        """``_catch_up_history`` for a ledger whose events are stored as plain JSON (so its
        index values are plain too): the rows are built in SQL, batch by batch. Into an
        empty view, for a large ledger, without its indexes, built once at the end
        (``history_indexes``)."""
        added = 0
        position = self.store.position("history")
        unindexed = (position == 0 and (self.ledger.recorder.max_notification_id() or 0)
                     >= FILL_UNINDEXED)
        if unindexed:
            self.store.history_indexes(present=False)
        while True:
            _, rows = self.store.copy_history(BATCH)
            if not rows:
                break
            added += rows
            if progress is not None:
                progress(added)
        if unindexed or added:
            self.store.history_indexes(present=True, analyze=unindexed)
        return added

    def _row(self, position: int, obj: dict[str, Any]) -> tuple:
        """The history row of one stored event (its index values blinded)."""
        kind, platform = self._locate(obj)
        blind = self.blind
        event_id = obj["id"]
        self._event_of[event_id] = (kind, platform)
        return (position, kind, blind(obj["subject"]), platform)

    def _moves(self, row: tuple, obj: dict[str, Any]) -> list[tuple]:
        """The move a correction makes (``domain.concerns``): the subject of its history
        ``row`` concerns the platform it sets, from the correction's position."""
        return [(self.blind(moved), row[1], row[2], row[0])
                for moved in moves_named(obj["type"], obj["data"])]

    def _locate(self, obj: dict[str, Any]) -> tuple[str, str]:
        """The index keys of the kind of an event's subject and of the platform it concerns
        ("" for a subject of a kind that concerns no platform)."""
        declared = REGISTRY[obj["type"]]
        kind = declared.subject
        if kind == "any":  # an amendment: where its target is
            target = obj["data"]["target"]
            if target not in self._event_of:
                found = self.store.kinds_of([target])
                self._event_of[target] = next(iter(found.values()))
            return self._event_of[target]
        if declared.also:  # an observation: of the order of that name if one exists
            kind = declared.about(obj["subject"], self._exists)
        key = (kind, obj["subject"])
        if declared.creates:
            self._absent.discard(key)
        platform = self._platform_of.get(key)
        if platform is None:
            if kind == "platform":
                platform = self.blind(obj["subject"])
            elif declared.creates:
                ref = obj["data"].get("platform") or next(iter(
                    obj["data"].get("platforms") or ()), None)
                platform = self.blind(ref) if ref else ""
            else:
                known = dict(self.store.subject_kinds(self.blind(obj["subject"])))
                platform = known.get(self.blind(kind), "")
            self._platform_of[key] = platform
        return self.blind(kind), platform

    def _all_platforms(self) -> list[str]:
        """The keys of every platform in the history view."""
        return [key for key, _ in self.store.subject_keys_of(self.blind("platform"))]

    def _exists(self, kind: str, ref: str) -> bool:
        """Whether subject ``(kind, ref)`` has events earlier in the log (indexed). A
        subject found missing is remembered so within a batch (an import's observations of
        a platform asked once each whether an order of that name exists: one query per
        observation), until its creating event passes (``_locate``)."""
        key = (kind, ref)
        if key in self._platform_of:
            return True
        if key in self._absent:
            return False
        found = self.blind(kind) in dict(self.store.subject_kinds(self.blind(ref)))
        if not found:
            self._absent.add(key)
        return found

    def _catch_up_status(self) -> None:
        since = self.store.position("status")
        head = self.store.position("history")
        if head <= since:
            return
        now = datetime.now(UTC)
        # Folded before the write: this store's own transaction is not lent, and a read
        # inside it would need a second connection.
        keys = set(self.store.platforms_since(since))
        if self.store.has_since(since, *self.settings):  # a new default: every status
            keys.update(self.store.status_keys())
            keys.update(self._all_platforms())
        rows = list(self._status_rows(keys, now, gone=True))
        self.store.write((), rows, status_to=head, status_from=since, history_from=head)

    def _status_rows(self, keys: Iterable[str], now: datetime, *, before: int | None = None,
                     extra: dict[str, list[Entry]] | None = None, gone: bool = False,
                     ) -> Iterator[tuple[str, bytes | None]]:
        """The status rows of the platforms indexed ``keys``, in key order, as they are
        folded: each platform's rows are read from the view (those before ``before``),
        ``PLATFORMS`` platforms a query, and its ``extra`` entries (not yet in the view)
        added. A generator, so that an import writes them as they come rather than
        holding one row per platform it touched (at 20,000 platforms a batch, about 30
        MB). A platform that has no status (its registration retracted, or none yet) has
        no row: with ``gone``, it is given as ``(key, None)``, so that the writer deletes the
        row it had."""
        keys = sorted(keys)
        for start in range(0, len(keys), PLATFORMS):
            chunk = keys[start:start + PLATFORMS]
            held = self.store.platform_rows(chunk, before=before, known=self._recent,
                                            shared=self.settings)
            for key in chunk:
                entries = [*self._decoded(held.get(key, ())),
                           *(extra.get(key, ()) if extra else ())]
                body = self._status_row(key, now, entries)
                if body is not None or gone:
                    yield key, body

    def _status_row(self, key: str, now: datetime, entries: list[Entry]) -> bytes | None:
        """The status row's body of the platform indexed ``key``, from all its ``entries``:
        its kept status now, and when that goes stale; None for a platform that is not
        registered now (its registration retracted, the README's remedy for a forged one)."""
        book = Book(entries)
        refs = book.refs("platform")
        if not refs:
            return None  # its orders arrived before it in an as-known-at sense: skip
        ref = refs[0]
        try:
            status = platform_status(book, ref, now=now)
        except SubjectNotFound:
            return None
        body = {"format": STATUS_FORMAT, "status": status,
                "stale_after": _stale_after(book, ref, now)}
        return self._seal(orjson.dumps(body))

    def _decoded(self, rows: Iterable[tuple[int, bytes | None]]) -> Iterator[Entry]:
        """Entries of ``(position, body)`` rows; a fact taken in a recent batch is used as it
        is (its body may be None: not read)."""
        decode = self.ledger.mapper.decode_state
        recent = self._recent
        for position, body in rows:
            fact = recent.get(position)
            if fact is None:
                fact = load_fact(decode(body), f"the event at position {position}")[0]  # type: ignore[arg-type]
            yield Entry(position=position, fact=fact)

    def _seal(self, body: bytes) -> bytes:
        cipher = self.ledger.mapper.cipher
        return cipher.encrypt(body) if cipher else body

    def _open(self, body: bytes) -> bytes:
        cipher = self.ledger.mapper.cipher
        return cipher.decrypt(body) if cipher else body

    # --- reading ------------------------------------------------------------------------

    def entries(self, *, platform: str | None = None,
                subject: tuple[str, str] | None = None) -> Iterator[Entry]:
        """Entries of one platform (``platform=``), one subject (``subject=(kind, ref)``) or
        of all, from the history view."""
        if platform is not None:
            rows = self.store.history_rows(platform=self.blind(platform),
                                           shared=self.settings)
        elif subject is not None:
            rows = self.store.history_rows(subject=(self.blind(subject[0]),
                                                    self.blind(subject[1])))
        else:
            rows = self.store.history_rows()
        yield from self._decoded(rows)

    def books(self, keys: Sequence[str], *, as_known_at: datetime | None = None,
              ) -> Iterator[tuple[str, Book]]:
        """``(key, Book)`` of each platform indexed ``keys``, with the ledger's settings,
        in the order given, ``PLATFORMS`` platforms a query: the whole ledger read
        platform by platform (never one book of it all), memory flat."""
        for start in range(0, len(keys), PLATFORMS):
            chunk = keys[start:start + PLATFORMS]
            held = self.store.platform_rows(chunk, shared=self.settings)
            for key in chunk:
                yield key, Book(self._decoded(held.pop(key, ())), as_known_at=as_known_at)

    def book(self, *, as_known_at: datetime | None = None, **where: Any) -> Book:
        """A ``Book`` of the rows ``where`` selects, as known at ``as_known_at``."""
        return Book(self.entries(**where), as_known_at=as_known_at)

    def current_status(self, platform: str | None = None) -> list[dict[str, Any]] | None:
        """The kept "now, as known now" status of one platform or all (by platform); None
        where a kept status has gone stale (a temporary lift ended since), so the caller
        folds afresh.

        What can be checked cheaply is checked, and a row that fails is
        ``IntegrityFailure`` rather than an answer: its body must open (decrypt, parse), be
        the status of the platform its row is keyed by, and the view's position must be
        within the ledger. (Only ``verify`` compares a row with the log's own fold.)
        """
        now = datetime.now(UTC).isoformat()
        out = []
        key = None if platform is None else self.blind(platform)
        if self.store.position("status") > (self.ledger.recorder.max_notification_id() or 0):
            raise IntegrityFailure("the status view's position is past the ledger's last "
                                   "event (altered): run 'blockledger verify', then "
                                   "'blockledger projections rebuild'")
        for row_key, body in self.store.status_rows(key):
            try:
                kept = orjson.loads(self._open(body))
                named = kept["status"]["platform"]
                stale_after = kept["stale_after"]
            except Exception:
                raise IntegrityFailure(_view_damage("a row of the status view cannot be "
                                                    "read")) from None
            if self.blind(named) != row_key or (platform is not None and named != platform):
                raise IntegrityFailure(_view_damage(f"the status view's row for a platform "
                                                    f"holds the status of {named}"))
            if stale_after is not None and stale_after <= now:
                return None
            if kept.get("format") != STATUS_FORMAT:
                return None  # kept by another release: fold afresh, with today's fields
            out.append(kept["status"])
        out.sort(key=lambda status: status["platform"])
        return out

    def subject_keys(self, subject: str) -> list[tuple[str, str]]:
        """``(kind, platform key)`` for each subject called ``subject``."""
        return [(self._kind_of_key[kind], platform)
                for kind, platform in self.store.subject_kinds(self.blind(subject))
                if kind in self._kind_of_key]




def _view_damage(what: str) -> str:
    return (f"{what} (altered or damaged): run 'blockledger verify', then "
            "'blockledger projections rebuild'")


def _stale_after(book: Book, platform: str, now: datetime) -> str | None:
    """When the status folded now stops holding: the earliest end of a temporary lift, a
    ruling's effect, or a period of a running fine (its ``accrued`` grows)."""
    ends = []
    state = book.state("platform", platform, now)
    for penalty in getattr(state, "penalties", {}).values():
        change = penalty.next_change(now)
        if change is not None:
            ends.append(change)
    for ref in book.related(platform, "order"):
        state = book.state("order", ref, now)
        if isinstance(state, OrderState):
            ends += [until for until in state.suspended.values() if until > now]
            ends += [(r.data.effective_at or r.occurred_at).instant for r in state.pending]
    return min(ends).isoformat() if ends else None
