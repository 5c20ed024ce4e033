"""Issue 14, item 5: appeals and rulings.

A ``ruling`` upholds, suspends, overturns or reinstates an order from its effect (when it
is given, or ``effective_at``, e.g. on publication); before that, status shows it pending.
Every check stays at valid time: a back-dated ruling is placed where it belongs.
"""

from __future__ import annotations

import pytest

from domain.errors import BadInput
from domain.fact import Fact
from domain.timeline import OrderState, fold
from tests.clitools import count, one_line_error, run, run_json
from tests.facts import blocked, fact, given, instant, unblocked
from tests.test_domain import refused

ORDER = "btk-2017"


def ruling(outcome: str, *, at: str, effective_at: str | None = None, subject: str = ORDER,
           court: str = "Constitutional Court", **kw) -> Fact:
    return fact("ruling", subject, at=at, data={
        "court": court, "outcome": outcome, "summary": "the block violates Article 26",
        "effective_at": effective_at, **kw})


def appeal(*, at: str = "2017-05-05", subject: str = ORDER) -> Fact:
    return fact("appeal-filed", subject, at=at,
                data={"court": "Constitutional Court", "by": "Wikimedia Foundation"})


def block(at: str = "2017-04-29") -> Fact:
    return blocked(ORDER, platform="wikipedia", targets=["wikipedia.org"], at=at,
                   authority="BTK")


def state_at(facts: list[Fact], day: str) -> OrderState:
    return fold("order", ORDER, facts, until=instant(day))  # type: ignore[return-value]


class TestRulingEffects:
    """Given an order, when a court rules, then from the ruling's effect the order is as
    the court said."""

    def test_overturned_on_publication_is_pending_until_then(self):
        facts = [block(), appeal(),
                 ruling("overturned", at="2019-12-26", effective_at="2020-01-15")]
        given_day = state_at(facts, "2019-12-27")
        assert (given_day.state, given_day.blocked) == ("in-effect", {"wikipedia.org"})
        assert [r.data.outcome for r in given_day.pending] == ["overturned"]
        published = state_at(facts, "2020-01-16")
        assert (published.state, published.blocked, published.pending) == (
            "overturned", set(), [])

    @pytest.mark.parametrize("outcome", ["suspended", "overturned"])
    def test_reinstated_restores_what_the_ruling_took_away(self, outcome):
        facts = [block(), ruling(outcome, at="2019-01-01"),
                 ruling("reinstated", at="2019-06-01", court="Supreme Court")]
        assert state_at(facts, "2019-02-01").state == outcome
        after = state_at(facts, "2019-07-01")
        assert (after.state, after.blocked) == ("in-effect", {"wikipedia.org"})

    def test_upheld_changes_nothing(self):
        facts = [block(), ruling("upheld", at="2018-01-01")]
        assert state_at(facts, "2018-02-01").state == "in-effect"

    def test_a_lift_while_suspended_is_not_undone_by_reinstatement(self):
        """The authority lifts the order while a court has suspended it: reinstating it
        brings back nothing."""
        facts = [block(), ruling("suspended", at="2019-01-01"),
                 unblocked(ORDER, at="2019-03-01"),
                 ruling("reinstated", at="2019-06-01")]
        assert state_at(facts, "2019-07-01").state == "lifted"

    def test_a_temporary_lift_ending_while_suspended_stays_set_aside(self):
        facts = [block(), unblocked(ORDER, at="2019-01-01", until="2019-02-01"),
                 ruling("suspended", at="2019-01-15"), ruling("reinstated", at="2019-03-01")]
        assert state_at(facts, "2019-02-15").blocked == set()
        assert state_at(facts, "2019-03-02").blocked == {"wikipedia.org"}


class TestRulingRefusals:
    """What a ruling cannot be: refused with nothing written."""

    def test_an_effect_before_the_ruling_was_given_is_refused(self):
        order = given(block())
        assert "cannot begin (2019-01-01) before it was given" in refused(
            order, ruling("overturned", at="2019-12-26", effective_at="2019-01-01"))

    def test_reinstating_an_order_in_effect_is_refused(self):
        order = given(block())
        assert "nothing to reinstate" in refused(order, ruling("reinstated", at="2019-01-01"))

    def test_a_back_dated_reinstatement_before_the_suspension_is_refused(self):
        order = given(block(), ruling("suspended", at="2019-01-01"))
        assert "nothing to reinstate" in refused(order, ruling("reinstated", at="2018-06-01"))

    def test_a_back_dated_suspension_before_a_reinstatement_is_accepted(self):
        """Recorded after the lift and a reinstatement it explains, placed at its time."""
        order = given(block(), ruling("suspended", at="2019-01-01"),
                      ruling("reinstated", at="2019-06-01"))
        order.record(ruling("suspended", at="2019-09-01", court="Supreme Court"),
                     now=instant("2026-01-01"))
        assert order.state(instant("2019-10-01")).state == "suspended"

    def test_a_back_dated_ruling_breaking_a_later_one_is_refused(self):
        """Overturned back-dated before a reinstatement that relied on a suspension:
        accepted (still something to reinstate); a reinstatement back-dated before any
        suspension: refused, naming it."""
        order = given(block(), ruling("suspended", at="2019-06-01"))
        message = refused(order, ruling("reinstated", at="2019-01-01"))
        assert "nothing to reinstate" in message

    @pytest.mark.parametrize("data,field", [
        ({"court": "C", "outcome": "quashed", "summary": "s"}, "data.outcome"),
        ({"court": "C", "outcome": "upheld", "summary": "s",
          "effective_at": "15 January 2020"}, "data.effective_at"),
        ({"court": "C", "outcome": "upheld"}, "data.summary"),
    ])
    def test_bad_input(self, data, field):
        with pytest.raises(BadInput, match=field):
            fact("ruling", ORDER, at="2019-12-26", data=data)


SRC = ("--source", "https://www.anayasa.gov.tr/")


def ok(runner, db, *args, input=None):
    result = run(runner, db, *args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def turkey(runner, db):
    ok(runner, db, "record", "platform-registered", "wikipedia", "--at", "2010-01-01", *SRC,
       "--name", "Wikipedia", "--target", "wikipedia.org")
    ok(runner, db, "record", "blocked", ORDER, "--at", "2017-04-29", *SRC, "--platform",
       "wikipedia", "--authority", "BTK", "--reason", "Law 5651", "--target",
       "wikipedia.org")
    ok(runner, db, "record", "appeal-filed", ORDER, "--at", "2017-05-05", *SRC,
       "--court", "Constitutional Court", "--by", "Wikimedia Foundation")


class TestStatus:
    """status shows a ruling pending before its effect, the order's state after."""

    def test_pending_then_overturned(self, runner, db):
        turkey(runner, db)
        ok(runner, db, "record", "ruling", ORDER, "--at", "2019-12-26", *SRC,
           "--court", "Constitutional Court", "--outcome", "overturned", "--summary",
           "violates freedom of expression", "--effective-at", "2020-01-15")
        between = run_json(runner, db, "status", "wikipedia", "--as-of", "2020-01-01")
        assert between["state"] == "blocked"
        assert between["orders"][0]["pending_rulings"] == [{
            "court": "Constitutional Court", "outcome": "overturned", "given": "2019-12-26",
            "effective_at": "2020-01-15"}]
        after = run_json(runner, db, "status", "wikipedia", "--as-of", "2020-01-15")
        assert after["state"] == "accessible"
        assert after["orders"][0]["state"] == "overturned"
        assert "pending_rulings" not in after["orders"][0]

    def test_both_time_axes(self, runner, db):
        """As known before the ruling was recorded, the order was in force on 20 January
        2020; as known after, it was overturned."""
        turkey(runner, db)
        known_before = run_json(runner, db, "history", ORDER)["events"][-1]["recorded_at"]
        ok(runner, db, "record", "ruling", ORDER, "--at", "2019-12-26", *SRC,
           "--court", "Constitutional Court", "--outcome", "overturned", "--summary",
           "violates freedom of expression", "--effective-at", "2020-01-15")
        then = run_json(runner, db, "status", "wikipedia", "--as-of", "2020-01-20",
                        "--as-known-at", known_before)
        now = run_json(runner, db, "status", "wikipedia", "--as-of", "2020-01-20")
        assert (then["orders"][0]["state"], now["orders"][0]["state"]) == (
            "in-effect", "overturned")

    def test_bad_outcome_is_exit_2_and_nothing_written(self, runner, db):
        turkey(runner, db)
        before = count(db)
        line = one_line_error(run(runner, db, "record", "ruling", ORDER, "--at",
                                  "2019-12-26", *SRC, "--court", "C", "--outcome",
                                  "quashed", "--summary", "s"), 2)
        assert "--outcome" in line
        assert count(db) == before

    def test_export_import(self, runner, db, tmp_path):
        turkey(runner, db)
        ok(runner, db, "record", "ruling", ORDER, "--at", "2019-12-26", *SRC,
           "--court", "Constitutional Court", "--outcome", "overturned", "--summary",
           "violates freedom of expression", "--effective-at", "2020-01-15")
        other = str(tmp_path / "again.db")
        ok(runner, other, "import", "-", input=ok(runner, db, "export").stdout)
        for day in ("2019-12-27", "2020-01-16"):
            assert (run_json(runner, db, "status", "wikipedia", "--as-of", day)
                    == run_json(runner, other, "status", "wikipedia", "--as-of", day))
