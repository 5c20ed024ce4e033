"""Issue 14, item 4: penalties, and what they have come to by a date.

Brazil fined Telegram R$1 million a day from 26 April 2023; a fine accrues one amount per
whole period from its imposition to its payment, lift or the as-of time, never beyond its
cap, in decimal arithmetic.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st

from domain.errors import BadInput
from domain.fact import Fact
from domain.penalties import periods
from domain.timeline import PlatformState, fold
from tests.clitools import count, one_line_error, run, run_json
from tests.facts import fact, given, instant, registered
from tests.test_domain import refused

FINE_ID = "77777777-7777-4777-8777-777777777777"


def imposed(*, amount: str = "1000000", per: str = "day", at: str = "2023-04-26",
            cap: str | None = None, id: str = FINE_ID, **kw) -> Fact:
    return fact("penalty-imposed", "telegram", at=at, id=id, data={
        "authority": "Federal court, Espirito Santo", "amount": amount, "currency": "BRL",
        "per": per, "reason": "data on neo-Nazi groups not handed over", "cap": cap, **kw})


def paid(*, at: str, amount: str = "1", penalty: str = FINE_ID) -> Fact:
    return fact("penalty-paid", "telegram", at=at, data={"penalty": penalty,
                                                          "amount": amount})


def lifted(*, at: str, penalty: str = FINE_ID) -> Fact:
    return fact("penalty-lifted", "telegram", at=at, data={"penalty": penalty, "by": "TRF-2"})


def accrued_at(facts: list[Fact], day: str) -> tuple[str, str]:
    """(state, accrued) of the one penalty as ``status --as-of DAY`` folds it."""
    at = instant(day).replace(hour=23, minute=59, second=59, microsecond=999_999)
    state = fold("platform", "telegram", [registered(), *facts], until=at)
    assert isinstance(state, PlatformState)
    (penalty,) = state.penalties.values()
    return penalty.state, str(penalty.accrued(at))


class TestAccrual:
    """Hand-computed figures: periods, caps, payment, lift."""

    def test_daily_whole_days_only(self):
        facts = [imposed()]
        assert accrued_at(facts, "2023-04-26") == ("running", "0")
        assert accrued_at(facts, "2023-04-27") == ("running", "1000000")
        assert accrued_at(facts, "2023-05-06") == ("running", "10000000")

    def test_the_cap_holds(self):
        facts = [imposed(cap="2500000")]
        assert accrued_at(facts, "2023-04-28") == ("running", "2000000")
        assert accrued_at(facts, "2023-12-31") == ("running", "2500000")

    def test_payment_stops_it(self):
        facts = [imposed(), paid(at="2023-05-01", amount="5000000")]
        assert accrued_at(facts, "2023-04-30") == ("running", "4000000")
        assert accrued_at(facts, "2024-01-01") == ("paid", "5000000")

    def test_lift_stops_it(self):
        facts = [imposed(amount="100000.50", per="week"), lifted(at="2023-05-17")]
        assert accrued_at(facts, "2023-06-30") == ("lifted", "300001.50")

    def test_once_is_the_amount(self):
        assert accrued_at([imposed(per="once", amount="28600000")], "2023-04-26") == (
            "running", "28600000")

    def test_monthly_calendar_months(self):
        facts = [imposed(per="month", at="2024-01-31", amount="10")]
        assert accrued_at(facts, "2024-02-28") == ("running", "0")
        assert accrued_at(facts, "2024-02-29") == ("running", "10")  # leap year
        assert accrued_at(facts, "2024-03-30") == ("running", "10")
        assert accrued_at(facts, "2024-03-31") == ("running", "20")

    def test_no_float_anywhere(self):
        """Amounts that a float would round stay exact."""
        facts = [imposed(amount="0.10", per="day")]
        assert accrued_at(facts, "2023-04-29") == ("running", "0.30")
        big = [imposed(amount="99999999999999999999.99999999")]
        days = periods("day", datetime(2023, 4, 26, tzinfo=UTC),
                       datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
        assert days == 2_913_423
        # 28 significant digits (Decimal's default context) would round this product.
        assert accrued_at(big, "9999-12-31") == ("running", "291342299999999999999999999.97086577")

    @hypothesis_given(st.integers(0, 3000), st.integers(0, 3000),
                      st.sampled_from(["day", "week", "month"]))
    def test_periods_never_go_back_and_start_at_none(self, a, b, per):
        start = datetime(2020, 1, 31, 12, tzinfo=UTC)
        early, late = sorted((a, b))
        at = [start.replace(hour=0) + (datetime(2020, 1, 2, tzinfo=UTC)
                                       - datetime(2020, 1, 1, tzinfo=UTC)) * d
              for d in (early, late)]
        assert 0 <= periods(per, start, at[0]) <= periods(per, start, at[1])
        assert periods(per, start, start) == 0


class TestPenaltyRules:
    """Given a platform's fines, when paid or lifted, then accepted once, or refused."""

    def test_paid_twice_is_refused(self):
        platform = given(registered(), imposed(), paid(at="2023-05-01"))
        assert "was already paid" in refused(platform, paid(at="2023-05-02"))

    def test_lifted_after_payment_is_refused(self):
        platform = given(registered(), imposed(), paid(at="2023-05-01"))
        assert "was already paid" in refused(platform, lifted(at="2023-05-02"))

    def test_payment_of_no_penalty_is_refused(self):
        platform = given(registered())
        assert "is not a penalty-imposed of platform telegram" in refused(
            platform, paid(at="2023-05-01"))

    def test_a_back_dated_payment_before_the_fine_is_refused(self):
        platform = given(registered(), imposed())
        assert "is not a penalty-imposed" in refused(platform, paid(at="2023-04-01"))

    def test_a_back_dated_lift_before_a_payment_is_refused(self):
        platform = given(registered(), imposed(), paid(at="2023-05-10"))
        message = refused(platform, lifted(at="2023-05-01"))
        assert "conflicts with penalty-paid of 2023-05-10" in message

    def test_a_cap_below_the_amount_is_refused(self):
        platform = given(registered())
        assert "cap 5 is less than the amount" in refused(platform, imposed(cap="5"))

    @pytest.mark.parametrize("value", ["1e9", "-5", "NaN", "Infinity", "0", "0.00", "1,000",
                                       " 5", "5.", ".5", "1.123456789", 5, 5.0,
                                       "123456789012345678901"])
    def test_bad_amounts_are_bad_input(self, value):
        with pytest.raises(BadInput, match=r"data\.amount"):
            imposed(amount=value)

    @pytest.mark.parametrize("field,value", [("currency", "brl"), ("currency", "R$"),
                                             ("per", "year"), ("cap", "-1")])
    def test_other_bad_fields(self, field, value):
        with pytest.raises(BadInput, match=rf"data\.{field}"):
            imposed(**{field: value})


SRC = ("--source", "https://www.reuters.com/")


def ok(runner, db, *args, input=None):
    result = run(runner, db, *args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def brazil(runner, db):
    ok(runner, db, "record", "platform-registered", "telegram", "--at", "2015-01-01", *SRC,
       "--name", "Telegram", "--target", "t.me")
    ok(runner, db, "record", "platform-registered", "x", "--at", "2015-01-01", *SRC,
       "--name", "X", "--target", "x.com")
    ok(runner, db, "record", "blocked", "es-2023-04-26", "--at", "2023-04-26", *SRC,
       "--platform", "telegram", "--authority", "Federal court", "--reason", "data",
       "--target", "t.me")
    ok(runner, db, "record", "penalty-imposed", "telegram", "--at", "2023-04-26", *SRC,
       "--id", FINE_ID, "--authority", "Federal court", "--amount", "1000000",
       "--currency", "BRL", "--per", "day", "--reason", "data not handed over",
       "--order", "es-2023-04-26")
    ok(runner, db, "record", "unblocked", "es-2023-04-26", "--at", "2023-04-29", *SRC,
       "--summary", "lifted on appeal; the fine kept")


class TestStatus:
    """status gains penalties, the fine kept when the block was lifted."""

    def test_penalties_in_status(self, runner, db):
        brazil(runner, db)
        status = run_json(runner, db, "status", "telegram", "--as-of", "2023-05-01")
        assert status["state"] == "accessible"
        assert status["penalties"] == [{
            "id": FINE_ID, "authority": "Federal court", "amount": "1000000",
            "currency": "BRL", "per": "day", "cap": None, "order": "es-2023-04-26",
            "state": "running", "accrued": "5000000"}]
        assert run_json(runner, db, "status", "x")["penalties"] == []

    def test_an_order_of_another_platform_is_refused(self, runner, db):
        brazil(runner, db)
        before = count(db)
        line = one_line_error(run(runner, db, "record", "penalty-imposed", "x", "--at",
                                  "2024-08-30", *SRC, "--authority", "STF", "--amount",
                                  "50000", "--currency", "BRL", "--per", "day",
                                  "--reason", "r", "--order", "es-2023-04-26"), 1)
        assert "does not concern platform x" in line
        assert count(db) == before

    def test_bad_amount_exit_2(self, runner, db):
        brazil(runner, db)
        before = count(db)
        line = one_line_error(run(runner, db, "record", "penalty-paid", "telegram", "--at",
                                  "2023-05-01", *SRC, "--penalty", FINE_ID, "--amount",
                                  "1e9"), 2)
        assert "--amount" in line
        assert count(db) == before

    def test_export_import(self, runner, db, tmp_path):
        brazil(runner, db)
        ok(runner, db, "record", "penalty-paid", "telegram", "--at", "2023-05-10", *SRC,
           "--penalty", FINE_ID, "--amount", "14000000")
        other = str(tmp_path / "again.db")
        ok(runner, other, "import", "-", input=ok(runner, db, "export").stdout)
        for day in ("2023-05-01", "2023-06-01"):
            assert (run_json(runner, db, "status", "telegram", "--as-of", day)
                    == run_json(runner, other, "status", "telegram", "--as-of", day))
        assert run_json(runner, other, "status", "telegram")["penalties"][0][
            "accrued"] == "14000000"
