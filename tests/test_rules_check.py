"""``verify`` asks whether the ledger's facts hold the rules between subjects
(``ledger.rules_check``). A ledger can hold a fact against them with every byte as its
writer recorded it: written before the check from the other side, or by a write checked
while the history view had been damaged by hand (the view then rebuilt). Before, ``verify``
passed such a ledger ("columns, record times, kept checkpoints and views agree with the
log") while ``status`` answered from a state the rules forbid. Now each such fact is a
problem of part ``rules``, exit 3, named with its position and the rule it breaks. On both
stores; a ledger that holds the rules, however amended, still verifies."""

from __future__ import annotations

import sqlite3

import orjson
import pytest
from click.testing import CliRunner

from tests.clitools import older_ledger, one_line_error, run
from tests.test_dependents import _amend, _base, _event, _id, _write
from tests.test_dependents_other_side import STRANDED, TAKEN
from tests.test_dependents_other_side import _base as other_side_base


def _verify(db: str) -> dict:
    result = run(CliRunner(), db, "verify", "--json")
    return {"code": result.exit_code, **orjson.loads(result.stdout)}


@pytest.mark.parametrize("case", STRANDED)
def test_a_fact_left_against_the_rules_by_an_older_ledger_fails_verify(db, case,
                                                                        monkeypatch):
    change, says = STRANDED[case]
    _write(db, other_side_base(), "call")
    older_ledger(monkeypatch)  # (the write as a ledger took it before the check)
    _write(db, [change], "record")
    monkeypatch.undo()
    found = _verify(db)
    assert found["code"] == 3 and not found["ok"], found
    rules = [p for p in found["problems"] if p["part"] == "rules"]
    assert rules and len(rules) == len(found["problems"]), found["problems"]
    reason = says.split("against the rules: ", 1)[1]
    assert any(reason in p["what"] for p in rules), (reason, rules)
    assert all("not altered" in p["what"] and p["position"] for p in rules)
    line = one_line_error(run(CliRunner(), db, "verify"), 3)
    assert line.startswith("error: verification failed: rules: position "), line


@pytest.mark.parametrize("case", TAKEN)
def test_a_ledger_amended_within_the_rules_verifies(db, case):
    _write(db, [*other_side_base(), TAKEN[case]], "record")
    found = _verify(db)
    assert found["ok"] and found["code"] == 0, found


def test_a_write_checked_through_a_damaged_view_is_caught_once_the_view_is_rebuilt(
        sqlite_path):
    """The attack: a row of the history view deleted by hand hides the request naming order
    ``ob`` from the write check, so the order's retraction is taken; the view is rebuilt, and every
    byte of the ledger is as its writers recorded it. ``verify`` names the fine."""
    db = sqlite_path
    base = [e for e in _base() if e["id"] not in (_id("fine"), _id("seen"))]
    _write(db, base, "call")
    assert run(CliRunner(), db, "projections", "rebuild").exit_code == 0
    with sqlite3.connect(db) as con:
        position = con.execute("SELECT rowid FROM stored_events WHERE CAST(state AS TEXT) "
                               "LIKE ?", (f'%"id":"{_id("req")}"%',)).fetchone()[0]
        con.execute("DELETE FROM bl_view_history WHERE position = ?", (position,))
    _write(db, [_amend("x", "retraction", "ob", "ob", "2020-02-01")], "record")
    assert _verify(db)["problems"][0]["part"] == "views"  # (the damage, while it lasts)
    assert run(CliRunner(), db, "projections", "rebuild").exit_code == 0
    found = _verify(db)
    assert found["code"] == 3, found
    assert [(p["part"], p["position"]) for p in found["problems"]] == [("rules", position)]
    assert "normalization-requested" in found["problems"][0]["what"]
    assert "order ob does not exist" in found["problems"][0]["what"]


def test_facts_past_the_views_position_are_asked_about_too(sqlite_path, monkeypatch):
    """The views behind the log (a writer that stopped before catching them up): the fine
    recorded past their position is found from the log's pass, not the view."""
    db = sqlite_path
    _write(db, [e for e in _base() if e["id"] not in (_id("req"), _id("seen"), _id("fine"))],
           "call")
    fine = _event("fine", "penalty-imposed", "foo", "2020-03-01",
                  {"authority": "A", "amount": "100", "currency": "BRL", "per": "once",
                   "reason": "x", "order": "ob"})
    older_ledger(monkeypatch)
    monkeypatch.setattr("projections.views.Views.catch_up", lambda self, *a, **k: None)
    _write(db, [_amend("x", "retraction", "ob", "ob", "2020-02-01")], "record")
    monkeypatch.setattr("ledger.application.Ledger._check_references",
                        lambda *args: None)  # (the fine, as an older ledger took it)
    _write(db, [fine], "record")
    monkeypatch.undo()
    found = _verify(db)
    assert [p["part"] for p in found["problems"]] == ["rules"], found
    assert _id("fine") in found["problems"][0]["what"]


def test_a_checkpoint_of_a_ledger_holding_such_a_fact_is_made_and_says_so(sqlite_path,
                                                                          monkeypatch):
    """A checkpoint vouches that nothing was altered: it is made, and the fact against
    the rules named on stderr; a ledger altered as well is refused as before."""
    db = sqlite_path
    change, _ = STRANDED["an order retracted while a fine names it"]
    _write(db, other_side_base(), "call")
    older_ledger(monkeypatch)
    _write(db, [change], "record")
    monkeypatch.undo()
    made = run(CliRunner(), db, "checkpoint")
    assert made.exit_code == 0 and made.stdout.count("\n") >= 4, made.output
    warning = made.stderr.strip().splitlines()
    assert len(warning) == 1 and warning[0].startswith("warning: rules: position "), warning
    assert "checkpointed all the same: nothing was altered" in warning[0]
    with sqlite3.connect(db) as con:  # (and altered: a history view row deleted)
        con.execute("DELETE FROM bl_view_history WHERE position = 1")
    refused = one_line_error(run(CliRunner(), db, "checkpoint"), 3)
    assert "refused: no checkpoint of a ledger that does not verify" in refused


def test_an_encrypted_ledger_is_asked_through_its_blinded_view(tmp_path, monkeypatch):
    from commands.audit import Verification
    from ledger.application import open_ledger
    from ledger.encryption import new_key
    from ledger.storage import parse_target

    db, key = str(tmp_path / "sealed.db"), new_key()
    change, says = STRANDED["a registration corrected to take away a blocked target"]
    _write(db, other_side_base(), "call", key=key)
    older_ledger(monkeypatch)
    _write(db, [change], "record", key=key)
    monkeypatch.undo()
    with open_ledger(parse_target(db, cipher_key=key)) as ledger:
        from projections.views import Views

        Views(ledger).catch_up()
        checked = Verification(ledger)
    assert not checked.ok and checked.unaltered
    assert [p.part for p in checked.problems] == ["rules"]
    assert says.split("against the rules: ", 1)[1] in checked.problems[0].what


def _observed_without_state_then_corrected() -> list[dict]:
    """``tests.test_dependents_other_side._base`` with its observation of ``onet`` recorded
    with no jurisdiction (it names nothing as stored), then corrected to Brazil."""
    base = other_side_base()
    seen = base[-1]
    data = {k: v for k, v in seen["data"].items() if k != "jurisdiction"}
    return [*base[:-1], {**seen, "data": data},
            _amend("seen-br", "correction", "onet", "seen", "2020-03-02",
                   set={"jurisdiction": "BR"})]


def test_an_observation_that_names_a_state_only_as_corrected_is_asked_about(db, monkeypatch):
    """The facts asked about are read only where they name something as stored, or are
    amended (``ledger.dependents._naming``): an observation with no state names nothing,
    but corrected to name one it counts as naming it. A default set to another state under
    it is refused; written by a ledger before the check, ``verify`` names it."""
    from domain.errors import LedgerError

    _write(db, _observed_without_state_then_corrected(), "call")
    default = _event("x", "jurisdiction-default", "ledger", "2020-01-01",
                     {"jurisdiction": "RU"})
    with pytest.raises(LedgerError, match="order onet binds RU: an observation in BR"):
        _write(db, [default], "record")
    older_ledger(monkeypatch)
    _write(db, [default], "record")
    monkeypatch.undo()
    found = _verify(db)
    assert found["code"] == 3, found
    assert any("order onet binds RU: an observation in BR" in p["what"]
               for p in found["problems"] if p["part"] == "rules"), found["problems"]
