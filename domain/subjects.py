"""The aggregates: ``Platform``, ``BlockOrder``, ``NormalizationRequest`` and ``Operator``.

Each is addressed by a human reference (its id is uuid5 of kind and reference) and holds its
facts. Every library event carries one ``Fact``; the fact's ``type`` is the domain word and
its data class the one declaration of that type. Rules are checked in ``record`` before the
event is triggered; the event's ``apply`` only folds state, so replaying old events never
re-runs today's rules. Event topics are pinned so that renaming a class orphans nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, ProgrammingError

import domain.operators  # noqa: F401  (registers the operator kind's rules)
from domain.amendments import check_target, corrected, effective, is_amendment
from domain.errors import RuleBroken
from domain.fact import Fact
from domain.timeline import SubjectState, check_addition, check_amendment, fold, valid_key
from domain.values import aggregate_id


class Subject(Aggregate):
    """What the three aggregates share: a reference, facts, and a folded state."""

    kind = ""

    class Opened(Aggregate.Created):
        """The creating fact of a subject."""

        ref: str
        fact: Fact

    class Recorded(Aggregate.Event):
        """Any later fact about the subject."""

        fact: Fact

        def apply(self, aggregate: Any) -> None:
            aggregate._add(self.fact)

    def __init__(self, ref: str, fact: Fact):
        self.ref = ref
        self.facts: list[Fact] = []
        self.fact_ids: set[UUID] = set()
        self._amendments = 0
        self._state: SubjectState | None = None
        self._latest: tuple[datetime, int] | None = None
        self._add(fact)

    @classmethod
    def create_id(cls, ref: str, **_: Any) -> UUID:
        return aggregate_id(cls.kind, ref)

    @classmethod
    def open(cls, fact: Fact, now: datetime) -> Subject:
        """Create the subject from its creating fact."""
        if not (fact.kind.creates and fact.kind.subject == cls.kind):
            raise ProgrammingError(f"a {fact.type} does not create a {cls.kind}")
        _check_not_future(fact, now)
        check_addition(cls.kind, fact.subject, [], None, None, fact)  # e.g. an operator's key
        return cls._create(cls.Opened, ref=fact.subject, fact=fact)

    def record(self, fact: Fact, now: datetime) -> None:
        """Add ``fact`` if the subject's rules still hold with it at its valid time.

        An amendment (correction, retraction, dispute) must target an event of this
        subject; a correction or retraction is refused when the amended timeline would
        break a rule, naming the event that would break.
        """
        if fact.subject != self.ref or fact.kind.subject not in (self.kind, "any"):
            raise ProgrammingError(f"a {fact.type} of {fact.subject} is not about {self.ref}")
        _check_not_future(fact, now)
        if is_amendment(fact):
            created = self.state().created
            if created is not None and fact.occurred_at.instant < created.occurred_at.instant:
                raise RuleBroken(f"refused: {fact.type} of {fact.occurred_at} is before "
                                 f"{self.ref} was created ({created.occurred_at})")
            target = check_target(self.facts, fact)
            if fact.type == "correction":
                fixed = corrected(target, fact)
                _check_not_future(fixed, now)
            if fact.type != "dispute":
                check_amendment(self.kind, self.ref, self.facts, fact)
        else:
            state = self.state()  # the fold of what counts, and its latest valid time
            try:
                check_addition(self.kind, self.ref, self._counted(), state, self._latest, fact)
            except RuleBroken:
                self._state = None  # checking may have let the cached state's time pass
                raise
        self.trigger_event(self.Recorded, fact=fact)

    def state(self, until: datetime | None = None) -> SubjectState:
        """The folded state of what counts (amendments applied), or as at valid time ``until``."""
        if until is not None:
            return fold(self.kind, self.ref, self._counted(), until=until)
        if self._state is None:
            facts = self._counted()
            self._state = fold(self.kind, self.ref, facts)
            self._latest = max(map(valid_key, facts)) if facts else None
        return self._state

    def _counted(self) -> list[Fact]:
        """The facts that count: all of them, or with amendments applied if there are any."""
        return effective(self.facts).facts if self._amendments else self.facts

    def _add(self, fact: Fact) -> None:
        self.facts.append(fact)
        self.fact_ids.add(fact.id)
        key = valid_key(fact)
        if is_amendment(fact):
            self._amendments += 1
            if fact.type != "dispute":
                self._state = None
        elif self._state is not None and self._latest is not None and key >= self._latest:
            self._state.apply(fact)  # the common case: the newest fact comes last
            self._latest = key
        else:
            self._state = None  # a back-dated fact: fold again when next asked


def _check_not_future(fact: Fact, now: datetime) -> None:
    if fact.occurred_at.instant > now:
        raise RuleBroken(f"refused: occurred_at {fact.occurred_at} is in the future")


class Platform(Subject):
    """An online platform, the targets it is reached at, its correspondence."""

    TOPIC = "blockledger:platform"
    kind = "platform"

    class Event(Subject.Event):
        TOPIC = "blockledger:platform:event"

    class Created(Subject.Created):
        TOPIC = "blockledger:platform:created"

    class Opened(Subject.Opened):
        TOPIC = "blockledger:platform:opened"

    class Recorded(Subject.Recorded):
        TOPIC = "blockledger:platform:recorded"


class BlockOrder(Subject):
    """An authority's order blocking targets of a platform, and its lifting."""

    TOPIC = "blockledger:block-order"
    kind = "order"

    class Event(Subject.Event):
        TOPIC = "blockledger:block-order:event"

    class Created(Subject.Created):
        TOPIC = "blockledger:block-order:created"

    class Opened(Subject.Opened):
        TOPIC = "blockledger:block-order:opened"

    class Recorded(Subject.Recorded):
        TOPIC = "blockledger:block-order:recorded"


class NormalizationRequest(Subject):
    """The process of lifting orders against a platform: conditions, meetings, decision."""

    TOPIC = "blockledger:normalization-request"
    kind = "request"

    class Event(Subject.Event):
        TOPIC = "blockledger:normalization-request:event"

    class Created(Subject.Created):
        TOPIC = "blockledger:normalization-request:created"

    class Opened(Subject.Opened):
        TOPIC = "blockledger:normalization-request:opened"

    class Recorded(Subject.Recorded):
        TOPIC = "blockledger:normalization-request:recorded"


class Operator(Subject):
    """Someone who may record, with the key that signs their events (domain.operators)."""

    TOPIC = "blockledger:operator"
    kind = "operator"

    class Event(Subject.Event):
        TOPIC = "blockledger:operator:event"

    class Created(Subject.Created):
        TOPIC = "blockledger:operator:created"

    class Opened(Subject.Opened):
        TOPIC = "blockledger:operator:opened"

    class Recorded(Subject.Recorded):
        TOPIC = "blockledger:operator:recorded"


AGGREGATES: dict[str, type[Subject]] = {
    "platform": Platform,
    "order": BlockOrder,
    "request": NormalizationRequest,
    "operator": Operator,
}
#: The stored topics of operator events (the recorders index them, to find operators fast).
OPERATOR_TOPICS = (Operator.Opened.TOPIC, Operator.Recorded.TOPIC)
