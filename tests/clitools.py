"""Helpers for CLI tests: invoke with a ledger target, count events, parse JSON output."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
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


def one_line_error(result: Result, code: int) -> str:
    """The error of a refused command: its exit code, one line on stderr, no traceback."""
    assert result.exit_code == code, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def blockledger() -> str:
    """The installed console script (beside this Python, else on PATH)."""
    beside = Path(sys.executable).parent / "blockledger"
    found = str(beside) if beside.exists() else shutil.which("blockledger")
    if found is None:
        pytest.fail("the blockledger command is not installed (pip install -e .)")
    return found


def key_pair(directory: Path, name: str) -> tuple[str, str]:
    """A new Ed25519 key pair for ``name``: the private (PKCS#8 PEM) and public (PEM) key
    files in ``directory``, as ``operator keygen`` writes them."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    private, public = directory / f"{name}.pem", directory / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                          serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return str(private), str(public)


def older_ledger(monkeypatch: Any) -> None:
    """Write as a ledger was written before the rules between subjects were checked from
    the other side (``domain.dependents``): to make the ledgers those writes left."""
    monkeypatch.setattr("ledger.application.changes_what_others_read", lambda *_: False)
    monkeypatch.setattr("ledger.bulk.changes_what_others_read", lambda *_: False)
