"""A subject's timeline, checked by the rules without the library's aggregate machinery.

``Timeline`` holds one subject's facts (in recording order) and their folded state, and
checks a new fact against the rules; it builds no library event objects. The aggregates of
``domain.subjects`` keep their facts in one and call its checks, and the bulk import
(``ledger.bulk``) uses it directly for hundreds of thousands of facts, writing their stored
form itself: one orchestration of the rules for both paths (tests/test_bulk_import.py
still checks, on generated scripts, that both accept and refuse the same facts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.amendments import check_target, corrected, effective, is_amendment
from domain.errors import RuleBroken, SubjectExists, SubjectNotFound
from domain.fact import Fact
from domain.jurisdictions import LEDGER  # noqa: F401 (and registers the ledger kind's rules)
from domain.references import NAMING_TYPES, new_errors
from domain.references import check_references as check_references  # (the writers')
from domain.references import checked_state as checked_state
from domain.timeline import (
    INDEXES,
    Broken,
    Index,
    SubjectState,
    check_addition,
    check_amendment,
    check_placed,
    fold,
    refusal,
    valid_key,
)


class Timeline:
    """One subject: its facts, their ids, and the folded state of what counts.

    A timeline may let go of its facts (``compact``) and keep only what the checks of a
    new fact read (its index, its first fact, how many it has); the facts are read back
    when something needs them all (an amendment, a fact that reshapes the timeline, a
    state asked for). The bulk import keeps its subjects so between batches, so that its
    memory does not grow with their histories.
    """

    def __init__(self, kind: str, ref: str):
        self.kind = kind
        self.ref = ref
        self._facts: list[Fact] | None = []  # None while compacted
        self._fact_ids: set[UUID] | None = set()
        self._count = 0
        self._first: Fact | None = None
        self._reload: Callable[[], list[Fact]] | None = None  # the facts, while compacted
        self._tail: list[Fact] = []  # facts added since it was compacted
        self._amendments = 0
        self._state: SubjectState | None = None  # the fold of what counts, while current
        self._folding = True  # no back-dated fact since the last fold: keep folding on
        self._counted_facts: list[Fact] | None = []  # what counts, once worked out
        self._index = INDEXES.get(kind, Index)(ref)  # what the rules read, at any time

    @property
    def version(self) -> int:
        """The version of its last event (the library counts from 1)."""
        return self._count

    @property
    def facts(self) -> list[Fact]:
        """Its facts, in recording order (read back if it was compacted)."""
        if self._facts is None:
            self._restore()
        return self._facts  # type: ignore[return-value]

    @property
    def fact_ids(self) -> set[UUID]:
        if self._fact_ids is None:
            self._restore()
        return self._fact_ids  # type: ignore[return-value]

    @property
    def first(self) -> Fact | None:
        """The fact that created it (its first)."""
        return self._first

    def compact(self, reload: Callable[[], list[Fact]]) -> None:
        """Let go of the facts, keeping what a new fact's check reads; ``reload`` gives
        back the facts it holds now, from wherever they were stored."""
        self._facts = self._fact_ids = self._counted_facts = None
        self._state = None
        self._folding = False  # checks ask the index
        self._reload, self._tail = reload, []

    def _restore(self) -> None:
        assert self._reload is not None
        facts = [*self._reload(), *self._tail]
        if len(facts) != self._count:
            raise AssertionError(f"{self.kind} {self.ref}: {len(facts)} facts read back, "
                                 f"{self._count} held")
        self._facts, self._fact_ids = facts, {f.id for f in facts}
        self._reload, self._tail = None, []

    @classmethod
    def of(cls, kind: str, ref: str, facts: Iterable[Fact]) -> Timeline:
        """The timeline of facts already in the ledger (no rule is checked again)."""
        timeline = cls(kind, ref)
        for fact in facts:
            timeline.add(fact)
        return timeline

    @staticmethod
    def check_creation(kind: str, fact: Fact, now: datetime) -> None:
        """Raise ``RuleBroken`` unless ``fact`` may create its subject."""
        _check_not_future(fact, now)
        check_addition(kind, fact.subject, [], None, None, fact)

    @classmethod
    def open(cls, kind: str, fact: Fact, now: datetime) -> Timeline:
        """Create the subject from its creating fact (``Subject.open`` calls the same check)."""
        cls.check_creation(kind, fact, now)
        timeline = cls(kind, fact.subject)
        timeline.add(fact)
        return timeline

    def record(self, fact: Fact, now: datetime, *, checked: bool = False) -> None:
        """Add ``fact`` if the subject's rules still hold with it (``checked``: the caller
        has just checked them, as ``check_amended`` does an amendment's)."""
        if not checked:
            self.check(fact, now)
        self.add(fact)

    def check(self, fact: Fact, now: datetime) -> None:
        """Raise ``RuleBroken`` unless ``fact`` may join the timeline at its valid time;
        ``Subject.record`` calls this, then triggers its event."""
        _check_not_future(fact, now)
        if is_amendment(fact):
            created = self.state().created
            if created is not None and fact.occurred_at.instant < created.occurred_at.instant:
                raise RuleBroken(f"refused: {fact.type} of {fact.occurred_at} is before "
                                 f"{self.ref} was created ({created.occurred_at})")
            target = check_target(self.facts, fact)
            if fact.type == "correction":
                _check_not_future(corrected(target, fact), now)
            if fact.type != "dispute":
                check_amendment(self.kind, self.ref, self.facts, fact)
        elif (self._state is not None or self._folding) and (
                self._index.latest is None or valid_key(fact) >= self._index.latest):
            state = self.state()  # the common case: the newest fact, against the fold
            try:
                state.check(fact)
            except Broken as broken:
                self._state = None  # checking may have let the cached state's time pass
                raise refusal(fact, broken) from None
        else:  # a back-dated fact, or one after it: one state from the index, not a fold
            check_placed(self.kind, self.ref, self._index, self._counted, fact)

    def state(self, until: datetime | None = None) -> SubjectState:
        """The folded state of what counts (amendments applied), or as at valid time
        ``until``."""
        if until is not None:
            return fold(self.kind, self.ref, self._counted(), until=until)
        if self._state is None:
            self._state = fold(self.kind, self.ref, self._counted())
        return self._state

    def _counted(self) -> list[Fact]:
        if self._counted_facts is None:
            self._counted_facts = effective(self.facts).facts
        return self._counted_facts

    def add(self, fact: Fact) -> None:
        """Fold ``fact`` in, unchecked (as the library's event ``apply`` does)."""
        if is_amendment(fact) and self._facts is None:
            self._restore()  # what counts is worked out again from them all
        if self._facts is None:
            self._tail.append(fact)
        else:
            self._facts.append(fact)
            self._fact_ids.add(fact.id)  # type: ignore[union-attr]
        self._count += 1
        if self._first is None:
            self._first = fact
        if is_amendment(fact):
            self._amendments += 1
            if fact.type != "dispute":  # what counts changes: index it again
                self._state = None
                self._folding = True
                self._counted_facts = None
                self._index = INDEXES.get(self.kind, Index)(self.ref)
                for counted in self._counted():
                    self._index.add(counted, valid_key(counted))
            return
        key = valid_key(fact)
        latest = self._index.latest
        if self._counted_facts is not None:
            self._counted_facts.append(fact)  # a new id: it counts, after the others
        self._index.add(fact, key)
        if latest is None or key >= latest:
            if self._state is not None:
                self._state.apply(fact)  # the common case: the newest fact comes last
        else:  # a back-dated fact: checks ask the index; fold only when a state is asked
            self._state = None
            self._folding = False


def exists_already(kind: str, ref: str, holder: Any,
                   taken: Callable[[str], bool]) -> SubjectExists:
    """The refusal of a second creating event for ``ref`` (``holder``: its ``Timeline``,
    or an aggregate holding one; ``taken(ref)``: whether a subject of ``kind`` holds a
    reference). A reference is created once: where its creating event was retracted, the
    subject counts as never created, and the refusal says to record it under another
    reference, naming a free one (the mapper and ``verify`` hold a creating event to
    version 1 of its subject; a retraction is not retracted)."""
    timeline = getattr(holder, "timeline", holder)
    created = timeline._index.created
    if created is not None:  # (as it counts: corrected, say, to another date)
        return SubjectExists(f"refused: {kind} {ref} exists already (created by "
                             f"{created.label()})")
    return SubjectExists(_never_created(kind, ref, timeline.first, taken))


def check_created(holder: Any, fact: Fact) -> None:
    """Refuse ``fact`` (not an amendment) on a subject whose creating event was retracted
    in words that say so (``_never_created``), where the fold would say it is "before the
    subject was created". The writers call it just before the subject's own check, which
    would refuse it anyway (``Timeline.check`` stays the fold's twin, word for word)."""
    timeline = getattr(holder, "timeline", holder)
    if timeline._index.created is None and timeline.first is not None and not is_amendment(
            fact):
        raise RuleBroken(_never_created(timeline.kind, timeline.ref, timeline.first))


def _never_created(kind: str, ref: str, first: Fact,
                   taken: Callable[[str], bool] | None = None) -> str:
    """The refusal of an event about ``ref``, whose creating event ``first`` was retracted:
    it counts as never created, and a reference is created once (``taken``: whether a
    reference is held, to name a free one)."""
    base = ref.rstrip("0123456789").removesuffix("-") if ref[-1:].isdigit() else ref
    base = base or ref  # (all digits: acme-2 gives acme-3, 2024 gives 2024-2)
    free = None if taken is None else next(
        (other for n in range(2, 100)
         if (other := f"{base[:99 - len(str(n))]}-{n}") != ref and not taken(other)), None)
    return (f"refused: {kind} {ref} was created by {first.label()}, which was retracted: "
            "it counts as never created, and a reference is created once, so record it "
            "again under another reference" + (f" (e.g. {free})" if free else ""))


def check_amended(fact: Fact, holder: Any, find: Callable[[str, str], Any],
                  now: datetime) -> None:
    """The rules between subjects for the amendment ``fact`` (a correction or a
    retraction, of anything, a correction included) of an event of ``holder``: what counts
    of ``holder`` is worked out with it (``effective``), and each of its facts that names
    other subjects and now counts otherwise (corrected; or back as it was, when what
    corrected it is retracted) is checked as ``check_references`` checks a new one. So an
    amended fine, order, request or observation cannot name what a new one could not.
    The amendment's own subject's rules (``Timeline.check``) are checked here first, a
    dispute's included, so that the writers add it without checking them again.
    ``RuleBroken`` names the amendment and the fact; a fact whose earlier form broke the
    same rule in the same words already (a ledger written before this check) is not
    blamed on the amendment.

    What an amendment of an order or a platform does to the facts of other subjects that
    name it is checked apart, over a whole write, on the state at its end
    (``domain.dependents``): an import-registry backfill narrows a registration before it
    gives back what an order needs, and checked one event at a time, a valid backfill was
    refused."""
    # Its own subject's rules first: a correction's values are read and validated there,
    # never applied unread. (The writers then add it with ``record(..., checked=True)``.)
    getattr(holder, "timeline", holder).check(fact, now)
    if fact.type == "dispute":
        return
    before = effective(holder.facts).facts
    amended = Timeline.of(holder.kind, holder.ref, [*holder.facts, fact])
    after = effective(amended.facts).facts

    def find_now(kind: str, ref: str) -> Any:
        return amended if (kind, ref) == (holder.kind, holder.ref) else find(kind, ref)

    was = {f.id: f for f in before}
    target = next((f for f in holder.facts if f.id == fact.data.target), None)
    for now in after:
        if now.type not in NAMING_TYPES or was.get(now.id) == now:
            continue
        if now.type == "access-observed" and holder.kind != "order":
            continue  # (on a platform: it names no order, whatever shares the name)
        old = was.get(now.id)
        error = next(new_errors(now, find_now, old, find), None)
        if error is not None:
            why = str(error).removeprefix("refused: ")
            what = f"{fact.type} of {target.label()}" if target else fact.label()
            raise RuleBroken(f"refused: {what} would make {now.type} of {now.occurred_at} "
                             f"({now.id}) of {holder.kind} {holder.ref} count so that "
                             f"{why}") from None


def holder_of_target(fact: Fact, found: Sequence[Any]) -> Any:
    """Of the subjects called ``fact.subject`` (one per kind that exists: timelines or
    aggregates), the one holding the event the amendment ``fact`` targets."""
    target = fact.data.target
    for subject in found:
        if target in subject.fact_ids:
            return subject
    if not found:
        raise SubjectNotFound(f"refused: no subject {fact.subject} in the ledger")
    raise SubjectNotFound(f"refused: {fact.type} targets {target}, which is not an "
                          f"event of {fact.subject}")


def _check_not_future(fact: Fact, now: datetime) -> None:
    if fact.occurred_at.instant > now:
        raise RuleBroken(f"refused: occurred_at {fact.occurred_at} is in the future")
