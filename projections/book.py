"""All subjects of a ledger, grouped from its entries, as known at a record time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import domain.operators  # noqa: F401  (registers the operator kind's rules)
from domain.amendments import Effective, effective
from domain.concerns import platforms_named
from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure
from domain.fact import Fact
from domain.jurisdictions import LEDGER
from domain.timeline import OrderState, SubjectState, fold
from ledger.entry import Entry

#: Every subject kind declared (platform, order, request, and any added since), in the
#: order their types are declared; amendments ("any") live with their target's kind.
KINDS = tuple(dict.fromkeys(t.subject for t in REGISTRY.values() if t.subject != "any"))


def not_earlier(position: int, type_: str, target: object) -> str:
    """The refusal of an amendment whose target is not among the earlier events of the
    subject it is stored under (a book holds every event of a subject it holds, in log
    order; a target recorded later, or of another subject, is not there yet). The rules
    refuse such an amendment, so only a forged or damaged event holds one, and ``verify``
    names it so. (Read on, a correction of the retraction that retracts it is a loop.)"""
    return (f"the event at position {position} is damaged: its {type_} targets {target}, "
            "which is not an earlier event of the subject it is stored under; "
            "run 'blockledger verify'")


def repeated(position: int, event: object, first: int) -> str:
    """The refusal of an event holding the id of an earlier one (the ledger writes each id
    once: only a forged or damaged ledger holds two, and which one an amendment targets
    would be a guess)."""
    return (f"the event at position {position} is damaged: its id {event} is the id of the "
            f"event at position {first}; run 'blockledger verify'")


class Book:
    """The ledger's facts grouped by subject, keeping each fact's position.

    With ``as_known_at``, only facts recorded by then count: the book is what the ledger
    said at that moment, so corrections, retractions and disputes recorded later are
    ignored with everything else recorded later.
    """

    def __init__(self, entries: Iterable[Entry], *, as_known_at: datetime | None = None):
        self.as_known_at = as_known_at
        self.positions: dict[UUID, int] = {}
        self.subjects: dict[tuple[str, str], list[Fact]] = {}
        kind_of: dict[UUID, tuple[str, str]] = {}  # each fact's subject (kind, reference)
        for entry in entries:
            fact = entry.fact
            if as_known_at is not None and fact.recorded_at > as_known_at:
                continue
            first = self.positions.setdefault(fact.id, entry.position)
            if first != entry.position:
                raise IntegrityFailure(repeated(entry.position, fact.id, first))
            declared = fact.kind
            kind = declared.subject
            if kind == "any":  # an amendment lives with the event it targets
                kind, subject = kind_of.get(fact.data.target, (None, None))
                if subject != fact.subject:  # (the rules refuse it: forged or damaged)
                    raise IntegrityFailure(not_earlier(entry.position, fact.type,
                                                       fact.data.target))
            elif declared.also:  # an observation: of the order of that name if one exists
                kind = declared.about(fact.subject, lambda k, ref: (k, ref) in self.subjects)
            kind_of[fact.id] = (kind, fact.subject)
            self.subjects.setdefault((kind, fact.subject), []).append(fact)
        # Folds are pure functions of the book: a status asks for the same ones many times,
        # so each is kept, in a plain dict. (functools.cache over a bound method kept on
        # the book is a reference cycle: every book became cyclic garbage, which the
        # import's collections spent 5 us an event finding.)
        self._memo: dict[tuple, object] = {}

    def refs(self, kind: str) -> list[str]:
        """References of every subject of ``kind``, sorted."""
        return sorted(ref for k, ref in self.subjects if k == kind)

    def has(self, kind: str, ref: str) -> bool:
        return (kind, ref) in self.subjects

    def facts(self, kind: str, ref: str) -> list[Fact]:
        """Every event of one subject, amendments included, in recording order."""
        return self.subjects.get((kind, ref), [])

    def effective(self, kind: str, ref: str) -> Effective:
        key = ("effective", kind, ref)
        if key not in self._memo:
            self._memo[key] = effective(self.facts(kind, ref))
        return self._memo[key]  # type: ignore[return-value]

    def state(self, kind: str, ref: str, as_of: datetime | None = None) -> SubjectState | None:
        """The subject's state at valid time ``as_of``; None if it did not exist then
        (kept: callers only read it)."""
        key = ("state", kind, ref, as_of)
        if key not in self._memo:
            state = fold(kind, ref, self.effective(kind, ref).facts, until=as_of)
            self._memo[key] = state if state.created is not None else None
        return self._memo[key]  # type: ignore[return-value]

    def order(self, platform: str, ref: str, as_of: datetime | None = None) -> OrderState | None:
        """Order ``ref`` at valid time ``as_of`` as platform ``platform`` sees it: an order
        over several platforms narrowed to the targets that concern this one (``concerning``);
        any other order whole; None where it concerns none of the platform's targets
        (kept)."""
        state = self.state("order", ref, as_of)
        if not isinstance(state, OrderState) or len(state.platforms) < 2:
            return state
        key = ("order", platform, ref, as_of)
        if key not in self._memo:
            mine = self.concerning(platform, ref)
            # None where none of its targets concern the platform (a back-dated removal
            # took them away): the order holds nothing there, and is no order of it.
            self._memo[key] = state.narrowed(mine) if mine else None
        return self._memo[key]  # type: ignore[return-value]

    def concerning(self, platform: str, ref: str) -> frozenset[str]:
        """The targets of order ``ref`` (over several platforms) that concern ``platform``:
        those it was reached at when the order was made (as a platform is reached at the
        targets it was registered with from before its registration, so here). Only the
        platform's own events decide, so that a book of one platform's events (the views')
        answers as the whole log does. The rules refuse an order with a target none of its
        platforms holds then; a target that a later, back-dated ``targets-removed`` took
        away concerns none of them (the order's own status still shows it) (kept)."""
        key = ("concerning", platform, ref)
        if key not in self._memo:
            created = next((f for f in self.effective("order", ref).facts
                            if f.kind.creates), None)
            mine: frozenset[str] = frozenset()
            if created is not None:
                held = self._targets_at(platform, created.occurred_at.instant)
                mine = frozenset(t for t in created.data.targets if t in held)
            self._memo[key] = mine
        return self._memo[key]  # type: ignore[return-value]

    def _targets_at(self, platform: str, at: datetime) -> frozenset[str]:
        """The targets ``platform`` is reached at at valid time ``at`` (those it was
        registered with, before its registration)."""
        state = self.state("platform", platform, at)
        if state is None:
            first = next((f for f in self.effective("platform", platform).facts
                          if f.kind.creates), None)
            if first is None:
                return frozenset()
            state = self.state("platform", platform, first.occurred_at.instant)
        return frozenset(getattr(state, "targets", ()))

    def default_jurisdiction(self) -> str | None:
        """The ledger's default jurisdiction, as known at the book's record time
        (``domain.jurisdictions``): that of its ``jurisdiction-default``, as corrected."""
        key = ("default jurisdiction",)
        if key not in self._memo:
            state = self.state("ledger", LEDGER)
            self._memo[key] = getattr(state, "jurisdiction", None)
        return self._memo[key]  # type: ignore[return-value]

    def jurisdiction_of(self, order: OrderState) -> str | None:
        """The jurisdiction an order binds: its own, else the ledger's default."""
        return order.jurisdiction or self.default_jurisdiction()

    def related(self, platform: str, kind: str) -> list[str]:
        """Subjects of ``kind`` (orders, requests) concerning ``platform`` (kept); none
        for a kind whose subjects concern no platform."""
        key = ("related", kind)
        if key not in self._memo:
            # Every platform's at once: asked platform by platform, a book of the whole
            # ledger read every subject of the kind again for each of its platforms.
            by_platform: dict[str, list[str]] = {}
            for ref in self.refs(kind):
                named = set().union(*(platforms_named(f) for f in self.effective(kind, ref).facts
                                      if f.kind.creates))
                for name in named:
                    by_platform.setdefault(name, []).append(ref)
            self._memo[key] = by_platform
        return self._memo[key].get(platform, [])  # type: ignore[attr-defined]

    def named(self, platform: str, kind: str) -> list[str]:
        """``related``, and the subjects whose creating event named ``platform`` and was
        retracted: they count nowhere, but stay in the platform's history and reports,
        marked, with their retraction (kept)."""
        key = ("named", platform, kind)
        if key not in self._memo:
            related = set(self.related(platform, kind))
            self._memo[key] = [
                ref for ref in self.refs(kind)
                if ref in related or (
                    not any(f.kind.creates for f in self.effective(kind, ref).facts)
                    and any(platform in platforms_named(f) for f in self.facts(kind, ref)))]
        return self._memo[key]  # type: ignore[return-value]

    def is_disputed(self, kind: str, ref: str, as_of: datetime | None = None) -> bool:
        """Whether an event of the subject that counts (by ``as_of``) is disputed."""
        eff = self.effective(kind, ref)
        return any(f.id in eff.disputed_by for f in eff.facts
                   if as_of is None or f.occurred_at.instant <= as_of)

    def position(self, fact: Fact) -> int:
        return self.positions[fact.id]
