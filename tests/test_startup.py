"""Start-up: a command on a SQLite ledger imports neither PostgreSQL's driver nor the
eventsourcing module that wraps it (about a third of a second), whichever command it is.
Checked in a fresh interpreter, from ``sys.modules`` after the command ran. What ``status``
must not import besides (the application, the library, the aggregates) is held by
``tests/test_kept_status.py``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.clitools import run

ROOT = Path(__file__).resolve().parent.parent
PROBE = """
import json, sys
from click.testing import CliRunner
from cli import cli
result = CliRunner().invoke(cli, json.loads(sys.argv[1]))
heavy = sorted(m for m in sys.modules
               if m.split(".")[0] in ("psycopg", "psycopg_binary", "psycopg_pool")
               or m == "eventsourcing.postgres")
print(json.dumps({"exit": result.exit_code, "output": result.output, "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> str:
    from click.testing import CliRunner

    from examples import __file__ as examples_init

    path = str(tmp_path_factory.mktemp("startup") / "ledger.db")
    example = Path(examples_init).parent / "telegram-indonesia-2017.jsonl"
    runner = CliRunner()
    assert run(runner, path, "import", str(example)).exit_code == 0
    assert run(runner, path, "checkpoint").exit_code == 0
    return path


@pytest.mark.parametrize("args", [
    ["status", "telegram"],
    ["status"],
    ["history", "telegram"],
    ["verify"],
    ["report", "provenance", "telegram", "--format", "json"],
    ["record", "statement-issued", "telegram", "--at", "2017-09-01", "--source", "s",
     "--by", "Telegram", "--summary", "a statement"],
])
def test_a_sqlite_command_never_imports_the_postgres_driver(ledger, args):
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(["--db", ledger, *args])],
                          cwd=ROOT, capture_output=True, text=True, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["exit"] == 0, out["output"]
    assert out["heavy"] == [], f"{args[0]} imported {out['heavy']}"
