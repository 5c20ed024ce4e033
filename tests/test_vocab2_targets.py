"""Issue 14, item 3: a platform's targets over valid time.

``targets-added`` and ``targets-removed`` change what a platform is reached at; a
``blocked`` naming a target the platform does not hold at the order's valid time is
refused (exit 1), naming the target and the platform and suggesting ``targets-added``.
The rule applies to new writes (record, import, a correction of an order); events stored
before it existed are read as they are.
"""

from __future__ import annotations

import json

import pytest

from domain.checked import Timeline
from domain.errors import RuleBroken
from domain.fact import Fact
from domain.timeline import fold
from tests.clitools import count, one_line_error, run, run_json
from tests.facts import NOW, fact, given, instant, observed, registered
from tests.test_domain import refused

SRC = ("--source", "https://example.org/registry")


def added(subject: str = "telegram", *, targets=("telegram.me",), at: str = "2018-01-01",
          **kw) -> Fact:
    return fact("targets-added", subject, at=at, data={"targets": list(targets), **kw})


def removed(subject: str = "telegram", *, targets=("t.me",), at: str = "2019-01-01",
            **kw) -> Fact:
    return fact("targets-removed", subject, at=at, data={"targets": list(targets), **kw})


class TestTargetsOverTime:
    """Given a platform, when its targets change, then its state holds them from then."""

    def test_targets_at_each_valid_time(self):
        facts = [registered(targets=["t.me", "web.telegram.org"]), added(), removed()]
        at = {day: fold("platform", "telegram", facts, until=instant(day)).targets
              for day in ("2017-06-01", "2018-06-01", "2019-06-01")}
        assert at == {"2017-06-01": ("t.me", "web.telegram.org"),
                      "2018-06-01": ("t.me", "web.telegram.org", "telegram.me"),
                      "2019-06-01": ("web.telegram.org", "telegram.me")}

    def test_a_target_added_twice_is_refused(self):
        platform = given(registered(), added())
        assert "telegram.me is already a target of platform telegram" in refused(
            platform, added(at="2018-02-01"))

    def test_removing_a_target_not_held_is_refused(self):
        platform = given(registered())
        assert "x.com is not a target of platform telegram" in refused(
            platform, removed(targets=["x.com"]))

    def test_an_observation_of_a_removed_target_is_refused(self):
        platform = given(registered(), removed())
        message = refused(platform, observed("telegram", target="t.me", at="2019-02-01"))
        assert "record targets-added first" in message

    def test_a_back_dated_removal_that_breaks_a_later_observation_is_refused(self):
        """Placed at its valid time, the removal would leave the later observation of the
        target without it: refused, naming the observation, on both check paths."""
        seen = observed("telegram", target="t.me", at="2018-07-15")
        platform = given(registered(), seen)
        message = refused(platform, removed(at="2018-07-01"))
        assert "conflicts with access-observed of 2018-07-15" in message
        timeline = Timeline.of("platform", "telegram", [registered(), seen])
        timeline.compact(lambda: [registered(), seen])  # the bulk import's checks
        with pytest.raises(RuleBroken, match="conflicts with access-observed"):
            timeline.check(removed(at="2018-07-01"), NOW)

    def test_a_back_dated_addition_before_a_later_one_is_refused(self):
        platform = given(registered(), added(at="2018-06-01"))
        assert "already a target" in refused(platform, added(at="2018-01-01"))


def ok(runner, db, *args, input=None):
    result = run(runner, db, *args, input=input)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def wikipedia(runner, db):
    ok(runner, db, "record", "platform-registered", "wikipedia", "--at", "2010-01-01", *SRC,
       "--name", "Wikipedia", "--target", "wikipedia.org")


def block(runner, db, *targets, at="2017-04-29", ref="btk-2017"):
    args = [a for t in targets for a in ("--target", t)]
    return run(runner, db, "record", "blocked", ref, "--at", at, *SRC, "--platform",
               "wikipedia", "--authority", "BTK", "--reason", "Law 5651", *args)


class TestBlockedTargetMustBeHeld:
    """A ``blocked`` target the platform does not hold then is refused, exit 1."""

    def test_a_typo_is_refused_naming_target_and_platform(self, runner, db):
        wikipedia(runner, db)
        before = count(db)
        line = one_line_error(block(runner, db, "wikipedia.org", "wikipedia.com"), 1)
        assert "target wikipedia.com of order btk-2017" in line
        assert "not a target of platform wikipedia at 2017-04-29" in line
        assert "targets-added" in line
        assert count(db) == before

    def test_a_target_added_that_day_may_be_blocked(self, runner, db):
        """Same bare date: the addition ranks before the order."""
        wikipedia(runner, db)
        ok(runner, db, "record", "targets-added", "wikipedia", "--at", "2017-04-29", *SRC,
           "--target", "tr.wikipedia.org", "--summary", "the Turkish edition")
        assert block(runner, db, "wikipedia.org", "tr.wikipedia.org").exit_code == 0
        status = run_json(runner, db, "status", "wikipedia", "--as-of", "2017-05-01")
        assert status["state"] == "blocked"
        assert status["blocked_targets"] == ["wikipedia.org", "tr.wikipedia.org"]

    def test_a_target_added_later_is_refused_before_then(self, runner, db):
        wikipedia(runner, db)
        ok(runner, db, "record", "targets-added", "wikipedia", "--at", "2018-01-01", *SRC,
           "--target", "tr.wikipedia.org")
        line = one_line_error(block(runner, db, "tr.wikipedia.org"), 1)
        assert "tr.wikipedia.org" in line

    def test_a_target_added_later_makes_the_platform_partially_blocked(self, runner, db):
        wikipedia(runner, db)
        assert block(runner, db, "wikipedia.org").exit_code == 0
        ok(runner, db, "record", "targets-added", "wikipedia", "--at", "2018-01-01", *SRC,
           "--target", "wikipedia.com.tr")
        states = [run_json(runner, db, "status", "wikipedia", "--as-of", day)["state"]
                  for day in ("2017-12-31", "2018-01-02")]
        assert states == ["blocked", "partially-blocked"]

    def test_a_correction_to_a_target_not_held_is_refused(self, runner, db):
        wikipedia(runner, db)
        block_id = "44444444-4444-4444-8444-444444444444"
        ok(runner, db, "record", "blocked", "btk-2017", "--at", "2017-04-29", *SRC,
           "--id", block_id, "--platform", "wikipedia", "--authority", "BTK",
           "--reason", "Law 5651", "--target", "wikipedia.org")
        before = count(db)
        line = one_line_error(run(runner, db, "record", "correction", "btk-2017", "--at",
                                  "2017-05-01", *SRC, "--target", block_id, "--set",
                                  'targets=["wikipedia.com"]', "--reason", "typo"), 1)
        assert "wikipedia.com" in line and "targets-added" in line
        assert count(db) == before

    def test_an_order_dated_before_the_registration_keeps_the_registered_targets(
            self, runner, db):
        """Ledgers hold orders dated before their platform entered the ledger: the
        registered targets count from before the registration too."""
        ok(runner, db, "record", "platform-registered", "wikipedia", "--at", "2020-01-01",
           *SRC, "--name", "Wikipedia", "--target", "wikipedia.org")
        assert block(runner, db, "wikipedia.org").exit_code == 0
        line = one_line_error(block(runner, db, "wikipedia.com", ref="typo"), 1)
        assert "wikipedia.com" in line

    def test_the_import_refuses_it_too_and_writes_nothing(self, runner, db, tmp_path):
        lines = [
            {"type": "platform-registered", "subject": "wikipedia",
             "occurred_at": "2010-01-01", "sources": [{"title": "s"}],
             "data": {"name": "Wikipedia", "targets": ["wikipedia.org"]}},
            {"type": "blocked", "subject": "btk-2017", "occurred_at": "2017-04-29",
             "sources": [{"title": "s"}],
             "data": {"platform": "wikipedia", "authority": "BTK", "reasons": ["r"],
                      "targets": ["wikipedia.com"]}},
        ]
        path = tmp_path / "typo.jsonl"
        path.write_text("".join(json.dumps(line) + "\n" for line in lines))
        line = one_line_error(run(runner, db, "import", str(path)), 1)
        assert "line 2" in line and "wikipedia.com" in line
        assert count(db) == 0


class TestRoundTrip:
    """Export, then import into an empty ledger: the same status over time."""

    def test_export_import(self, runner, db, tmp_path):
        wikipedia(runner, db)
        ok(runner, db, "record", "targets-added", "wikipedia", "--at", "2017-04-29", *SRC,
           "--target", "tr.wikipedia.org")
        assert block(runner, db, "tr.wikipedia.org").exit_code == 0
        ok(runner, db, "record", "targets-removed", "wikipedia", "--at", "2019-01-01", *SRC,
           "--target", "wikipedia.org", "--summary", "moved")
        other = str(tmp_path / "again.db")
        ok(runner, other, "import", "-", input=ok(runner, db, "export").stdout)
        for day in ("2017-04-28", "2017-05-01", "2019-02-01"):
            assert (run_json(runner, db, "status", "wikipedia", "--as-of", day)
                    == run_json(runner, other, "status", "wikipedia", "--as-of", day))
        assert run_json(runner, other, "status", "wikipedia", "--as-of",
                        "2019-02-01")["state"] == "blocked"
