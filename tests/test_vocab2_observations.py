"""Issue 14, item 6: observations of a platform, with or without an order.

``access-observed`` may have a platform as its subject; ``method`` and ``jurisdiction`` are
optional. ``divergent`` covers both directions, and ``divergence`` says how each target
differs: reachable while blocked, unreachable after a lift, or unexplained (no order).
"""

from __future__ import annotations

import json

import pytest

from domain.declaration import REGISTRY
from domain.errors import BadInput
from domain.timeline import PlatformState, fold
from domain.values import When
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.book import Book
from projections.proof import check_report
from projections.status import platform_status
from tests.clitools import count, one_line_error, run, run_json
from tests.facts import blocked, given, observed, registered
from tests.test_domain import refused

SRC = ("--source", "https://explorer.ooni.org/m/1")


class TestObservationOfAPlatform:
    """Given a platform, when an observation of it is recorded, then it is folded into the
    platform (no order needed), or refused for a target the platform does not have."""

    def test_an_observation_of_a_registered_target_is_accepted(self):
        platform = given(registered(), observed("telegram", target="t.me", method="dns",
                                                jurisdiction="ID"))
        state = platform.state()
        assert isinstance(state, PlatformState)
        seen = state.observed["t.me"]
        assert (seen.data.accessible, seen.data.method, seen.data.jurisdiction) == (
            False, "dns", "ID")

    def test_a_target_the_platform_does_not_have_is_refused(self):
        platform = given(registered())
        message = refused(platform, observed("telegram", target="x.com"))
        assert "x.com is not a target of platform telegram" in message

    def test_the_latest_observation_of_a_target_counts(self):
        facts = [registered(), observed("telegram", at="2017-07-20", accessible=True),
                 observed("telegram", at="2017-07-10")]
        state = fold("platform", "telegram", facts)
        assert state.observed["t.me"].data.accessible is True

    @pytest.mark.parametrize("field,value", [
        ("method", "dpi"), ("method", "DNS"), ("jurisdiction", "br"),
        ("jurisdiction", "BRA"), ("jurisdiction", "IN-"), ("jurisdiction", 7)])
    def test_bad_method_or_jurisdiction_is_bad_input(self, field, value):
        with pytest.raises(BadInput, match=f"data.{field}"):
            observed("telegram", **{field: value})

    def test_subdivisions_are_jurisdictions(self):
        assert observed("telegram", jurisdiction="IN-JK").data.jurisdiction == "IN-JK"


class TestWhichSubjectAnObservationIsAbout:
    """An observation is of the order of its subject's name if one exists, else of the
    platform: decided by ``EventType.about``, the one rule every reader uses."""

    def test_an_order_of_that_name_comes_first(self):
        kind = REGISTRY["access-observed"]
        assert kind.subjects == ("order", "platform")
        assert kind.about("x", lambda k, ref: True) == "order"
        assert kind.about("x", lambda k, ref: k == "platform") == "platform"
        assert kind.about("x", lambda k, ref: False) == "order"  # then: no such order

    def test_other_types_are_about_their_declared_kind(self):
        assert REGISTRY["blocked"].about("x", lambda k, ref: False) == "order"


def ok(runner, db, *args, input=None):
    result = run(runner, db, *args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def case(runner, db):
    """telegram (t.me, web.telegram.org): unreachable before any order (1 June), an order
    from 14 July lifted on 1 August, t.me reachable on 15 July, unreachable on 2 August."""
    ok(runner, db, "record", "platform-registered", "telegram", "--at", "2017-01-01", *SRC,
       "--name", "Telegram", "--target", "t.me", "--target", "web.telegram.org")
    ok(runner, db, "record", "access-observed", "telegram", "--at", "2017-06-01", *SRC,
       "--target", "web.telegram.org", "--not-accessible", "--method", "dns",
       "--jurisdiction", "ID")
    ok(runner, db, "record", "blocked", "k1", "--at", "2017-07-14", *SRC,
       "--platform", "telegram", "--authority", "Kominfo", "--reason", "terrorism",
       "--target", "t.me")
    ok(runner, db, "record", "access-observed", "telegram", "--at", "2017-07-15", *SRC,
       "--target", "t.me", "--accessible", "--network", "AS7713")
    ok(runner, db, "record", "unblocked", "k1", "--at", "2017-08-01", *SRC)
    ok(runner, db, "record", "access-observed", "k1", "--at", "2017-08-02", *SRC,
       "--target", "t.me", "--not-accessible")


EXPECTED = {
    "2017-06-02": {"web.telegram.org": "unexplained"},
    "2017-07-16": {"t.me": "reachable-while-blocked", "web.telegram.org": "unexplained"},
    "2017-08-03": {"t.me": "unreachable-after-lift", "web.telegram.org": "unexplained"},
}


class TestDivergence:
    """Status says which targets' observed access contradicts the orders, and how."""

    def test_both_directions_and_unexplained(self, runner, db):
        case(runner, db)
        for as_of, expected in EXPECTED.items():
            status = run_json(runner, db, "status", "telegram", "--as-of", as_of)
            assert status["divergence"] == expected, as_of
            assert status["divergent"] == [t for t in ("t.me", "web.telegram.org")
                                           if t in expected]

    def test_a_platform_observation_shows_in_observed_and_history(self, runner, db):
        case(runner, db)
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-06-02")
        assert status["observed"] == {"web.telegram.org": {
            "accessible": False, "network": None, "at": "2017-06-01", "jurisdiction": "ID"}}
        events = run_json(runner, db, "history", "telegram")["events"]
        assert [(e["type"], e["subject"]) for e in events] == [
            ("platform-registered", "telegram"), ("access-observed", "telegram"),
            ("blocked", "k1"), ("access-observed", "telegram"), ("unblocked", "k1"),
            ("access-observed", "k1")]
        assert "by dns" in events[1]["summary"] and "in ID" in events[1]["summary"]

    def test_the_whole_ledgers_history_places_each_observation(self, runner, db):
        """The streamed history (views' rows) says the same as the platform's."""
        case(runner, db)
        whole = [(e["type"], e["subject"]) for e in run_json(runner, db, "history")["events"]]
        mine = [(e["type"], e["subject"])
                for e in run_json(runner, db, "history", "telegram")["events"]]
        assert whole == mine

    def test_status_of_all_platforms_agrees(self, runner, db):
        case(runner, db)
        listed = run_json(runner, db, "status", "--as-of", "2017-08-03")
        assert listed[0]["divergence"] == EXPECTED["2017-08-03"]

    def test_the_report_proves_every_event(self, runner, db):
        case(runner, db)
        ok(runner, db, "checkpoint")
        report = json.loads(ok(runner, db, "report", "provenance", "telegram",
                               "--format", "json").stdout)
        assert check_report(report) == len(report["events"]) == 6


class TestRefusals:
    """Bad observations: one line, the documented exit code, nothing written."""

    def test_no_subject_of_that_name(self, runner, db):
        case(runner, db)
        before = count(db)
        line = one_line_error(run(runner, db, "record", "access-observed", "nobody",
                                  "--at", "2017-08-02", *SRC, "--target", "t.me",
                                  "--not-accessible"), 1)
        assert "order or platform nobody does not exist" in line
        assert count(db) == before

    def test_a_target_of_another_platform(self, runner, db):
        case(runner, db)
        before = count(db)
        line = one_line_error(run(runner, db, "record", "access-observed", "telegram",
                                  "--at", "2017-08-02", *SRC, "--target", "x.com",
                                  "--accessible"), 1)
        assert "x.com is not a target of platform telegram" in line
        assert count(db) == before

    def test_a_bad_method_in_an_import_writes_nothing(self, runner, db, tmp_path):
        case(runner, db)
        before = count(db)
        good = {"type": "access-observed", "subject": "telegram", "occurred_at": "2017-09-01",
                "sources": [{"title": "m"}], "data": {"target": "t.me", "accessible": True}}
        bad = {**good, "occurred_at": "2017-09-02",
               "data": {"target": "t.me", "accessible": True, "method": "dpi"}}
        path = tmp_path / "obs.jsonl"
        path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
        line = one_line_error(run(runner, db, "import", str(path)), 2)
        assert "line 2" in line and "data.method" in line
        assert count(db) == before


class TestRoundTrip:
    """Export, then import into an empty ledger: the same status and history."""

    def test_export_import(self, runner, db, tmp_path):
        case(runner, db)
        exported = ok(runner, db, "export").stdout
        other = str(tmp_path / "again.db")
        ok(runner, other, "import", "-", input=exported)
        for as_of in EXPECTED:
            mine = run_json(runner, db, "status", "telegram", "--as-of", as_of)
            theirs = run_json(runner, other, "status", "telegram", "--as-of", as_of)
            assert mine == theirs
        strip = ("recorded_at", "position", "recorded_by")
        assert [{k: v for k, v in e.items() if k not in strip}
                for e in run_json(runner, db, "history", "telegram")["events"]] == [
            {k: v for k, v in e.items() if k not in strip}
            for e in run_json(runner, other, "history", "telegram")["events"]]

    def test_an_observation_before_an_order_of_the_same_name_stays_the_platforms(
            self, tmp_path):
        """A platform and an order both called 'alpha': the observation recorded before
        the order existed is the platform's, after it the order's, in every reader."""
        db = str(tmp_path / "same-name.db")
        lines = [
            registered("alpha", targets=["a.example"], name="Alpha"),
            observed("alpha", target="a.example", at="2017-02-01"),
            blocked("alpha", platform="alpha", targets=["a.example"], at="2017-03-01"),
            observed("alpha", target="a.example", at="2017-03-02", accessible=True),
        ]
        with open_ledger(parse_target(db), create=True) as ledger:
            ledger.record(lines, operator="test")
            book = Book(ledger.entries())
        assert [f.type for f in book.facts("platform", "alpha")] == [
            "platform-registered", "access-observed"]
        assert [f.type for f in book.facts("order", "alpha")] == [
            "blocked", "access-observed"]
        status = platform_status(book, "alpha", as_of=When.parse("2017-03-03",
                                                                end_of_day=True))
        assert status["divergence"] == {"a.example": "reachable-while-blocked"}
