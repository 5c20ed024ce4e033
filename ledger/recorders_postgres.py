"""The PostgreSQL chained recorder (``ledger.recorders`` explains the chain): apart, so
that a command on a SQLite ledger never imports PostgreSQL's driver (about a third of a
second of start-up). Selected by topic, ``ledger.recorders_postgres:
ChainedPostgresApplicationRecorder`` (``ledger.storage``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    InternalError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from ledger.chain import GENESIS, ChainRow, link
from ledger.chain_reads import PostgresChainReads
from ledger.record_time import check_record_times, new_record_times
from ledger.recorders import (
    _DDL_LOCK,
    ChainedSQLiteApplicationRecorder,
    _chain_items,
    _check_backfill_covers,
    _checked_backfill,
    _checked_exports,
)
from ledger.signed_postgres import PostgresSignatures
from ledger.store_check import PostgresStoreCheck
from ledger.write_guard import Guard, since_statement


class ChainedPostgresApplicationRecorder(PostgresSignatures, PostgresChainReads,
                                         PostgresStoreCheck, PostgresApplicationRecorder):
    """A PostgreSQL application recorder that appends to the hash chain in each insert,
    and signs the new events when a signer is set (``ledger.signed``)."""

    def __init__(self, datastore: PostgresDatastore, *,
                 events_table_name: str = "stored_events"):
        super().__init__(datastore, events_table_name=events_table_name)
        self.chain_table_name = f"{events_table_name}_chain"
        self.check_identifier_length(self.chain_table_name)
        table = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                      Identifier(self.chain_table_name))
        self._chain_table = table
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0} ("
            "seq bigint PRIMARY KEY, "
            "position bigint NOT NULL UNIQUE, "
            "event_id text UNIQUE, "
            "event_hash bytea NOT NULL CHECK (octet_length(event_hash) = 32), "
            "chain bytea NOT NULL CHECK (octet_length(chain) = 32))").format(table))
        self.checkpoints_table_name = f"{events_table_name}_checkpoints"
        self.check_identifier_length(self.checkpoints_table_name)
        self._checkpoints_table = SQL("{0}.{1}").format(
            Identifier(self.datastore.schema), Identifier(self.checkpoints_table_name))
        self.sql_create_statements.append(SQL(
            "CREATE TABLE IF NOT EXISTS {0} (seq bigserial PRIMARY KEY, "
            "tree_size bigint NOT NULL, note text NOT NULL)").format(self._checkpoints_table))
        self.sql_create_statements.extend(self.signature_statements())
        self._select_head = SQL(
            "SELECT seq, position, chain FROM {0} ORDER BY seq DESC LIMIT 1").format(table)
        self._insert_chain = SQL(
            "INSERT INTO {0} (seq, position, event_id, event_hash, chain) "
            "VALUES (%s, %s, %s, %s, %s)").format(table)

    @retry((InternalError, IntegrityError), max_attempts=5, wait=0.2)
    def create_table(self) -> None:
        """The library's tables, types and function, plus ours; safe to run concurrently.

        Several operators starting at once on a new database would otherwise race on the
        catalog ("tuple concurrently updated" from CREATE OR REPLACE FUNCTION).
        """
        super().create_table()

    def _create_table(self, curs: Any) -> None:
        # Serialize concurrent schema creation across connections, until this commits.
        curs.execute("SELECT pg_advisory_xact_lock(%s)", (_DDL_LOCK,))
        super()._create_table(curs)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Insert the events and their chain links in one transaction.

        ``exports`` as for the SQLite recorder. Unlike the library's method, this never
        takes the ``POSTGRES_ENABLE_DB_FUNCTIONS`` path (its database function inserts
        events alone), and any failure, in Python or in SQL, rolls the transaction back.
        """
        exports = _checked_exports(stored_events, kwargs.get("exports"))
        kwargs["exports"] = exports
        ids: Sequence[int] | None = None
        # No pipeline (the library's method pipelines these statements): an INSERT of
        # 20,000 events in pipeline mode never completed (the server waited for the rest
        # of the statement, psycopg for its results), with either psycopg implementation.
        # Any failure, in Python or in SQL, rolls the transaction back; raised inside
        # get_connection(), psycopg's errors become the library's (IntegrityError...).
        with self.datastore.get_connection() as conn, conn.transaction(), \
                conn.cursor() as curs:
            self._insert_events(curs, stored_events, **kwargs)
            if stored_events:
                # Takes LOCK TABLE … IN EXCLUSIVE MODE on the events table first, which
                # serializes writers through to the commit.
                self._insert_stored_events(curs, stored_events, **kwargs)
                ids = self._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
                self._guard(curs, ids, kwargs.get("guard"))
                self._append_chain(curs, ids, stored_events, exports)
        return ids

    def _guard(self, curs: Any, ids: Sequence[int], guard: Guard | None) -> None:
        """``ledger.write_guard``: the events stored after the guard's head, read once the
        events table's lock is held (the insert took it)."""
        if guard is None or not ids:
            return
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        rows = curs.execute(SQL(since_statement("{0}", "notification_id", "%s")).format(events),
                            (guard.head, min(ids))).fetchall()
        guard.check(((row["originator_id"], self._type_of(row["state"])) for row in rows),
                    len(rows))

    def _append_chain(self, curs: Any, ids: Sequence[int],
                      stored_events: Sequence[StoredEvent], exports: list | None) -> None:
        curs.execute(self._select_head)
        head = curs.fetchone()
        prev, seq = (bytes(head["chain"]), head["seq"]) if head else (GENESIS, 0)
        previous = None
        if head is not None:
            events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                           Identifier(self.events_table_name))
            curs.execute(SQL("SELECT state FROM {0} WHERE notification_id = %s").format(events),
                         (head["position"],))
            before = curs.fetchone()
            previous = self._record_time(before["state"]) if before else None
        # The server's clock, not the writer's, is the PostgreSQL ledger's reference.
        server_now = curs.execute("SELECT clock_timestamp() AS now").fetchone()["now"]
        check_record_times(previous, new_record_times(stored_events, exports), ids,
                           server_now)
        rows = link(prev, seq, _chain_items(ids, stored_events, exports))
        curs.executemany(self._insert_chain, rows)
        self._attribute(curs, rows)

    _record_time = ChainedSQLiteApplicationRecorder._record_time
    _type_of = ChainedSQLiteApplicationRecorder._type_of

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def chain_head(self) -> tuple[int, int, bytes] | None:
        """The last link as ``(seq, position, chain)``, or None when the chain is empty."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            row = curs.execute(self._select_head).fetchone()
        return None if row is None else (row["seq"], row["position"], bytes(row["chain"]))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_chain(self, after_seq: int, limit: int) -> list[ChainRow]:
        """Up to ``limit`` links with seq greater than ``after_seq``, in order."""
        statement = SQL("SELECT seq, position, event_id, event_hash, chain FROM {0} "
                        "WHERE seq > %s ORDER BY seq LIMIT %s").format(self._chain_table)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            rows = curs.execute(statement, (after_seq, limit)).fetchall()
        return [ChainRow(r["seq"], r["position"], r["event_id"], bytes(r["event_hash"]),
                         bytes(r["chain"])) for r in rows]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def existing_originators(self, ids: Iterable[UUID]) -> set[UUID]:
        """Those of the aggregate ``ids`` that have events, in one query."""
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        statement = SQL("SELECT DISTINCT originator_id FROM {0} "
                        "WHERE originator_id = ANY(%s)").format(events)
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            rows = cur.execute(statement, (list(dict.fromkeys(ids)),)).fetchall()
        return {row["originator_id"] for row in rows}

    def events_of(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each of the aggregate ``ids`` that has any, in version order,
        in one query."""
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        statement = SQL("SELECT originator_id, originator_version, topic, state FROM {0} "
                        "WHERE originator_id = ANY(%s) "
                        "ORDER BY originator_id, originator_version").format(events)
        found: dict[UUID, list[StoredEvent]] = {}
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            for row in cur.execute(statement, (list(dict.fromkeys(ids)),)).fetchall():
                found.setdefault(row["originator_id"], []).append(StoredEvent(
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"], topic=row["topic"],
                    state=bytes(row["state"])))
        return found

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def verification_rows(self, after_seq: int, limit: int) -> list[tuple]:
        """``(seq, position, event_hash, chain, state or None)`` in chain order: each link
        with its event's stored state (None where the event is gone), for ``verify``."""
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        statement = SQL("SELECT c.seq, c.position, c.event_hash, c.chain, e.state "
                        "FROM {0} c LEFT JOIN {1} e ON e.notification_id = c.position "
                        "WHERE c.seq > %s ORDER BY c.seq LIMIT %s").format(
                            self._chain_table, events)
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            return cur.execute(statement, (after_seq, limit)).fetchall()

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def first_unchained_position(self) -> int | None:
        """The first event without a chain entry (inserted behind the ledger), if any."""
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        statement = SQL("SELECT MIN(e.notification_id) AS first FROM {0} e WHERE NOT EXISTS "
                        "(SELECT 1 FROM {1} c WHERE c.position = e.notification_id)").format(
                            events, self._chain_table)
        with self.datastore.get_connection() as conn, conn.cursor() as cur:
            return cur.execute(statement).fetchone()["first"]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def count_events(self) -> int:
        """How many event rows there are: ``verify`` compares it with the links it walked,
        and looks for an unchained event only when they differ."""
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        with self.datastore.get_connection() as conn, conn.cursor(row_factory=tuple_row) as cur:
            return cur.execute(SQL("SELECT COUNT(*) FROM {0}").format(events)).fetchone()[0]

    def insert_checkpoint(self, tree_size: int, note: str) -> None:
        """Keep a checkpoint written for auditors (they keep their own copy too)."""
        with self.datastore.transaction(commit=True) as curs:
            curs.execute(SQL("INSERT INTO {0} (tree_size, note) VALUES (%s, %s)").format(
                self._checkpoints_table), (tree_size, note))

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def select_checkpoints(self) -> list[str]:
        """Every checkpoint note kept, oldest first."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            rows = curs.execute(SQL("SELECT note FROM {0} ORDER BY seq").format(
                self._checkpoints_table)).fetchall()
        return [r["note"] for r in rows]

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def positions_of(self, event_ids: Iterable[str]) -> dict[str, int]:
        """The positions of those of ``event_ids`` that are in the ledger."""
        statement = SQL("SELECT event_id, position FROM {0} "
                        "WHERE event_id = ANY(%s)").format(self._chain_table)
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            rows = curs.execute(statement, (list(dict.fromkeys(event_ids)),)).fetchall()
        return {r["event_id"]: r["position"] for r in rows}

    def insert_chain_rows(self, rows: Iterable[ChainRow]) -> None:
        """Backfill the chain of a ledger created before the chain existed (one-off).

        Allowed only while the chain table is empty, and only with rows that link from
        genesis and cover exactly the events already stored: anything else raises
        ``ChainError`` and writes nothing. Writers are held off by the events table lock.
        """
        rows = _checked_backfill(rows)
        events = SQL("{0}.{1}").format(Identifier(self.datastore.schema),
                                       Identifier(self.events_table_name))
        with self.datastore.transaction(commit=True) as curs:
            self._lock_table(curs)
            curs.executemany(self._insert_chain, rows)
            _check_backfill_covers(
                curs, len(rows),
                SQL("SELECT COUNT(*) FROM {0}").format(self._chain_table),
                SQL("SELECT COUNT(*) FROM {0}").format(events),
                SQL("SELECT COUNT(*) FROM {0} e JOIN {1} c ON c.position = e.notification_id"
                    ).format(events, self._chain_table))
