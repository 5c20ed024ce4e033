"""Copying to and from PostgreSQL (``ledger.copying`` explains the copy): apart, so that
SQLite ledgers never import PostgreSQL's driver."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.application import Ledger
from ledger.copying import _NotEmpty, _Row, _row, _uuid, _Writer


def _server_identity(ledger: Ledger) -> tuple:
    with ledger.recorder.datastore.get_connection() as conn, \
            conn.cursor(row_factory=tuple_row) as cur:
        # Functions any role may call: the same database of a server started at the same
        # instant, however the URL names the host.
        row = cur.execute("SELECT current_database(), pg_postmaster_start_time(), "
                          "inet_server_port()").fetchone()
    return (*row, ledger.recorder.datastore.schema)


class _PostgresReader:
    def __init__(self, recorder: Any):
        self.recorder = recorder
        schema = recorder.datastore.schema
        self.schema = schema
        self.names = {k: f"{recorder.events_table_name}{suffix}" for k, suffix in (
            ("events", ""), ("chain", "_chain"), ("signatures", "_signatures"),
            ("checkpoints", "_checkpoints"))}
        self.tables = {k: SQL("{0}.{1}").format(Identifier(schema), Identifier(name))
                       for k, name in self.names.items()}

    def _has(self, cur: Any, key: str) -> bool:
        return cur.execute("SELECT to_regclass(%s)", (
            f'"{self.schema}"."{self.names[key]}"',)).fetchone()[0] is not None

    def rows(self, after_seq: int, limit: int) -> list[_Row]:
        t = self.tables
        with self.recorder.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as cur:
            if self._has(cur, "signatures"):
                statement = SQL(
                    "SELECT c.seq, c.position, c.event_id, c.event_hash, c.chain, "
                    "e.originator_id, e.originator_version, e.topic, e.state, s.key_id, "
                    "s.signature FROM {0} c JOIN {1} e ON e.notification_id = c.position "
                    "LEFT JOIN {2} s ON s.position = c.position "
                    "WHERE c.seq > %s ORDER BY c.seq LIMIT %s").format(
                        t["chain"], t["events"], t["signatures"])
            else:
                statement = SQL(
                    "SELECT c.seq, c.position, c.event_id, c.event_hash, c.chain, "
                    "e.originator_id, e.originator_version, e.topic, e.state, NULL, NULL "
                    "FROM {0} c JOIN {1} e ON e.notification_id = c.position "
                    "WHERE c.seq > %s ORDER BY c.seq LIMIT %s").format(t["chain"], t["events"])
            return [_row(r) for r in cur.execute(statement, (after_seq, limit)).fetchall()]

    def checkpoints(self) -> list[tuple[int, int, str]]:
        with self.recorder.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as cur:
            if not self._has(cur, "checkpoints"):
                return []
            return [tuple(r) for r in cur.execute(SQL(
                "SELECT seq, tree_size, note FROM {0} ORDER BY seq").format(
                    self.tables["checkpoints"])).fetchall()]


class _PostgresWriter(_Writer):
    """Writes in one transaction that holds the events table's exclusive lock."""

    def __init__(self, ledger: Ledger):
        recorder = ledger.recorder
        self.recorder = recorder
        self.target = ledger.target
        self.datastore = recorder.datastore
        self.reader = _PostgresReader(recorder)  # its table names
        self.cursor: Any = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor(row_factory=tuple_row) as cur:
            self.recorder._lock_table(cur)  # as every writer does, until the commit
            self.cursor = cur
            try:
                yield
            finally:
                self.cursor = None

    @contextlib.contextmanager
    def _reading(self) -> Iterator[Any]:
        with self.datastore.get_connection() as conn, \
                conn.cursor(row_factory=tuple_row) as cur:
            yield cur

    def _check_empty(self, cur: Any) -> None:
        for key, what in (("events", "events"), ("chain", "chain links"),
                          ("signatures", "signatures"), ("checkpoints", "checkpoints")):
            if not self.reader._has(cur, key):
                continue
            found = cur.execute(SQL("SELECT 1 FROM {0} LIMIT 1").format(
                self.reader.tables[key])).fetchone()
            if found is not None:
                raise _NotEmpty(self.target, what)

    def insert(self, rows: Sequence[_Row]) -> None:
        cur, t = self.cursor, self.reader.tables
        cur.executemany(SQL("INSERT INTO {0} (notification_id, originator_id, "
                            "originator_version, topic, state) VALUES (%s, %s, %s, %s, %s)"
                            ).format(t["events"]),
                        [(r.position, _uuid(r.originator_id), r.originator_version, r.topic,
                          r.state) for r in rows])
        cur.executemany(SQL("INSERT INTO {0} (seq, position, event_id, event_hash, chain) "
                            "VALUES (%s, %s, %s, %s, %s)").format(t["chain"]),
                        [(r.seq, r.position, r.event_id, r.event_hash, r.chain) for r in rows])
        signed = [(r.position, r.key_id, r.signature) for r in rows if r.signature is not None]
        if signed:
            cur.executemany(SQL("INSERT INTO {0} (position, key_id, signature) "
                                "VALUES (%s, %s, %s)").format(t["signatures"]), signed)

    def insert_checkpoints(self, rows: Sequence[tuple[int, int, str]]) -> None:
        if rows:
            self.cursor.executemany(SQL("INSERT INTO {0} (seq, tree_size, note) "
                                        "VALUES (%s, %s, %s)").format(
                                            self.reader.tables["checkpoints"]), rows)

    def finish(self) -> None:
        """Move the sequences past the explicit values, so the next writer's insert (or
        checkpoint) takes the next number, not one already used."""
        for key, column in (("events", "notification_id"), ("checkpoints", "seq")):
            table = f'"{self.reader.schema}"."{self.reader.names[key]}"'
            self.cursor.execute(SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), m, true) "
                "FROM (SELECT MAX({0}) AS m FROM {1}) AS top WHERE m IS NOT NULL").format(
                    Identifier(column), self.reader.tables[key]), (table, column))


