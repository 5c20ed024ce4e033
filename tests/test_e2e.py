"""End to end: the installed ``blockledger`` command, as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.clitools import blockledger

pytestmark = pytest.mark.e2e


def sh(*args: str, cwd: Path, db: str | None = None,
       **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKLEDGER_")}
    env["BLOCKLEDGER_OPERATOR"] = "e2e"
    env.update(extra)
    if db:
        env["BLOCKLEDGER_DB"] = db
    return subprocess.run([blockledger(), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_demo_runs_in_an_empty_directory(tmp_path):
    """'blockledger demo' shows the case on key dates and leaves no ledger behind."""
    result = sh("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "partially-blocked" in result.stdout
    assert "granted" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_record_and_status_with_the_default_file(tmp_path):
    """Recording into ./blockledger.db, then asking its status, as an operator would."""
    steps = [
        ("record", "platform-registered", "signal", "--at", "2020-01-01", "--source",
         "https://signal.org", "--name", "Signal", "--target", "signal.org"),
        ("record", "blocked", "ir-2021-01", "--at", "2021-01-25T10:00:00+03:30", "--source",
         "a news report", "--platform", "signal", "--authority", "CCDOC", "--target",
         "signal.org", "--reason", "unlicensed messaging"),
    ]
    for step in steps:
        result = sh(*step, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    assert (tmp_path / "blockledger.db").exists()
    status = json.loads(sh("status", "signal", "--json", cwd=tmp_path).stdout)
    assert status["state"] == "blocked"
    bad = sh("record", "unblocked", "ir-2021-01", "--at", "2021-01-01", "--source", "x",
             cwd=tmp_path)
    assert bad.returncode == 1
    assert bad.stderr.startswith("error: refused:") and "Traceback" not in bad.stderr


def test_an_operator_signs_what_she_records(tmp_path):
    """keygen, register, record with the key from the environment, verify the signatures;
    an unsigned write is refused in one line."""
    assert sh("operator", "keygen", "alice.pem", cwd=tmp_path).returncode == 0
    add = sh("--operator", "alice", "--key", "alice.pem", "operator", "add", "alice",
             "--public-key", "alice.pub", cwd=tmp_path)
    assert add.returncode == 0, add.stderr
    record = ["record", "platform-registered", "signal", "--at", "2020-01-01", "--source",
              "https://signal.org", "--name", "Signal", "--target", "signal.org"]
    unsigned = sh("--operator", "alice", *record, cwd=tmp_path)
    assert unsigned.returncode == 2 and unsigned.stderr.count("\n") == 1
    assert "must sign" in unsigned.stderr
    signed = sh("--operator", "alice", *record, cwd=tmp_path,
                BLOCKLEDGER_SIGNING_KEY="alice.pem")
    assert signed.returncode == 0, signed.stderr
    verify = sh("verify", cwd=tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert "signatures: 2 signed events verified" in verify.stdout
