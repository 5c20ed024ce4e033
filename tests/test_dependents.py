"""An amended event is held to the rules between subjects as a new one is
(``domain.checked.check_amended``): a correction of a fine, an order, a request or an
observation is checked as the event it makes, and a retraction of a correction as what it
brings back. Before (2026-12-07, a hostile review), only a correction of a creating event
was: a fine could be corrected to name another platform's order, or none, and a
retracted correction brought back a fine naming an order since retracted; status then
counted the fine in another state, and ``verify`` passed.

Tried on both writers' paths: ``record`` (``Ledger.record``) and ``import``
(``ledger.bulk``), and within one batch.

What an amendment of an order or a platform does to the facts of *other* subjects that
name it is checked over a whole write (``domain.dependents``):
tests/test_dependents_other_side.py."""

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
from tests.clitools import count, older_ledger, run

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


#: Amendments refused, each with what its refusal says.
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
    "an order's state corrected from under its observation (the order's own rules)": (
        _amend("x", "correction", "ob", "ob", "2020-02-01", set={"jurisdiction": "RU"}),
        "would break access-observed of 2020-03-02"),
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


def _write(db: str, objects: list[dict], how: str, *, key: str = "", batch_size: int = 2,
           old: bool = False) -> None:
    """Write ``objects`` by ``how``: ``record`` (``Ledger.record``, one call a fact),
    ``call`` (one call with all), ``import`` (``ledger.bulk``, batches of ``batch_size``),
    ``batch`` (one batch) or ``commit`` (``--batch-commit``, batches of ``batch_size``);
    on an encrypted ledger with cipher ``key``; ``old``: as a ledger written before the
    other side's check (``tests.clitools.older_ledger``)."""
    with pytest.MonkeyPatch.context() as patch:
        if old:
            older_ledger(patch)
        with open_ledger(parse_target(db, cipher_key=key), create=True) as ledger:
            facts = _facts(objects)
            if how == "record":
                for fact in facts:
                    ledger.record([fact], operator="op")
            elif how == "call":
                ledger.record(facts, operator="op")
            else:
                import_facts(ledger, enumerate(facts, start=1), operator="op",
                             batch_size=1000 if how == "batch" else batch_size,
                             batch_commit=how == "commit")


@pytest.fixture(params=["record", "import"])
def how(request):
    return request.param


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_an_amended_event_is_held_to_the_rules_of_a_new_one(sqlite_path, how, case):
    amendment, says = REFUSED[case]
    _write(sqlite_path, _base(), how)
    with pytest.raises(LedgerError, match=re.escape(says)):
        _write(sqlite_path, [amendment], how)
    assert count(sqlite_path) == len(_base())


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_in_the_same_batch(sqlite_path, case):
    amendment, says = REFUSED[case]
    with pytest.raises(LedgerError, match=re.escape(says)):
        _write(sqlite_path, [*_base(), amendment], "batch")
    assert count(sqlite_path) == 0


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_an_amendment_that_leaves_the_rules_standing_is_taken(sqlite_path, how, case):
    _write(sqlite_path, _base(), how)
    _write(sqlite_path, [ACCEPTED[case]], how)
    assert count(sqlite_path) == len(_base()) + 1


def test_the_command_line_refuses_it_in_one_line_and_writes_nothing(runner, sqlite_path,
                                                                    tmp_path):
    path = tmp_path / "base.jsonl"
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in _base()))
    assert run(runner, sqlite_path, "import", str(path)).exit_code == 0
    result = run(runner, sqlite_path, "record", "correction", "foo", "--at", "2020-03-01",
                 "--source", "s", "--target", _id("fine"), "--set", "order=or",
                 "--reason", "x")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(
        f"error: refused: correction of penalty-imposed of 2020-03-01 ({_id('fine')}) would "
        f"make penalty-imposed of 2020-03-01 ({_id('fine')}) of platform foo count so that "
        "order or does not concern platform foo")
    assert count(sqlite_path) == len(_base())


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


#: Steps taken in turn (each accepted), then one refused, and what its refusal says: a
#: correction undone by retracting it brings back what it had replaced, which is checked
#: as a new event is (a second review, 2026-12-07).
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
}


@pytest.mark.parametrize("how", ["record", "import", "batch"])
@pytest.mark.parametrize("case", sorted(SEQUENCES))
def test_a_correction_undone_brings_back_what_is_held_to_the_rules(sqlite_path, how, case):
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


def test_a_fine_already_against_the_rules_is_not_blamed_on_a_typo_fix(sqlite_path):
    """A fine left before its order (the order moved after it in a ledger written before
    that was checked): its reason corrected is taken; its order corrected to none that
    exists is refused (another rule broken, this amendment's doing)."""
    with pytest.MonkeyPatch.context() as patch:
        older_ledger(patch)
        _write(sqlite_path, [_reg("foo", ["foo.com"]), _order("o", "foo", "2020-02-01",
                                                               ["foo.com"]),
                             _fine("f", "foo", "2020-03-01", "o"),
                             _amend("m", "correction", "o", "o", "2020-02-01",
                                    set={"occurred_at": "2020-05-01"})], "record")
    _write(sqlite_path, [_amend("t", "correction", "foo", "f", "2020-03-01",
                                set={"reason": "the right words"})], "record")
    with pytest.raises(RuleBroken, match="order nope does not exist"):
        _write(sqlite_path, [_amend("x", "correction", "foo", "f", "2020-03-01",
                                    set={"order": "nope"})], "record")


def test_a_platforms_observation_is_not_read_as_an_orders_of_the_same_name(sqlite_path,
                                                                           how):
    """An observation on platform x, then an order named x binding another state: the
    observation corrected is still the platform's (a review found it refused as not of
    the order)."""
    seen = _event("seen-x", "access-observed", "x", "2020-03-01",
                  {"target": "x.com", "accessible": False, "network": "AS1",
                   "jurisdiction": "RU"})
    _write(sqlite_path, [_reg("x", ["x.com"]), seen], how)
    _write(sqlite_path, [_event("ox", "blocked", "x", "2020-04-01",
                                {"platform": "x", "authority": "A", "reasons": ["r"],
                                 "targets": ["x.com"], "jurisdiction": "BR"})], how)
    _write(sqlite_path, [_amend("c", "correction", "x", "seen-x", "2020-03-01",
                                set={"network": "AS2"})], how)
    assert count(sqlite_path) == 4


@pytest.mark.parametrize("how", ["record", "import", "batch"])
def test_a_platform_whose_registration_was_retracted_takes_no_new_order(sqlite_path, how):
    """As a platform never registered: refused, saying why (before, for its targets)."""
    steps = [_reg("foo", ["foo.com"]), _amend("r", "retraction", "foo", "reg-foo",
                                              "2020-01-01")]
    for new in (_order("o", "foo", "2020-02-01", ["foo.com"]),):
        fresh = sqlite_path + new["id"][:4]
        if how == "batch":
            with pytest.raises(LedgerError, match=re.escape(
                    "platform foo is not registered (its platform-registered was "
                    "retracted)")):
                _write(fresh, [*steps, new], "batch")
            continue
        _write(fresh, steps, how)
        with pytest.raises(LedgerError, match=re.escape(
                "platform foo is not registered (its platform-registered was retracted)")):
            _write(fresh, [new], how)
