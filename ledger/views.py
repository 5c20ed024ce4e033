"""Persisted read models: tables in the ledger's own database, with a tracked position.

Two views, each a tracking recorder of the eventsourcing library (its ``tracking`` table,
one row per view), written in the same transaction as the view's rows:

- ``history``: one row per event (position, event id, kind, subject, the platform it
  concerns, when it was recorded, and its stored bytes, encrypted where the ledger is), with
  indexes so that one platform's or one subject's events are read without touching others;
- ``status``: the current status object of each platform ("now, as known now"), with the
  time after which it goes stale (a temporary lift ends by itself).

SQL differs between the stores only in placeholders, so one set of statements serves both.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteTrackingRecorder

VIEWS = ("history", "status")
FACTS = "bl_view_history"
STATUS = "bl_view_status"

_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {FACTS} (position BIGINT PRIMARY KEY, event_id TEXT NOT NULL, "
    "kind TEXT NOT NULL, subject TEXT NOT NULL, platform TEXT NOT NULL, "
    "recorded_at TEXT NOT NULL, body BYTEA NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS {FACTS}_platform ON {FACTS} (platform, position)",
    f"CREATE INDEX IF NOT EXISTS {FACTS}_subject ON {FACTS} (kind, subject, position)",
    f"CREATE INDEX IF NOT EXISTS {FACTS}_event ON {FACTS} (event_id)",
    f"CREATE TABLE IF NOT EXISTS {STATUS} (platform TEXT PRIMARY KEY, body BYTEA NOT NULL, "
    "stale_after TEXT)",
]


def tracking_name(view: str) -> str:
    """The tracking row of a view (the library's tracking table, keyed by name)."""
    return f"blockledger-view-{view}"


class _Views:
    """The statements, common to both stores; subclasses say how to run them."""

    param = "?"

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.param)

    def _run(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor.execute(self._sql(statement), params)
        return cursor

    def position(self, view: str) -> int:
        """How far ``view`` has caught up (a notification id; 0 when empty)."""
        return self.max_tracking_id(tracking_name(view)) or 0  # type: ignore[attr-defined]

    def write_history(self, rows: Sequence[tuple], position: int) -> None:
        """Add history rows and move the view's position, in one transaction."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            if rows:
                c.executemany(self._sql(f"INSERT INTO {FACTS} VALUES (?, ?, ?, ?, ?, ?, ?)"),
                              rows)
            self._insert_tracking(c, Tracking(tracking_name("history"), position))  # type: ignore[attr-defined]

    def write_status(self, rows: Iterable[tuple[str, bytes, str | None]], position: int) -> None:
        """Replace the status rows of some platforms and move the view's position."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            for platform, body, stale_after in rows:
                self._run(c, f"DELETE FROM {STATUS} WHERE platform = ?", (platform,))
                self._run(c, f"INSERT INTO {STATUS} VALUES (?, ?, ?)",
                          (platform, body, stale_after))
            self._insert_tracking(c, Tracking(tracking_name("status"), position))  # type: ignore[attr-defined]

    def drop(self, view: str) -> None:
        """Empty ``view`` and its position, so that it rebuilds from zero."""
        table = FACTS if view == "history" else STATUS
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self._run(c, f"DELETE FROM {table}")
            self._run(c, f"DELETE FROM {self._tracking_table} WHERE application_name = ?",
                      (tracking_name(view),))

    def history_rows(self, *, platform: str | None = None,
                     subject: tuple[str, str] | None = None) -> list[tuple[int, bytes]]:
        """``(position, body)`` of one platform's events (with its orders and requests), of
        one subject's, or of all, in position order."""
        statement, params = f"SELECT position, body FROM {FACTS}", ()
        if platform is not None:
            statement, params = statement + " WHERE platform = ?", (platform,)
        elif subject is not None:
            statement, params = statement + " WHERE kind = ? AND subject = ?", subject
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            rows = self._run(c, statement + " ORDER BY position", params).fetchall()
        return [(row[0], bytes(row[1])) for row in rows]

    def subject_kinds(self, subject: str) -> list[tuple[str, str]]:
        """``(kind, platform)`` of every subject called ``subject``."""
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            rows = self._run(c, f"SELECT DISTINCT kind, platform FROM {FACTS} "
                                "WHERE subject = ?", (subject,)).fetchall()
        return [(row[0], row[1]) for row in rows]

    def kinds_of(self, event_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """``event id -> (kind, platform)`` for events already in the view."""
        out = {}
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            for event_id in event_ids:
                row = self._run(c, f"SELECT kind, platform FROM {FACTS} WHERE event_id = ?",
                                (event_id,)).fetchone()
                if row is not None:
                    out[event_id] = (row[0], row[1])
        return out

    def status_rows(self, platform: str | None = None) -> list[tuple[str, bytes, str | None]]:
        """The kept status of one platform, or of all, by platform."""
        statement, params = f"SELECT platform, body, stale_after FROM {STATUS}", ()
        if platform is not None:
            statement, params = statement + " WHERE platform = ?", (platform,)
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            rows = self._run(c, statement + " ORDER BY platform", params).fetchall()
        return [(row[0], bytes(row[1]), row[2]) for row in rows]

    def platforms_since(self, position: int) -> list[str]:
        """Platforms with events in the history view after ``position``."""
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            rows = self._run(c, f"SELECT DISTINCT platform FROM {FACTS} WHERE position > ?",
                             (position,)).fetchall()
        return [row[0] for row in rows]

    def counts(self) -> dict[str, int]:
        """Rows in each view."""
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            return {view: self._run(c, f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                    for view, table in (("history", FACTS), ("status", STATUS))}


class SQLiteViews(_Views, SQLiteTrackingRecorder):
    """The views in a SQLite ledger file."""

    _tracking_table = "tracking"

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(),
                *(s.replace("BYTEA", "BLOB") for s in _CREATE)]


class PostgresViews(_Views, PostgresTrackingRecorder):
    """The views in a PostgreSQL ledger database."""

    param = "%s"

    def __init__(self, datastore: Any, **kwargs: Any):
        super().__init__(datastore, **kwargs)
        from psycopg.sql import SQL

        self.sql_create_statements.extend(SQL(s) for s in _CREATE)  # type: ignore[arg-type]

    @property
    def _tracking_table(self) -> str:
        return self.tracking_table_name

    def _run(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor.execute(self._sql(statement), params)
        return _TupleCursor(cursor)


class _TupleCursor:
    """PostgreSQL cursors here give dict rows; the shared statements read tuples."""

    def __init__(self, cursor: Any):
        self.cursor = cursor

    def fetchall(self) -> list[tuple]:
        return [tuple(row.values()) for row in self.cursor.fetchall()]

    def fetchone(self) -> tuple | None:
        row = self.cursor.fetchone()
        return None if row is None else tuple(row.values())
