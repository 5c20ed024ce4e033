"""Shared fixtures: fresh SQLite files and fresh PostgreSQL databases, one per test.

PostgreSQL tests need the server at ``BLOCKLEDGER_TEST_PG`` (default
postgresql://postgres@127.0.0.1:5432). They skip only when no server answers and ``CI`` is
unset; in CI an absent server fails them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

# The tests are written for no width set, but where a test sets one (a command's output
# folds at COLUMNS): pytest-xdist's workers (`pytest -n auto`, the README's test command)
# start with COLUMNS=80 and LINES=24, and a shell may export them.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

PG_SERVER = os.environ.get("BLOCKLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "telegram-indonesia-2017.jsonl"

_pg_reachable: bool | None = None


def _admin_connect():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=5)


def pg_available() -> bool:
    """Whether the PostgreSQL server answers (checked once)."""
    global _pg_reachable
    if _pg_reachable is None:
        try:
            with _admin_connect():
                _pg_reachable = True
        except Exception:
            _pg_reachable = False
    return _pg_reachable


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test, dropped afterwards."""
    if not pg_available():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is not reachable at {PG_SERVER} and CI is set")
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}")
    name = f"bl_test_{uuid.uuid4().hex[:16]}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_path(tmp_path: Path) -> str:
    """A path for a fresh SQLite ledger file."""
    return str(tmp_path / "ledger.db")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh ledger target on each store: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "ledger.db")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A CLI runner with a clean environment (no stray BLOCKLEDGER_* settings)."""
    for key in list(os.environ):
        if key.startswith("BLOCKLEDGER_") or key in ("PERSISTENCE_MODULE", "SQLITE_DBNAME"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("BLOCKLEDGER_OPERATOR", "tester")
    return CliRunner()


@pytest.fixture
def example() -> Path:
    """The bundled 2017 Telegram case."""
    return EXAMPLE
