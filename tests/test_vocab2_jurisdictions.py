"""Jurisdictions (issue "Real cases, whole", item 1): one ledger, many countries.

Russia blocked Telegram from 16 April 2018 (Roskomnadzor, on a Moscow court's order of 13
April) until 18 June 2020; Brazil's Supreme Court ordered it blocked on 18 March 2022 and
revoked the order two days later. A ledger holding both must not answer "blocked" for a
country where it was reachable.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.values import When
from ledger.application import Entry
from projections.book import Book
from projections.status import platform_status
from tests.clitools import one_line_error, run, run_json
from tests.test_bitemporal import _day
from tests.test_views_moves import _fact

SRC = ["--source", "https://example.org/record"]


def _telegram(runner, db) -> None:
    steps = [
        ["platform-registered", "telegram", "--at", "2013-08-14", "--name", "Telegram",
         "--target", "t.me", "--target", "telegram.org"],
        ["blocked", "rkn-2018-04-16", "--at", "2018-04-16", "--platform", "telegram",
         "--authority", "Roskomnadzor", "--target", "t.me", "--target", "telegram.org",
         "--reason", "refusal to hand over encryption keys", "--jurisdiction", "RU",
         "--legal-basis", "Tagansky District Court of Moscow, 13 April 2018"],
        ["unblocked", "rkn-2018-04-16", "--at", "2020-06-18", "--authority", "Roskomnadzor"],
        ["blocked", "stf-2022-03-18", "--at", "2022-03-18", "--platform", "telegram",
         "--authority", "Supreme Federal Court (Justice Alexandre de Moraes)",
         "--target", "t.me", "--target", "telegram.org", "--jurisdiction", "BR",
         "--reason", "failure to comply with court orders"],
        ["unblocked", "stf-2022-03-18", "--at", "2022-03-20",
         "--authority", "Supreme Federal Court"],
    ]
    for step in steps:
        result = run(runner, db, "record", *step, *SRC)
        assert result.exit_code == 0, result.output


def test_one_ledger_answers_per_country(runner, db):
    _telegram(runner, db)
    # 19 March 2022: blocked in Brazil, reachable in Russia since 2020.
    status = run_json(runner, db, "status", "telegram", "--as-of", "2022-03-19")
    assert status["state"] == "blocked"  # the top level: every order, as before
    assert status["jurisdictions"]["BR"]["state"] == "blocked"
    assert status["jurisdictions"]["RU"]["state"] == "accessible"
    assert [o["ref"] for o in status["jurisdictions"]["BR"]["orders"]] == ["stf-2022-03-18"]
    assert {o["ref"]: o["jurisdiction"] for o in status["orders"]} == {
        "rkn-2018-04-16": "RU", "stf-2022-03-18": "BR"}
    ru = run_json(runner, db, "status", "telegram", "--as-of", "2022-03-19",
                  "--jurisdiction", "RU")
    assert ru["jurisdiction"] == "RU" and ru["state"] == "accessible"
    assert ru["orders"][0]["state"] == "lifted"
    assert "jurisdictions" not in ru
    # 1 January 2019: blocked in Russia; Brazil had no order yet (no answer of its own).
    status = run_json(runner, db, "status", "telegram", "--as-of", "2019-01-01")
    assert list(status["jurisdictions"]) == ["RU"]
    br = run_json(runner, db, "status", "telegram", "--as-of", "2019-01-01",
                  "--jurisdiction", "BR")
    assert br["state"] == "accessible" and br["orders"] == []
    # The summary table and the human status say so too.
    rows = run_json(runner, db, "status", "--as-of", "2022-03-19", "--jurisdiction", "RU")
    assert [(r["platform"], r["state"]) for r in rows] == [("telegram", "accessible")]
    text = run(runner, db, "status", "telegram", "--as-of", "2022-03-19").stdout
    assert "in BR: blocked" in text and "in RU: accessible" in text
    assert "by Roskomnadzor in RU" in text


def test_history_of_one_jurisdiction(runner, db):
    _telegram(runner, db)
    events = run_json(runner, db, "history", "telegram", "--jurisdiction", "BR")["events"]
    assert {e["subject"] for e in events} == {"telegram", "stf-2022-03-18"}
    assert len(run_json(runner, db, "history", "telegram")["events"]) == 5
    everything = run_json(runner, db, "history", "--jurisdiction", "RU")["events"]
    assert {e["subject"] for e in everything} == {"telegram", "rkn-2018-04-16"}


def test_a_regional_order_counts_in_its_countrys_answer(runner, db):
    for step in (
        ["platform-registered", "x", "--at", "2019-01-01", "--name", "X", "--target", "x.com",
         "--target", "t.co"],
        ["blocked", "jk-2019", "--at", "2019-08-05", "--platform", "x", "--authority",
         "Home Department, Jammu and Kashmir", "--target", "x.com", "--reason", "order",
         "--jurisdiction", "IN-JK"],
        ["blocked", "in-2021", "--at", "2021-02-01", "--platform", "x", "--authority",
         "MeitY", "--target", "t.co", "--reason", "order", "--jurisdiction", "IN"],
    ):
        assert run(runner, db, "record", *step, *SRC).exit_code == 0
    status = run_json(runner, db, "status", "x")
    assert list(status["jurisdictions"]) == ["IN"]
    india = status["jurisdictions"]["IN"]
    assert india["state"] == "blocked"
    assert {o["ref"]: o["regional"] for o in india["orders"]} == {"jk-2019": True,
                                                                  "in-2021": False}
    # The region's answer holds its own orders and the national ones; another region's
    # answer only the national ones.
    assert run_json(runner, db, "status", "x", "--jurisdiction", "IN-JK")["state"] == "blocked"
    other = run_json(runner, db, "status", "x", "--jurisdiction", "IN-MH")
    assert other["state"] == "partially-blocked" and other["blocked_targets"] == ["t.co"]


def test_the_ledgers_default_applies_to_events_recorded_before_it(runner, db, example,
                                                                 tmp_path):
    # The 2017 case as ledgers held it before jurisdictions: its order names none.
    old = tmp_path / "old.jsonl"
    old.write_text("".join(
        json.dumps({**o, "data": {k: v for k, v in o["data"].items()
                                  if k != "jurisdiction"}}) + "\n"
        for o in map(json.loads, example.read_text().splitlines())))
    assert run(runner, db, "import", str(old)).exit_code == 0
    ledger_2017 = db
    before = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-07-20")
    assert before["jurisdictions"] == {}
    result = run(runner, ledger_2017, "init", "--jurisdiction", "ID")
    assert result.exit_code == 0 and "default jurisdiction: ID" in result.output
    for _ in range(2):  # from the kept status view, then after a rebuild
        now = run_json(runner, ledger_2017, "status", "telegram")
        assert list(now["jurisdictions"]) == ["ID"]
        assert now["orders"][0]["jurisdiction"] == "ID"
        assert now["jurisdictions"]["ID"]["divergent"] == now["divergent"]
        assert run(runner, ledger_2017, "projections", "rebuild").exit_code == 0
    then = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-07-20")
    assert then["jurisdictions"]["ID"]["state"] == "partially-blocked"
    # As known before the default was set, there was none.
    assert json.loads(run(runner, ledger_2017, "verify", "--json").stdout)["ok"] is True
    # The same again is nothing; another is refused, naming how to change it.
    assert "already" in run(runner, ledger_2017, "init", "--jurisdiction", "ID").output
    error = one_line_error(run(runner, ledger_2017, "init", "--jurisdiction", "MY"), 1)
    assert "default jurisdiction is ID" in error and "record correction ledger" in error
    created = error.split("--target ")[1].split()[0]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    result = run(runner, ledger_2017, "record", "correction", "ledger", "--at", now,
                 *SRC, "--target", created, "--set", "jurisdiction=MY",
                 "--reason", "the ledger follows Malaysia")
    assert result.exit_code == 0, result.output
    assert list(run_json(runner, ledger_2017, "status", "telegram")["jurisdictions"]) == ["MY"]
    assert json.loads(run(runner, ledger_2017, "verify", "--json").stdout)["ok"] is True
    # The default travels with an export: it is an event like any other.
    exported = tmp_path / "out.jsonl"
    assert run(runner, ledger_2017, "export", "-o", str(exported)).exit_code == 0
    other = str(tmp_path / "copy.db")
    assert run(runner, other, "import", str(exported)).exit_code == 0
    assert list(run_json(runner, other, "status", "telegram")["jurisdictions"]) == ["MY"]


def test_bad_jurisdictions_are_refused(runner, db, monkeypatch):
    _telegram(runner, db)
    assert "'brazil' is not a jurisdiction" in one_line_error(
        run(runner, db, "status", "telegram", "--jurisdiction", "brazil"), 2)
    assert "is not a jurisdiction" in one_line_error(
        run(runner, db, "init", "--jurisdiction", "br"), 2)
    # Shapes of a code that are no country's: a typo would split a country's answers.
    assert "UK is reserved in ISO 3166, not a country's code (that country is GB)" in \
        one_line_error(run(runner, db, "init", "--jurisdiction", "UK"), 2)
    for code in ("XX", "ZZ", "QQ-1"):
        assert "not an ISO 3166-1 alpha-2 code of a country" in one_line_error(
            run(runner, db, "status", "telegram", "--jurisdiction", code), 2)
    for code in ("XK", "CS", "GB-ENG"):  # Kosovo, a former country, a subdivision
        assert run(runner, db, "status", "telegram", "--jurisdiction", code).exit_code == 0
    # An observation of Russia's order made in Brazil is not an observation of that order.
    result = run(runner, db, "record", "access-observed", "rkn-2018-04-16", "--at",
                 "2019-01-01", *SRC, "--target", "t.me", "--not-accessible",
                 "--jurisdiction", "BR")
    assert "order rkn-2018-04-16 binds RU" in one_line_error(result, 1)
    monkeypatch.setenv("BLOCKLEDGER_JURISDICTION", "RU")
    assert run(runner, db, "init").exit_code == 0
    assert run_json(runner, db, "status", "telegram")["jurisdictions"].keys() == {"BR", "RU"}


# --- the property: a jurisdiction's answer is that of a ledger of its events only --------

CODES = ["BR", "RU", "IN", "IN-JK", None]
TARGETS = ["a.example", "b.example", "c.example"]


@st.composite
def scripts(draw):
    """A platform, a default jurisdiction or none, orders of random jurisdictions (or
    none), lifts, and observations of the platform and of the orders."""
    facts = [_fact("platform-registered", "p", 0, {"name": "P", "targets": TARGETS})]
    default = draw(st.sampled_from(["BR", "RU", None]))
    if default:
        facts.append(_fact("jurisdiction-default", "ledger", 0, {"jurisdiction": default}))
    refs = [f"o{i}" for i in range(draw(st.integers(1, 4)))]
    codes = {}
    for ref in refs:
        code = codes[ref] = draw(st.sampled_from(CODES))
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, unique=True))
        facts.append(_fact("blocked", ref, draw(st.integers(1, 20)), {
            "platform": "p", "authority": "A", "targets": targets, "reasons": ["r"],
            **({"jurisdiction": code} if code else {})}))
    for _ in range(draw(st.integers(0, 8))):
        day = draw(st.integers(1, 40))
        what = draw(st.sampled_from(["lift", "observe-platform", "observe-order",
                                     "penalty", "request"]))
        ref = draw(st.sampled_from(refs))
        target = draw(st.sampled_from(TARGETS))
        if what == "lift":
            facts.append(_fact("unblocked", ref, max(day, 21), {"targets": [target]}))
        elif what == "observe-platform":
            code = draw(st.sampled_from(CODES))
            facts.append(_fact("access-observed", "p", day, {
                "target": target, "accessible": draw(st.booleans()),
                **({"jurisdiction": code} if code else {})}))
        elif what == "observe-order":  # made where the order binds, said or not
            own = draw(st.sampled_from([None, codes[ref]]))
            facts.append(_fact("access-observed", ref, max(day, 21), {
                "target": target, "accessible": draw(st.booleans()),
                **({"jurisdiction": own} if own else {})}))
        elif what == "request":  # on any day, even before its order was made
            facts.append(_fact("normalization-requested", f"r{len(facts)}", day, {
                "platform": "p", "orders": [ref], "requested_by": "P"}))
        else:
            named = draw(st.sampled_from([None, ref]))
            facts.append(_fact("penalty-imposed", "p", max(day, 21), {
                "authority": "A", "amount": "100", "currency": "BRL", "per": "day",
                "reason": "r", **({"order": named} if named else {})}))
    return facts


def _answer(status: dict) -> dict:
    return {k: v for k, v in status.items()
            if k not in ("jurisdiction", "jurisdictions", "as_of", "as_known_at")}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(facts=scripts(), day=st.integers(0, 45))
def test_a_jurisdictions_status_is_that_of_its_events_alone(facts, day):
    from domain.jurisdictions import binds, country
    from domain.timeline import fold

    kept = []
    for fact in facts:  # what the rules accept, in order (a lift of what is not held: not)
        trial = Book([Entry(position=i + 1, fact=f) for i, f in enumerate([*kept, fact])])
        try:
            subject = ("platform" if fact.subject == "p" else "ledger"
                       if fact.subject == "ledger" else "order", fact.subject)
            fold(*subject, trial.facts(*subject), check=True)
        except Exception:
            continue
        kept.append(fact)
    entries = [Entry(position=i + 1, fact=f) for i, f in enumerate(kept)]
    book = Book(entries)
    as_of = When.parse(_day(day), end_of_day=True)
    whole = platform_status(book, "p", as_of=as_of)
    default = book.default_jurisdiction()
    orders = {f.subject: (f.data.jurisdiction or default) for f in kept if f.type == "blocked"}
    made = {f.subject for f in kept
            if f.type == "blocked" and f.occurred_at.instant <= as_of.instant}
    for code in ["BR", "RU", "IN", "IN-JK", "IN-MH"]:
        def mine(fact, code=code) -> bool:
            if fact.type == "normalization-requested":  # with an order made there by then
                return any(binds(orders.get(o), code) and o in made
                           for o in fact.data.orders)
            if fact.subject not in ("p", "ledger"):
                return binds(orders.get(fact.subject), code)
            if fact.type == "access-observed":
                return binds(fact.data.jurisdiction or default, code)
            if fact.type == "penalty-imposed":  # where its order binds, else the default
                return binds(orders.get(fact.data.order) if fact.data.order else default,
                             code)
            return True

        alone = [e for e in entries if mine(e.fact)]
        expected = _answer(platform_status(Book(alone), "p", as_of=as_of))
        asked = platform_status(book, "p", as_of=as_of, jurisdiction=code)
        assert asked["jurisdiction"] == code
        assert _answer(asked) == expected
        if "-" not in code:
            if code in whole["jurisdictions"]:
                assert _answer(whole["jurisdictions"][code]) == expected
            else:  # no order of it then, no observation made there: nothing to say
                assert expected["orders"] == [] and expected["observed"] == {}
    assert set(whole["jurisdictions"]) <= {country(c) for c in CODES if c}


@pytest.mark.parametrize("code", ["BR", "IN-JK"])
def test_an_observation_of_a_platform_counts_where_it_was_made(runner, db, code):
    _telegram(runner, db)
    result = run(runner, db, "record", "access-observed", "telegram", "--at", "2022-03-19",
                 *SRC, "--target", "t.me", "--not-accessible", "--jurisdiction", code)
    assert result.exit_code == 0, result.output
    status = run_json(runner, db, "status", "telegram", "--as-of", "2022-03-19")
    there = code.split("-")[0]
    assert status["jurisdictions"][there]["observed"]["t.me"]["jurisdiction"] == code
    assert "t.me" not in status["jurisdictions"]["RU"]["observed"]


# --- found by a hostile review --------------------------------------------------------------


def _one_order(runner, db, *extra: str) -> None:
    for step in (["platform-registered", "p", "--at", "2020-01-01", "--name", "P",
                  "--target", "a.example"],
                 ["blocked", "o1", "--at", "2020-02-01", "--platform", "p", "--authority",
                  "A", "--target", "a.example", "--reason", "r", *extra]):
        assert run(runner, db, "record", *step, *SRC).exit_code == 0


def test_an_observation_of_an_order_of_the_default_made_elsewhere_is_refused(runner, db):
    assert run(runner, db, "init", "--jurisdiction", "ID").exit_code == 0
    _one_order(runner, db)
    result = run(runner, db, "record", "access-observed", "o1", "--at", "2020-03-01", *SRC,
                 "--target", "a.example", "--accessible", "--jurisdiction", "RU")
    assert "order o1 binds ID: an observation in RU is not of it" in one_line_error(result, 1)
    result = run(runner, db, "record", "access-observed", "o1", "--at", "2020-03-01", *SRC,
                 "--target", "a.example", "--accessible", "--jurisdiction", "ID")
    assert result.exit_code == 0, result.output


def test_the_history_of_an_order_or_a_request_in_a_jurisdiction(runner, db):
    assert run(runner, db, "init", "--jurisdiction", "ID").exit_code == 0
    _one_order(runner, db)
    assert run(runner, db, "record", "normalization-requested", "r1", "--at", "2020-03-01",
               *SRC, "--platform", "p", "--order", "o1", "--requested-by", "P").exit_code == 0
    for subject in ("o1", "r1"):
        assert run_json(runner, db, "history", subject, "--jurisdiction", "ID")["events"]
        assert run_json(runner, db, "history", subject, "--jurisdiction", "RU")["events"] == []
    events = run_json(runner, db, "history", "--jurisdiction", "ID")["events"]
    assert "jurisdiction-default" not in {e["type"] for e in events}


def test_a_penalty_counts_where_its_order_binds(runner, db):
    _one_order(runner, db, "--jurisdiction", "RU")
    result = run(runner, db, "record", "penalty-imposed", "p", "--at", "2020-02-02", *SRC,
                 "--authority", "A", "--amount", "1000000", "--currency", "RUB", "--per",
                 "day", "--reason", "r", "--order", "o1")
    assert result.exit_code == 0, result.output
    assert run(runner, db, "record", "access-observed", "p", "--at", "2020-02-03", *SRC,
               "--target", "a.example", "--not-accessible", "--jurisdiction",
               "ID").exit_code == 0
    status = run_json(runner, db, "status", "p")
    assert len(status["jurisdictions"]["RU"]["penalties"]) == 1
    assert status["jurisdictions"]["ID"]["penalties"] == []


def test_the_default_cannot_be_retracted_and_init_checks_before_it_creates(runner, db,
                                                                          tmp_path,
                                                                          monkeypatch):
    missing = tmp_path / "none.db"
    assert "is not a jurisdiction" in one_line_error(
        run(runner, str(missing), "init", "--jurisdiction", "br"), 2)
    assert not missing.exists()
    assert run(runner, db, "init", "--jurisdiction", "ID").exit_code == 0
    created = run_json(runner, db, "history", "ledger")["events"][0]["id"]
    result = run(runner, db, "record", "retraction", "ledger", "--at",
                 datetime.now(UTC).isoformat(timespec="seconds"), *SRC, "--target", created,
                 "--reason", "r")
    assert "cannot be retracted" in one_line_error(result, 1)
    # BLOCKLEDGER_JURISDICTION set for every ledger keeps init idempotent: a note.
    monkeypatch.setenv("BLOCKLEDGER_JURISDICTION", "RU")
    result = run(runner, db, "init")
    assert result.exit_code == 0 and "BLOCKLEDGER_JURISDICTION=RU not applied" in result.output


def test_retracted_orders_are_named_as_such(runner, db):
    _one_order(runner, db)
    created = run_json(runner, db, "history", "o1")["events"][0]["id"]
    assert run(runner, db, "record", "retraction", "o1", "--at", "2020-02-02", *SRC,
               "--target", created, "--reason", "r").exit_code == 0
    result = run(runner, db, "record", "penalty-imposed", "p", "--at", "2020-02-03", *SRC,
                 "--authority", "A", "--amount", "1", "--currency", "RUB", "--per", "once",
                 "--reason", "r", "--order", "o1")
    assert "order o1 does not exist (its creating event was retracted)" in \
        one_line_error(result, 1)
    result = run(runner, db, "record", "normalization-requested", "r1", "--at", "2020-03-01",
                 *SRC, "--platform", "p", "--order", "o1", "--requested-by", "P")
    assert "its creating event was retracted" in one_line_error(result, 1)


def test_a_kept_status_goes_stale_when_a_fine_accrues_another_period():
    from datetime import timedelta

    from projections.views import _stale_after

    imposed = datetime(2024, 1, 1, 12, tzinfo=UTC)
    facts = [_fact("platform-registered", "p", 0, {"name": "P", "targets": TARGETS}),
             _fact("penalty-imposed", "p", 0, {
                 "authority": "A", "amount": "10", "currency": "BRL", "per": "day",
                 "reason": "r"}).evolve(occurred_at=When.of(imposed)),
             _fact("penalty-imposed", "p", 0, {
                 "authority": "A", "amount": "10", "currency": "BRL", "per": "week",
                 "reason": "r", "cap": "10"}).evolve(occurred_at=When.of(imposed))]
    book = Book([Entry(position=i + 1, fact=f) for i, f in enumerate(facts)])
    now = imposed + timedelta(days=1, hours=6)
    # The daily fine changes next at 2 days; the weekly one is at its cap after 1 week.
    assert _stale_after(book, "p", now) == (imposed + timedelta(days=2)).isoformat()


# --- found by a hostile review of the site (its rows are the status's own answers) ----------


def test_a_request_before_its_order_counts_the_same_in_both_answers(runner, db):
    """A request dated before the order it names: the status's ``jurisdictions`` map
    answered with the whole answer (listing it) where ``status --jurisdiction`` left it
    out; both are now the one answer."""
    for step in (["platform-registered", "p", "--at", "2019-01-01", "--name", "P",
                  "--target", "a.com"],
                 ["access-observed", "p", "--at", "2020-01-01", "--target", "a.com",
                  "--not-accessible", "--jurisdiction", "ID"],
                 ["blocked", "o1", "--at", "2021-01-01", "--platform", "p", "--authority",
                  "Kominfo", "--target", "a.com", "--reason", "x", "--jurisdiction", "ID"],
                 ["normalization-requested", "r1", "--at", "2020-06-01", "--platform", "p",
                  "--order", "o1", "--requested-by", "P"]):
        assert run(runner, db, "record", *step, *SRC).exit_code == 0
    for day in ("2020-07-01", "2021-02-01"):
        whole = run_json(runner, db, "status", "p", "--as-of", day)
        there = run_json(runner, db, "status", "p", "--as-of", day, "--jurisdiction", "ID")
        assert _answer(whole["jurisdictions"]["ID"]) == _answer(there)
        assert [r["ref"] for r in there["normalizations"]] == (
            [] if day < "2021" else ["r1"])


def test_a_countrys_answer_keeps_the_latest_observation_of_a_target(runner, db):
    """Reachable in BR-SP, unreachable in BR, reachable in BR-SP again: Brazil's answer
    is the latest (reachable while blocked), not the one of the place seen second."""
    for step in (["platform-registered", "p", "--at", "2019-01-01", "--name", "P",
                  "--target", "a.com"],
                 ["blocked", "o1", "--at", "2019-06-01", "--platform", "p", "--authority",
                  "STF", "--target", "a.com", "--reason", "x", "--jurisdiction", "BR"],
                 ["blocked", "o2", "--at", "2019-06-01", "--platform", "p", "--authority",
                  "RKN", "--target", "a.com", "--reason", "x", "--jurisdiction", "RU"]):
        assert run(runner, db, "record", *step, *SRC).exit_code == 0
    for day, place, access in (("2020-01-01", "BR-SP", "--accessible"),
                               ("2020-02-01", "BR", "--not-accessible"),
                               ("2020-03-01", "BR-SP", "--accessible")):
        assert run(runner, db, "record", "access-observed", "p", "--at", day, "--target",
                   "a.com", access, "--jurisdiction", place, *SRC).exit_code == 0
    for asked in ("BR", "BR-SP"):
        there = run_json(runner, db, "status", "p", "--as-of", "2020-04-01",
                         "--jurisdiction", asked)
        assert there["observed"]["a.com"]["at"].startswith("2020-03-01"), asked
        assert there["divergence"] == {"a.com": "reachable-while-blocked"}, asked
    whole = run_json(runner, db, "status", "p", "--as-of", "2020-04-01")
    assert whole["jurisdictions"]["BR"]["divergence"] == {"a.com": "reachable-while-blocked"}


def test_since_counts_the_jurisdictions_orders(runner, db, example):
    """Telegram blocked in Brazil from 2022-03-18, and an order naming no jurisdiction
    lifted in 2023: Brazil's answer is blocked since 2022-03-18, in the one-platform table,
    its CSV and the summary table alike (the lift elsewhere is not its change)."""
    assert run(runner, db, "import", str(example)).exit_code == 0
    for step in (["blocked", "stf-2022-03-18", "--at", "2022-03-18", "--platform",
                  "telegram", "--authority", "Supreme Federal Court", "--target", "t.me",
                  "--jurisdiction", "BR", "--reason", "x"],
                 ["blocked", "x-2023", "--at", "2023-01-01", "--platform", "telegram",
                  "--authority", "Someone", "--target", "web.telegram.org", "--reason", "y"],
                 ["unblocked", "x-2023", "--at", "2023-02-01"]):
        assert run(runner, db, "record", *step, *SRC).exit_code == 0
    asked = ("--jurisdiction", "BR", "--as-of", "2024-01-01")
    table = run(runner, db, "status", "telegram", *asked)
    assert table.exit_code == 0 and "since 2022-03-18" in table.stdout, table.stdout
    assert "2023-02-01" not in table.stdout.splitlines()[0]
    for args in (("status", "telegram", *asked), ("status", *asked)):
        rows = run(runner, db, *args, "--format", "csv").stdout.splitlines()
        assert rows[1].split(",")[rows[0].split(",").index("since")].startswith(
            "2022-03-18"), rows
