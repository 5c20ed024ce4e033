"""The 2017 Telegram case on each store (SQLite, PostgreSQL), through the CLI."""

from __future__ import annotations

import json

import pytest

from tests.clitools import count, run, run_json

ELEVEN = ["t.me", "telegram.me", "telegram.org", "core.telegram.org", "desktop.telegram.org",
          "macos.telegram.org", "web.telegram.org", "venus.web.telegram.org",
          "pluto.web.telegram.org", "flora.web.telegram.org", "flora-1.web.telegram.org"]


@pytest.fixture
def ledger_2017(runner, db, example):
    """A ledger holding the bundled 2017 case."""
    result = run(runner, db, "import", str(example))
    assert result.exit_code == 0, result.output
    return db


def test_before_the_block_telegram_is_accessible(runner, ledger_2017):
    """On 13 July 2017, after six unanswered emails, nothing was blocked yet."""
    status = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-07-13")
    assert status["state"] == "accessible"
    assert status["orders"] == []


def test_on_20_july_the_web_service_is_partially_blocked(runner, ledger_2017):
    """On 20 July 2017 the 11 web names are blocked and the apps are not."""
    status = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-07-20")
    assert status["state"] == "partially-blocked"
    assert status["blocked_targets"] == ELEVEN
    assert status["as_of"] == "2017-07-20"
    assert status["as_known_at"] is None
    [order] = status["orders"]
    assert order["state"] == "in-effect" and order["authority"] == "Kominfo"
    [request] = status["normalizations"]
    assert request["state"] == "open"
    assert request["conditions"] == {"local-office": "pending", "government-channel": "pending",
                                     "trusted-flagger": "pending",
                                     "content-removal": "pending"}


def test_after_the_ceo_meeting_commitments_show(runner, ledger_2017):
    """After the 1 August meeting, two conditions are committed and sop is pending."""
    status = run_json(runner, ledger_2017, "status", "telegram",
                      "--as-of", "2017-08-01T16:00:00+07:00")
    conditions = status["normalizations"][0]["conditions"]
    assert conditions["government-channel"] == "committed"
    assert conditions["content-removal"] == "committed"
    assert conditions["sop"] == "pending"
    assert status["state"] == "partially-blocked"


def test_on_20_august_telegram_is_accessible_and_granted(runner, ledger_2017):
    """On 20 August 2017 the block is lifted and the request granted."""
    status = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-08-20")
    assert status["state"] == "accessible"
    assert status["blocked_targets"] == []
    assert status["orders"][0]["state"] == "lifted"
    request = status["normalizations"][0]
    assert request["state"] == "granted"
    assert set(request["conditions"].values()) == {"met", "waived"}


def test_status_of_every_platform_is_a_list(runner, ledger_2017):
    """status --json without a platform prints a list of status objects."""
    statuses = run_json(runner, ledger_2017, "status", "--as-of", "2017-07-20")
    assert [s["platform"] for s in statuses] == ["telegram"]


def test_history_of_the_platform_includes_its_order_and_request(runner, ledger_2017, example):
    """A platform's history brings its orders' and requests' events, by valid time."""
    rows = run_json(runner, ledger_2017, "history", "telegram")["events"]
    assert len(rows) == len(example.read_text().splitlines())
    assert rows[0]["type"] == "platform-registered"
    types = [r["type"] for r in rows]
    assert types.index("normalization-granted") < types.index("unblocked")
    assert all(r["recorded_at"] and r["recorded_by"] == "tester" for r in rows)


def test_as_known_at_before_recording_knows_nothing(runner, ledger_2017):
    """What the ledger said before the case was recorded: no platform at all."""
    statuses = run_json(runner, ledger_2017, "status", "--as-known-at", "2020-01-01")
    assert statuses == []


def test_export_then_import_gives_the_same_status_and_history(runner, ledger_2017, tmp_path):
    """Export, import into an empty ledger: same status on every key date, same history."""
    exported = run(runner, ledger_2017, "export").stdout
    copy = str(tmp_path / "copy.db")
    result = run(runner, copy, "import", "-", input=exported)
    assert result.exit_code == 0, result.output
    for day in ("2017-07-13", "2017-07-20", "2017-08-01", "2017-08-20"):
        assert (run_json(runner, copy, "status", "--as-of", day)
                == run_json(runner, ledger_2017, "status", "--as-of", day))

    def strip(rows):
        return [{k: v for k, v in r.items() if k not in ("recorded_at", "position")}
                for r in rows]

    assert strip(run_json(runner, copy, "history")["events"]) == strip(
        run_json(runner, ledger_2017, "history")["events"])
    assert count(copy) == count(ledger_2017)
    assert [json.loads(x)["id"] for x in exported.splitlines()] == [
        json.loads(x)["id"] for x in run(runner, copy, "export").stdout.splitlines()]


def test_refusals_write_nothing_on_this_store(runner, ledger_2017):
    """A refused event and a bad one leave the store as it was."""
    before = count(ledger_2017)
    refused = run(runner, ledger_2017, "record", "condition-met", "telegram-id-2017", "--at",
                  "2017-08-11", "--source", "x", "--condition", "sop")
    assert refused.exit_code == 1
    assert "already decided" in refused.output
    bad = run(runner, ledger_2017, "record", "blocked", "x", "--at", "nonsense", "--source",
              "x")
    assert bad.exit_code == 2
    assert count(ledger_2017) == before


class TestAmendmentsAndObservations:
    """Corrections, disputes and observations in the bundled case."""

    def test_the_corrected_block_time_counts(self, runner, ledger_2017):
        """The block is in force from 11:00 WIB once corrected, not from midnight UTC."""
        before = run_json(runner, ledger_2017, "status", "telegram",
                          "--as-of", "2017-07-14T10:00:00+07:00")
        after = run_json(runner, ledger_2017, "status", "telegram",
                         "--as-of", "2017-07-14T11:00:00+07:00")
        assert before["state"] == "accessible"
        assert after["state"] == "partially-blocked"

    def test_history_links_the_correction_and_the_dispute(self, runner, ledger_2017):
        """history --json lists corrected_by and disputed_by, and the original values."""
        events = run_json(runner, ledger_2017, "history", "telegram")["events"]
        rows = {r["type"]: r for r in events}
        block, correction = rows["blocked"], rows["correction"]
        assert block["corrected_by"] == [correction["id"]]
        assert block["occurred_at"] == "2017-07-14T11:00:00+07:00"
        assert block["original"] == {"occurred_at": "2017-07-14"}
        first_email = next(r for r in events if r["type"] == "email-sent")
        assert first_email["disputed_by"] == [rows["dispute"]["id"]]
        assert first_email["retracted_by"] == []

    def test_a_dispute_changes_nothing_but_shows(self, runner, ledger_2017):
        """The disputed first email flags the platform; its state is unchanged."""
        status = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-07-20")
        assert status["disputed"] is True
        assert status["orders"][0]["disputed"] is False
        assert status["state"] == "partially-blocked"

    def test_observations_after_the_lift_are_divergent(self, runner, ledger_2017):
        """Five names still unreachable after the lift of 10 August show as divergent."""
        status = run_json(runner, ledger_2017, "status", "telegram", "--as-of", "2017-08-10")
        assert status["state"] == "accessible"
        assert status["divergent"] == ["t.me", "venus.web.telegram.org",
                                       "pluto.web.telegram.org", "flora.web.telegram.org",
                                       "flora-1.web.telegram.org"]
        assert status["observed"]["t.me"] == {
            "accessible": False, "at": "2017-08-10", "jurisdiction": "ID",
            "network": "some Indonesian ISPs (only one had unblocked that day)"}
        assert run_json(runner, ledger_2017, "status", "telegram",
                        "--as-of", "2017-08-09")["observed"] == {}
