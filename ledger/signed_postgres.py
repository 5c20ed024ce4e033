"""Signatures and operator lookups in a PostgreSQL ledger (``ledger.signed`` explains
them): apart, so that SQLite ledgers never import PostgreSQL's driver."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier, Literal

from domain.subjects import OPERATOR_TOPICS
from ledger import signed
from ledger.chain import ChainRow
from ledger.signed import Signer


class PostgresSignatures:
    """Signatures and operator lookups in a PostgreSQL ledger."""

    signer: Signer | None = None
    unsigned_error: Exception | None = None
    decode_state: Any = None
    events_table_name: str
    datastore: Any
    _chain_table: Any

    def _signature_names(self) -> tuple[Any, Any, str]:
        schema = Identifier(self.datastore.schema)
        events = SQL("{0}.{1}").format(schema, Identifier(self.events_table_name))
        name = f"{self.events_table_name}_signatures"
        return events, SQL("{0}.{1}").format(schema, Identifier(name)), name

    def signature_statements(self) -> list[Any]:
        events, signatures, _ = self._signature_names()
        topics = SQL(", ").join(Literal(topic) for topic in OPERATOR_TOPICS)
        return [
            SQL("CREATE TABLE IF NOT EXISTS {0} (position bigint PRIMARY KEY, "
                "key_id text NOT NULL, "
                "signature bytea NOT NULL CHECK (octet_length(signature) = 64))"
                ).format(signatures),
            SQL("CREATE INDEX IF NOT EXISTS {0} ON {1} (notification_id) "
                "WHERE topic IN ({2})").format(
                    Identifier(f"{self.events_table_name}_operators"), events, topics),
        ]

    def _attribute(self, curs: Any, rows: Sequence[ChainRow]) -> None:
        """As the SQLite mixin's: authorize under the lock, then sign."""
        events, signatures, _ = self._signature_names()
        topics = SQL(", ").join(Literal(topic) for topic in OPERATOR_TOPICS)
        curs.execute(SQL("SELECT notification_id, state FROM {0} WHERE topic IN ({1}) "
                         "AND notification_id <= %s ORDER BY notification_id").format(
                             events, topics), (rows[-1].position,))
        found = [(row["notification_id"], bytes(row["state"])) for row in curs.fetchall()]
        to_sign = signed.authorize(found, rows, self.signer, self.unsigned_error,
                                   self.decode_state)
        if to_sign:
            kid, sign = self.signer.key_id, self.signer.sign
            curs.executemany(SQL("INSERT INTO {0} (position, key_id, signature) "
                                 "VALUES (%s, %s, %s)").format(signatures),
                             [(row.position, kid, sign(row.event_hash)) for row in to_sign])

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def operator_events(self) -> list[tuple[int, bytes]]:
        events, _, _ = self._signature_names()
        topics = SQL(", ").join(Literal(topic) for topic in OPERATOR_TOPICS)
        statement = SQL("SELECT notification_id, state FROM {0} WHERE topic IN ({1}) "
                        "ORDER BY notification_id").format(events, topics)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            return [(row[0], bytes(row[1])) for row in cur.execute(statement).fetchall()]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def signature_rows(self, after_seq: int, limit: int) -> list[tuple]:
        events, signatures, name = self._signature_names()
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            found = cur.execute("SELECT to_regclass(%s)",
                                (f'"{self.datastore.schema}"."{name}"',)).fetchone()[0]
            if found is None:
                statement = SQL("SELECT seq, position, event_hash, NULL, NULL, NULL FROM {0} "
                                "WHERE seq > %s ORDER BY seq LIMIT %s").format(self._chain_table)
            else:
                statement = SQL(
                    "SELECT c.seq, c.position, c.event_hash, s.key_id, s.signature, "
                    "CASE WHEN s.position IS NULL THEN NULL ELSE e.state END "
                    "FROM {0} c LEFT JOIN {1} s ON s.position = c.position "
                    "LEFT JOIN {2} e ON e.notification_id = c.position "
                    "WHERE c.seq > %s ORDER BY c.seq LIMIT %s").format(
                        self._chain_table, signatures, events)
            rows = cur.execute(statement, (after_seq, limit)).fetchall()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                for row in rows]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def signatures_at(self, positions: Sequence[int]) -> dict[int, tuple[str, bytes]]:
        _, signatures, name = self._signature_names()
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            found = cur.execute("SELECT to_regclass(%s)",
                                (f'"{self.datastore.schema}"."{name}"',)).fetchone()[0]
            if found is None:
                return {}
            rows = cur.execute(SQL("SELECT position, key_id, signature FROM {0} "
                                   "WHERE position = ANY(%s)").format(signatures),
                               (list(positions),)).fetchall()
        return {row[0]: (row[1], bytes(row[2])) for row in rows}
