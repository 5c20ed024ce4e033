"""A reader that goes away (``blockledger history --format jsonl | head -1``) is not an error
of ours: exit 0, nothing on stderr. Click turned the broken pipe into exit 1 before the
console script's handler could (review of 2026-12-07: there before that session)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson

from tests.clitools import blockledger, run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def test_history_into_a_closed_pipe_exits_0_quietly(runner, sqlite_path, tmp_path):
    from synthetic import events

    path = tmp_path / "synthetic.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events(1500, seed=5)))
    assert run(runner, sqlite_path, "import", str(path)).exit_code == 0
    for command in (["history", "--format", "jsonl"], ["export"], ["history"]):
        process = subprocess.Popen([blockledger(), "--db", sqlite_path, *command],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout.readline()
        process.stdout.close()  # (more than a pipe's buffer is still to come)
        err = process.stderr.read()
        assert process.wait(30) == 0 and err == b"", (command, process.returncode, err)
