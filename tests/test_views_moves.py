"""A correction that moves an order to another platform: the views answer as a full replay
does (issue "Trust that holds", item 2), on every path that fills them.

The order used to vanish from ``status beta`` (its history rows were indexed under the
platform its creating event first named), even after ``projections rebuild``, while
``report provenance beta`` and a replay of the log showed it in force.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from domain.fact import Fact
from domain.values import When
from ledger.application import open_ledger
from ledger.encryption import new_key
from ledger.storage import parse_target
from projections.book import Book
from projections.history import history as history_rows
from projections.importing import import_facts
from projections.status import platform_status
from projections.views import Views
from tests.clitools import run, run_json
from tests.test_bitemporal import _day

TARGETS = ["a.example", "b.example", "c.example"]
SRC = ["--source", "https://example.org"]


def test_a_moved_order_is_in_force_on_its_new_platform(runner, db):
    for name in ("alpha", "beta"):
        assert run(runner, db, "record", "platform-registered", name, "--at", "2017-01-01",
                   *SRC, "--name", name, "--target", f"{name}.example").exit_code == 0
    result = run(runner, db, "record", "blocked", "order-1", "--at", "2017-02-01", *SRC,
                 "--platform", "alpha", "--authority", "K", "--reason", "r",
                 "--target", "alpha.example")
    assert result.exit_code == 0, result.output
    created = result.output.split()[-1]
    result = run(runner, db, "record", "correction", "order-1", "--at", "2017-03-01", *SRC,
                 "--target", created, "--reason", "the order named the wrong platform",
                 "--set", "platform=beta", "--set", 'targets=["beta.example"]')
    assert result.exit_code == 0, result.output
    for _ in range(2):
        beta = run_json(runner, db, "status", "beta")
        assert beta["state"] == "blocked"
        assert [o["ref"] for o in beta["orders"]] == ["order-1"]
        assert run_json(runner, db, "status", "alpha")["state"] == "accessible"
        listed = {s["platform"]: s["state"] for s in run_json(runner, db, "status")}
        assert listed == {"alpha": "accessible", "beta": "blocked"}
        events = run_json(runner, db, "history", "beta")["events"]
        assert {e["subject"] for e in events} == {"beta", "order-1"}
        assert run(runner, db, "projections", "rebuild").exit_code == 0
    # As known before the correction, the order was alpha's.
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True


def _fact(type_: str, subject: str, day: int, data: dict) -> Fact:
    return Fact.from_json({"id": str(uuid.uuid4()), "type": type_, "subject": subject,
                           "occurred_at": _day(day), "sources": ["s"], "data": data})


@st.composite
def moving_scripts(draw):
    """Two platforms, three orders on either, then random lifts, observations, corrections
    (moves to the other platform among them) and retractions."""
    facts = [_fact("platform-registered", p, 0, {"name": p.upper(), "targets": TARGETS})
             for p in ("p", "q")]
    for ref in ("o1", "o2", "o3"):
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))
        facts.append(_fact("blocked", ref, draw(st.integers(1, 30)),
                           {"platform": draw(st.sampled_from(["p", "q"])), "authority": "A",
                            "targets": targets, "reasons": ["r"]}))
    steps = [(draw(st.sampled_from(["lift", "observe", "move", "move", "correct", "retract"])),
              draw(st.sampled_from(["o1", "o2", "o3"])), draw(st.integers(1, 60)),
              draw(st.lists(st.sampled_from(TARGETS), max_size=2, unique=True)),
              draw(st.booleans()), draw(st.integers(0, 1000)))
             for _ in range(draw(st.integers(1, 10)))]
    return facts, steps


def _step(step, recorded: list[Fact]) -> Fact:
    kind, ref, day, targets, flag, pick = step
    if kind == "lift":
        return _fact("unblocked", ref, day, {"targets": targets} if targets else {})
    if kind == "observe":
        return _fact("access-observed", ref, day, {"target": (targets or TARGETS)[0],
                                                  "accessible": flag})
    candidates = [f for f in recorded if f.subject == ref
                  and f.type not in ("correction", "retraction")]
    target = candidates[pick % len(candidates)] if candidates else recorded[0]
    if kind == "move":
        creating = next(f for f in recorded if f.subject == ref and f.type == "blocked")
        return _fact("correction", ref, day, {
            "target": str(creating.id), "reason": "r",
            "set": {"platform": "q" if flag else "p"}})
    if kind == "correct":
        return _fact("correction", ref, day, {"target": str(target.id), "reason": "r",
                                               "set": {"occurred_at": _day(day)}})
    return _fact("retraction", ref, day, {"target": str(target.id), "reason": "r"})


def _record(ledger, facts, steps, bulk: bool, step=_step) -> None:
    recorded = list(facts)
    ledger.record(facts, operator="t")
    for one in steps:
        fact = step(one, recorded)
        try:
            if bulk:
                import_facts(ledger, [(1, fact)], operator="t")
            else:
                ledger.record([fact], operator="t")
        except LedgerError:
            continue
        recorded.append(fact)


def _status(book: Book, platform: str, as_of: When) -> object:
    try:
        return platform_status(book, platform, as_of=as_of)
    except LedgerError as error:  # not registered then
        return str(error)


def _history(book: Book, platform: str, as_of: When) -> object:
    try:
        return history_rows(book, platform, as_of=as_of)
    except LedgerError as error:  # not recorded yet at the as-known-at time
        return str(error)


@pytest.mark.parametrize("path", ["record", "import", "encrypted"])
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=moving_scripts(), days=st.lists(st.integers(0, 70), min_size=1, max_size=2),
       cut=st.floats(0, 1))
def test_views_equal_a_full_replay_with_moves(tmp_path_factory, path, script, days, cut):
    facts, steps = script
    views_equal_a_full_replay(tmp_path_factory, path, facts, steps, days, cut, ("p", "q"))


def views_equal_a_full_replay(tmp_path_factory, path, facts, steps, days, cut, platforms,
                              step=_step, also=None):
    """Record ``facts`` then ``steps`` (made by ``step``) on ``path`` (record, import,
    encrypted); the views answer status and history of each of ``platforms`` as a full
    replay does, at each of ``days``, now and as known at a cut; and after a rebuild.
    ``also(ledger)`` checks more on the open ledger."""
    db = str(tmp_path_factory.mktemp("moves") / "ledger.db")
    target = parse_target(db, cipher_key=new_key() if path == "encrypted" else "")
    with open_ledger(target, create=True) as ledger:
        _record(ledger, facts, steps, bulk=path == "import", step=step)
        views = Views(ledger)
        views.catch_up()
        entries = list(ledger.entries())
        known = entries[min(len(entries) - 1, int(cut * len(entries)))].fact.recorded_at
        for platform in platforms:
            assert views.current_status(platform) == [platform_status(Book(entries),
                                                                      platform)]
            for day in days:
                as_of = When.parse(_day(day), end_of_day=True)
                for k in (None, known):
                    replayed = Book(entries, as_known_at=k)
                    viewed = views.book(platform=platform, as_known_at=k)
                    assert (_status(viewed, platform, as_of)
                            == _status(replayed, platform, as_of))
                    assert (_history(viewed, platform, as_of)
                            == _history(replayed, platform, as_of))
        views.rebuild()
        assert views.current_status() == [platform_status(Book(entries), p)
                                          for p in platforms]
        if also is not None:
            also(ledger)


@pytest.mark.parametrize("path", ["import", "encrypted"])
def test_a_later_batch_of_a_moved_subject_reaches_both_platforms(tmp_path_factory, path):
    """o1 on p is moved to q by a correction; the lift of o1 comes in a later batch (an
    import of its own): q's kept status must take it, as a replay does. ``Views.take``
    finds where a batch's subjects were moved through the moves' subject index
    (``moves_of``); a lookup that found nothing left q blocked."""
    facts = [_fact("platform-registered", p, 0, {"name": p.upper(), "targets": TARGETS})
             for p in ("p", "q")]
    facts.append(_fact("blocked", "o1", 5, {"platform": "p", "authority": "A",
                                            "targets": TARGETS[:1], "reasons": ["r"]}))
    steps = [("move", "o1", 10, [], True, 0), ("lift", "o1", 20, [], False, 0),
             ("observe", "o1", 30, TARGETS[:1], True, 0)]
    views_equal_a_full_replay(tmp_path_factory, path, facts, steps, [15, 25, 40], 0.5,
                              ("p", "q"))
