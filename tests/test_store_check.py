"""``verify`` runs the database's own check of its structure (``ledger.store_check``). An
index that lacks a row of its table hides that event from every read through the index:
the whole ledger's history and a platform's history lose the lift, while the tables, which
``verify`` otherwise reads, still hold it. Someone holding a copy of the database can make
such an index below SQL (SQLite: a schema edited by ``writable_schema`` and the index
rebuilt; PostgreSQL: the index left unmaintained for one write). Before the check,
``verify`` said ok of both (a wrong answer that passes verify); now it exits 3 naming the
index."""

from __future__ import annotations

import json
import sqlite3

import psycopg
import pytest

from tests.clitools import one_line_error, run

INDEX = "bl_view_history_platform"
DEFINITION = f"CREATE INDEX {INDEX} ON bl_view_history (platform, position)"


def _lift(db: str, runner) -> int:  # type: ignore[no-untyped-def]
    """The position of the 2017 case's lift (``unblocked``), the demo loaded first."""
    assert run(runner, db, "demo").exit_code == 0
    rows = json.loads(run(runner, db, "history", "telegram", "--json").stdout)["events"]
    return next(row["position"] for row in rows if row["type"] == "unblocked")


def _history_positions(runner, db: str, *args: str) -> set[int]:  # type: ignore[no-untyped-def]
    result = run(runner, db, "history", *args, "--format", "jsonl")
    assert result.exit_code == 0, result.stderr
    return {json.loads(line)["position"] for line in result.stdout.splitlines()}


def _sqlite_index_without(path: str, position: int) -> None:
    """Rebuild the platform index of the history view without ``position``'s row, its
    schema then put back: the index lacks a row its table holds."""
    for statement in (f"UPDATE sqlite_master SET sql = '{DEFINITION} WHERE position <> "
                      f"{position}' WHERE name = '{INDEX}'", None,
                      f"UPDATE sqlite_master SET sql = '{DEFINITION}' WHERE name = '{INDEX}'"):
        with sqlite3.connect(path) as conn:  # (a new connection reads the edited schema)
            if statement is None:
                conn.execute(f"REINDEX {INDEX}")
            else:
                conn.execute("PRAGMA writable_schema = ON")
                conn.execute(statement)


def test_sqlite_an_index_lacking_a_row_is_refused(runner, sqlite_path):
    lift = _lift(sqlite_path, runner)
    assert "the database's own check finds nothing wrong" in run(runner, sqlite_path,
                                                                 "verify").stdout
    _sqlite_index_without(sqlite_path, lift)
    # What the attack does: the lift is gone from every history read through the index.
    assert lift not in _history_positions(runner, sqlite_path)
    assert lift not in _history_positions(runner, sqlite_path, "telegram")
    error = one_line_error(run(runner, sqlite_path, "verify"), 3)
    assert error.startswith("error: verification failed: store: the database's own check: ")
    assert INDEX in error
    found = json.loads(run(runner, sqlite_path, "verify", "--json").stdout)
    assert found["ok"] is False and found["store_checked"] is True
    assert found["problems"][0]["part"] == "store"  # (first: the others read through it)


@pytest.mark.postgres
def test_postgres_without_amcheck_says_its_indexes_are_not_checked(runner, pg_url):
    assert run(runner, pg_url, "demo").exit_code == 0
    result = run(runner, pg_url, "verify")
    assert result.exit_code == 0
    assert ("the database's indexes are not checked (amcheck is not installed in this "
            "database)") in result.stdout
    assert json.loads(run(runner, pg_url, "verify", "--json").stdout)["store_checked"] is False


@pytest.mark.postgres
def test_postgres_an_index_lacking_a_row_is_refused_with_amcheck(runner, pg_url):
    lift = _lift(pg_url, runner)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION amcheck")
    assert "the database's own check finds nothing wrong" in run(runner, pg_url,
                                                                 "verify").stdout
    ready = f"UPDATE pg_index SET indisready = %s WHERE indexrelid = '{INDEX}'::regclass"
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(ready, (False,))
    with psycopg.connect(pg_url, autocommit=True) as conn:  # (sees the index unmaintained)
        conn.execute("CREATE TEMP TABLE kept AS SELECT * FROM bl_view_history "
                     "WHERE position = %s", (lift,))
        conn.execute("DELETE FROM bl_view_history WHERE position = %s", (lift,))
        conn.execute("INSERT INTO bl_view_history SELECT * FROM kept")
        conn.execute(ready, (True,))
    assert lift not in _history_positions(runner, pg_url)
    error = one_line_error(run(runner, pg_url, "verify"), 3)
    assert error.startswith(f"error: verification failed: store: the database's own check: "
                            f"index {INDEX}: ")
    assert json.loads(run(runner, pg_url, "verify", "--json").stdout)["store_checked"] is True
