"""The views in a PostgreSQL ledger database (``ledger.views`` explains them): apart, so
that SQLite ledgers never import PostgreSQL's driver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import IntegrityError, InternalError
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import retry

from ledger.views import (
    _CREATE,
    _DDL_LOCK,
    _OLD_LAYOUT,
    _VIEWS_LOCK,
    FACTS,
    MOVES,
    STATUS,
    _drop_old_layout,
    _lateral_json,
    _Views,
)


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

    def busy(self) -> bool:
        """Whether another transaction holds the views' write lock now (an import at
        work), asked without waiting."""
        with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
            c.execute("SELECT pg_try_advisory_xact_lock(%s) AS free", (_VIEWS_LOCK,))
            return not c.fetchone()["free"]

    def _lock(self, c: Any) -> None:
        c.execute("SELECT pg_advisory_xact_lock(%s)", (_VIEWS_LOCK,))

    def _json(self, alias: str, *path: str) -> str:
        return f"({alias}_json #>> '{{{','.join(path)}}}')"

    def _analyze(self, c: Any) -> None:
        c.execute(f"ANALYZE {FACTS}")

    # Each row's state parsed once (OFFSET 0 keeps the planner from inlining the parse into
    # every use): 1.6 times faster than a parse per value read.
    _parsed = _lateral_json("e") + _lateral_json("c")

    def _parsed_one(self, alias: str) -> str:
        return _lateral_json(alias)

    def _rowcount(self, cursor: Any) -> int:
        return cursor.cursor.rowcount

    @retry((InternalError, IntegrityError), max_attempts=5, wait=0.2)
    def create_table(self) -> None:
        """The tables, safe to run from many processes at once on a new database (as the
        ledger's recorder: one advisory lock serializes the schema changes)."""
        super().create_table()

    def _create_table(self, curs: Any) -> None:
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        curs.execute("SELECT 1 AS found FROM information_schema.columns WHERE table_name = %s "
                     "AND column_name = ANY(%s) AND table_schema = current_schema()",
                     (FACTS, list(_OLD_LAYOUT)))
        old = curs.fetchone() is not None
        curs.execute("SELECT to_regclass(%s) AS history, to_regclass(%s) AS moves, "
                     "to_regclass(%s) AS status, to_regclass(%s) AS tracking",
                     (FACTS, MOVES, STATUS, self._tracking_table))
        found = curs.fetchone()
        # An earlier layout; or a view's table gone (dropped by hand) while the tracking
        # rows still say what the views hold: they start again from zero.
        if old or (found["tracking"] is not None and None in (
                found["history"], found["moves"], found["status"])):
            _drop_old_layout(curs, self._tracking_table, "%s")
        super()._create_table(curs)

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
