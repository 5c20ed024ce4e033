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


def test_rows_redirected_from_a_terminal_go_to_the_file_not_the_progress_bar(tmp_path):
    """``history > file`` typed at a terminal on 10,000 events or more: the progress bar
    draws on the terminal (stderr) and every row goes to the file. (Before, the bar's
    console took over stdout, as rich does unless told not to: the table's rows scrolled
    past on the terminal and the file was left empty, exit 0.)"""
    import csv
    import io
    import pty
    import sys
    import threading

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import events as synthetic_events

    lines = tmp_path / "in.jsonl"
    lines.write_bytes(b"".join(json.dumps(e).encode() + b"\n"
                               for e in synthetic_events(10_050)))
    db = str(tmp_path / "l.db")
    assert sh("import", str(lines), cwd=tmp_path, db=db).returncode == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKLEDGER_")}
    env.update(BLOCKLEDGER_DB=db, COLUMNS="100", TERM="xterm")
    for args in (["history"], ["history", "--format", "csv"]):
        leader, follower = pty.openpty()
        drawn: list[bytes] = []

        def drain(fd: int = leader, into: list[bytes] = drawn) -> None:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    return
                if not chunk:
                    return
                into.append(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        out = tmp_path / "out.txt"
        with out.open("wb") as sink:
            done = subprocess.run([blockledger(), *args], cwd=tmp_path, env=env,
                                  stdout=sink, stderr=follower, timeout=300)
        os.close(follower)
        reader.join(10)
        os.close(leader)
        terminal = b"".join(drawn)
        assert done.returncode == 0, terminal[-2000:]
        written = out.read_text()
        if "csv" in args:  # a header and every event
            assert len(list(csv.reader(io.StringIO(written)))) == 10_051
        else:  # (a description wraps over lines)
            assert len(written.splitlines()) > 10_050, (args, written[:300])
        assert terminal.count(b"\n") < 50, terminal[-500:]  # the bar, not the rows
