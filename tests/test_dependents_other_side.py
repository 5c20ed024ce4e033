"""The rules between subjects from the other side (``domain.dependents``): a change to what
other subjects' facts are checked against (an order's time, platforms or state; a
platform's registration and targets; the ledger's default jurisdiction) is refused when it
would leave a fine, a request, an order or an observation that names it against the rules,
checked over a whole write (a ``record`` call, an import, a ``--batch-commit`` batch)
against the state at its end. Before (README "Left", until 2026-12-07) each of ``STRANDED``
was taken, and ``verify`` passed.

Tried on both writers' paths (``record``: ``Ledger.record``, one call an event;
``import``: ``ledger.bulk``, batches of two, and ``batch``, one batch with the base), on an
encrypted ledger (the history view's index holds blinded names) and on PostgreSQL."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from domain.errors import LedgerError
from ledger.application import open_ledger
from ledger.encryption import new_key
from ledger.storage import parse_target
from projections.importing import import_facts
from tests.clitools import count, older_ledger, run
from tests.test_dependents import _amend, _event, _facts, _id, _reg, _write
from tests.test_dependents import _base as dependents_base


def _base() -> list[dict]:
    """``tests.test_dependents._base`` without its observation of ``ob`` (which ``ob``'s
    own rules would hold it to: not the other side), with one of ``onet`` made in Brazil
    (``onet`` names no state: it binds the ledger's default)."""
    return [*dependents_base()[:-1],
            _event("seen", "access-observed", "onet", "2020-03-02",
                   {"target": "foo.net", "accessible": False, "network": "AS1",
                    "jurisdiction": "BR"})]


#: Writes that would leave a fact of another subject against the rules, and what the
#: refusal says of it.
STRANDED = {
    "an order moved after the fine under it": (
        _amend("x", "correction", "ob", "ob", "2020-02-01", set={"occurred_at": "2020-05-01"}),
        f"would leave penalty-imposed of 2020-03-01 ({_id('fine')}) of platform foo against "
        "the rules: penalty-imposed at 2020-03-01 names order ob, which was made at "
        "2020-05-01"),
    "an order moved to another platform": (
        _amend("x", "correction", "ob", "ob", "2020-02-01",
               set={"platform": "bar", "targets": ["bar.com"]}),
        "of platform foo against the rules: order ob does not concern platform foo"),
    "an order retracted while a fine names it": (
        _amend("x", "retraction", "ob", "ob", "2020-02-01"),
        "against the rules: order ob does not exist (its creating event was retracted)"),
    "a registration corrected to take away a blocked target": (
        _amend("x", "correction", "foo", "reg-foo", "2020-01-01", set={"targets": ["foo.org"]}),
        f"would leave blocked of 2020-02-01 ({_id('ob')}) of order ob against the rules: "
        "target foo.com of order ob is not a target of platform foo at 2020-02-01"),
    "a targets-added retracted from under the order that blocks what it added": (
        _amend("x", "retraction", "foo", "add-foo", "2020-01-10"),
        "of order onet against the rules: target foo.net of order onet is not a target"),
    "a targets-removed dated before an order that blocks what it removes": (
        _event("x", "targets-removed", "foo", "2020-01-15", {"targets": ["foo.net"]}),
        f"targets-removed of 2020-01-15 ({_id('x')}) would leave blocked of 2020-02-01 "
        f"({_id('onet')}) of order onet against the rules: target foo.net"),
    "the ledger's default jurisdiction set under an observation of an order naming none": (
        _event("x", "jurisdiction-default", "ledger", "2020-01-01", {"jurisdiction": "RU"}),
        f"would leave access-observed of 2020-03-02 ({_id('seen')}) of order onet against "
        "the rules: order onet binds RU: an observation in BR is not of it"),
}

#: Writes that change what others read and leave every rule standing: taken.
TAKEN = {
    "a registration given one more target": _amend(
        "x", "correction", "foo", "reg-foo", "2020-01-01",
        set={"targets": ["foo.com", "foo.org"]}),
    "a target removed after the order that blocks it": _event(
        "x", "targets-removed", "foo", "2020-03-01", {"targets": ["foo.net"]}),
    "an order moved earlier": _amend("x", "correction", "ob", "ob", "2020-02-01",
                                     set={"occurred_at": "2020-01-20"}),
    "the ledger's default set to the state of the observation": _event(
        "x", "jurisdiction-default", "ledger", "2020-01-01", {"jurisdiction": "BR"}),
}


def _count(db: str, key: str) -> int:
    with open_ledger(parse_target(db, cipher_key=key)) as ledger:
        return ledger.count()


@pytest.mark.parametrize("how", ["record", "import", "batch"])
@pytest.mark.parametrize("case", sorted(STRANDED))
def test_a_write_that_strands_what_names_it_is_refused(sqlite_path, how, case):
    fact, says = STRANDED[case]
    if how == "batch":  # the base and the change in one write
        with pytest.raises(LedgerError, match=re.escape(says)):
            _write(sqlite_path, [*_base(), fact], how)
        assert count(sqlite_path) == 0
        return
    _write(sqlite_path, _base(), how)
    with pytest.raises(LedgerError, match=re.escape(says)):
        _write(sqlite_path, [fact], how)
    assert count(sqlite_path) == len(_base())


@pytest.mark.parametrize("how", ["record", "import"])
@pytest.mark.parametrize("case", sorted(TAKEN))
def test_a_write_that_leaves_the_rules_standing_is_taken(sqlite_path, how, case):
    _write(sqlite_path, _base(), how)
    _write(sqlite_path, [TAKEN[case]], how)
    assert count(sqlite_path) == len(_base()) + 1


@pytest.mark.parametrize("case", ["an order moved after the fine under it",
                                  "a registration corrected to take away a blocked target",
                                  "the ledger's default jurisdiction set under an "
                                  "observation of an order naming none"])
@pytest.mark.parametrize("how", ["record", "import"])
def test_an_encrypted_ledger_finds_what_names_it_through_blinded_names(tmp_path, how, case):
    """The history view's index holds keyed hashes of the names there: a first version
    asked it with the plain ones and found nothing."""
    db, key = str(tmp_path / "sealed.db"), new_key()
    fact, says = STRANDED[case]
    _write(db, _base(), how, key=key)
    with pytest.raises(LedgerError, match=re.escape(says)):
        _write(db, [fact], how, key=key)
    assert _count(db, key) == len(_base())


@pytest.mark.postgres
@pytest.mark.parametrize("how", ["record", "import"])
def test_postgres_refuses_it_too(pg_url, how):
    _write(pg_url, _base(), how)
    for case in ("an order moved to another platform",
                 "a targets-removed dated before an order that blocks what it removes"):
        fact, says = STRANDED[case]
        with pytest.raises(LedgerError, match=re.escape(says)):
            _write(pg_url, [fact], how)
        assert count(pg_url) == len(_base())


def test_within_one_write_only_its_end_counts(sqlite_path):
    """A registry backfill narrows a registration before it gives back what an order
    needs: in one write (an import, or a batch of one) that is taken; as two record
    calls, the first is refused, since it would leave the order against the rules."""
    narrow = _amend("n", "correction", "foo", "reg-foo", "2020-01-01",
                    set={"targets": ["foo.org"]})
    back = _event("b", "targets-added", "foo", "2020-01-02", {"targets": ["foo.com"]})
    _write(sqlite_path, _base(), "import")
    _write(sqlite_path, [narrow, back], "import")  # one import: batches of two, one write
    assert count(sqlite_path) == len(_base()) + 2
    fresh = sqlite_path + "-2"
    _write(fresh, _base(), "record")
    with pytest.raises(LedgerError, match=r"target foo\.com of order ob is not a target"):
        _write(fresh, [narrow, back], "record")
    assert count(fresh) == len(_base())


def test_an_import_over_several_batches_is_checked_at_its_end(sqlite_path):
    """Batches of two: the narrowing in one batch, what gives it back in a later one, all
    in the import's one transaction; and with ``--batch-commit`` each batch commits on
    its own, so each is checked at its own end, and the narrowing batch is refused with
    the line of the fact that stranded the order."""
    narrow = _amend("n", "correction", "foo", "reg-foo", "2020-01-01",
                    set={"targets": ["foo.org"]})
    back = _event("b", "targets-added", "foo", "2020-01-02", {"targets": ["foo.com"]})
    steps = [narrow, _reg("baz", ["baz.com"]), _reg("qux", ["qux.com"]), back]
    _write(sqlite_path, _base(), "import")
    _write(sqlite_path, steps, "import")
    assert count(sqlite_path) == len(_base()) + 4
    fresh = sqlite_path + "-2"
    _write(fresh, _base(), "import")
    with open_ledger(parse_target(fresh)) as ledger, pytest.raises(
            LedgerError, match=r"^line 1: refused: correction of platform-registered"):
        import_facts(ledger, enumerate(_facts(steps), start=1), operator="op",
                     batch_size=2, batch_commit=True)
    assert count(fresh) == len(_base())


def test_what_already_broke_the_rules_is_not_blamed_on_a_later_write(sqlite_path):
    """A ledger written before this check: a registration corrected from under ``ob``.
    Another change to that platform that leaves ``ob`` as it was (still against the rules
    in the same words) is taken; one that strands another order is refused."""
    with pytest.MonkeyPatch.context() as patch:
        older_ledger(patch)
        _write(sqlite_path, [*_base(), _amend("n", "correction", "foo", "reg-foo",
                                              "2020-01-01", set={"targets": ["foo.org"]})],
               "record")
    _write(sqlite_path, [_event("r", "targets-removed", "foo", "2020-03-05",
                                {"targets": ["foo.org"]})], "record")
    with pytest.raises(LedgerError, match="of order onet against the rules"):
        _write(sqlite_path, [_amend("x", "retraction", "foo", "add-foo", "2020-01-10")],
               "import")
    assert count(sqlite_path) == len(_base()) + 2


def test_the_command_line_says_it_in_one_line_and_writes_nothing(runner, sqlite_path,
                                                                tmp_path):
    _write(sqlite_path, _base(), "import")
    result = run(runner, sqlite_path, "record", "correction", "ob", "--at", "2020-02-01",
                 "--source", "s", "--target", _id("ob"), "--set", "occurred_at=2020-05-01",
                 "--reason", "x")
    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: refused: correction of blocked of 2020-02-01 "
                                    f"({_id('ob')}) would leave penalty-imposed")
    # (the advice to the writer of a new fine, "give the penalty's date", is not given)
    assert result.stderr.endswith("a penalty under an order cannot come before it; correct "
                                  "or retract that penalty-imposed first\n")
    assert count(sqlite_path) == len(_base())


def test_the_readmes_example_on_the_bundled_case(runner, sqlite_path, example):
    """The README shows this refusal (its ids shortened): it is what the command says."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    result = run(runner, sqlite_path, "record", "targets-removed", "telegram", "--at",
                 "2017-07-01", "--source", "…", "--target", "web.telegram.org")
    assert result.exit_code == 1
    readme = Path(__file__).resolve().parents[1] / "README.md"
    shown = next(line.strip() for line in readme.read_text().splitlines()
                 if "error: refused: targets-removed of 2017-07-01" in line)
    said = re.sub(r"\(([0-9a-f]{8})-[0-9a-f-]{27}\)", r"(\1…)", result.stderr.strip())
    made = said.split("(")[1].split(")")[0]  # (the new event's id: random, unlike the order's)
    assert said == shown.replace("(aab35783…)", f"({made})")
    assert count(sqlite_path) == 33
