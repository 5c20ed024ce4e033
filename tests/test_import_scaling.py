"""Back-dated facts are checked at the cost of one state, not of a fold of the whole
subject, and with exactly the outcome of that fold.

``domain.checked.Timeline`` answers a fact that is not the newest of its subject from an
index of what the rules read (``domain.timeline.Index``) instead of folding every fact
again. Here generated timelines, their facts recorded in random valid-time orders, are
checked both ways, fact by fact: by the timeline, and by the fold of all the facts that
count with the new one in its place (``check_addition`` with no state, the definition of
the rule for a back-dated fact). Both accept the same facts and refuse the same ones with
the same message.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import domain.timeline
from domain.amendments import effective, is_amendment
from domain.checked import Timeline
from domain.errors import RuleBroken
from domain.fact import Fact
from domain.timeline import check_addition

NOW = datetime(2030, 1, 1, tzinfo=UTC)
TARGETS = ["a.example", "b.example", "c.example", "d.example"]
CONDITIONS = ["sop", "local-office", "trusted-flagger"]


def _day(n: int) -> str:
    return (date(2017, 1, 1) + timedelta(days=n)).isoformat()


def _fact(type_: str, subject: str, day: int, data: dict) -> Fact:
    return Fact.from_json({"id": str(uuid.uuid4()), "type": type_, "subject": subject,
                           "occurred_at": _day(day), "sources": ["s"], "data": data})


def _creation(kind: str, day: int) -> Fact:
    if kind == "platform":
        return _fact("platform-registered", "p", day, {"name": "P", "targets": TARGETS})
    if kind == "order":
        return _fact("blocked", "o", day, {"platform": "p", "authority": "A",
                                            "targets": TARGETS, "reasons": ["r"]})
    return _fact("normalization-requested", "r", day,
                 {"platform": "p", "orders": ["o"], "requested_by": "P"})


def _step(kind: str, draw, earlier: list[Fact], span: int = 80) -> Fact:
    """One fact about the subject: any type it takes, at any day up to ``span`` (some are
    refused)."""
    day = draw(st.integers(0, span))
    ref = {"platform": "p", "order": "o", "request": "r"}[kind]
    if draw(st.integers(0, 12)) == 0 and earlier:  # now and then an amendment
        target = draw(st.sampled_from(earlier))
        if draw(st.booleans()):
            return _fact("retraction", ref, day, {"target": str(target.id), "reason": "r"})
        return _fact("correction", ref, day, {"target": str(target.id), "reason": "r",
                                              "set": {"occurred_at": _day(day)}})
    if kind == "platform":
        what = draw(st.sampled_from(["email", "email", "silence", "silence", "statement"]))
        if what == "email":
            return _fact("email-sent", ref, day, {"sender": "M", "recipient": "P",
                                                  "summary": "s"})
        if what == "silence":
            emails = [f for f in earlier if f.type == "email-sent"]
            data = {}
            if emails and draw(st.booleans()):
                data["regarding"] = str(draw(st.sampled_from(emails)).id)
            return _fact("no-response", ref, day, data)
        return _fact("statement-issued", ref, day, {"by": "P", "summary": "s"})
    if kind == "order":
        what = draw(st.sampled_from(["lift", "lift", "lift", "observe"]))
        if what == "observe":
            return _fact("access-observed", ref, day,
                         {"target": draw(st.sampled_from([*TARGETS, "z.example"])),
                          "accessible": draw(st.booleans())})
        data: dict = {}
        lifted = draw(st.lists(st.sampled_from(TARGETS), max_size=2, unique=True))
        if lifted:
            data["targets"] = lifted
        if draw(st.integers(0, 2)):
            data["until"] = _day(day + draw(st.integers(-1, 10)))
        return _fact("unblocked", ref, day, data)
    what = draw(st.sampled_from(["set", "set", "commit", "sop", "met", "met", "waive",
                                 "meeting", "grant", "deny"]))
    condition = draw(st.sampled_from(CONDITIONS))
    if what == "set":
        return _fact("condition-set", ref, day, {"condition": condition})
    if what == "commit":
        return _fact("commitment-made", ref, day, {"by": "P", "condition": condition})
    if what == "sop":
        return _fact("sop-agreed", ref, day, {"summary": "s"})
    if what == "met":
        return _fact("condition-met", ref, day, {"condition": condition})
    if what == "waive":
        return _fact("condition-waived", ref, day, {"condition": condition, "reason": "r"})
    if what == "meeting":
        return _fact("meeting-held", ref, day, {"kind": "ceo", "attendees": ["X"]})
    if what == "grant":
        return _fact("normalization-granted", ref, day, {})
    return _fact("normalization-denied", ref, day, {"reason": "r"})


def _by_fold(kind: str, accepted: list[Fact], fact: Fact) -> str:
    """The outcome by definition: every fact that counts folded with ``fact`` in place."""
    try:
        check_addition(kind, fact.subject, effective(accepted).facts, None, None, fact)
    except RuleBroken as error:
        return str(error)
    return "ok"


def _by_timeline(timeline: Timeline, fact: Fact) -> str:
    try:
        timeline.check(fact, NOW)
    except RuleBroken as error:
        return str(error)
    return "ok"


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(["platform", "order", "request"]), data=st.data())
def test_a_timeline_in_any_valid_time_order_checks_as_the_full_fold(kind, data):
    """Facts of one subject at random days, in random recording order, now and then a
    correction or retraction: the timeline accepts and refuses (with the same message)
    exactly what the fold of the whole subject does."""
    draw = data.draw
    span = draw(st.sampled_from([8, 30, 80]))  # few days: many facts on the same day
    creation = _creation(kind, draw(st.integers(0, span // 4)))
    timeline = Timeline.open(kind, creation, NOW)
    accepted = [creation]
    for _ in range(draw(st.integers(1, 40))):
        fact = _step(kind, draw, accepted, span)
        outcome = _by_timeline(timeline, fact)
        if not is_amendment(fact):  # amendments take the same (full) path as before
            assert outcome == _by_fold(kind, accepted, fact), (fact.type, fact.occurred_at)
        if outcome == "ok":
            timeline.add(fact)
            accepted.append(fact)
        if draw(st.integers(0, 9)) == 0:  # a reader asks for the state now and then
            state = timeline.state()
            assert state.facts == domain.timeline.fold(
                kind, timeline.ref, effective(accepted).facts).facts
    reloaded = Timeline.of(kind, timeline.ref, accepted)  # as read back from the store
    late = _step(kind, draw, accepted, span)
    if not is_amendment(late):
        assert _by_timeline(reloaded, late) == _by_fold(kind, accepted, late)


@pytest.mark.parametrize(("kind", "before", "late"), [
    ("request", [("normalization-granted", 50, {})],
     ("condition-set", 10, {"condition": "sop"})),  # a new condition before the decision
    ("request", [("condition-set", 5, {"condition": "sop"}), ("sop-agreed", 20, {"summary": "s"}),
                 ("normalization-granted", 50, {})],
     ("condition-set", 10, {"condition": "sop"})),  # one set anyway: nothing changes
    ("request", [("condition-set", 30, {"condition": "sop"}),
                 ("condition-met", 40, {"condition": "sop"})],
     ("condition-met", 10, {"condition": "sop"})),  # met before it was set
    ("request", [("normalization-denied", 50, {"reason": "r"})],
     ("meeting-held", 10, {"kind": "ceo", "attendees": ["X"]})),
    ("request", [("normalization-denied", 50, {"reason": "r"}),
                 ("meeting-held", 10, {"kind": "ceo", "attendees": ["X"]})],
     ("normalization-granted", 5, {})),  # a decision before other facts
    ("order", [("unblocked", 10, {"targets": ["a.example"]}), ("access-observed", 30,
               {"target": "a.example", "accessible": True})],
     ("unblocked", 10, {"targets": ["a.example"], "until": _day(15)})),  # lifted already
    ("order", [("unblocked", 10, {}), ("access-observed", 30,
               {"target": "a.example", "accessible": True})],
     ("unblocked", 10, {"until": _day(15)})),  # all lifted the same day: nothing held
    ("order", [("unblocked", 20, {"targets": ["a.example"]})],
     ("unblocked", 10, {"targets": ["a.example"]})),  # a lift before a lift of it
    ("order", [("unblocked", 20, {"targets": ["a.example"]}), ("access-observed", 30,
               {"target": "a.example", "accessible": True})],
     ("unblocked", 10, {"targets": ["a.example"], "until": _day(25)})),  # temporary
    ("order", [("unblocked", 20, {"targets": ["a.example"], "until": _day(25)})],
     ("unblocked", 10, {})),  # all lifted before a temporary lift
    ("order", [("access-observed", 30, {"target": "a.example", "accessible": True})],
     ("unblocked", 10, {"targets": ["a.example"], "until": _day(5)})),  # ends first
    ("platform", [("email-sent", 20, {"sender": "M", "recipient": "P", "summary": "s"}),
                  ("statement-issued", 30, {"by": "P", "summary": "s"})],
     ("no-response", 10, {})),  # no email before it
    ("platform", [("email-sent", 20, {"sender": "M", "recipient": "P", "summary": "s"}),
                  ("statement-issued", 30, {"by": "P", "summary": "s"})],
     ("no-response", 20, {})),  # the same day as the email: after it
    ("platform", [("email-sent", 5, {"sender": "M", "recipient": "P", "summary": "s"}),
                  ("email-sent", 20, {"sender": "M", "recipient": "P", "summary": "s"}),
                  ("statement-issued", 30, {"by": "P", "summary": "s"})],
     ("no-response", 10, {})),  # regarding an email after it (below)
    ("platform", [("statement-issued", 30, {"by": "P", "summary": "s"})],
     ("statement-issued", -5, {"by": "P", "summary": "s"})),  # before the platform
])
def test_edges_of_placing_a_fact_check_as_the_full_fold(kind, before, late):
    """Placements where an index could be off by one: the same day, a new condition or a
    decision before later facts, a permanent lift before another lift."""
    creation = _creation(kind, 0)
    ref = creation.subject
    timeline = Timeline.open(kind, creation, NOW)
    accepted = [creation]
    for type_, day, data in before:
        fact = _fact(type_, ref, day, data)
        timeline.record(fact, NOW)
        accepted.append(fact)
    type_, day, data = late
    if type_ == "no-response" and len(before) > 2:
        data = {"regarding": str(accepted[2].id)}
    elif type_ == "no-response" and day == 20:
        data = {"regarding": str(accepted[1].id)}
    fact = _fact(type_, ref, day, data)
    assert _by_timeline(timeline, fact) == _by_fold(kind, accepted, fact)


def _folded(monkeypatch) -> list[int]:
    """Count the facts ``domain.timeline.fold`` goes through, wherever it is called."""
    counts: list[int] = []
    real = domain.timeline.fold

    def counting(kind, ref, facts, **kwargs):
        counts.append(len(facts))
        return real(kind, ref, facts, **kwargs)

    monkeypatch.setattr(domain.timeline, "fold", counting)
    monkeypatch.setattr("domain.checked.fold", counting)
    return counts


def _platform_history(n: int) -> list[Fact]:
    """A platform and ``n`` emails, silences (about its first email) and statements over
    the years."""
    out = [_creation("platform", 0)]
    emails = []
    for i in range(n):
        day = 10 + i
        if i % 3 == 0:
            email = _fact("email-sent", "p", day, {"sender": "M", "recipient": "P",
                                                    "summary": "s"})
            emails.append(email)
            out.append(email)
        elif i % 3 == 1:
            out.append(_fact("no-response", "p", day, {"regarding": str(emails[0].id)}))
        else:
            out.append(_fact("statement-issued", "p", day, {"by": "P", "summary": "s"}))
    return out


def _order_history(n: int) -> list[Fact]:
    """An order and ``n`` observations and temporary lifts, then a permanent lift."""
    out = [_creation("order", 0)]
    for i in range(n):
        if i % 4 == 0:
            out.append(_fact("unblocked", "o", 10 + i, {"targets": TARGETS[:2],
                                                        "until": _day(12 + i)}))
        else:
            out.append(_fact("access-observed", "o", 10 + i,
                             {"target": TARGETS[i % 4], "accessible": i % 2 == 0}))
    out.append(_fact("unblocked", "o", 20 + n, {}))
    return out


def test_facts_in_reverse_valid_time_order_fold_nothing_again(monkeypatch):
    """2,000 facts of a platform and 2,000 of an order, each recorded before the ones it
    precedes (reverse valid-time order, the creation first): all are accepted, and the
    checks fold no more facts in all than the timelines hold, where folding the whole
    subject for each would go through about 2 million."""
    counts = _folded(monkeypatch)
    for kind, history in (("platform", _platform_history(2_000)),
                          ("order", _order_history(2_000))):
        creation, first, *rest = history  # the email the silences regard comes first
        timeline = Timeline.open(kind, creation, NOW)
        for fact in [first, *reversed(rest)]:
            timeline.record(fact, NOW)
        assert len(timeline.facts) == len(history)
    assert sum(counts) <= 2 * 4_002, sum(counts)


def test_facts_in_random_valid_time_order_fold_nothing_again(monkeypatch):
    """The same in a shuffled order."""
    import random

    counts = _folded(monkeypatch)
    for kind, history in (("platform", _platform_history(2_000)),
                          ("order", _order_history(2_000))):
        creation, first, *rest = history
        random.Random(3).shuffle(rest)
        timeline = Timeline.open(kind, creation, NOW)
        for fact in [first, *rest]:
            timeline.record(fact, NOW)
        assert len(timeline.facts) == len(history)
    assert sum(counts) <= 2 * 4_002, sum(counts)
