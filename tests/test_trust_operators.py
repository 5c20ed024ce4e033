"""Who may write is decided in the write transaction, and no operator action can make the
ledger unverifiable or unwritable (issue "Trust that holds", items 5 and 6).

- Of operators added first at the same moment, exactly one becomes the trust anchor; the
  others are refused (they are not registered by the time they write).
- An import that started before its operator was revoked stops at its first batch after
  the revocation: nothing signed by a revoked key is ever written, and the ledger still
  verifies.
- A public key registered once is refused for anyone else (an auditor registered with a
  recorder's key made verify fail forever); the last recorder cannot be revoked.
"""

from __future__ import annotations

import json
import multiprocessing
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.clitools import count, key_pair, one_line_error

ROOT = Path(__file__).resolve().parent.parent
SRC = ["--source", "https://example.org/notice"]


def _pem(tmp_path: Path, name: str) -> tuple[str, str]:
    return key_pair(tmp_path, name)


def run(runner: CliRunner, db: str, *args: str, operator: str = "alice",
        key: str | None = None) -> Any:
    from cli import cli

    extra = ["--key", key] if key else []
    return runner.invoke(cli, ["--db", db, "--operator", operator, *extra, *args])


@pytest.fixture
def pems(tmp_path: Path) -> dict[str, tuple[str, str]]:
    return {name: _pem(tmp_path, name) for name in ("alice", "bob", "carol", "dave")}


def _verified(runner: CliRunner, db: str) -> dict[str, Any]:
    result = run(runner, db, "verify", "--json")
    return json.loads(result.stdout)


# --- operator management cannot lock anyone out -------------------------------------------


def test_a_public_key_belongs_to_one_operator(runner, db, pems):
    alice, bob = pems["alice"], pems["bob"]
    assert run(runner, db, "operator", "add", "alice", "--public-key", alice[1],
               key=alice[0]).exit_code == 0
    # An auditor registered with alice's public key used to make verify fail for ever.
    result = run(runner, db, "operator", "add", "mallory", "--public-key", alice[1],
                 "--role", "auditor", key=alice[0])
    error = one_line_error(result, 1)
    assert "already registered to operator 'alice'" in error
    assert run(runner, db, "operator", "add", "bob", "--public-key", bob[1],
               key=alice[0]).exit_code == 0
    # Even a revoked operator's key is never given to anyone else.
    assert run(runner, db, "operator", "revoke", "bob", key=alice[0]).exit_code == 0
    error = one_line_error(run(runner, db, "operator", "add", "bob2", "--public-key", bob[1],
                               key=alice[0]), 1)
    assert "already registered to operator 'bob'" in error
    assert _verified(runner, db)["ok"] is True


def test_the_last_recorder_cannot_be_revoked(runner, db, pems):
    alice, bob, carol = pems["alice"], pems["bob"], pems["carol"]
    assert run(runner, db, "operator", "add", "alice", "--public-key", alice[1],
               key=alice[0]).exit_code == 0
    assert run(runner, db, "operator", "add", "bob", "--public-key", bob[1], "--role",
               "auditor", key=alice[0]).exit_code == 0
    # Alice revoking herself, the only recorder, would leave the ledger unwritable.
    error = one_line_error(run(runner, db, "operator", "revoke", "alice", key=alice[0]), 1)
    assert "last recorder" in error
    assert run(runner, db, "operator", "add", "carol", "--public-key", carol[1],
               key=alice[0]).exit_code == 0
    assert run(runner, db, "operator", "revoke", "alice", key=alice[0]).exit_code == 0
    error = one_line_error(run(runner, db, "operator", "revoke", "carol", operator="carol",
                               key=carol[0]), 1)
    assert "last recorder" in error
    # The ledger stays writable, by carol.
    assert run(runner, db, "record", "platform-registered", "telegram", "--at", "2017-01-01",
               *SRC, "--name", "Telegram", "--target", "t.me", operator="carol",
               key=carol[0]).exit_code == 0
    assert _verified(runner, db)["ok"] is True


# --- the first trust anchor is created once ---------------------------------------------------


def _anchor(db: str, name: str, pem: tuple[str, str], barrier: Any, results: Any) -> None:
    barrier.wait(timeout=120)
    result = run(CliRunner(), db, "operator", "add", name, "--public-key", pem[1],
                 operator=name, key=pem[0])
    results.put((name, result.exit_code, result.stderr))


ANCHORS, TRIALS = 4, 3


@pytest.mark.parametrize("trial", range(TRIALS))
def test_operators_added_first_at_once_make_one_anchor(runner, db, tmp_path, trial):
    from cli import cli

    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0
    pems = {f"op{i}": _pem(tmp_path, f"op{i}") for i in range(ANCHORS)}
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(ANCHORS), ctx.Queue()
    processes = [ctx.Process(target=_anchor, args=(db, name, pem, barrier, results))
                 for name, pem in pems.items()]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=300)
    outcomes = [results.get(timeout=10) for _ in processes]
    won = [name for name, code, _ in outcomes if code == 0]
    assert len(won) == 1, outcomes
    for name, code, stderr in outcomes:
        if code != 0:
            assert code == 1 and "not registered" in stderr, (name, code, stderr)
    listed = json.loads(run(runner, db, "operator", "list", "--json").stdout)
    assert [op["name"] for op in listed] == won
    assert _verified(runner, db)["ok"] is True


# --- authorization in the write transaction ----------------------------------------------------


def _import_file(path: Path, events: int) -> None:
    lines = [{"type": "platform-registered", "subject": "telegram", "occurred_at": "2015-01-01",
              "sources": ["https://example.org"], "data": {"name": "Telegram",
                                                           "targets": ["t.me"]}}]
    lines += [{"type": "email-sent", "subject": "telegram",
               "occurred_at": f"2016-01-01T00:00:{i % 60:02d}+00:00",
               "sources": ["https://example.org"],
               "data": {"sender": "K", "recipient": "T", "summary": f"notice {i}"}}
              for i in range(events)]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_an_import_stops_when_its_operator_is_revoked_meanwhile(runner, db, pems, tmp_path):
    alice, carol = pems["alice"], pems["carol"]
    assert run(runner, db, "operator", "add", "alice", "--public-key", alice[1],
               key=alice[0]).exit_code == 0
    assert run(runner, db, "operator", "add", "carol", "--public-key", carol[1],
               key=alice[0]).exit_code == 0
    data = tmp_path / "big.jsonl"
    _import_file(data, 40_000)
    before = count(db)
    importing = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "--db", db, "--operator",
         "carol", "--key", carol[0], "import", "--batch-commit", "--batch-size", "500",
         str(data)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while count(db) <= before + 500 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert importing.poll() is None, "the import finished before the revocation"
        result = run(runner, db, "operator", "revoke", "carol", key=alice[0])
        assert result.exit_code == 0, result.output
        _, stderr = importing.communicate(timeout=300)
    finally:
        if importing.poll() is None:
            importing.kill()
    assert importing.returncode == 1, stderr
    assert "carol' was revoked" in stderr and len(stderr.strip().splitlines()) == 1, stderr
    verdict = _verified(runner, db)
    assert verdict["ok"] is True, verdict
    assert count(db) < before + 40_001


# --- found by the second hostile review ----------------------------------------------------------


def test_a_key_given_before_any_operator_signs_nothing_but_its_own_anchor(runner, db, pems,
                                                                           example):
    """A signing key in the environment on a ledger with no operator yet used to sign every
    event, under a key no operator had: verify failed for ever ("unknown key")."""
    alice, bob = pems["alice"], pems["bob"]
    assert run(runner, db, "import", str(example), key=alice[0]).exit_code == 0
    assert _verified(runner, db)["ok"] is True
    # The anchor is signed by the key it registers, or by none: another key is refused.
    error = one_line_error(run(runner, db, "operator", "add", "alice", "--public-key",
                               alice[1], key=bob[0]), 1)
    assert "signed by another key" in error
    assert run(runner, db, "operator", "add", "alice", "--public-key", alice[1],
               key=alice[0]).exit_code == 0
    verdict = _verified(runner, db)
    assert verdict["ok"] is True
    assert verdict["signatures"]["signed"] == 1
    assert verdict["signatures"]["unsigned_before_operators"] == 33
