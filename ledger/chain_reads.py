"""Reading the chain's hashes alone, fast: what a report needs to rebuild the Merkle tree
of a checkpoint (``projections.evidence``), as plain tuples rather than ``ChainRow``
objects (at 200,000 links the objects cost as much as the query). Mixed into the chained
recorders (``ledger.recorders``)."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import retry


class SQLiteChainReads:
    chain_table_name: str
    datastore: Any

    def chain_hashes(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        """``(position, event hash)`` of up to ``limit`` links after ``after_seq``."""
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            cursor.execute(f"SELECT position, event_hash FROM {self.chain_table_name} "
                           "WHERE seq > ? ORDER BY seq LIMIT ?", (after_seq, limit))
            return cursor.fetchall()


class PostgresChainReads:
    _chain_table: Any
    datastore: Any

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chain_hashes(self, after_seq: int, limit: int) -> list[tuple[int, bytes]]:
        """``(position, event hash)`` of up to ``limit`` links after ``after_seq``."""
        from psycopg.rows import tuple_row
        from psycopg.sql import SQL

        statement = SQL("SELECT position, event_hash FROM {0} WHERE seq > %s "
                        "ORDER BY seq LIMIT %s").format(self._chain_table)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            return [(p, bytes(h)) for p, h in cur.execute(statement, (after_seq, limit))]
