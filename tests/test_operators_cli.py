"""``blockledger operator`` and signed writes through the command line, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli import cli
from tests.clitools import key_pair

SRC = ["--source", "https://example.org/notice"]


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, tuple[str, str]]:
    """``name -> (private PEM path, public PEM path)`` for alice, bob and carol."""
    return {name: key_pair(tmp_path, name) for name in ("alice", "bob", "carol")}


def run(runner, db, *args, key=None, operator="alice"):
    extra = ["--key", key] if key else []
    return runner.invoke(cli, ["--db", db, "--operator", operator, *extra, *args])


def test_operators_sign_every_write_and_verify_checks_them(runner, db, pems):
    alice, bob = pems["alice"], pems["bob"]
    # Before any operator, anyone records unsigned.
    result = run(runner, db, "record", "platform-registered", "telegram", "--at", "2017-01-01",
                 *SRC, "--name", "Telegram", "--target", "t.me", operator="tester")
    assert result.exit_code == 0, result.output
    # The trust anchor: alice registers herself, signing with her own key.
    result = run(runner, db, "operator", "add", "alice", "--public-key", alice[1], key=alice[0])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("added operator alice (recorder)")
    result = run(runner, db, "operator", "add", "bob", "--public-key", bob[1], "--role",
                 "auditor", "--source", "https://example.org/appointment", key=alice[0])
    assert result.exit_code == 0, result.output

    # Writes now need a registered recorder with its key; refusals write nothing.
    email = ["record", "email-sent", "telegram", "--at", "2017-03-01", *SRC, "--sender", "K",
             "--recipient", "T", "--summary", "remove the channels"]
    refusals = [
        ({}, 2, "must sign"),
        ({"key": pems["carol"][0]}, 2, "not the registered key of operator 'alice'"),
        ({"key": pems["carol"][0], "operator": "carol"}, 1, "'carol' is not registered"),
        ({"key": bob[0], "operator": "bob"}, 1, "'bob' is an auditor"),
    ]
    for options, code, words in refusals:
        result = run(runner, db, *email, **options)
        assert result.exit_code == code, (options, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0], lines
    assert run(runner, db, *email, key=alice[0]).exit_code == 0

    listed = json.loads(run(runner, db, "operator", "list", "--json").output)
    assert [(op["name"], op["role"], op["revoked_at"]) for op in listed] == [
        ("alice", "recorder", None), ("bob", "auditor", None)]
    verdict = json.loads(run(runner, db, "verify", "--json").output)
    assert verdict["ok"] is True
    assert verdict["signatures"]["signed"] == 3
    assert verdict["signatures"]["unsigned_before_operators"] == 1

    # Revoking bob: signed by alice; bob is gone from the writers for good.
    result = run(runner, db, "operator", "revoke", "bob", "--reason", "left", key=alice[0])
    assert result.exit_code == 0, result.output
    listed = json.loads(run(runner, db, "operator", "list", "--json").output)
    # (PostgreSQL's positions may skip the numbers of the refused writes' sequence values.)
    assert listed[1]["revoked_at"] > listed[1]["added_at"] > listed[0]["added_at"]
    assert listed[1]["revoked_reason"] == "left"
    assert "revoked" in run(runner, db, "operator", "list").output


def test_the_signing_key_may_come_from_the_environment(runner, db, pems, monkeypatch):
    alice = pems["alice"]
    assert run(runner, db, "operator", "add", "alice", "--public-key", alice[1]).exit_code == 0
    monkeypatch.setenv("BLOCKLEDGER_SIGNING_KEY", alice[0])
    result = run(runner, db, "record", "platform-registered", "telegram", "--at", "2017-01-01",
                 *SRC, "--name", "Telegram", "--target", "t.me")
    assert result.exit_code == 0, result.output
    verdict = json.loads(run(runner, db, "verify", "--json").output)
    assert verdict["ok"] and verdict["signatures"]["signed"] == 1


def test_unsigned_events_after_the_first_operator_fail_verify(runner, sqlite_path, pems):
    """An event slipped in unsigned behind the ledger's back (its signature row deleted)
    makes verify exit 3 and name its position."""
    import sqlite3

    alice = pems["alice"]
    assert run(runner, sqlite_path, "operator", "add", "alice", "--public-key",
               alice[1]).exit_code == 0
    assert run(runner, sqlite_path, "record", "platform-registered", "telegram", "--at",
               "2017-01-01", *SRC, "--name", "T", "--target", "t.me",
               key=alice[0]).exit_code == 0
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("DELETE FROM stored_events_signatures WHERE position = 2")
    result = run(runner, sqlite_path, "verify")
    assert result.exit_code == 3
    assert "1 unsigned (first at position 2)" in result.output
    verdict = json.loads(run(runner, sqlite_path, "verify", "--json").output)
    assert verdict["ok"] is False
    assert verdict["signatures"]["problems"] == {"unsigned": {"count": 1, "positions": [2]}}


def test_bad_operator_input_is_one_line(runner, sqlite_path, pems, tmp_path):
    bad = tmp_path / "bad.pub"
    bad.write_text("not a key")
    cases = [
        (["operator", "add", "alice", "--public-key", str(tmp_path / "missing.pub")],
         "no such file"),
        (["operator", "add", "alice", "--public-key", str(bad)], "not an Ed25519 public key"),
        (["operator", "add", "alice", "--public-key", pems["alice"][0]], "is a private key"),
        (["operator", "add", "Alice Smith", "--public-key", pems["alice"][1]],
         "'Alice Smith' is not a reference"),
        (["operator", "revoke", "nobody"], "nobody"),
    ]
    for args, words in cases:
        result = run(runner, sqlite_path, *args)
        assert result.exit_code in (1, 2), (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and words in lines[0], (args, lines)
    assert json.loads(run(runner, sqlite_path, "operator", "list", "--json").output) == []


def test_keygen_writes_a_pair_that_operator_add_and_signing_accept(runner, sqlite_path,
                                                                    tmp_path):
    import stat

    path = str(tmp_path / "dana.pem")
    result = runner.invoke(cli, ["operator", "keygen", path])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(Path(path).stat().st_mode) == 0o600
    again = runner.invoke(cli, ["operator", "keygen", path])
    assert again.exit_code == 2 and "never overwrites" in again.output
    assert Path(str(tmp_path / "dana.pub")).exists()
    assert run(runner, sqlite_path, "operator", "add", "dana", "--public-key",
               str(tmp_path / "dana.pub"),
               key=path, operator="dana").exit_code == 0
    verdict = json.loads(run(runner, sqlite_path, "verify", "--json").output)
    assert verdict["ok"] and verdict["signatures"]["signed"] == 1


def test_import_is_signed_too_and_refused_whole_without_the_key(runner, db, pems, example):
    """The bulk import writes through the same recorder: every imported event is signed,
    and without the key nothing of the file lands (in batches or not)."""
    alice = pems["alice"]
    assert run(runner, db, "operator", "add", "alice", "--public-key", alice[1],
               key=alice[0]).exit_code == 0
    for extra in ([], ["--batch-commit", "--batch-size", "5"]):
        result = run(runner, db, "import", str(example), *extra)
        assert result.exit_code == 2 and "must sign" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    assert json.loads(run(runner, db, "verify", "--json").output)["events"] == 1
    result = run(runner, db, "import", str(example), "--batch-commit", "--batch-size", "7",
                 key=alice[0])
    assert result.exit_code == 0, result.output
    verdict = json.loads(run(runner, db, "verify", "--json").output)
    assert verdict["ok"] and verdict["signatures"]["signed"] == verdict["events"] > 30


def test_the_list_shows_its_times_in_the_zone_asked(runner, sqlite_path, pems, monkeypatch):
    """operator list's table shows when each operator was added in the --tz zone, to the
    minute (it printed ISO UTC whatever --tz or BLOCKLEDGER_TZ said); JSON keeps ISO 8601;
    a bad zone is one line, exit 2."""
    import re
    from datetime import datetime, timedelta

    assert run(runner, sqlite_path, "operator", "add", "alice", "--public-key",
               pems["alice"][1]).exit_code == 0
    listed = json.loads(run(runner, sqlite_path, "operator", "list", "--json").output)
    recorded = datetime.fromisoformat(listed[0]["added_recorded_at"])
    in_jakarta = (recorded + timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")
    monkeypatch.setenv("COLUMNS", "200")
    for args in (("operator", "list", "--tz", "Asia/Jakarta"),
                 ("--tz", "Asia/Jakarta", "operator", "list")):
        shown = run(runner, sqlite_path, *args).output
        assert f"recorded {in_jakarta}, #" in shown and "times in Asia/Jakarta" in shown
        assert not re.search(r"\d{2}:\d{2}:\d{2}", shown), shown  # (to the minute)
    monkeypatch.setenv("BLOCKLEDGER_TZ", "Asia/Jakarta")
    assert f"recorded {in_jakarta}, #" in run(runner, sqlite_path, "operator", "list").output
    bad = run(runner, sqlite_path, "operator", "list", "--tz", "Mars/Base")
    assert bad.exit_code == 2 and "'Mars/Base'" in bad.output
    assert len(bad.output.strip().splitlines()) == 1
