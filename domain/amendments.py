"""Corrections, retractions and disputes: how later events amend earlier ones.

Nothing is ever edited. A ``correction`` replaces fields of its target from its own
recording on; a ``retraction`` makes its target count as never having happened; a
``dispute`` attaches a conflicting account and changes nothing. ``effective`` turns a
subject's facts (in recording order) into what counts: the base facts, corrected, without
the retracted ones, and the links from each event to what amends it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import attrs
from attrs import define, field

from domain.declaration import REGISTRY
from domain.errors import BadInput, RuleBroken
from domain.fact import Fact
from domain.values import When, stored_when

AMENDMENTS = ("correction", "retraction", "dispute")
#: Envelope fields a correction may replace, beside the data fields of its target's type.
CORRECTABLE_ENVELOPE = ("occurred_at", "note")


@define
class Effective:
    """What counts of a subject's facts, and what amends each event."""

    facts: list[Fact] = field(factory=list)  # base facts, corrected, retracted ones left out
    corrected_by: dict[UUID, list[UUID]] = field(factory=dict)
    retracted_by: dict[UUID, list[UUID]] = field(factory=dict)
    disputed_by: dict[UUID, list[UUID]] = field(factory=dict)
    original: dict[UUID, Fact] = field(factory=dict)  # every event as first recorded

    def links(self, fact_id: UUID) -> dict[str, list[str]]:
        """The ids of the events correcting, retracting and disputing ``fact_id``."""
        return {"corrected_by": [str(i) for i in self.corrected_by.get(fact_id, ())],
                "retracted_by": [str(i) for i in self.retracted_by.get(fact_id, ())],
                "disputed_by": [str(i) for i in self.disputed_by.get(fact_id, ())]}


def is_amendment(fact: Fact) -> bool:
    """Whether ``fact`` is about another event rather than about the world."""
    return fact.type in AMENDMENTS


def effective(facts: Sequence[Fact]) -> Effective:
    """Apply amendments, in recording order, to the base facts they target."""
    out = Effective()
    out.original = {f.id: f for f in facts}
    retracted: set[UUID] = set()
    for fact in facts:
        if fact.type == "retraction":
            retracted.add(fact.data.target)
            out.retracted_by.setdefault(fact.data.target, []).append(fact.id)
    current: dict[UUID, Fact] = {}
    for fact in facts:
        if fact.id in retracted:
            continue
        if fact.type == "correction":
            target = fact.data.target
            out.corrected_by.setdefault(target, []).append(fact.id)
            if target in current:
                current[target] = corrected(current[target], fact, stored=True)
        elif fact.type == "dispute":
            out.disputed_by.setdefault(fact.data.target, []).append(fact.id)
        elif fact.type != "retraction":
            current[fact.id] = fact
    out.facts = list(current.values())
    return out


def corrected(target: Fact, correction: Fact, *, stored: bool = False) -> Fact:
    """``target`` with the fields its ``correction`` replaces, validated by their specs;
    ``stored``: a correction the ledger holds, checked when it was recorded, so its values
    are loaded as they are (replay never re-runs today's validation)."""
    changes = correction.data.set.as_dict()
    specs = dict(REGISTRY[target.type].fields())
    envelope: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for name, value in changes.items():
        where = f"data.set.{name}"
        if name == "occurred_at":
            envelope["occurred_at"] = stored_when(value) if stored else When.parse(value, where)
        elif name == "note":
            envelope["note"] = None if value is None else str(value)
        elif name in specs:
            spec = specs[name]
            if value is None or (spec.is_list and value == []):
                if spec.required:
                    raise BadInput(f"{target.type} requires {name}; it cannot be cleared",
                                   field=where)
                data[name] = () if spec.is_list else None
            else:
                data[name] = spec.load(value) if stored else spec.parse(value, where)
        else:
            allowed = ", ".join([*CORRECTABLE_ENVELOPE, *specs])
            raise BadInput(f"{target.type} has no correctable field {name!r} "
                           f"(it has: {allowed})", field="data.set")
    if data:
        envelope["data"] = attrs.evolve(target.data, **data)
        declared = REGISTRY[target.type]
        if declared.either is not None and not stored:  # platform -> platforms, say
            declared.check_either(attrs.asdict(envelope["data"], recurse=False), "data.set")
    return target.evolve(**envelope)


def check_target(facts: Sequence[Fact], amendment: Fact) -> Fact:
    """The event ``amendment`` targets among ``facts``, or a refusal saying why not."""
    target_id = amendment.data.target
    target = next((f for f in facts if f.id == target_id), None)
    if target is None:
        raise RuleBroken(f"refused: {amendment.type} targets {target_id}, which is not an "
                         f"event of {amendment.subject}")
    retractions = [f for f in facts if f.type == "retraction" and f.data.target == target_id]
    if retractions:
        raise RuleBroken(f"refused: {target.label()} was already retracted by "
                         f"{retractions[0].id}")
    if amendment.type in ("correction", "dispute") and is_amendment(target):
        raise RuleBroken(f"refused: a {amendment.type} targets an event about the world, "
                         f"not a {target.type}; retract the {target.type} instead")
    if target.type == "jurisdiction-default" and amendment.type == "retraction":
        raise RuleBroken("refused: the ledger's default jurisdiction cannot be retracted "
                         "(it could never be set again); correct it to another")
    if target.kind.subject == "operator" and amendment.type != "dispute":
        raise RuleBroken(f"refused: an operator event cannot be {amendment.type[:-3]}ed: "
                         "the signatures depend on it; revoke the operator and add another")
    if amendment.type == "retraction" and target.type == "retraction":
        raise RuleBroken("refused: a retraction cannot be retracted; record the event again")
    return target
