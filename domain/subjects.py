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

import domain.jurisdictions  # (registers the ledger kind's rules)
import domain.operators  # noqa: F401  (registers the operator kind's rules)
from domain.checked import Timeline
from domain.fact import Fact
from domain.timeline import SubjectState
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
        self.timeline = Timeline(self.kind, ref)  # the facts, their state and the rules
        self._add(fact)

    @property
    def facts(self) -> list[Fact]:
        return self.timeline.facts

    @property
    def fact_ids(self) -> set[UUID]:
        return self.timeline.fact_ids

    @classmethod
    def create_id(cls, ref: str, **_: Any) -> UUID:
        return aggregate_id(cls.kind, ref)

    @classmethod
    def open(cls, fact: Fact, now: datetime) -> Subject:
        """Create the subject from its creating fact."""
        if not (fact.kind.creates and fact.kind.subject == cls.kind):
            raise ProgrammingError(f"a {fact.type} does not create a {cls.kind}")
        Timeline.check_creation(cls.kind, fact, now)  # e.g. an operator's key
        return cls._create(cls.Opened, ref=fact.subject, fact=fact)

    def record(self, fact: Fact, now: datetime, *, checked: bool = False) -> None:
        """Add ``fact`` if the subject's rules still hold with it at its valid time
        (``domain.checked.Timeline.check``: the same rules the bulk import applies).

        An amendment (correction, retraction, dispute) must target an event of this
        subject; a correction or retraction is refused when the amended timeline would
        break a rule, naming the event that would break. ``checked``: the caller has just
        checked those rules (``domain.checked.check_amended`` does an amendment's).
        """
        if fact.subject != self.ref or (self.kind not in fact.kind.subjects
                                        and fact.kind.subject != "any"):
            raise ProgrammingError(f"a {fact.type} of {fact.subject} is not about {self.ref}")
        if not checked:
            self.timeline.check(fact, now)
        self.trigger_event(self.Recorded, fact=fact)

    def state(self, until: datetime | None = None) -> SubjectState:
        """The folded state of what counts (amendments applied), or as at valid time ``until``."""
        return self.timeline.state(until)

    def _add(self, fact: Fact) -> None:
        self.timeline.add(fact)


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


class LedgerSettings(Subject):
    """The ledger's own settings (its default jurisdiction), the one subject ``ledger``."""

    TOPIC = "blockledger:ledger"
    kind = "ledger"

    class Event(Subject.Event):
        TOPIC = "blockledger:ledger:event"

    class Created(Subject.Created):
        TOPIC = "blockledger:ledger:created"

    class Opened(Subject.Opened):
        TOPIC = "blockledger:ledger:opened"

    class Recorded(Subject.Recorded):
        TOPIC = "blockledger:ledger:recorded"


class RegistrySnapshot(Subject):
    """A national registry's snapshot as imported: its one ``registry-checked`` event."""

    TOPIC = "blockledger:snapshot"
    kind = "snapshot"

    class Event(Subject.Event):
        TOPIC = "blockledger:snapshot:event"

    class Created(Subject.Created):
        TOPIC = "blockledger:snapshot:created"

    class Opened(Subject.Opened):
        TOPIC = "blockledger:snapshot:opened"

    class Recorded(Subject.Recorded):
        TOPIC = "blockledger:snapshot:recorded"


AGGREGATES: dict[str, type[Subject]] = {
    "platform": Platform,
    "order": BlockOrder,
    "request": NormalizationRequest,
    "operator": Operator,
    "ledger": LedgerSettings,
    "snapshot": RegistrySnapshot,
}
#: The stored topics of operator events (the recorders index them, to find operators fast).
OPERATOR_TOPICS = (Operator.Opened.TOPIC, Operator.Recorded.TOPIC)
