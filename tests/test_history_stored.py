"""The amendment rules applied to stored objects (``effective_stored``, ``corrected_stored``,
``interchange``), as the whole ledger's history applies them, say exactly what the same
rules say of facts (``effective``, ``corrected``, ``Fact.to_json``): the same events count,
with the same values in the same key order, and the same links."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.amendments import corrected, corrected_stored, effective, effective_stored
from domain.errors import BadInput
from domain.fact import Fact, interchange
from domain.stored import interchange_of, read
from ledger.canonical import canonical
from tests import facts

RECORDED = datetime(2020, 1, 2, 3, 4, 5, 678_000, tzinfo=UTC)


def stored(fact: Fact, by: str | None = "alice") -> dict[str, Any]:
    """``fact`` as the ledger stores it: its export, recorded, in canonical JSON."""
    recorded = fact.recorded(by, RECORDED + timedelta(seconds=len(str(fact.id)))) if by else fact
    return orjson.loads(canonical(recorded.to_json()))


def laid_out(obj: dict[str, Any]) -> bytes:
    """An object's bytes as written (so key order counts, nested too)."""
    return orjson.dumps(obj)


SOURCES = [{"url": "https://example.org/a", "title": "A", "quote": "it says so",
            "sha256": "ab" * 32}, {"title": "a letter"}, "https://example.org/b"]

EVERY_KIND = [
    facts.registered(), facts.registered(company=None, sources=SOURCES, note="first seen"),
    facts.email(deadline="2017-03-08"), facts.response(), facts.no_response(),
    facts.statement(), facts.blocked(legal_basis="Art. 40", method="DNS", note="n"),
    facts.blocked(platform=None, platforms=["telegram", "signal"]),
    facts.unblocked(until="2017-08-01T10:00:00+07:00"), facts.observed(network="AS1"),
    facts.targets_added(), facts.penalty_imposed(), facts.appeal(), facts.ruling(),
    facts.requested(), facts.condition_set(detail="x"), facts.meeting(), facts.sop_agreed(),
    facts.granted(), facts.denied(),
    facts.correction("kominfo-1", target=facts.blocked().id, set={"occurred_at": "2017-07-15",
                                                                  "note": None}),
    facts.retraction("kominfo-1", target=facts.blocked().id),
    facts.dispute("kominfo-1", target=facts.blocked().id),
]


@pytest.mark.parametrize("fact", EVERY_KIND, ids=lambda f: f.type)
@pytest.mark.parametrize("by", ["alice", None])
def test_interchange_is_to_json_of_the_stored_fact(fact, by):
    obj = stored(fact, by)
    assert laid_out(interchange(obj)) == laid_out(Fact.from_stored(obj).to_json())


BLOCK = facts.blocked(legal_basis="Art. 40(2b) ITE Law", note="from the gazette")

#: Values a correction of ``BLOCK`` may set, each field with a few (None clears it).
CHANGES = {
    "occurred_at": ["2017-07-15", "2017-07-13T09:30:00+07:00", "2017-07-14"],
    "note": [None, "the letter says otherwise"],
    "legal_basis": [None, "Art. 40"],
    "method": [None, "DNS"],
    "targets": [["t.me"], ["web.telegram.org", "t.me"]],
    "reasons": [["terrorism", "radicalism"]],
    "authority": ["Kominfo RI"],
    "jurisdiction": [None, "ID"],
}

changes = st.dictionaries(st.sampled_from(sorted(CHANGES)), st.none(), min_size=1).flatmap(
    lambda keys: st.fixed_dictionaries({k: st.sampled_from(CHANGES[k]) for k in keys}))

#: What is recorded after the block: a correction (its set), a retraction (of the block, or
#: of the n-th amendment before it), a dispute.
steps = st.lists(st.one_of(
    st.tuples(st.just("correction"), changes),
    st.tuples(st.just("retraction"), st.integers(-1, 5)),
    st.tuples(st.just("dispute"), st.none())), max_size=6)


def amended(plan: list[tuple[str, Any]]) -> list[Fact]:
    """The block, then the amendments ``plan`` names, in recording order."""
    out = [BLOCK]
    for n, (verb, what) in enumerate(plan):
        day = f"2017-09-{n + 1:02d}"
        if verb == "correction":
            out.append(facts.correction(BLOCK.subject, target=BLOCK.id, set=what, at=day))
        elif verb == "retraction":
            earlier = [f for f in out[1:] if f.type != "retraction"]
            target = earlier[what].id if 0 <= what < len(earlier) else BLOCK.id
            out.append(facts.retraction(BLOCK.subject, target=target, at=day))
        else:
            out.append(facts.dispute(BLOCK.subject, target=BLOCK.id, at=day))
    return out


@settings(max_examples=300, deadline=None)
@given(steps)
def test_effective_stored_is_effective(plan):
    found = amended(plan)
    by_facts = effective(found)
    by_objects = effective_stored([interchange(stored(f)) for f in found])
    expected = {str(f.id): f.recorded("alice", RECORDED + timedelta(seconds=36)).to_json()
                for f in by_facts.facts}
    assert list(by_objects.current) == list(expected)
    for event, obj in by_objects.current.items():
        assert laid_out(obj) == laid_out(expected[event])
    for links in ("corrected_by", "retracted_by", "disputed_by"):
        assert getattr(by_objects, links) == {
            str(k): [str(i) for i in v] for k, v in getattr(by_facts, links).items()}


@settings(max_examples=200, deadline=None)
@given(changes)
def test_corrected_stored_is_corrected(change):
    fix = facts.correction(BLOCK.subject, target=BLOCK.id, set=change)
    fact_way = corrected(BLOCK, fix, stored=True).recorded("alice", RECORDED).to_json()
    target = interchange(orjson.loads(canonical(BLOCK.recorded("alice", RECORDED).to_json())))
    object_way = corrected_stored(target, interchange(stored(fix)))
    assert laid_out(object_way) == laid_out(fact_way)
    assert target == interchange(stored(BLOCK.recorded("alice", RECORDED), by=None))  # as was


def test_a_field_the_type_lacks_is_refused_both_ways():
    fix = facts.correction(BLOCK.subject, target=BLOCK.id, set={"colour": "red"})
    with pytest.raises(BadInput, match="colour") as by_facts:
        corrected(BLOCK, fix, stored=True)
    with pytest.raises(BadInput, match="colour") as by_objects:
        corrected_stored(interchange(stored(BLOCK)), interchange(stored(fix)))
    assert str(by_facts.value) == str(by_objects.value)


@pytest.mark.parametrize("fact", EVERY_KIND, ids=lambda f: f.type)
@pytest.mark.parametrize("by", ["alice", None, ""])
def test_interchange_of_the_struct_is_interchange_of_the_object(fact, by):
    """The whole ledger's history lays out the events amendments touch from their structs
    (``interchange_of``): what ``interchange`` makes of the decoded object. (An empty
    ``recorded_by`` is well-formed, and kept: ``interchange`` keeps it.)"""
    plain = canonical(fact.recorded(by, RECORDED).to_json())
    event, _ = read(plain)
    assert laid_out(interchange_of(event)) == laid_out(interchange(orjson.loads(plain)))
