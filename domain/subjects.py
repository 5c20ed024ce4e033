"""The aggregates: ``Platform``, ``BlockOrder`` and ``NormalizationRequest``.

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

from eventsourcing.domain import Aggregate

from domain.errors import RuleBroken
from domain.fact import Fact
from domain.timeline import SubjectState, check_addition, fold
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
        self._state: SubjectState | None = None
        self._add(fact)

    @classmethod
    def create_id(cls, ref: str, **_: Any) -> UUID:
        return aggregate_id(cls.kind, ref)

    @classmethod
    def open(cls, fact: Fact, now: datetime) -> Subject:
        """Create the subject from its creating fact."""
        _check_not_future(fact, now)
        return cls._create(cls.Opened, ref=fact.subject, fact=fact)

    def record(self, fact: Fact, now: datetime) -> None:
        """Add ``fact`` if the subject's rules still hold with it at its valid time."""
        _check_not_future(fact, now)
        check_addition(self.kind, self.ref, self.facts, self._state, fact)
        self.trigger_event(self.Recorded, fact=fact)

    def state(self, until: datetime | None = None) -> SubjectState:
        """The folded state, of everything known, or as at valid time ``until``."""
        if until is not None:
            return fold(self.kind, self.ref, self.facts, until=until)
        if self._state is None:
            self._state = fold(self.kind, self.ref, self.facts)
        return self._state

    def _add(self, fact: Fact) -> None:
        latest = self.facts[-1].occurred_at.instant if self.facts else None
        self.facts.append(fact)
        self.fact_ids.add(fact.id)
        if self._state is not None and (latest is None or fact.occurred_at.instant >= latest):
            self._state.apply(fact)
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


AGGREGATES: dict[str, type[Subject]] = {
    "platform": Platform,
    "order": BlockOrder,
    "request": NormalizationRequest,
}
