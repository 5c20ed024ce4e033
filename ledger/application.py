"""The ledger application: records facts atomically and reads them back in order.

``Entry`` lives in ``ledger.entry`` (imported from here as ever), so that what reads the
kept views needs neither this module nor the eventsourcing application.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from attrs import frozen
from eventsourcing.application import AggregateNotFoundError, Application, ProcessingEvent
from eventsourcing.domain import OriginatorIDError, OriginatorVersionError
from eventsourcing.persistence import IntegrityError, Mapper

from domain.dependents import changes_what_others_read
from domain.errors import IntegrityFailure, LedgerError, Refused, SubjectNotFound
from domain.fact import Fact
from domain.subjects import AGGREGATES, Subject
from domain.values import aggregate_id
from ledger.chain import GENESIS, export_event_hash, link
from ledger.entry import Entry
from ledger.mapper import FactMapper
from ledger.record_time import RecordTimeBehind, stamp, stamped
from ledger.storage import Target
from ledger.write_guard import Guard

READ_BATCH = 1000
#: Positions at most this far apart are read with one query by ``states_at`` (the ones
#: between are read and dropped).
NEAR = 64


@frozen
class Outcome:
    """What a ``record`` call wrote and what it skipped (ids already in the ledger)."""

    recorded: tuple[Fact, ...]
    skipped: tuple[Fact, ...]


class Ledger(Application):
    """The event-sourced ledger of blocking decisions."""

    name = "blockledger"

    def __init__(self, target: Target, *, create: bool = False):
        self.target = target
        if target.postgres:  # reachable, and there (created for a writer): at once
            from ledger import pg_admin

            pg_admin.prepare(target, create=create)
        elif create:  # a writer may be one of several opening a new file at once
            target.settle_wal()
        super().__init__(env=target.env(create_tables=create))
        # The recorder reads operator events (and the last record time) inside its insert
        # transactions: it decodes them as the mapper stored them.
        self.recorder.decode_state = self.mapper.decode_state
        self._views: Any = None
        if create:
            # The views' tables too, before anything is committed: a ledger never holds
            # events without the tables its read commands expect.
            self.view_store()

    def view_store(self) -> Any:
        """The views' recorder (``ledger.views``) on this ledger's database; creates their
        tables when the ledger was opened for writing."""
        if self._views is None:
            if self.target.postgres:
                from ledger.views_postgres import PostgresViews as cls
            else:
                from ledger.views_sqlite import SQLiteViews as cls
            self._views = self.factory.tracking_recorder(cls)
            self._views.events_table = self.recorder.events_table_name
            self._views.chain_table = self.recorder.chain_table_name
        return self._views

    def create_view_tables(self) -> None:
        """Create the views' tables (idempotent), e.g. from a read that must catch up."""
        self.view_store().create_table()

    def construct_mapper(self) -> Mapper:
        # Events are stored as their canonical export JSON (see ledger.mapper).
        return self.factory.mapper(transcoder=self.construct_transcoder(),
                                   mapper_class=FactMapper)

    # --- writing ------------------------------------------------------------------------

    def record(self, facts: Sequence[Fact], *, operator: str,
               on_checked: Callable[[int], None] | None = None) -> Outcome:
        """Record ``facts`` in order, all or nothing, as ``operator``.

        Each fact is checked against the rules of its subject, with the facts before it in
        the batch already in place. A fact whose id is already in the ledger is skipped.
        Any refusal raises and writes nothing. The first try is optimistic: it checks
        without the store's write lock, and its store is refused if another writer stored
        meanwhile what it read (``ledger.write_guard``). The second takes the write lock
        before it checks (``ledger.bulk.one_transaction``), so the rules are always checked
        on what is stored, and a writer is never starved.
        """
        self._check_signer(operator)
        try:
            return self._attempt(facts, operator, on_checked, locked=False)
        except IntegrityError:
            # Another writer stored first what this write read (``HeadMoved``) or a
            # version of one of its subjects. Optimism failed once: the second try takes
            # the write lock first, then checks, stamps and stores, so nobody can come
            # between (retried unlocked, a write could lose every race: 30 tries).
            pass
        from ledger.bulk import one_transaction

        try:
            with one_transaction(self, self.view_store()):
                return self._attempt(facts, operator, on_checked, locked=True)
        except RecordTimeBehind as error:  # under the lock: this writer's clock is behind
            raise LedgerError(f"refused: this writer's clock is behind the ledger's "
                              f"({error}); set the clock right and try again") from None
        except IntegrityError as error:  # under the lock nothing can come between
            raise IntegrityFailure(f"the store refused a write made under its lock "
                                   f"({type(error).__name__}: {error}); run "
                                   "'blockledger verify'") from None

    def _attempt(self, facts: Sequence[Fact], operator: str,
                 on_checked: Callable[[int], None] | None, *, locked: bool) -> Outcome:
        """Check ``facts`` against the ledger as it stands and store them, unless what the
        check read changed meanwhile (``IntegrityError``).

        The write's events carry one record time, taken once the store's write lock is
        held (``ledger.record_time.stamp``): with ``locked``, the lock taken before the
        check; else taken to store them. A stamp taken before waiting for the lock was
        overtaken, at every try, by the batches of an ``import --batch-commit``, which
        stamp under the lock.
        """
        from ledger.idempotence import refuse_changed


        # The head first: what the check then reads holds all up to it at least, and the
        # store refuses the write if what it read has changed since (``Guard``).
        head = self.recorder.max_notification_id() or 0
        known = self.recorder.positions_of(str(f.id) for f in facts)
        refuse_changed(self, facts, known)  # a known id must be the same event
        now = datetime.now(UTC)  # what the rules take as now (nothing after it happened)
        events, outcome, guard = self._check(facts, operator, on_checked, known, head, now)
        if events:
            self._store(events, guard, now, locked=locked)
        return outcome

    def _store(self, events: list[Any], guard: Guard, checked: datetime, *,
               locked: bool) -> None:
        """``_save`` ``events`` under the write lock (``locked``: the caller holds it; else
        taken here), stamped once it is held (``ledger.record_time.stamp``), never before
        ``checked`` (the rules' now)."""
        if locked:
            self._save(stamped(events, stamp(self, checked)), guard)
            return
        from ledger.bulk import one_transaction

        with one_transaction(self):
            self._save(stamped(events, stamp(self, checked)), guard)

    def _check_signer(self, operator: str) -> None:
        """Events are recorded as the operator whose key signs them (``verify`` flags any
        other as ``wrong_operator``)."""
        signer = getattr(self.recorder, "signer", None)
        if signer is not None and signer.operator != operator:
            raise Refused(f"refused: the signing key is operator {signer.operator!r}'s, but "
                          f"the events would be recorded as {operator!r}")

    def _save(self, events: list[Any], guard: Guard | None = None) -> None:
        """Store ``events`` in this order, with what the hash chain needs (ledger.recorders),
        unless what ``guard`` says the check read has changed (``ledger.write_guard``).

        The library's ``save`` checks every event against a runtime Protocol, which cost
        more than storing it; these are our own events, so they go straight to the store.
        """
        mapper = self.mapper
        if mapper.cipher or mapper.compressor:
            exports = [(str(e.fact.id), mapper.canonical(e)) for e in events]
        else:
            exports = [(str(e.fact.id), None) for e in events]  # the stored state is canonical
        processing = ProcessingEvent()
        processing.events.extend(events)
        processing.saved_kwargs["exports"] = exports
        if guard is not None:
            processing.saved_kwargs["guard"] = guard
        self._record(processing)

    def _check(self, facts: Sequence[Fact], operator: str,
               on_checked: Callable[[int], None] | None,
               known: dict[str, int], head: int, now: datetime,
               ) -> tuple[list[Any], Outcome, Guard]:
        subjects: dict[UUID, Subject | None] = {}
        # Subjects with no events yet need no reading: ask for all of them in one query.
        wanted = {aggregate_id(kind, f.subject) for f in facts if f.kind.subject != "any"
                  for kind in f.kind.subjects}
        existing = self.recorder.existing_originators(wanted)
        subjects.update((key, None) for key in wanted - existing)
        events: list[Any] = []
        recorded: list[Fact] = []
        skipped: list[Fact] = []
        seen: set[UUID] = set()
        #: The subjects whose facts others read that this call changes (``_dependents``).
        changed: dict[tuple[str, str], list[Fact]] = {}
        for index, fact in enumerate(facts):
            try:
                if fact.id in seen or str(fact.id) in known:
                    skipped.append(fact)  # already in the ledger: import is idempotent
                    continue
                kind = fact.kind
                fact = fact.evolve(recorded_by=operator, recorded_at=None)
                if kind.subject == "any":
                    subject = self._subject_of_target(fact, subjects)
                    self._check_amended(fact, subjects, subject, now)
                else:
                    subject = self._subject(kind.about(fact.subject, lambda k, ref: self._subject(
                        k, ref, subjects) is not None), fact.subject, subjects)
                if kind.creates:
                    if subject is not None:
                        from domain.checked import exists_already

                        raise exists_already(
                            kind.subject, fact.subject, subject,
                            lambda ref, named=kind.subject: self._subject(
                                named, ref, subjects) is not None)
                    self._check_references(fact, subjects)
                    subject = AGGREGATES[kind.subject].open(fact, now)
                    subjects[subject.id] = subject
                elif subject is None:
                    raise SubjectNotFound(
                        f"refused: {' or '.join(kind.subjects)} {fact.subject} does not exist; "
                        f"record its {' or '.join(map(_creating, kind.subjects))} first")
                else:
                    if kind.subject != "any":  # e.g. a penalty enforcing an order
                        self._check_references(fact, subjects)
                        from domain.checked import check_created

                        check_created(subject, fact)
                    # (an amendment's own rules: checked by check_amended just now)
                    subject.record(fact, now, checked=kind.subject == "any")
            except LedgerError as error:
                error.index = index  # type: ignore[attr-defined]
                raise
            events.extend(subject.collect_events())
            seen.add(fact.id)
            recorded.append(fact)
            if changes_what_others_read(fact, subject.kind, subject):
                changed.setdefault((subject.kind, subject.ref), []).append(fact)
            if on_checked is not None:
                on_checked(index)
        if changed:  # (none of this call's facts is stored yet: what is, stood before it)
            self._dependents(changed, subjects, head)
        # What the check read: the subjects it holds (read, or found not to exist); where
        # it changed what others read, what names anything up to ``head``.
        guard = Guard(head, frozenset(subjects), changes=bool(changed))
        return events, Outcome(recorded=tuple(recorded), skipped=tuple(skipped)), guard

    def _dependents(self, changed: dict[tuple[str, str], list[Fact]],
                    cache: dict[UUID, Subject | None], head: int) -> None:
        from ledger.dependents import check_record

        check_record(self, changed, cache, head)

    def subject(self, kind: str, ref: str) -> Subject | None:
        """The subject ``(kind, ref)`` as the ledger holds it now, or None."""
        return self._subject(kind, ref, {})

    def _subject(self, kind: str, ref: str, cache: dict[UUID, Subject | None]) -> Subject | None:
        key = aggregate_id(kind, ref)
        if key not in cache:
            try:
                cache[key] = self.repository.get(key, projector_func=_project)
            except AggregateNotFoundError:
                cache[key] = None
            except (OriginatorIDError, OriginatorVersionError) as error:
                raise IntegrityFailure(f"the events of {kind} {ref} are out of sequence "
                                       f"({type(error).__name__}: {error}): their stored "
                                       "versions were altered; run 'blockledger verify'") from None
        return cache[key]

    def _subject_of_target(self, fact: Fact, cache: dict[UUID, Subject | None]) -> Subject:
        """The subject holding the event an amendment targets (refs are unique per kind)."""
        found = [s for s in (self._subject(k, fact.subject, cache) for k in AGGREGATES)
                 if s is not None]
        from domain.checked import holder_of_target

        return holder_of_target(fact, found)

    def _check_references(self, fact: Fact, cache: dict[UUID, Subject | None]) -> None:
        from domain.checked import check_references  # the writers' rules: not for reads

        check_references(fact, lambda kind, ref: self._subject(kind, ref, cache))

    def _check_amended(self, fact: Fact, cache: dict[UUID, Subject | None],
                       holder: Subject, now: datetime) -> None:
        from domain.checked import check_amended  # the writers' rules: not for reads

        check_amended(fact, holder, lambda kind, ref: self._subject(kind, ref, cache), now)

    def upgrade(self) -> int:
        """Compute the hash chain of a ledger written before the chain existed (once).

        Returns how many links were written: 0 when the chain already covers the ledger.
        A ledger that keeps checkpoints or signatures is re-chained only when they all
        verify against the recomputed hashes: otherwise its chain was removed to hide an
        edit (an event altered or deleted with its link), and ``IntegrityFailure`` says so.
        """
        if self.recorder.chain_head() is not None or not self.recorder.max_notification_id():
            return 0
        links = [(entry.position, str(entry.fact.id), export_event_hash(
            entry.position, entry.fact.to_json())) for entry in self.entries()]
        self._check_rechain(links)
        rows = link(GENESIS, 0, links)
        self.recorder.insert_chain_rows(rows)
        return len(rows)

    def _check_rechain(self, links: list[tuple[int, str, bytes]]) -> None:
        from ledger.checkpoint import Checkpoint
        from ledger.merkle import MerkleTree
        from ledger.signatures import operators, signature_holds

        hashes = [hashed for _, _, hashed in links]
        tree = MerkleTree(hashes) if hashes else None
        for number, note in enumerate(self.recorder.select_checkpoints(), start=1):
            checkpoint, _ = Checkpoint.parse(note)
            size = checkpoint.tree_size
            if size > len(hashes) or (size and tree is not None
                                      and tree.root(size) != checkpoint.root_hash):
                raise IntegrityFailure(
                    f"refused: this ledger has no hash chain, and its events do not match "
                    f"kept checkpoint {number} (tree size {size}, {checkpoint.time}): they "
                    "were altered or deleted; init will not re-chain it")
        signed = self.recorder.signatures_at([position for position, _, _ in links])
        keys = {op.key_id: op.public_key for op in operators(self).values()} if signed else {}
        by_position = {position: hashed for position, _, hashed in links}
        for position, (kid, signature) in sorted(signed.items()):
            if kid not in keys or not signature_holds(keys[kid], signature,
                                                      by_position[position]):
                raise IntegrityFailure(
                    f"refused: this ledger has no hash chain, and the signature of the "
                    f"event at position {position} does not match it: it was altered; "
                    "init will not re-chain it")

    # --- reading ------------------------------------------------------------------------

    def entries(self, after: int = 0) -> Iterator[Entry]:
        """Every fact in the ledger's global order, with its position and recording time."""
        position = after
        while True:
            notifications = self.recorder.select_notifications(
                position, READ_BATCH, inclusive_of_start=False)
            for notification in notifications:
                event = self.mapper.to_domain_event(notification)
                fact = event.fact.evolve(recorded_at=event.timestamp)
                yield Entry(position=notification.id, fact=fact)
            if len(notifications) < READ_BATCH:
                return
            position = notifications[-1].id

    def states_at(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The canonical JSON (decrypted, decompressed) of the events at ``positions``,
        by position, reading positions close together (``NEAR``) with one query; an event
        that is not there is ``IntegrityFailure`` (deleted behind the ledger's back)."""
        wanted = sorted(set(positions))
        decode, out, i = self.mapper.decode_state, {}, 0
        while i < len(wanted):
            j = i
            while (j + 1 < len(wanted) and wanted[j + 1] - wanted[j] <= NEAR
                   and wanted[j + 1] - wanted[i] < READ_BATCH):
                j += 1
            start, stop, chunk = wanted[i], wanted[j], set(wanted[i:j + 1])
            for notification in self.recorder.select_notifications(
                    start, stop - start + 1, stop=stop):
                if notification.id in chunk:
                    out[notification.id] = decode(notification.state)
            i = j + 1
        missing = next((p for p in wanted if p not in out), None)
        if missing is not None:
            raise IntegrityFailure(f"the event at position {missing} is missing (deleted)")
        return out

    def count(self) -> int:
        """How many facts the ledger holds (its event rows, counted by the database)."""
        return self.recorder.count_events()


def _creating(kind: str) -> str:
    from domain.declaration import REGISTRY

    return next(t.name for t in REGISTRY.values() if t.subject == kind and t.creates)


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """The library's ``project_aggregate`` without its ``assert isinstance(event,
    CanMutateProtocol)``: a runtime Protocol check, 86 us an event on Python 3.11 (1.3 s of
    the 14.5 s ``verify``'s rules part spent at 200,000 events, cProfile), for events
    that are ours, read through our mapper."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


@contextlib.contextmanager
def open_ledger(target: Target, *, create: bool = False,
                command: str = "this command") -> Iterator[Ledger]:
    """Open the ledger at ``target`` and close its connections afterwards.

    Before the caller reads or writes anything, the cipher key (or its absence) must fit
    the ledger: a ``BadInput`` naming ``command`` otherwise (``ledger.encryption.check``),
    so that no caller can mix plaintext and encrypted events, or read with a wrong key.
    """
    from ledger import encryption

    ledger = Ledger(target, create=create)
    try:
        encryption.check(ledger, command=command, write=create)
        yield ledger
    finally:
        ledger.close()
