"""Bulk recording: many facts, checked by the rules, written in large batches.

Two pieces, used by ``projections.importing``:

- ``one_transaction(ledger, ...)``: one database transaction that spans many batches. The
  recorders keep their own API (``insert_events(stored_events, exports=...)``, which
  appends the chain and signs inside the transaction): for as long as the block runs, their
  datastore lends them this one open transaction, and each of their own "transactions"
  becomes a savepoint inside it. The write lock is taken first (SQLite ``BEGIN IMMEDIATE``,
  PostgreSQL the library's ``LOCK TABLE … IN EXCLUSIVE MODE``), so the rules are checked
  against a store nobody else can change until the commit; and what the batches wrote is
  visible to the next batch's reads, committed or not.
- ``Bulk``: checks facts with ``domain.checked.Timeline`` (the same rules as the
  aggregates, without building library events) and writes their stored form, exactly as
  the ledger's mapper writes it, through the recorder. Subjects it has seen are kept in a
  bounded cache (least recently used ones are forgotten, and read back from the store and
  the batch's facts not yet written), and once a batch is written they let go of their
  facts (``Timeline.compact``): memory grows neither with the number of facts nor with
  the length of a subject's history. A fact whose id the ledger holds is skipped only if
  it is the same event (``ledger.idempotence``).

Why one spanning transaction rather than a staging table then one commit: the commit would
have to copy every staged event through ``insert_events`` at once, holding the whole import
(events, chain rows, signatures) in memory, which is what streaming is for; and a staging
table would still need a second pass of rule checks against the store at commit time.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from domain.checked import (
    Timeline,
    check_amended,
    check_created,
    check_references,
    exists_already,
    holder_of_target,
)
from domain.dependents import READ_BY_OTHERS, changes_what_others_read
from domain.errors import LedgerError, SubjectNotFound
from domain.fact import Fact
from domain.subjects import AGGREGATES
from domain.values import aggregate_id
from ledger import idempotence
from ledger.canonical import canonical

#: Subjects kept in memory between batches (least recently used ones are read back).
REMEMBERED = 5_000
_OPENED = {kind: get_topic(cls.Opened) for kind, cls in AGGREGATES.items()}
_RECORDED = {kind: get_topic(cls.Recorded) for kind, cls in AGGREGATES.items()}
#: The kind of subject of each topic.
_KIND_OF = {topic: kind for topics in (_OPENED, _RECORDED) for kind, topic in topics.items()}

#: One recorded fact: ``(position, fact, exported object)``.
Written = tuple[int, Fact, dict[str, Any]]


# --- one transaction across many batches -----------------------------------------------


@contextlib.contextmanager
def one_transaction(ledger: Any, *recorders: Any) -> Iterator[None]:
    """Run the block in one transaction that ``ledger.recorder`` and ``recorders`` (on the
    same database) all use; commit at the end, roll everything back on any error."""
    everyone = [ledger.recorder, *recorders]
    datastore = ledger.recorder.datastore
    opener = _postgres if ledger.target.postgres else _sqlite
    with opener(ledger, datastore, recorders) as lent:
        for recorder in everyone:
            recorder.datastore = lent
        try:
            yield
        finally:
            for recorder in everyone:
                recorder.datastore = datastore


@contextlib.contextmanager
def _sqlite(ledger: Any, datastore: Any, recorders: Any) -> Iterator[Any]:
    with datastore.get_connection(commit=True) as conn:
        raw = conn._sqlite_conn
        with _mapped():
            raw.execute("BEGIN IMMEDIATE")  # the write lock first: checks see a still store
        with _page_cache(raw):
            try:
                yield _LentSQLite(datastore, conn)
            except BaseException:
                raw.rollback()
                raise
            with _mapped():
                raw.commit()


#: SQLite's page cache for a bulk write, in KiB. The default (2 MiB) is small for a write
#: that inserts into B-trees in random key order (the events' primary key, the chain's
#: event ids, the views' subjects): at a million events, 64 MiB made the import 11% faster
#: (11,309 -> 12,515 events/s) for 70 MB more peak memory (283 -> 353 MB); 32 MiB gave
#: 9%, 128 MiB 11% for 143 MB more. 32 MiB since the import's memory must stay flat in
#: events: a 64 MiB cache still filling at 50,000 events made the peak of a 200,000-event
#: import 1.26x that of a 50,000-event one; 32 MiB 1.12x, 16 MiB 1.13x (2026-12-06, with
#: the views' status read 50 platforms at a time; ``benchmarks/run.py --rss 200000``).
BULK_CACHE_KIB = 32_768


@contextlib.contextmanager
def _page_cache(raw: sqlite3.Connection) -> Iterator[None]:
    """The connection's page cache ``BULK_CACHE_KIB`` inside the block, and as it was
    after it (the connection goes back to the library's pool)."""
    (before,) = raw.execute("PRAGMA cache_size").fetchone()
    raw.execute(f"PRAGMA cache_size = -{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size = {int(before)}")


@contextlib.contextmanager
def _postgres(ledger: Any, datastore: Any, recorders: Any) -> Iterator[Any]:
    recorder = ledger.recorder
    with datastore.get_connection() as conn, conn.transaction():
        conn.execute(f'LOCK TABLE "{datastore.schema}"."{recorder.events_table_name}" '
                     "IN EXCLUSIVE MODE")
        # The views' lock too, where their recorder is lent (SQLite's one lock is both):
        # else an import that found the views caught up took it only at its first
        # ``take``, and ``projections rebuild`` could empty them in between; the batch's
        # rows then went into the emptied view, its position to their end (a review,
        # 2026-12-08; on an encrypted ledger, whose catch-up takes no lock when current).
        for lent in recorders:
            if hasattr(lent, "_lock"):
                lent._lock(conn)
        yield _LentPostgres(datastore, conn)


class _Lent:
    """A datastore that hands out one connection, in a transaction its lender holds."""

    def __init__(self, datastore: Any, conn: Any):
        self._datastore = datastore
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datastore, name)


class _LentSQLite(_Lent):
    @contextlib.contextmanager
    def get_connection(self, *, commit: bool) -> Iterator[Any]:
        yield self._conn

    @contextlib.contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Any]:
        cursor = self._conn.cursor()
        try:
            if not commit:
                with _mapped():
                    yield cursor
                return
            cursor.execute("SAVEPOINT bl_batch")
            try:
                with _mapped():
                    yield cursor
            except BaseException:
                cursor.execute("ROLLBACK TO bl_batch")
                cursor.execute("RELEASE bl_batch")
                raise
            cursor.execute("RELEASE bl_batch")
        finally:
            cursor.sqlite_cursor.close()


class _LentPostgres(_Lent):
    @contextlib.contextmanager
    def get_connection(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        yield self._conn

    @contextlib.contextmanager
    def transaction(self, *, commit: bool = False) -> Iterator[Any]:
        with self._conn.transaction(force_rollback=not commit):  # a savepoint
            yield self._conn.cursor()


@contextlib.contextmanager
def _mapped() -> Iterator[None]:
    """sqlite3's errors as the library's (its retry logic and ours expect those)."""
    try:
        yield
    except sqlite3.IntegrityError as error:
        raise persistence.IntegrityError(error) from error
    except sqlite3.OperationalError as error:
        raise persistence.OperationalError(error) from error


# --- checking and writing batches ------------------------------------------------------


class Bulk:
    """Check and write batches of facts as ``operator``; spent after any error."""

    def __init__(self, ledger: Any, operator: str, *, remembered: int = REMEMBERED):
        self.ledger = ledger
        self.operator = operator
        self.remembered = remembered
        self._subjects: OrderedDict[UUID, Timeline | None] = OrderedDict()
        #: The facts of this batch checked but not yet written, by subject: a subject
        #: forgotten before the write is read back from the store and these.
        self._pending: dict[UUID, list[Fact]] = {}
        #: The batch's subjects that had no events when it began (``_prefetch``): looked
        #: up in the batch's facts alone, without pushing the subjects kept out.
        self._absent: set[UUID] = set()
        #: The subjects whose facts others read that this write changes (its facts that
        #: changed each, with their lines), and the ledger's last position before the write
        #: (``start_write``, ``check_write``).
        self._changed: dict[tuple[str, str], list[tuple[Fact, int | None]]] = {}
        self._head = 0

    def forget(self) -> None:
        """Drop the subjects kept: another writer may have changed them since."""
        self._subjects.clear()
        self._pending.clear()
        self._absent.clear()

    def start_write(self) -> None:
        """Begin a write (an import, or one batch of ``--batch-commit``): what stands now
        is what ``check_write`` holds its changes against."""
        self._changed.clear()
        self._head = self.ledger.recorder.max_notification_id() or 0

    def check_write(self) -> None:
        """The rules between subjects from the other side (``domain.dependents``), over
        the write since ``start_write``, once its facts are written and in the views: a
        refusal names the line of the fact that changed what is left against them."""
        if not self._changed:
            return
        from ledger.dependents import check_write

        changed = {key: [fact for fact, _ in facts] for key, facts in self._changed.items()}
        try:  # (every fact of the write is stored by now: read from the store)
            check_write(self.ledger, changed, self._timeline, head=self._head)
        except LedgerError as error:
            cause = getattr(error, "cause", None)
            line = next((line for facts in self._changed.values() for f, line in facts
                         if f is cause), None)
            if line is not None:
                raise type(error)(f"line {line}: {error}") from None
            raise

    def record(self, facts: Sequence[Fact], on_checked: Callable[[int], None] | None = None,
               lines: Sequence[int] | None = None) -> tuple[list[Written], list[Fact]]:
        """Check ``facts`` in order and write those not yet in the ledger, in one
        ``insert_events``; return what was written and the facts skipped (ids already in
        the ledger). A refusal raises with the fact's ``index`` in ``facts``. ``lines``:
        each fact's line, for ``check_write``'s refusal."""
        recorder = self.ledger.recorder
        known = recorder.positions_of(str(f.id) for f in facts)
        changed = idempotence.changed(self.ledger, facts, known, repeats=False)
        self._prefetch(facts)
        now = datetime.now(UTC)
        seen: dict[UUID, Fact] = {}
        skipped: list[Fact] = []
        staged: list[tuple[Fact, UUID, int, str]] = []
        for index, fact in enumerate(facts):
            if fact.id in seen or str(fact.id) in known:
                # A repeat is skipped (import is idempotent) only if it is the same event.
                refusal = changed.get(index) if fact.id not in seen else (
                    idempotence.repeated(seen[fact.id], fact))
                if refusal is not None:
                    refusal.index = index  # type: ignore[attr-defined]
                    raise refusal
                skipped.append(fact)
                continue
            try:
                staged.append(self._check(fact, now))
            except LedgerError as error:
                error.index = index  # type: ignore[attr-defined]
                raise
            self._pending.setdefault(staged[-1][1], []).append(staged[-1][0])
            kind = _KIND_OF[staged[-1][3]]
            if kind in READ_BY_OTHERS and changes_what_others_read(
                    fact, kind, self._timeline(kind, fact.subject)):
                self._changed.setdefault((kind, fact.subject), []).append(
                    (staged[-1][0], lines[index] if lines else None))
            seen[fact.id] = fact
            if on_checked is not None:
                on_checked(index)
        written = self._write(staged)
        self._pending.clear()
        self._absent.clear()
        self._compact()
        return written, skipped

    def _check(self, fact: Fact, now: datetime) -> tuple[Fact, UUID, int, str]:
        kind = fact.kind
        fact = fact.recorded(self.operator, datetime.now(UTC))
        if kind.subject == "any":
            timeline = self._holder_of_target(fact)
            check_amended(fact, timeline, self._timeline, now)
        else:
            timeline = self._timeline(kind.about(fact.subject, lambda k, ref: self._timeline(
                k, ref) is not None), fact.subject)
        if kind.creates:
            if timeline is not None:
                raise exists_already(kind.subject, fact.subject, timeline, lambda ref: (
                    self._timeline(kind.subject, ref) is not None))
            self._check_references(fact)
            timeline = Timeline.open(kind.subject, fact, now)
            self._keep(aggregate_id(kind.subject, fact.subject), timeline)
            return fact, aggregate_id(kind.subject, fact.subject), 1, _OPENED[kind.subject]
        if timeline is None:
            from ledger.application import _creating

            raise SubjectNotFound(f"refused: {' or '.join(kind.subjects)} {fact.subject} does "
                                  f"not exist; record its "
                                  f"{' or '.join(map(_creating, kind.subjects))} first")
        if kind.subject != "any":  # e.g. a penalty enforcing an order
            self._check_references(fact)
            check_created(timeline, fact)
        # (an amendment's own rules: checked by check_amended just now)
        timeline.record(fact, now, checked=kind.subject == "any")
        return (fact, aggregate_id(timeline.kind, timeline.ref), timeline.version,
                _RECORDED[timeline.kind])

    def _write(self, staged: list[tuple[Fact, UUID, int, str]]) -> list[Written]:
        if not staged:
            return []
        mapper = self.ledger.mapper
        sealed = bool(mapper.cipher or mapper.compressor)
        stored, exports, objects = [], [], []
        for fact, originator, version, topic in staged:
            obj = fact.to_json()  # once: the stored state, the view's row, the export
            # A copy of its own size: orjson's bytes keep the 4 KiB buffer they were
            # written in (tracemalloc: 4,089 B for a 600-byte event), so a batch of 20,000
            # held 78 MiB of states until its write, against 12 MiB copied.
            state = bytes(memoryview(canonical(obj)))
            exports.append((obj["id"], state if sealed else None))
            if mapper.compressor:
                state = mapper.compressor.compress(state)
            if mapper.cipher:
                state = mapper.cipher.encrypt(state)
            stored.append(StoredEvent(originator_id=originator, originator_version=version,
                                      topic=topic, state=state))
            objects.append(obj)
        positions = self.ledger.recorder.insert_events(stored, exports=exports)
        return [(position, fact, obj) for position, (fact, *_), obj
                in zip(positions, staged, objects, strict=True)]

    # --- subjects: kept, prefetched, read back ------------------------------------------

    def _prefetch(self, facts: Sequence[Fact]) -> None:
        """Note the batch's subjects that have no events yet, in one query per 500.

        They are noted apart from the subjects kept: a batch of more new subjects than are
        kept (a registry's first snapshot: 20,000 facts a batch against 5,000 kept)
        otherwise pushed out every subject kept from the batch before, and an order early
        in a batch read back its platform, registered at the end of the previous one."""
        wanted: dict[UUID, None] = {}
        for fact in facts:
            # Only the declared kind: marking the other kinds an observation may be about
            # (almost always absent) would ask the store for thousands more.
            kinds = AGGREGATES if fact.kind.subject == "any" else (fact.kind.subject,)
            for kind in kinds:
                key = aggregate_id(kind, fact.subject)
                if key not in self._subjects:
                    wanted[key] = None
        if wanted:
            existing = self.ledger.recorder.existing_originators(wanted)
            self._absent.update(wanted.keys() - existing)

    def _keep(self, key: UUID, timeline: Timeline | None) -> None:
        self._subjects[key] = timeline
        self._subjects.move_to_end(key)
        while len(self._subjects) > self.remembered:
            self._subjects.popitem(last=False)

    def _compact(self) -> None:
        """Let the subjects kept go of their facts, once written: what the next checks read
        stays (``Timeline.compact``), and the facts are read back if ever needed. Memory
        then grows with the subjects kept, not with their histories."""
        for key, timeline in self._subjects.items():
            if timeline is not None:
                timeline.compact(lambda key=key: self._stored_facts(key))

    def _stored_facts(self, key: UUID) -> list[Fact]:
        mapper = self.ledger.mapper
        return [mapper.to_domain_event(stored).fact
                for stored in self.ledger.recorder.select_events(key)]

    def _timeline(self, kind: str, ref: str) -> Timeline | None:
        key = aggregate_id(kind, ref)
        if key in self._subjects:
            self._subjects.move_to_end(key)
            return self._subjects[key]
        absent = key in self._absent  # none stored: only what this batch gives it
        facts = [*(() if absent else self._stored_facts(key)), *self._pending.get(key, ())]
        if not facts and absent:
            return None  # not kept: the batch's absent are noted apart
        timeline = Timeline.of(kind, ref, facts) if facts else None
        if timeline is not None and key not in self._pending:
            # Read back whole from the store: let go of its facts at once rather than at
            # the end of the batch. With more subjects than are kept, a batch reads back
            # thousands, and their facts held to the batch's end raised the peak of an
            # import over 20,000 platforms by a tenth (``benchmarks/run.py --rss``).
            timeline.compact(lambda key=key: self._stored_facts(key))
        self._keep(key, timeline)
        return timeline

    def _holder_of_target(self, fact: Fact) -> Timeline:
        """The subject holding the event an amendment targets (as ``Ledger``)."""
        found = [t for t in (self._timeline(k, fact.subject) for k in AGGREGATES)
                 if t is not None]
        return holder_of_target(fact, found)

    def _check_references(self, fact: Fact) -> None:
        check_references(fact, self._timeline)

