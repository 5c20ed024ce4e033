"""Corrections, retractions and disputes: how later events amend earlier ones.

Nothing is ever edited. A ``correction`` replaces fields of its target from its own
recording on; a ``retraction`` makes its target count as never having happened; a
``dispute`` attaches a conflicting account and changes nothing. ``effective`` turns a
subject's facts (in recording order) into what counts: the base facts, corrected, without
the retracted ones, and the links from each event to what amends it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple, TypeVar
from uuid import UUID

import attrs
from attrs import define, field

from domain.declaration import REGISTRY
from domain.errors import BadInput, RuleBroken
from domain.fact import Fact, interchange
from domain.values import When, stored_when

AMENDMENTS = ("correction", "retraction", "dispute")
#: The amendments that change what an event counts as (a dispute changes nothing).
CHANGING = frozenset({"correction", "retraction"})
#: Envelope fields a correction may replace, beside the data fields of its target's type.
CORRECTABLE_ENVELOPE = ("occurred_at", "note")
#: An event as the amendment rules read it: a ``Fact``, or a stored (interchange) object.
E = TypeVar("E")


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
    current, out.corrected_by, out.retracted_by, out.disputed_by = applied(
        facts, _fact_type, _fact_id, _fact_target,
        lambda target, fact: corrected(target, fact, stored=True))
    out.facts = list(current.values())
    return out


def effective_stored(objs: Sequence[dict[str, Any]]) -> Amended:
    """``effective`` of a subject's events as the ledger stores them (interchange objects,
    in recording order, ids as text), without building their facts: the same rules
    (``applied``), each correction applied by ``corrected_stored``. The whole ledger's
    history reads the events amendments touch so."""
    return Amended(*applied(objs, _stored_type, _stored_id, _stored_target, corrected_stored))


class Amended(NamedTuple):
    """What ``effective_stored`` gives: what counts, by id (as now, corrected; none of the
    retracted), and the ids of what corrected, retracted and disputed each event."""

    current: dict[str, dict[str, Any]]
    corrected_by: dict[str, list[str]]
    retracted_by: dict[str, list[str]]
    disputed_by: dict[str, list[str]]

    def links(self, event: str) -> dict[str, list[str]]:
        """The ids of the events correcting, retracting and disputing ``event``
        (``Effective.links``, ids as stored)."""
        return {"corrected_by": self.corrected_by.get(event, []),
                "retracted_by": self.retracted_by.get(event, []),
                "disputed_by": self.disputed_by.get(event, [])}


def applied(items: Sequence[E], type_of: Callable[[E], str], id_of: Callable[[E], Any],
            target_of: Callable[[E], Any], correct: Callable[[E, E], E]) -> tuple[
                dict[Any, E], dict[Any, list[Any]], dict[Any, list[Any]], dict[Any, list[Any]]]:
    """The amendment rules, over a subject's events in recording order (facts, or stored
    objects: ``type_of``, ``id_of`` and ``target_of`` read them; ``correct(target,
    correction)`` applies a correction): a retraction removes its target (a retracted
    correction is never applied); each correction replaces its target's fields in
    recording order; a dispute changes nothing. Return what counts by id (base events,
    corrected, in recording order) and the links by target: corrected by, retracted by,
    disputed by."""
    retracted_by: dict[Any, list[Any]] = {}
    for item in items:
        if type_of(item) == "retraction":
            retracted_by.setdefault(target_of(item), []).append(id_of(item))
    corrected_by: dict[Any, list[Any]] = {}
    disputed_by: dict[Any, list[Any]] = {}
    current: dict[Any, E] = {}
    for item in items:
        key = id_of(item)
        if key in retracted_by:
            continue
        kind = type_of(item)
        if kind == "correction":
            target = target_of(item)
            corrected_by.setdefault(target, []).append(key)
            if target in current:
                current[target] = correct(current[target], item)
        elif kind == "dispute":
            disputed_by.setdefault(target_of(item), []).append(key)
        elif kind != "retraction":
            current[key] = item
    return current, corrected_by, retracted_by, disputed_by


#: How ``applied`` reads a fact, and a stored object: its type, its id, its target.
_fact_type, _fact_id, _fact_target = attrgetter("type"), attrgetter("id"), attrgetter("data.target")
_stored_type, _stored_id = itemgetter("type"), itemgetter("id")


def _stored_target(obj: dict[str, Any]) -> str:
    return obj["data"]["target"]


def corrected(target: Fact, correction: Fact, *, stored: bool = False) -> Fact:
    """``target`` with the fields its ``correction`` replaces, validated by their specs;
    ``stored``: a correction the ledger holds, checked when it was recorded, so its values
    are loaded as they are (replay never re-runs today's validation)."""
    envelope, data = replacements(target.type, correction.data.set.as_dict(), stored=stored)
    if data:
        envelope["data"] = attrs.evolve(target.data, **data)
        declared = REGISTRY[target.type]
        if declared.either is not None and not stored:  # platform -> platforms, say
            declared.check_either(attrs.asdict(envelope["data"], recurse=False), "data.set")
    return target.evolve(**envelope)


def corrected_stored(target: dict[str, Any], correction: dict[str, Any]) -> dict[str, Any]:
    """``corrected(..., stored=True)`` of a target and a correction as stored (interchange
    objects), as an interchange object: what ``corrected`` of their facts gives, as
    ``Fact.to_json`` writes it (a test holds them so)."""
    envelope, data = replacements(target["type"], correction["data"]["set"], stored=True)
    out = dict(target)
    if "occurred_at" in envelope:
        out["occurred_at"] = envelope["occurred_at"].text
    if data:  # through the payload, as a fact's data is replaced and written
        kind = REGISTRY[target["type"]]
        out["data"] = kind.to_json(attrs.evolve(kind.load(target["data"]), **data))
    if "note" in envelope:  # (a note given or taken away moves the keys after it)
        out["note"] = envelope["note"]
        return interchange(out)
    return out


def replacements(type_name: str, changes: dict[str, Any], *,
                 stored: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """The envelope fields (``occurred_at``, ``note``) and the data fields that a
    correction's ``changes`` replace in an event of type ``type_name``, as domain values
    (a cleared data field: None, or () for a list), validated by their specs (loaded as
    they are with ``stored``); ``BadInput`` for a field that cannot be corrected."""
    specs: dict[str, Any] | None = None
    envelope: dict[str, Any] = {}
    data: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "occurred_at":
            envelope["occurred_at"] = (stored_when(value) if stored
                                       else When.parse(value, "data.set.occurred_at"))
            continue
        if name == "note":
            envelope["note"] = None if value is None else str(value)
            continue
        where = f"data.set.{name}"
        if specs is None:
            specs = dict(REGISTRY[type_name].fields())
        if name in specs:
            spec = specs[name]
            if value is None or (spec.is_list and value == []):
                if spec.required:
                    raise BadInput(f"{type_name} requires {name}; it cannot be cleared",
                                   field=where)
                data[name] = () if spec.is_list else None
            else:
                data[name] = spec.load(value) if stored else spec.parse(value, where)
        else:
            allowed = ", ".join([*CORRECTABLE_ENVELOPE, *specs])
            raise BadInput(f"{type_name} has no correctable field {name!r} "
                           f"(it has: {allowed})", field="data.set")
    return envelope, data


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
        undone = next((f for f in facts if f.id == target.data.target), None)
        if undone is not None and undone.kind.creates:  # (it cannot be recorded again)
            raise RuleBroken(f"refused: a retraction cannot be retracted, and "
                             f"{target.data.target} created {amendment.subject}: a reference "
                             "is created once, so record it again under another reference")
        raise RuleBroken("refused: a retraction cannot be retracted; record the event again")
    return target
