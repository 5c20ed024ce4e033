"""Helpers for CLI tests: invoke with a ledger target, count events, parse JSON output."""

from __future__ import annotations

import json
from typing import Any

from click.testing import CliRunner, Result

from cli import cli
from ledger.application import open_ledger
from ledger.storage import parse_target


def run(runner: CliRunner, db: str, *args: str, input: str | bytes | None = None) -> Result:
    """Invoke ``blockledger --db DB ARGS`` in-process."""
    return runner.invoke(cli, ["--db", db, *args], input=input, catch_exceptions=False)


def run_json(runner: CliRunner, db: str, *args: str) -> Any:
    """Invoke a read command with ``--json`` and return the parsed output."""
    result = run(runner, db, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def count(db: str) -> int:
    """How many events the ledger at ``db`` holds."""
    with open_ledger(parse_target(db), create=True) as ledger:
        return ledger.count()
