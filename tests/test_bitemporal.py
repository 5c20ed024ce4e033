"""Two time axes: --as-known-at, corrections, retractions, disputes, back-dated recording."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from domain.errors import LedgerError
from domain.fact import Fact
from domain.values import When
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.book import Book
from projections.status import platform_status
from tests.clitools import count, run, run_json

SRC = ("--source", "https://example.org/doc")
BLOCK_ID = "11111111-1111-4111-8111-111111111111"
LIFT_ID = "22222222-2222-4222-8222-222222222222"


def setup_case(runner, db):
    """telegram with three targets; an order blocking two on 14 July, lifted on 10 August."""
    steps = [
        ["record", "platform-registered", "telegram", "--at", "2017-01-01", *SRC,
         "--name", "Telegram", "--target", "t.me", "--target", "web.telegram.org",
         "--target", "org.telegram.messenger"],
        ["record", "blocked", "k1", "--at", "2017-07-14", *SRC, "--id", BLOCK_ID,
         "--platform", "telegram", "--authority", "Kominfo", "--reason", "terrorism",
         "--target", "t.me", "--target", "web.telegram.org"],
        ["record", "unblocked", "k1", "--at", "2017-08-10", *SRC, "--id", LIFT_ID],
    ]
    for step in steps:
        result = run(runner, db, *step)
        assert result.exit_code == 0, result.output


def state(runner, db, *args):
    return run_json(runner, db, "status", "telegram", *args)["state"]


class TestCorrection:
    def test_as_known_at_before_a_correction_gives_the_old_answer(self, runner, db):
        """A correction moves the block's date; before it was recorded the old date counts."""
        setup_case(runner, db)
        known = datetime.now(UTC).isoformat()
        result = run(runner, db, "record", "correction", "k1", "--at", "2017-07-20", *SRC,
                     "--target", BLOCK_ID, "--set", "occurred_at=2017-07-20",
                     "--reason", "the ISPs only acted on 20 July")
        assert result.exit_code == 0, result.output
        assert state(runner, db, "--as-of", "2017-07-15") == "accessible"
        assert state(runner, db, "--as-of", "2017-07-15", "--as-known-at", known) == (
            "partially-blocked")
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-07-15",
                          "--as-known-at", known)
        assert status["as_known_at"] == known and status["as_of"] == "2017-07-15"
        history = run_json(runner, db, "history", "k1", "--as-known-at", known)
        assert history["as_known_at"] == known and history["as_of"] is None
        assert [e["occurred_at"] for e in history["events"]] == ["2017-07-14", "2017-08-10"]
        assert history["events"][0]["corrected_by"] == []

    def test_a_correction_that_breaks_a_rule_is_refused(self, runner, db):
        """Moving the block after its lift would put the lift before the order: exit 1."""
        setup_case(runner, db)
        result = run(runner, db, "record", "correction", "k1", "--at", "2017-09-01", *SRC,
                     "--target", BLOCK_ID, "--set", "occurred_at=2017-09-01",
                     "--reason", "wrong")
        assert result.exit_code == 1, result.output
        assert LIFT_ID in result.output
        assert count(db) == 3

    def test_a_correction_of_an_unknown_event_is_refused(self, runner, db):
        """A target that is not an event of the subject: exit 1, nothing written."""
        setup_case(runner, db)
        result = run(runner, db, "record", "correction", "k1", "--at", "2017-09-01", *SRC,
                     "--target", str(uuid.uuid4()), "--set", "authority=X", "--reason", "r")
        assert result.exit_code == 1
        assert "not an event of k1" in result.output
        assert count(db) == 3

    def test_a_correction_of_a_field_the_event_lacks_is_bad_input(self, runner, db):
        """Replacing a field the target's type does not have: exit 2, naming it."""
        setup_case(runner, db)
        result = run(runner, db, "record", "correction", "k1", "--at", "2017-09-01", *SRC,
                     "--target", BLOCK_ID, "--set", "colour=red", "--reason", "r")
        assert result.exit_code == 2
        assert "no correctable field 'colour'" in result.output
        assert count(db) == 3

    def test_a_correction_of_data_fields(self, runner, db):
        """Correcting the targets of a block changes the status from then on."""
        setup_case(runner, db)
        result = run(runner, db, "record", "correction", "k1", "--at", "2017-07-14", *SRC,
                     "--target", BLOCK_ID, "--set", 'targets=["t.me"]', "--reason", "r")
        assert result.exit_code == 0, result.output
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-07-20")
        assert status["blocked_targets"] == ["t.me"]


class TestRetraction:
    def test_a_retracted_event_leaves_status_but_stays_in_history(self, runner, db):
        """After retracting the lift, the block is in force on 20 August; history marks it."""
        setup_case(runner, db)
        result = run(runner, db, "record", "retraction", "k1", "--at", "2017-08-10", *SRC,
                     "--target", LIFT_ID, "--reason", "the lift was announced, not ordered")
        assert result.exit_code == 0, result.output
        assert state(runner, db, "--as-of", "2017-08-20") == "partially-blocked"
        rows = {r["id"]: r for r in run_json(runner, db, "history", "k1")["events"]}
        assert rows[LIFT_ID]["retracted_by"]
        human = run(runner, db, "history", "k1").output
        assert "retracted" in human

    def test_retracting_what_a_later_event_depends_on_is_refused(self, runner, db):
        """Retracting the block would orphan the lift: exit 1 naming the lift."""
        setup_case(runner, db)
        result = run(runner, db, "record", "retraction", "k1", "--at", "2017-08-11", *SRC,
                     "--target", BLOCK_ID, "--reason", "r")
        assert result.exit_code == 1
        assert LIFT_ID in result.output
        assert count(db) == 3

    def test_a_retraction_cannot_be_retracted_twice(self, runner, db):
        """An event already retracted cannot be retracted again."""
        setup_case(runner, db)
        args = ["record", "retraction", "k1", "--at", "2017-08-11", *SRC, "--target", LIFT_ID,
                "--reason", "r"]
        assert run(runner, db, *args).exit_code == 0
        again = run(runner, db, *args)
        assert again.exit_code == 1 and "already retracted" in again.output


class TestDisputeAndObservation:
    def test_a_dispute_changes_nothing_but_shows(self, runner, db):
        """A dispute flags the order in status and the event in history; states unchanged."""
        setup_case(runner, db)
        result = run(runner, db, "record", "dispute", "k1", "--at", "2017-07-14",
                     "--source", "another newspaper", "--target", BLOCK_ID,
                     "--claim", "the block started on 13 July")
        assert result.exit_code == 0, result.output
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-07-20")
        assert status["state"] == "partially-blocked"
        assert status["orders"][0]["disputed"] is True
        rows = {r["id"]: r for r in run_json(runner, db, "history", "k1")["events"]}
        assert len(rows[BLOCK_ID]["disputed_by"]) == 1
        assert "disputed" in run(runner, db, "history", "k1").output

    def test_reachable_while_ordered_blocked_is_divergent(self, runner, db):
        """An observation that a blocked target loads shows under divergent."""
        setup_case(runner, db)
        result = run(runner, db, "record", "access-observed", "k1", "--at", "2017-07-20",
                     *SRC, "--target", "t.me", "--accessible", "--network", "AS7713")
        assert result.exit_code == 0, result.output
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-07-21")
        assert status["divergent"] == ["t.me"]
        assert status["observed"]["t.me"]["accessible"] is True
        assert run(runner, db, "record", "access-observed", "k1", "--at", "2017-07-20", *SRC,
                   "--target", "example.com", "--accessible").exit_code == 1


# --- property: the as-known-at view equals a fresh ledger fed what was known -------------

TARGETS = ["a.example", "b.example", "c.example", "d.example"]
DAY0 = datetime(2017, 1, 1, tzinfo=UTC)


def _day(n: int) -> str:
    return (DAY0 + timedelta(days=n)).date().isoformat()


def _fact(type_: str, subject: str, day: int, data: dict) -> Fact:
    return Fact.from_json({"id": str(uuid.uuid4()), "type": type_, "subject": subject,
                           "occurred_at": _day(day), "sources": ["s"], "data": data})


@st.composite
def scripts(draw):
    """A platform, two orders, then random lifts, observations, corrections and retractions
    in a random recording order (some will be refused, as they would be in real use)."""
    facts = [_fact("platform-registered", "p", 0, {"name": "P", "targets": TARGETS})]
    for ref in ("o1", "o2"):
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=4, unique=True))
        facts.append(_fact("blocked", ref, draw(st.integers(1, 30)),
                           {"platform": "p", "authority": "A", "targets": targets,
                            "reasons": ["r"]}))
    steps = []
    for _ in range(draw(st.integers(1, 12))):
        ref = draw(st.sampled_from(["o1", "o2"]))
        kind = draw(st.sampled_from(["lift", "lift", "observe", "correct", "retract"]))
        steps.append((kind, ref, draw(st.integers(1, 60)),
                      draw(st.lists(st.sampled_from(TARGETS), max_size=2, unique=True)),
                      draw(st.booleans()), draw(st.integers(0, 1000))))
    return facts, steps


def _step_fact(step, recorded: list[Fact]) -> Fact:
    kind, ref, day, targets, flag, pick = step
    if kind == "lift":
        data = {"targets": targets} if targets else {}
        if flag:
            data["until"] = _day(day + 5)
        return _fact("unblocked", ref, day, data)
    if kind == "observe":
        return _fact("access-observed", ref, day, {"target": (targets or TARGETS)[0],
                                                  "accessible": flag})
    candidates = [f for f in recorded if f.subject == ref
                  and f.type not in ("correction", "retraction")]
    target = candidates[pick % len(candidates)] if candidates else recorded[0]
    if kind == "correct":
        return _fact("correction", ref, day, {"target": str(target.id), "reason": "r",
                                               "set": {"occurred_at": _day(day)}})
    return _fact("retraction", ref, day, {"target": str(target.id), "reason": "r"})


def record_script(ledger, facts: list[Fact], steps: list) -> None:
    """Record a generated script one event at a time, as operators would: the events the
    rules refuse are left out."""
    ledger.record(facts, operator="t")
    recorded = list(facts)
    for step in steps:
        fact = _step_fact(step, recorded)
        try:
            ledger.record([fact], operator="t")
        except LedgerError:
            event(f"refused {fact.type}")
            continue
        event(f"accepted {fact.type}")
        recorded.append(fact)


def _status(book: Book, as_of: str) -> dict:
    status = platform_status(book, "p", as_of=When.parse(as_of, end_of_day=True))
    status.pop("as_known_at")
    return status


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=scripts(), as_of_days=st.lists(st.integers(0, 70), min_size=1, max_size=4))
def test_as_known_at_equals_a_fresh_ledger_fed_what_was_known(tmp_path_factory, script,
                                                              as_of_days):
    """status(T, K) equals the status of a fresh ledger fed only what was recorded by K,
    with the corrections and retractions known at K applied."""
    facts, steps = script
    tmp = tmp_path_factory.mktemp("bitemporal")
    with open_ledger(parse_target(str(tmp / "main.db")), create=True) as ledger:
        record_script(ledger, facts, steps)
        entries = list(ledger.entries())
    for cut in range(len(facts), len(entries) + 1):
        known_at = entries[cut - 1].fact.recorded_at
        book = Book(entries, as_known_at=known_at)
        fresh_facts = [f for key in book.subjects for f in book.effective(*key).facts]
        fresh_facts.sort(key=lambda f: (not f.kind.creates, f.kind.subject != "platform"))
        with open_ledger(parse_target(str(tmp / f"fresh{cut}.db")), create=True) as fresh:
            fresh.record(fresh_facts, operator="t")
            fresh_book = Book(fresh.entries())
        for day in as_of_days:
            if day == 0:
                continue
            assert _status(book, _day(day)) == _status(fresh_book, _day(day))


class TestRandomRecordingOrder:
    """Documents surface late and in any order: the answer does not depend on it."""

    @settings(max_examples=8, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(seed=st.integers(0, 2**32 - 1))
    def test_the_2017_case_in_any_recording_order(self, tmp_path_factory, example, seed):
        """Recording the case's events one by one in a random order (retrying what a rule
        refuses until it can land) ends with the same status on every key date.

        Decisions and amendments come last: a grant recorded before the conditions it
        settled would rightly refuse them (they would leave it with a condition outstanding).
        """
        import random

        from ledger.interchange import read_facts

        with example.open("rb") as lines:
            facts = [f for _, f in read_facts(lines)]
        sinks = ("normalization-granted", "normalization-denied", "correction", "dispute")
        pending = [f for f in facts if f.type not in sinks]
        random.Random(seed).shuffle(pending)
        tmp = tmp_path_factory.mktemp("shuffled")
        with open_ledger(parse_target(str(tmp / "shuffled.db")), create=True) as ledger:
            while pending:
                landed = []
                for fact in pending:
                    try:
                        ledger.record([fact], operator="t")
                    except LedgerError:
                        continue
                    landed.append(fact)
                assert landed, f"stuck with {[f.type for f in pending]}"
                pending = [f for f in pending if f not in landed]
            ledger.record([f for f in facts if f.type in sinks], operator="t")
            shuffled = Book(ledger.entries())
        with open_ledger(parse_target(str(tmp / "ordered.db")), create=True) as ledger:
            ledger.record(facts, operator="t")
            ordered = Book(ledger.entries())
        for day in ("2017-07-13", "2017-07-14", "2017-07-20", "2017-08-01", "2017-08-10",
                    "2017-08-20"):
            as_of = When.parse(day, end_of_day=True)
            assert (platform_status(shuffled, "telegram", as_of=as_of)
                    == platform_status(ordered, "telegram", as_of=as_of))
