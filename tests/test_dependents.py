"""The rules between subjects hold from both sides: an amendment of what another subject
reads of an order or a platform (its creation, its valid time, its platforms, the state it
binds, the targets a platform holds) is refused when it would leave a fine, a request, an
order or an observation that names it against the rules a new one is held to
(``domain.checked.check_amended``); and a correction of any event is checked as the
event it makes (``check_references``).

Each case is tried on the two writers' paths: ``record`` (``Ledger.record``, one event at
a time, the dependents found through the history view) and ``import`` (``ledger.bulk``),
with the dependents in an earlier batch and in the same batch as the amendment (not yet in
the view). Before, every amendment below was accepted, and ``verify`` passed on the ledger
it left: status counted a fine under an order of another platform, or one that did not
exist; the intervals and the test list published an order of a platform whose
registration was retracted (a hostile review, 2026-12-07)."""

from __future__ import annotations

import re
import uuid

import orjson
import pytest

from domain.errors import LedgerError, RuleBroken
from ledger.application import open_ledger
from ledger.interchange import read_facts
from ledger.storage import parse_target
from projections.importing import import_facts
from tests.clitools import count, run

SOURCE = [{"url": "https://gazette.example/x", "title": "x"}]


def _id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, name))


def _event(name: str, type_: str, subject: str, at: str, data: dict) -> dict:
    return {"id": _id(name), "type": type_, "subject": subject, "occurred_at": at,
            "sources": SOURCE, "data": data}


def _amend(name: str, type_: str, subject: str, target: str, at: str, **more) -> dict:
    return _event(name, type_, subject, at, {"target": _id(target), "reason": "r", **more})


def _base() -> list[dict]:
    """Two platforms, an order on each (``ob`` binds BR), a fine and a request under
    ``ob``, an observation of ``ob`` in Brazil, an order on a target ``foo`` was given
    later."""
    return [
        _event("reg-foo", "platform-registered", "foo", "2020-01-01",
               {"name": "Foo", "targets": ["foo.com"]}),
        _event("reg-bar", "platform-registered", "bar", "2020-01-01",
               {"name": "Bar", "targets": ["bar.com"]}),
        _event("add-foo", "targets-added", "foo", "2020-01-10", {"targets": ["foo.net"]}),
        _event("ob", "blocked", "ob", "2020-02-01",
               {"platform": "foo", "authority": "A", "reasons": ["r"],
                "targets": ["foo.com"], "jurisdiction": "BR"}),
        _event("onet", "blocked", "onet", "2020-02-01",
               {"platform": "foo", "authority": "A", "reasons": ["r"],
                "targets": ["foo.net"]}),
        _event("or", "blocked", "or", "2020-02-01",
               {"platform": "bar", "authority": "A", "reasons": ["r"],
                "targets": ["bar.com"], "jurisdiction": "RU"}),
        _event("fine", "penalty-imposed", "foo", "2020-03-01",
               {"authority": "A", "amount": "100", "currency": "BRL", "per": "once",
                "reason": "x", "order": "ob"}),
        _event("req", "normalization-requested", "req", "2020-03-01",
               {"platform": "foo", "orders": ["ob"], "requested_by": "Foo"}),
        _event("seen", "access-observed", "ob", "2020-03-02",
               {"target": "foo.com", "accessible": False, "network": "AS1",
                "jurisdiction": "BR"}),
    ]


#: Amendments refused, each with what its refusal names.
REFUSED = {
    "a fine corrected to another platform's order": (
        _amend("x", "correction", "foo", "fine", "2020-03-01", set={"order": "or"}),
        "order or does not concern platform foo"),
    "a fine corrected to an order that does not exist": (
        _amend("x", "correction", "foo", "fine", "2020-03-01", set={"order": "nope"}),
        "order nope does not exist"),
    "a fine corrected to before its order": (
        _amend("x", "correction", "foo", "fine", "2020-03-01",
               set={"occurred_at": "2020-01-15"}),
        "cannot come before it"),
    "a request corrected to name another platform's order": (
        _amend("x", "correction", "req", "req", "2020-03-01", set={"orders": ["or"]}),
        "order or concerns platform bar, not foo"),
    "an order moved after the fine under it": (
        _amend("x", "correction", "ob", "ob", "2020-02-01",
               set={"occurred_at": "2020-05-01"}),
        "platform foo's penalty-imposed"),
    "an order moved to another platform": (
        _amend("x", "correction", "ob", "ob", "2020-02-01",
               set={"platform": "bar", "targets": ["bar.com"]}),
        "order ob does not concern platform foo"),
    "an order's state corrected from under its observation": (
        _amend("x", "correction", "ob", "ob", "2020-02-01", set={"jurisdiction": "RU"}),
        "an observation in BR is not of it"),
    "an order retracted while a fine and a request name it": (
        _amend("x", "retraction", "ob", "ob", "2020-02-01"),
        "order ob does not exist (its creating event was retracted)"),
    "a registration retracted while orders block the platform": (
        _amend("x", "retraction", "foo", "reg-foo", "2020-01-01"),
        "platform foo is not registered (its platform-registered was retracted)"),
    "a registration corrected to take away a blocked target": (
        _amend("x", "correction", "foo", "reg-foo", "2020-01-01",
               set={"targets": ["foo.org"]}),
        "target foo.com of order ob is not a target of platform foo"),
    "targets-added retracted from under the order on them": (
        _amend("x", "retraction", "foo", "add-foo", "2020-01-10"),
        "target foo.net of order onet is not a target of platform foo"),
    "targets-added moved after the order on them": (
        _amend("x", "correction", "foo", "add-foo", "2020-01-10",
               set={"occurred_at": "2020-03-01"}),
        "target foo.net of order onet is not a target of platform foo"),
}

#: Amendments of the same events that leave every rule standing: accepted.
ACCEPTED = {
    "a fine's amount corrected": _amend("x", "correction", "foo", "fine", "2020-03-01",
                                        set={"amount": "200"}),
    "an order moved earlier": _amend("x", "correction", "ob", "ob", "2020-02-01",
                                     set={"occurred_at": "2020-01-20"}),
    "an order's authority corrected": _amend("x", "correction", "ob", "ob", "2020-02-01",
                                             set={"authority": "B"}),
    "a registration's name corrected": _amend("x", "correction", "foo", "reg-foo",
                                              "2020-01-01", set={"name": "Foo Inc"}),
    "a registration given one more target": _amend(
        "x", "correction", "foo", "reg-foo", "2020-01-01",
        set={"targets": ["foo.com", "foo.org"]}),
    "an order disputed": _event("x", "dispute", "ob", "2020-02-01",
                                {"target": _id("ob"), "claim": "it never happened"}),
    "targets-added given one more": _amend("x", "correction", "foo", "add-foo", "2020-01-10",
                                           set={"targets": ["foo.net", "foo.io"]}),
    "targets-added moved earlier": _amend("x", "correction", "foo", "add-foo", "2020-01-10",
                                          set={"occurred_at": "2020-01-05"}),
}


def _facts(objects: list[dict]) -> list:
    return [fact for _, fact in read_facts(orjson.dumps(o) for o in objects)]


def _write(db: str, objects: list[dict], how: str) -> None:
    """Write ``objects`` by ``how``: ``record`` (``Ledger.record``, one at a time) or
    ``import`` (``ledger.bulk``, batches of ``2``) or ``batch`` (one batch)."""
    with open_ledger(parse_target(db), create=True) as ledger:
        if how == "record":
            for fact in _facts(objects):
                ledger.record([fact], operator="op")
        else:
            import_facts(ledger, enumerate(_facts(objects), start=1), operator="op",
                         batch_size=2 if how == "import" else 1000)


@pytest.fixture(params=["record", "import"])
def how(request):
    return request.param


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_an_amendment_that_strands_a_dependent_is_refused(sqlite_path, how, case):
    amendment, says = REFUSED[case]
    _write(sqlite_path, _base(), how)
    with pytest.raises(LedgerError) as refused:
        _write(sqlite_path, [amendment], how)
    assert says in str(refused.value)
    assert isinstance(refused.value, LedgerError)
    assert count(sqlite_path) == len(_base())


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_in_the_same_batch_as_what_it_strands(sqlite_path, case):
    """One import batch: the dependents are checked and not yet in the history view."""
    amendment, says = REFUSED[case]
    with pytest.raises(LedgerError) as refused:
        _write(sqlite_path, [*_base(), amendment], "batch")
    assert says in str(refused.value)
    assert count(sqlite_path) == 0


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_an_amendment_that_leaves_the_rules_standing_is_taken(sqlite_path, how, case):
    _write(sqlite_path, _base(), how)
    _write(sqlite_path, [ACCEPTED[case]], how)
    assert count(sqlite_path) == len(_base()) + 1


def test_the_refusal_names_the_event_it_would_strand(sqlite_path):
    _write(sqlite_path, _base(), "record")
    amendment, _ = REFUSED["an order retracted while a fine and a request name it"]
    with pytest.raises(RuleBroken) as refused:
        _write(sqlite_path, [amendment], "record")
    assert str(refused.value).startswith(
        f"refused: retraction of blocked of 2020-02-01 ({_id('ob')}) would leave ")
    assert "penalty-imposed of 2020-03-01" in str(refused.value) or \
        "normalization-requested of 2020-03-01" in str(refused.value)


def test_the_command_line_refuses_it_in_one_line_and_writes_nothing(runner, sqlite_path,
                                                                    tmp_path):
    path = tmp_path / "base.jsonl"
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in _base()))
    assert run(runner, sqlite_path, "import", str(path)).exit_code == 0
    result = run(runner, sqlite_path, "record", "correction", "ob", "--at", "2020-02-01",
                 "--source", "s", "--target", _id("ob"), "--set", "occurred_at=2020-05-01",
                 "--reason", "x")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert "platform foo's penalty-imposed of 2020-03-01" in result.stderr
    assert count(sqlite_path) == len(_base())


def test_views_behind_the_log_are_brought_up_before_the_dependents_are_read(sqlite_path):
    """The record path finds requests through the history view: a view left behind (a
    catch-up that failed after a write; ``Ledger.record`` itself never takes the views)
    is caught up first, not read as it stands."""
    _write(sqlite_path, _base()[:6], "record")
    with open_ledger(parse_target(sqlite_path)) as ledger:
        store = ledger.view_store()
        ledger.record(_facts(_base()[7:8]), operator="op")  # the request
        assert store.position("history") < ledger.recorder.max_notification_id()
        amendment, _ = REFUSED["an order retracted while a fine and a request name it"]
        with pytest.raises(RuleBroken, match="request req's normalization-requested"):
            ledger.record(_facts([amendment]), operator="op")


def _reg(name: str, targets: list[str], at: str = "2020-01-01") -> dict:
    return _event("reg-" + name, "platform-registered", name, at,
                  {"name": name, "targets": targets})


def _order(name: str, platform: str, at: str, targets: list[str]) -> dict:
    return _event(name, "blocked", name, at, {"platform": platform, "authority": "A",
                                              "reasons": ["r"], "targets": targets})


def _fine(name: str, platform: str, at: str, order: str) -> dict:
    return _event(name, "penalty-imposed", platform, at,
                  {"authority": "A", "amount": "100", "currency": "BRL", "per": "once",
                   "reason": "x", "order": order})


#: Steps taken in turn (each accepted), then one refused, and what its refusal says: an
#: amendment undone by retracting it brings back what it had replaced, which is checked
#: as a new event is; a removal of targets dated before an order that blocks them is
#: refused as that order would be after it (a second review, 2026-12-07).
SEQUENCES = {
    "a fine's correction retracted back to an order since retracted": (
        [_reg("foo", ["foo.com"]), _order("o1", "foo", "2020-02-01", ["foo.com"]),
         _order("o2", "foo", "2020-02-01", ["foo.com"]), _fine("f", "foo", "2020-03-01", "o1"),
         _amend("c", "correction", "foo", "f", "2020-03-01", set={"order": "o2"}),
         _amend("r", "retraction", "o1", "o1", "2020-02-01")],
        _amend("x", "retraction", "foo", "c", "2020-03-01"), "order o1 does not exist"),
    "a fine's correction retracted back to an order moved to another platform": (
        [_reg("foo", ["foo.com"]), _reg("bar", ["bar.com"]),
         _order("o1", "foo", "2020-02-01", ["foo.com"]),
         _order("o2", "foo", "2020-02-01", ["foo.com"]), _fine("f", "foo", "2020-03-01", "o1"),
         _amend("c", "correction", "foo", "f", "2020-03-01", set={"order": "o2"}),
         _amend("m", "correction", "o1", "o1", "2020-02-01",
                set={"platform": "bar", "targets": ["bar.com"]})],
        _amend("x", "retraction", "foo", "c", "2020-03-01"),
        "order o1 does not concern platform foo"),
    "an order's move earlier retracted from under a fine in the gap": (
        [_reg("foo", ["foo.com"]), _order("o", "foo", "2020-06-01", ["foo.com"]),
         _amend("c", "correction", "o", "o", "2020-06-01", set={"occurred_at": "2020-02-01"}),
         _fine("f", "foo", "2020-03-01", "o")],
        _amend("x", "retraction", "o", "c", "2020-06-01"), "cannot come before it"),
    "an order's move to another platform retracted from under a request there": (
        [_reg("foo", ["foo.com"]), _reg("bar", ["bar.com"]),
         _order("o", "foo", "2020-02-01", ["foo.com"]),
         _amend("c", "correction", "o", "o", "2020-02-01",
                set={"platform": "bar", "targets": ["bar.com"]}),
         _event("req", "normalization-requested", "req", "2020-03-01",
                {"platform": "bar", "orders": ["o"], "requested_by": "Bar"})],
        _amend("x", "retraction", "o", "c", "2020-02-01"),
        "order o concerns platform foo, not bar"),
    "targets-added's move earlier retracted from under an order in the gap": (
        [_reg("foo", ["foo.com"]),
         _event("add", "targets-added", "foo", "2020-06-01", {"targets": ["foo.net"]}),
         _amend("c", "correction", "foo", "add", "2020-06-01",
                set={"occurred_at": "2020-01-10"}),
         _order("o", "foo", "2020-02-01", ["foo.net"])],
        _amend("x", "retraction", "foo", "c", "2020-06-01"),
        "target foo.net of order o is not a target of platform foo"),
    "a registration's added target retracted from under an order on it": (
        [_reg("foo", ["foo.com"]),
         _amend("c", "correction", "foo", "reg-foo", "2020-01-01",
                set={"targets": ["foo.com", "foo.org"]}),
         _order("o", "foo", "2020-02-01", ["foo.org"])],
        _amend("x", "retraction", "foo", "c", "2020-01-01"),
        "target foo.org of order o is not a target of platform foo"),
    "a removal of targets dated before an order that blocks them": (
        [_reg("foo", ["foo.com", "foo.net"]), _order("o", "foo", "2020-06-01", ["foo.net"])],
        _event("x", "targets-removed", "foo", "2020-03-01", {"targets": ["foo.net"]}),
        "target foo.net of order o is not a target of platform foo"),
}


@pytest.mark.parametrize("how", ["record", "import", "batch"])
@pytest.mark.parametrize("case", sorted(SEQUENCES))
def test_an_amendment_undone_or_a_removal_back_dated_is_held_to_the_rules(sqlite_path,
                                                                          how, case):
    steps, last, says = SEQUENCES[case]
    if how == "batch":
        with pytest.raises(LedgerError, match=re.escape(says)):
            _write(sqlite_path, [*steps, last], "batch")
        assert count(sqlite_path) == 0
        return
    for step in steps:
        _write(sqlite_path, [step], how)
    with pytest.raises(LedgerError, match=re.escape(says)):
        _write(sqlite_path, [last], how)
    assert count(sqlite_path) == len(steps)


def test_a_removal_dated_after_the_order_leaves_it_blocking_what_it_blocked(sqlite_path):
    """As the rules fold it: the order keeps the target it blocked (README)."""
    steps, _, _ = SEQUENCES["a removal of targets dated before an order that blocks them"]
    _write(sqlite_path, [*steps, _event("x", "targets-removed", "foo", "2020-09-01",
                                        {"targets": ["foo.net"]})], "record")
    assert count(sqlite_path) == 3
