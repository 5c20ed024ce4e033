"""The views in a SQLite ledger file (``ledger.views`` explains them): the library's
tracking recorder with the views' statements."""

from __future__ import annotations

import sqlite3
from typing import Any

from eventsourcing.persistence import IntegrityError
from eventsourcing.sqlite import SQLiteTrackingRecorder
from eventsourcing.utils import retry

from ledger.views import _CREATE, _OLD_LAYOUT, FACTS, MOVES, STATUS, _drop_old_layout, _Views


class SQLiteViews(_Views, SQLiteTrackingRecorder):
    """The views in a SQLite ledger file."""

    _tracking_table = "tracking"
    _notification_id = "rowid"

    def busy(self) -> bool:
        """Whether another connection holds the database's write lock now (an import at
        work): asked without waiting, on a connection of its own."""
        name = self.datastore.pool.db_name  # type: ignore[attr-defined]
        if self.datastore.pool.is_sqlite_memory_mode:  # type: ignore[attr-defined]
            return False
        try:
            probe = sqlite3.connect(name, timeout=0, isolation_level=None, uri=True)
        except sqlite3.Error:
            return False
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError as error:
            return "locked" in str(error) or "busy" in str(error)
        finally:
            probe.close()

    def _rowcount(self, cursor: Any) -> int:
        return cursor.sqlite_cursor.rowcount

    def _json(self, alias: str, *path: str) -> str:
        # The state is a BLOB: as TEXT, so that SQLite reads it as JSON text (SQLite caches
        # the parse of a text it has just parsed, so each row is parsed about once).
        where = "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in path)
        return f"json_extract(CAST({alias}.state AS TEXT), '${where}')"

    def _lock(self, c: Any) -> None:
        # A write that changes nothing takes the database's write lock (waiting up to the
        # busy timeout), so the positions read next cannot move before the commit.
        c.execute(f"UPDATE {STATUS} SET body = body WHERE platform IS NULL")

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                *(s.replace("BYTEA", "BLOB") for s in _CREATE)]

    @retry((IntegrityError,), max_attempts=5, wait=0.2)
    def create_table(self) -> None:
        # Retried: two first opens at once both try to record the library's tracking-table
        # migration marker, and the later one fails ("Failed to record tracking for
        # __migration__ 1"); again, it finds the marker and goes on.
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"SELECT name FROM pragma_table_info('{FACTS}')")
            columns = {row[0] for row in c.fetchall()}
            c.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN "
                      "(?, ?, ?, ?)", (FACTS, MOVES, STATUS, self._tracking_table))
            present = {row[0] for row in c.fetchall()}
            # An earlier layout; or a view's table gone (dropped by hand) while the
            # tracking rows still say what the views hold: they start again from zero.
            if columns & set(_OLD_LAYOUT) or (self._tracking_table in present and not {
                    FACTS, MOVES, STATUS} <= present):
                _drop_old_layout(c, self._tracking_table, "?")
        super().create_table()
