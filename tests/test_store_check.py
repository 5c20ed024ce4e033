"""``verify`` runs the database's own check of its structure (``ledger.store_check``). An
index that lacks a row of its table hides that event from every read through the index:
the whole ledger's history and a platform's history lose the lift, while the tables, which
``verify`` otherwise reads, still hold it. Someone holding a copy of the database can make
such an index below SQL (SQLite: a schema edited by ``writable_schema`` and the index
rebuilt; PostgreSQL: the index left unmaintained for one write). Before the check,
``verify`` said ok of both (a wrong answer that passes verify); now it exits 3 naming the
index. (And the hostile review of it: tests below name its findings.)"""

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


def test_sqlite_a_damaged_page_is_named_in_one_line(runner, sqlite_path):
    """Review H3: bytes of an index's leaf page flipped, as a damaged disk would. The
    status check then read through the broken index and failed (exit 4, the finding
    lost); and SQLite gives a page's findings as lines under a header, which made the one
    line two. Now the finding is the one line (exit 3), and nothing else is read."""
    _lift(sqlite_path, runner)
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = conn.execute("PRAGMA page_size").fetchone()[0]
        page = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = ?",
                            (INDEX,)).fetchone()[0]
    with open(sqlite_path, "r+b") as db:
        db.seek((page - 1) * size)  # (its header: the page's kind and cells)
        db.write(b"\xff" * 8)
    error = one_line_error(run(runner, sqlite_path, "verify"), 3)
    assert error.startswith("error: verification failed: store: the database's own check: ")
    assert "*** in database" not in error
    found = json.loads(run(runner, sqlite_path, "verify", "--json").stdout)
    assert found["problems"] and {p["part"] for p in found["problems"]} == {"store"}
    assert all("\n" not in p["what"] for p in found["problems"])
    assert found["signatures"] is None  # (nothing else read)


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_view_table_without_its_primary_key_holds_an_event_twice(runner, store, request):
    """Review C4: the history view's table remade without its primary key, one event's row
    written twice (plain SQL). Every history showed the event twice, and verify, whose
    comparison went through a dict of positions, said ok. Now readers refuse it in one
    line and verify names it."""
    db = request.getfixturevalue("pg_url" if store == "postgres" else "sqlite_path")
    lift = _lift(db, runner)
    table = "bl_view_history"
    if store == "postgres":
        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey")
            conn.execute(f"INSERT INTO {table} SELECT * FROM {table} WHERE position = %s",
                         (lift,))
    else:
        with sqlite3.connect(db) as conn:
            conn.executescript(
                f"CREATE TABLE kept AS SELECT * FROM {table}; DROP TABLE {table}; "
                f"CREATE TABLE {table} (position BIGINT, kind TEXT NOT NULL, subject TEXT "
                f"NOT NULL, platform TEXT NOT NULL); INSERT INTO {table} SELECT * FROM kept; "
                f"INSERT INTO {table} SELECT * FROM kept WHERE position = {lift}; "
                f"DROP TABLE kept; {DEFINITION}; CREATE INDEX {table}_subject ON {table} "
                "(subject, kind, position)")
    refusal = (f"error: the history view holds two rows for the event at position {lift} "
               "(altered): run 'blockledger verify'")
    for args in ([], ["--format", "jsonl"], ["kominfo-2017-07-14"]):
        assert one_line_error(run(runner, db, "history", *args), 3) == refusal, args
    # (a platform's events are read as a set of positions: the row twice is the event once)
    shown = run(runner, db, "history", "telegram", "--format", "jsonl")
    assert shown.exit_code == 0, shown.stderr
    assert [json.loads(line)["position"] for line in shown.stdout.splitlines()].count(lift) == 1
    error = one_line_error(run(runner, db, "verify"), 3)
    assert error.startswith(f"error: verification failed: views: position {lift}: the "
                            "history view has two rows for this event (inserted)"), error


def _pg_amcheck_and_unmaintained(url: str, lift: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
    ready = f"UPDATE pg_index SET indisready = %s WHERE indexrelid = '{INDEX}'::regclass"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(ready, (False,))
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE kept AS SELECT * FROM bl_view_history "
                     "WHERE position = %s", (lift,))
        conn.execute("DELETE FROM bl_view_history WHERE position = %s", (lift,))
        conn.execute("INSERT INTO bl_view_history SELECT * FROM kept")
        conn.execute(ready, (True,))


@pytest.mark.postgres
def test_postgres_amcheck_redefined_in_the_database_is_a_problem(runner, pg_url):
    """Review C3: one CREATE OR REPLACE of amcheck's function made the check find nothing.
    The function called must be amcheck's own, a C function from its library."""
    lift = _lift(pg_url, runner)
    _pg_amcheck_and_unmaintained(pg_url, lift)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE OR REPLACE FUNCTION public.bt_index_check(index regclass, "
                     "heapallindexed boolean) RETURNS void LANGUAGE sql AS $$ SELECT $$")
    error = one_line_error(run(runner, pg_url, "verify"), 3)
    assert error == ("error: verification failed: store: the database's own check: "
                     "amcheck's bt_index_check is not amcheck's own C function (redefined in "
                     "the database)")


@pytest.mark.postgres
def test_postgres_the_view_tables_are_checked_where_the_readers_find_them(runner, pg_url):
    """Review C1: only the indexes of the ledger's schema were checked, while the views'
    tables are found by search_path ("$user" first): moved to a schema named after the
    role, their damaged index was never looked at."""
    lift = _lift(pg_url, runner)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA postgres")
        conn.execute("ALTER TABLE public.bl_view_history SET SCHEMA postgres")
    _pg_amcheck_and_unmaintained(pg_url, lift)
    error = one_line_error(run(runner, pg_url, "verify"), 3)
    assert error.startswith(f"error: verification failed: store: the database's own check: "
                            f"index {INDEX}: ")


@pytest.mark.postgres
def test_postgres_a_role_that_may_not_run_amcheck_is_told_so_not_failed(runner, pg_url):
    """Review H1: a role without EXECUTE on amcheck's functions (the default for all but
    superusers) had every index reported as damaged (exit 3; copy, checkpoint and publish
    refused intact ledgers). Now the indexes are not checked, and the ok line says why."""
    import uuid

    role = f"bl_reader_{uuid.uuid4().hex[:8]}"
    assert run(runner, pg_url, "demo").exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION amcheck")
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    try:
        as_role = pg_url.replace("postgres@", f"{role}@", 1)
        result = run(runner, as_role, "verify")
        assert result.exit_code == 0, result.stderr
        assert ("the database's indexes are not checked (this role may not run amcheck's "
                "bt_index_check)") in result.stdout
    finally:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def _second_event_at(url: str, at: int) -> str:
    """A second event (the one at ``at`` with a new id) stored at position ``at``, the
    events table's unique index on positions dropped; the refusal every reader gives."""
    import uuid

    with psycopg.connect(url, autocommit=True) as conn:
        topic, state = conn.execute("SELECT topic, state FROM blockledger_events WHERE "
                                    "notification_id = %s", (at,)).fetchone()
        event_id = json.loads(bytes(state))["id"]
        forged = bytes(state).replace(event_id.encode(), str(uuid.uuid4()).encode())
        conn.execute("DROP INDEX blockledger_events_notification_id_idx")
        conn.execute("INSERT INTO blockledger_events (originator_id, originator_version, "
                     "topic, state, notification_id) VALUES (%s, 1, %s, %s, %s)",
                     (uuid.uuid4(), topic, forged, at))
    return f"error: two events are stored at position {at} (altered): run 'blockledger verify'"


@pytest.mark.postgres
@pytest.mark.parametrize("touched", [False, True], ids=["plain", "corrected"])
def test_postgres_two_events_stored_at_one_position_are_refused(runner, pg_url, touched):
    """Second review H1: the events table's unique index on its positions dropped by its
    owner, and a second event (a new id, a valid body) written at an existing position.
    The whole ledger's history met two bodies at one position: a traceback (the sort met
    two entries with one position), or with --as-known-at one event more than the ledger
    holds (exit 0); a platform's history showed one of the two. Now each refuses it."""
    assert run(runner, pg_url, "demo").exit_code == 0
    rows = json.loads(run(runner, pg_url, "history", "telegram", "--json").stdout)["events"]
    at = next(row["position"] for row in rows
              if bool(row["corrected_by"]) is touched and row["type"] != "platform-registered")
    refusal = _second_event_at(pg_url, at)
    for args in (["--format", "jsonl"], ["--as-known-at", "2100-01-01", "--format", "jsonl"],
                 ["telegram"]):
        assert one_line_error(run(runner, pg_url, "history", *args), 3) == refusal, args
    assert run(runner, pg_url, "verify").exit_code == 3


@pytest.mark.postgres
def test_postgres_two_events_at_one_position_of_an_order_over_several_platforms(runner,
                                                                                pg_url):
    """The same, at the position of an order over 14 platforms, which the whole ledger's
    history reads once under its first platform and once for each other (a moved subject,
    merged by position): the merge kept one of the two bodies. And a subject's history,
    which read two rows at one position as a view row held twice."""
    from pathlib import Path

    india = Path(__file__).resolve().parent.parent / "examples" / "india-apps-2020.jsonl"
    assert run(runner, pg_url, "import", str(india)).exit_code == 0
    with psycopg.connect(pg_url, autocommit=True) as conn:
        at, obj = next((position, json.loads(bytes(state))) for position, state in conn.execute(
            "SELECT notification_id, state FROM blockledger_events ORDER BY 1")
            if json.loads(bytes(state))["type"] == "blocked")
    refusal = _second_event_at(pg_url, at)
    for args in (["--format", "jsonl"], [obj["subject"], "--format", "jsonl"], ["wechat"]):
        assert one_line_error(run(runner, pg_url, "history", *args), 3) == refusal, args
