"""Application recorders that write the hash chain in the same transaction as the events.

Each recorder keeps a chain table, ``<events table>_chain``, with one row per event:
``seq`` (1..N, contiguous), ``position`` (the event's notification id), ``event_id`` (the
ledger event's id, or NULL), ``event_hash`` and ``chain`` (32 bytes each). On every
``insert_events`` call the event rows are inserted first, then the chain head is read and
the new links appended, all in one transaction: a failure anywhere rolls back both, and
because the insert has already taken the store's write lock (SQLite's database lock, the
library's ``LOCK TABLE … IN EXCLUSIVE MODE`` on PostgreSQL) concurrent writers are
serialized and always extend the latest head.

Writers pass ``exports=[…]``, one per stored event, in order: the event's export object
without ``position`` (a dict), or ``(event id, canonical bytes)`` of that object, or
``(event id, None)`` when the stored state itself is those canonical bytes (the ledger's
own mapper, unencrypted: the fast path, nothing encoded twice). The hash is then the one
anyone can recompute from an export line; without ``exports`` the stored row is hashed
(``ledger.chain.raw_event_hash``).

Select them with ``APPLICATION_RECORDER_TOPIC`` (``BLOCKLEDGER_APPLICATION_RECORDER_TOPIC``),
e.g. ``ledger.recorders:ChainedSQLiteApplicationRecorder``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import (
    StoredEvent,
)
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from domain.stored import type_of
from ledger.canonical import hash_stored
from ledger.chain import GENESIS, ChainRow, export_event_hash, first_break, link, raw_event_hash
from ledger.chain_reads import SQLiteChainReads
from ledger.record_time import check_record_times, new_record_times, recorded_at_of
from ledger.signed import SQLiteSignatures
from ledger.store_check import SQLiteStoreCheck
from ledger.write_guard import since_statement

#: How many event ids go in one ``IN (…)`` query (SQLite caps bound parameters).
_ID_BATCH = 500
#: The advisory lock key that serializes schema creation on PostgreSQL ("bl-ddl").
_DDL_LOCK = 0x626C2D64646C


class ChainError(ValueError):
    """Bad ``exports`` for an insert, or chain rows a backfill refuses."""


def _checked_exports(stored_events: Sequence[StoredEvent], exports: Any) -> list | None:
    # Checked before any SQL runs, so a caller's mistake never costs a transaction.
    if exports is None:
        return None
    exports = list(exports)
    if len(exports) != len(stored_events):
        raise ChainError(f"{len(exports)} exports for {len(stored_events)} stored events")
    for export in exports:
        if isinstance(export, tuple):
            if len(export) != 2 or not isinstance(export[0], str):
                raise ChainError("an export tuple is (event id, canonical bytes or None)")
        elif not isinstance(export, dict) or not isinstance(export.get("id"), str):
            raise ChainError("each export must be a dict with a string 'id'")
    return exports


def _chain_items(ids: Sequence[int], stored_events: Sequence[StoredEvent],
                 exports: list | None) -> list[tuple[int, str | None, bytes]]:
    if exports is None:
        return [(p, None, raw_event_hash(p, s)) for p, s in zip(ids, stored_events, strict=True)]
    return [(p, e[0], hash_stored(s.state if e[1] is None else e[1], p)) if isinstance(e, tuple)
            else (p, e["id"], export_event_hash(p, e))
            for p, e, s in zip(ids, exports, stored_events, strict=True)]


def _checked_backfill(rows: Iterable[ChainRow]) -> list[ChainRow]:
    rows = [ChainRow(*row) for row in rows]
    bad = first_break(rows)
    if bad is not None:
        raise ChainError(f"chain rows do not link from genesis at seq {bad.seq}")
    return rows


class ChainedSQLiteApplicationRecorder(SQLiteSignatures, SQLiteChainReads, SQLiteStoreCheck,
                                       SQLiteApplicationRecorder):
    """A SQLite application recorder that appends to the hash chain in each insert, and
    signs the new events when a signer is set (``ledger.signed``)."""

    def __init__(self, datastore: SQLiteDatastore, events_table_name: str = "stored_events"):
        # Set before super().__init__, which builds the CREATE TABLE statements.
        self.chain_table_name = f"{events_table_name}_chain"
        self.checkpoints_table_name = f"{events_table_name}_checkpoints"
        super().__init__(datastore, events_table_name)
        t = self.chain_table_name
        self._select_head = f"SELECT seq, position, chain FROM {t} ORDER BY seq DESC LIMIT 1"
        self._insert_chain = (f"INSERT INTO {t} (seq, position, event_id, event_hash, chain) "
                              "VALUES (?, ?, ?, ?, ?)")
        self._insert_with_rowid = (f"INSERT INTO {events_table_name} (rowid, originator_id, "
                                   "originator_version, topic, state) VALUES (?, ?, ?, ?, ?)")

    def construct_create_table_statements(self) -> list[str]:
        """The library's events table, plus the chain table."""
        return [*super().construct_create_table_statements(), (
            f"CREATE TABLE IF NOT EXISTS {self.chain_table_name} ("
            "seq INTEGER PRIMARY KEY, "
            "position INTEGER NOT NULL UNIQUE, "
            "event_id TEXT UNIQUE, "
            "event_hash BLOB NOT NULL CHECK (length(event_hash) = 32), "
            "chain BLOB NOT NULL CHECK (length(chain) = 32))"), (
            f"CREATE TABLE IF NOT EXISTS {self.checkpoints_table_name} ("
            "seq INTEGER PRIMARY KEY, tree_size INTEGER NOT NULL, note TEXT NOT NULL)"),
            *self.signature_statements()]

    def insert_events(self, stored_events: Sequence[StoredEvent],
                      **kwargs: Any) -> Sequence[int] | None:
        """Insert the events and their chain links in one transaction.

        ``exports``, if given, is a list aligned with ``stored_events`` of the events'
        export objects without ``position``. Returns the notification ids.
        """
        kwargs["exports"] = _checked_exports(stored_events, kwargs.get("exports"))
        return super().insert_events(stored_events, **kwargs)

    def _insert_events(self, c: Any, stored_events: Sequence[StoredEvent],
                       **kwargs: Any) -> Sequence[int] | None:
        ids = self._insert_rows(c, stored_events)
        if ids:
            # The INSERT above took the database write lock, so this head is the latest
            # and no other writer can append until this transaction ends.
            guard = kwargs.get("guard")
            if guard is not None:  # (ledger.write_guard)
                c.execute(since_statement(self.events_table_name, "rowid", "?"),
                          (guard.head, ids[0]))
                rows = c.fetchall()
                guard.check(((row[0], self._type_of(row[1])) for row in rows), len(rows))
            c.execute(self._select_head)
            head = c.fetchone()
            prev, seq = (head["chain"], head["seq"]) if head else (GENESIS, 0)
            previous = None
            if head is not None:
                c.execute(f"SELECT state FROM {self.events_table_name} WHERE rowid = ?",
                          (head["position"],))
                before = c.fetchone()
                previous = self._record_time(before[0]) if before else None
            check_record_times(previous, new_record_times(stored_events, kwargs.get("exports")),
                               ids)
            rows = link(prev, seq, _chain_items(ids, stored_events, kwargs.get("exports")))
            c.executemany(self._insert_chain, rows)
            self._attribute(c, rows)
        return ids

    def _type_of(self, state: bytes) -> str | None:
        """The type of a stored event (None where it cannot be read)."""
        try:
            return type_of(self.decode_state(bytes(state)) if self.decode_state
                           else bytes(state))
        except Exception:
            return None

    def _record_time(self, state: bytes | None) -> datetime | None:
        """The record time of a stored event (None where it cannot be read: ``verify``
        names such an event)."""
        if state is None:
            return None
        try:
            plain = self.decode_state(bytes(state)) if self.decode_state else bytes(state)
        except Exception:
            return None
        return recorded_at_of(plain)

    def _insert_rows(self, c: Any, stored_events: Sequence[StoredEvent]) -> list[int]:
        """Insert the event rows; return their notification ids (rowids).

        The library inserts row by row to read each new rowid. Here only the first row is
        inserted so: that INSERT takes the database's write lock, and until the commit no
        other writer can insert, so the rowids after it are free and the rest go in one
        ``executemany`` with those rowids given (what SQLite would have chosen: the largest
        rowid plus one).
        """
        if not stored_events:
            return []
        rows = [(s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                 s.originator_version, s.topic, s.state) for s in stored_events]
        c.execute(self.insert_events_statement, rows[0])
        first = c.lastrowid
        if len(rows) > 1:
            c.executemany(self._insert_with_rowid,
                          [(first + i, *row) for i, row in enumerate(rows[1:], start=1)])
        return list(range(first, first + len(rows)))

    def chain_head(self) -> tuple[int, int, bytes] | None:
        """The last link as ``(seq, position, chain)``, or None when the chain is empty."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(self._select_head)
            row = c.fetchone()
        return None if row is None else (row["seq"], row["position"], row["chain"])

    def select_chain(self, after_seq: int, limit: int) -> list[ChainRow]:
        """Up to ``limit`` links with seq greater than ``after_seq``, in order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT seq, position, event_id, event_hash, chain "
                      f"FROM {self.chain_table_name} WHERE seq > ? ORDER BY seq LIMIT ?",
                      (after_seq, limit))
            return [ChainRow(*row) for row in c.fetchall()]

    def existing_originators(self, ids: Iterable[UUID]) -> set[UUID]:
        """Those of the aggregate ``ids`` that have events (one query per 500 ids), so
        that a batch does not ask for each new subject in turn."""
        ids = list(dict.fromkeys(ids))
        found: set[UUID] = set()
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(ids), _ID_BATCH):
                batch = [u.hex for u in ids[i:i + _ID_BATCH]]
                c.execute(f"SELECT DISTINCT originator_id FROM {self.events_table_name} "
                          f"WHERE originator_id IN ({','.join('?' * len(batch))})", batch)
                found.update(UUID(row[0]) for row in c.fetchall())
        return found

    def events_of(self, ids: Iterable[UUID]) -> dict[UUID, list[StoredEvent]]:
        """The stored events of each of the aggregate ``ids`` that has any, in version order
        (``select_events`` of each, one query per 500 ids)."""
        ids = list(dict.fromkeys(ids))
        found: dict[UUID, list[StoredEvent]] = {}
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(ids), _ID_BATCH):
                batch = [u.hex for u in ids[i:i + _ID_BATCH]]
                c.execute(f"SELECT originator_id, originator_version, topic, state FROM "
                          f"{self.events_table_name} WHERE originator_id IN "
                          f"({','.join('?' * len(batch))}) "
                          "ORDER BY originator_id, originator_version", batch)
                for row in c.fetchall():
                    key = UUID(row[0])
                    found.setdefault(key, []).append(StoredEvent(
                        originator_id=key, originator_version=row[1], topic=row[2],
                        state=row[3]))
        return found

    def verification_rows(self, after_seq: int, limit: int) -> list[tuple]:
        """``(seq, position, event_hash, chain, state or None)`` in chain order: each link
        with its event's stored state (None where the event is gone), for ``verify``."""
        with self.datastore.get_connection(commit=False) as conn:
            # A plain cursor gives plain tuples: sqlite3.Row objects cost more than hashing.
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            cursor.execute(
                f"SELECT c.seq, c.position, c.event_hash, c.chain, e.state "
                f"FROM {self.chain_table_name} c LEFT JOIN {self.events_table_name} e "
                f"ON e.rowid = c.position WHERE c.seq > ? ORDER BY c.seq LIMIT ?",
                (after_seq, limit))
            return cursor.fetchall()

    def verification_run(self, after_seq: int, limit: int, offset: int) -> list[tuple] | None:
        """``(event_hash, chain, state or None)`` of the links ``after_seq + 1`` to
        ``after_seq + limit`` in order, if each of them is there with position ``seq +
        offset``; else None (``verification_rows`` then tells what is there).

        ``limit`` rows back mean that each of those seqs is there once (each row's seq is
        its rowid, which is unique, even in a chain table rebuilt with another schema) and
        so is each position: the two columns need not be read.
        """
        with self.datastore.get_connection(commit=False) as conn:
            cursor = conn._sqlite_conn.cursor()
            cursor.row_factory = None
            try:
                cursor.execute(
                    f"SELECT c.event_hash, c.chain, e.state "
                    f"FROM {self.chain_table_name} c LEFT JOIN {self.events_table_name} e "
                    f"ON e.rowid = c.position WHERE c.seq > ? AND c.seq <= ? "
                    f"AND c.rowid = c.seq AND c.position = c.seq + ? ORDER BY c.seq",
                    (after_seq, after_seq + limit, offset))
                rows = cursor.fetchall()
            except sqlite3.Error:  # a chain table without rowids: not one the ledger made
                return None
        return rows if len(rows) == limit else None

    def first_unchained_position(self) -> int | None:
        """The first event without a chain entry (inserted behind the ledger), if any."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT MIN(e.rowid) FROM {self.events_table_name} e WHERE NOT EXISTS "
                      f"(SELECT 1 FROM {self.chain_table_name} c WHERE c.position = e.rowid)")
            return c.fetchone()[0]

    def count_events(self) -> int:
        """How many event rows there are: ``verify`` compares it with the links it walked,
        and looks for an unchained event only when they differ."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) FROM {self.events_table_name}")
            return c.fetchone()[0]

    def insert_checkpoint(self, tree_size: int, note: str) -> None:
        """Keep a checkpoint written for auditors (they keep their own copy too)."""
        with self.datastore.transaction(commit=True) as c:
            c.execute(f"INSERT INTO {self.checkpoints_table_name} (tree_size, note) "
                      "VALUES (?, ?)", (tree_size, note))

    def select_checkpoints(self) -> list[str]:
        """Every checkpoint note kept, oldest first."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT note FROM {self.checkpoints_table_name} ORDER BY seq")
            return [row["note"] for row in c.fetchall()]

    def positions_of(self, event_ids: Iterable[str]) -> dict[str, int]:
        """The positions of those of ``event_ids`` that are in the ledger."""
        ids = list(dict.fromkeys(event_ids))
        found: dict[str, int] = {}
        with self.datastore.transaction(commit=False) as c:
            for i in range(0, len(ids), _ID_BATCH):
                batch = ids[i:i + _ID_BATCH]
                c.execute(f"SELECT event_id, position FROM {self.chain_table_name} "
                          f"WHERE event_id IN ({','.join('?' * len(batch))})", batch)
                found.update((row["event_id"], row["position"]) for row in c.fetchall())
        return found

    def insert_chain_rows(self, rows: Iterable[ChainRow]) -> None:
        """Backfill the chain of a ledger created before the chain existed (one-off).

        Allowed only while the chain table is empty, and only with rows that link from
        genesis and cover exactly the events already stored: anything else raises
        ``ChainError`` and writes nothing. Writers are held off meanwhile.
        """
        rows = _checked_backfill(rows)
        e, t = self.events_table_name, self.chain_table_name
        with self.datastore.transaction(commit=True) as c:
            # Inserting first takes the write lock, so the checks below see a still store.
            c.executemany(self._insert_chain, rows)
            _check_backfill_covers(
                c, len(rows), f"SELECT COUNT(*) FROM {t}", f"SELECT COUNT(*) FROM {e}",
                f"SELECT COUNT(*) FROM {e} JOIN {t} ON {t}.position = {e}.rowid")


def _check_backfill_covers(c: Any, n: int, *count_statements: Any) -> None:
    # Chain rows == n: the table was empty; events == n and matched == n: every event has
    # exactly its link. Raising here rolls the backfill back.
    counts = []
    for statement in count_statements:
        c.execute(statement)
        row = c.fetchone()  # a dict on PostgreSQL (dict_row), a sqlite3.Row on SQLite
        counts.append(next(iter(row.values())) if isinstance(row, dict) else row[0])
    chain, events, matched = counts
    if chain != n:
        raise ChainError("the chain table is not empty: backfill only starts a chain")
    if events != n or matched != n:
        raise ChainError(f"backfill rows cover {matched} of {events} stored events "
                         f"(got {n} rows)")
