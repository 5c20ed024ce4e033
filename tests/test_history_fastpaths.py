"""The shortcuts the whole ledger's history takes in the domain's code say exactly what the
general code says: ``displayed`` of printable ASCII, ``Fact.evolve`` as a constructor call,
``Effective.links``, a stored correction's valid time read through ``stored_when``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.amendments import corrected, effective
from domain.fact import Fact
from domain.identifiers import displayed
from domain.values import Source, When, identifier_problem
from tests import facts


def _displayed_by_the_rule(identifier: str) -> str:
    """``displayed`` as its docstring states it, without the ASCII shortcut."""
    if identifier.isprintable() and not identifier_problem(identifier):
        return identifier
    return ascii(identifier)[1:-1]


@given(st.text(max_size=40) | st.text(st.characters(max_codepoint=127), max_size=40))
def test_displayed_says_what_the_rule_says(text):
    assert displayed(text) == _displayed_by_the_rule(text)


@pytest.mark.parametrize("text", ["t.me", "a\x00b", "tab\there", "del\x7f", "", "t.me\u200b",
                                  "telegram.m\u0435"])
def test_displayed_of_control_characters_is_escaped(text):
    assert displayed(text) == _displayed_by_the_rule(text)
    assert displayed(text).isprintable()


_VALUES = {
    "id": uuid.UUID(int=7),
    "type": "email-sent",
    "subject": "other",
    "occurred_at": When.parse("2019-01-02"),
    "sources": (Source(url="https://example.org/x"),),
    "data": facts.blocked().data,
    "note": "a note",
    "recorded_by": "alice",
    "recorded_at": datetime(2020, 1, 1, tzinfo=UTC),
}


def test_evolve_knows_every_field():
    """A field added to ``Fact`` and not to the fast ``evolve`` fails here."""
    assert {a.name for a in attrs.fields(Fact)} == _VALUES.keys()


@given(st.sets(st.sampled_from(sorted(_VALUES))), st.booleans())
def test_evolve_is_attrs_evolve(names, to_none):
    fact = facts.blocked().recorded("bob", datetime(2018, 1, 1, tzinfo=UTC))
    changes = {n: (None if to_none and n in ("note", "recorded_by", "recorded_at")
                   else _VALUES[n]) for n in names}
    evolved = fact.evolve(**changes)
    assert evolved == attrs.evolve(fact, **changes)
    assert [getattr(evolved, a.name) for a in attrs.fields(Fact)] == [
        getattr(attrs.evolve(fact, **changes), a.name) for a in attrs.fields(Fact)]


def test_evolve_refuses_an_unknown_field_as_attrs_does():
    with pytest.raises(TypeError, match="colour"):
        facts.blocked().evolve(colour="red")


def test_links_name_each_amendment():
    base = facts.blocked()
    fix = facts.fact("correction", base.subject, at="2017-07-20",
                     data={"target": str(base.id), "set": {"occurred_at": "2017-07-15"},
                           "reason": "the gazette"})
    doubt = facts.fact("dispute", base.subject, at="2017-07-21",
                       data={"target": str(base.id), "claim": "it was later"})
    eff = effective([base, fix, doubt])
    assert eff.links(base.id) == {"corrected_by": [str(fix.id)], "retracted_by": [],
                                  "disputed_by": [str(doubt.id)]}
    assert eff.links(uuid.UUID(int=1)) == {"corrected_by": [], "retracted_by": [],
                                           "disputed_by": []}
    # a stored correction's valid time is the one it names, as ``When.parse`` reads it
    now = corrected(base, fix, stored=True)
    assert now.occurred_at == When.parse("2017-07-15")
    assert now.occurred_at.text == "2017-07-15"
    assert corrected(base, fix) == now
