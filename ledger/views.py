"""Persisted read models: tables in the ledger's own database, with a tracked position.

Two views, each a tracking recorder of the eventsourcing library (its ``tracking`` table,
one row per view), written in the same transaction as the view's rows:

- ``history``: one row per event (position, kind, subject, the platform it concerns),
  with indexes so that one platform's or one subject's events are read without
  touching others; their stored bytes (encrypted where the ledger is) are read from the
  events table by position, not copied;
- ``status``: the current status object of each platform ("now, as known now") and the time
  after which it goes stale (a temporary lift ends by itself), sealed together in ``body``.

The index columns hold what the caller gives: ``projections.views`` gives blinded values
(``ledger.blinding``), so that an encrypted ledger's views hold no plaintext either. An
event that concerns no platform (a subject kind without one) has platform "".

The tables are created whenever the ledger is opened for writing (``Ledger``), before
anything is committed; a ledger without them reads as views that are empty. SQL differs
between the stores only in placeholders, so one set of statements serves both: here, with
no import of the eventsourcing library, so that ``ledger.kept`` reads them on a plain
connection; each store's recorder is a module of its own (``ledger.views_sqlite``,
``ledger.views_postgres``). The tables' names and layout are ``ledger.view_tables``
(importable from here, as before), the reads ``ledger.view_reads``; the writes are here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cached_property
from itertools import islice
from typing import Any

import orjson

from domain.declaration import REGISTRY
from ledger.view_reads import ViewReads
from ledger.view_tables import (  # noqa: F401  (as before, from ledger.views)
    _CREATE,
    _CREATE_INDEXES,
    _DDL_LOCK,
    _INDEXES,
    _OLD_LAYOUT,
    _VIEWS_LOCK,
    FACTS,
    MOVES,
    STATUS,
    STATUS_FORMAT,
    VIEWS,
    _drop_old_layout,
    tracking_name,
)

#: Status rows replaced per statement pair when they come as an iterator.
STATUS_CHUNK = 500
#: Event types and subject kinds, written into the SQL of ``copy_history``.
_SLUG = re.compile(r"[a-z][a-z0-9-]{0,99}")


#: The pseudo-view whose tracking position counts the views' emptyings (``drop``).
EMPTIED = "emptied"


class _Views(ViewReads):
    """The statements, common to both stores; subclasses say how to run them."""

    param = "?"

    def _sql(self, statement: str) -> str:
        return statement.replace("?", self.param)

    def _run(self, cursor: Any, statement: str, params: Sequence[Any] = ()) -> Any:
        cursor.execute(self._sql(statement), params)
        return cursor

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        """Rows of a query, as plain tuples (SQLite's cursor gives them, not
        ``sqlite3.Row`` objects then copied: a sixth of the whole ledger history's joined
        read); none where the views' tables do not exist yet."""
        try:
            with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                raw = getattr(c, "sqlite_cursor", None)
                if raw is not None:
                    raw.row_factory = None
                return list(self._run(c, statement, params).fetchall())
        except Exception as error:
            if self._is_missing(error):
                return []
            raise

    def exists(self) -> bool:
        """Whether the views' tables all exist (a ledger never opened for writing since the
        views came may lack them; one may have been dropped by hand)."""
        return not self.missing_tables()

    def missing_tables(self) -> list[str]:
        """The views' tables that do not exist: asked in one transaction, and table by
        table only when one is missing (every read asks, through ``Views.catch_up``; on
        PostgreSQL a failed statement ends its transaction)."""
        try:
            with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                for table in (FACTS, MOVES, STATUS):
                    self._run(c, f"SELECT 1 FROM {table} WHERE 1 = 0").fetchall()
            return []
        except Exception as error:
            if not self._is_missing(error):
                raise
        missing = []
        for table in (FACTS, MOVES, STATUS):
            try:
                with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                    self._run(c, f"SELECT 1 FROM {table} WHERE 1 = 0").fetchall()
            except Exception as error:
                if not self._is_missing(error):
                    raise
                missing.append(table)
        return missing

    def _is_missing(self, error: BaseException) -> bool:
        text = str(error)
        return "no such table" in text or ("does not exist" in text and "relation" in text)

    def position(self, view: str) -> int:
        """How far ``view`` has caught up (a notification id; 0 when empty)."""
        try:
            return self.max_tracking_id(tracking_name(view)) or 0  # type: ignore[attr-defined]
        except Exception as error:
            if self._is_missing(error):
                return 0
            raise

    def write(self, history: Sequence[tuple], status: Iterable[tuple[str, bytes]], *,
              history_to: int | None = None, status_to: int | None = None,
              moves: Sequence[tuple] = (), history_from: int = 0,
              status_from: int = 0) -> None:
        """Add history rows (and moves), replace status rows, and move the views'
        positions, in one transaction (both views, or either)."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self.write_in(c, history, status, history_to=history_to, status_to=status_to,
                          moves=moves, history_from=history_from, status_from=status_from)

    def write_in(self, c: Any, history: Sequence[tuple], status: Iterable[tuple[str, bytes]],
                 *, history_to: int | None = None, status_to: int | None = None,
                 moves: Sequence[tuple] = (), history_from: int = 0,
                 status_from: int = 0) -> None:
        """``write`` with a cursor of a transaction the caller holds.

        Writers of the views take turns (a lock held to the commit), and each skips what
        another one wrote meanwhile: history rows at or before the view's position now, and
        status rows computed up to a position the status view has already reached. So
        processes catching up at once never conflict, and a status never goes backwards.

        ``history_from``, ``status_from``: the positions the writer read the views at, which
        its rows follow. A view found behind them has been emptied since (``drop``, the
        first step of ``projections rebuild``): ``IntegrityError``, and the writer starts
        again (``Views.catch_up``), where its rows would have followed rows no longer there
        and moved the position past them (a review, 2026-12-08).
        """
        # (a write: the library's recorder; not imported by the reads, ``status``'s fast path)
        from eventsourcing.persistence import IntegrityError, Tracking

        self._lock(c)
        for view, since in (("history", history_from), ("status", status_from)):
            if since and self._position_in(c, view) < since:
                raise IntegrityError(f"the {view} view was emptied while its rows after "
                                     f"position {since} were made; try again")
        if history_to is not None:
            at = self._position_in(c, "history")
            history = [row for row in history if row[0] > at]
            if history:
                c.executemany(self._sql(f"INSERT INTO {FACTS} VALUES (?, ?, ?, ?)"),
                              history)
            moves = [row for row in moves if row[3] > at]
            if moves:
                c.executemany(self._sql(f"INSERT INTO {MOVES} VALUES (?, ?, ?, ?) "
                                        "ON CONFLICT DO NOTHING"), moves)
            if history_to > at:
                self._insert_tracking(c, Tracking(tracking_name("history"), history_to))  # type: ignore[attr-defined]
        if status_to is not None and status_to > self._position_in(c, "status"):
            # In one order for every writer (a list is sorted here; any other iterable
            # must come in key order, and is taken STATUS_CHUNK rows at a time, so that
            # it need not be held whole); in two statements run many times (on
            # PostgreSQL one round trip each, not two a row).
            rows = iter(sorted(status) if isinstance(status, list) else status)
            while chunk := list(islice(rows, STATUS_CHUNK)):
                c.executemany(self._sql(f"DELETE FROM {STATUS} WHERE platform = ?"),
                              [(key,) for key, _ in chunk])
                # a None body: a platform with no status now (its registration retracted)
                c.executemany(self._sql(f"INSERT INTO {STATUS} VALUES (?, ?)"),
                              [row for row in chunk if row[1] is not None])
            self._insert_tracking(c, Tracking(tracking_name("status"), status_to))  # type: ignore[attr-defined]

    def copy_history(self, limit: int) -> tuple[int, int]:
        """Add the history rows of the next ``limit`` events after the view's position, built
        in SQL from the events table, and move the view's position to the last of them, in
        one transaction; return ``(position, rows added)``.

        Only for events stored as plain canonical JSON (no cipher, no compressor), whose
        index values are the references themselves. Every event's subject kind and platform
        are those of its aggregate's creating event (``originator_version`` 1: an amendment
        is recorded on the subject that holds its target): each creating event type's
        subject kind is declared (``REGISTRY``); a platform's platform is its subject, any
        other subject's the ``platform`` of its creating event's data, or "".
        """
        from eventsourcing.persistence import Tracking  # a write: the library's recorder

        events, nid = self.events_table, self._notification_id
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self._lock(c)
            at = self._position_in(c, "history")
            row = self._run(c, f"SELECT {nid} FROM {events} WHERE {nid} > ? ORDER BY {nid} "
                               "LIMIT 1 OFFSET ?", (at, limit - 1)).fetchone()
            if row is None:
                row = self._run(c, f"SELECT MAX({nid}) FROM {events} WHERE {nid} > ?",
                                (at,)).fetchone()
            end = row[0] if row and row[0] is not None else None
            if end is None:
                return at, 0
            cursor = self._run(c, self._copy_statement, (at, end))
            added = self._rowcount(cursor)
            moves = [(platform, kind, subject, position)
                     for position, kind, subject, type_name, platforms, changes
                     in map(_values, self._run(c, self._moves_statement, (at, end)).fetchall())
                     for platform in moves_named(type_name, {
                         "platforms": _json_list(platforms),
                         "set": orjson.loads(changes) if changes else None})]
            if moves:
                c.executemany(self._sql(f"INSERT INTO {MOVES} (platform, kind, subject, "
                                        "position) VALUES (?, ?, ?, ?) "
                                        "ON CONFLICT DO NOTHING"), moves)
            self._insert_tracking(c, Tracking(tracking_name("history"), end))  # type: ignore[attr-defined]
            return end, added

    @cached_property
    def _copy_statement(self) -> str:
        """``copy_history``'s INSERT … SELECT, written once per recorder."""
        kinds = {name: t.subject for name, t in REGISTRY.items() if t.creates}
        for name in (*kinds, *kinds.values()):
            if not _SLUG.fullmatch(name):
                raise ValueError(f"not an event type or subject kind: {name!r}")
        kind = "CASE " + self._json("c", "type") + "".join(
            f" WHEN '{name}' THEN '{kind}'" for name, kind in sorted(kinds.items())) + " END"
        platform = (f"CASE WHEN {kind} = 'platform' THEN {self._json('c', 'subject')}"
                    f" ELSE COALESCE({self._json('c', 'data', 'platform')}, "
                    f"{self._json('c', 'data', 'platforms', '0')}, '') END")
        events, nid = self.events_table, self._notification_id
        # LEFT JOIN: an event whose aggregate has no creating event would get no kind, and
        # fail the NOT NULL constraint rather than go missing from the view.
        return (
            f"INSERT INTO {FACTS} (position, kind, subject, platform) "
            f"SELECT e.{nid}, {kind}, {self._json('e', 'subject')}, {platform} "
            f"FROM {events} e LEFT JOIN {events} c ON c.originator_id = e.originator_id "
            f"AND c.originator_version = 1{self._parsed} WHERE e.{nid} > ? AND e.{nid} <= ? "
            f"ORDER BY e.{nid}")

    @cached_property
    def _moves_statement(self) -> str:
        """``copy_history``'s SELECT of the events that may move their subject to other
        platforms (``moves_named``): corrections, and orders made over several platforms;
        with the kind and subject of their history row."""
        events, nid = self.events_table, self._notification_id
        kind = self._json("e", "type")
        changes = self._json("e", "data", "set")
        platforms = self._json("e", "data", "platforms")
        return (f"SELECT e.{nid} AS at, h.kind AS kind, h.subject AS subject, {kind} AS "
                f"type_name, {platforms} AS platforms, {changes} AS changes "
                f"FROM {events} e{self._parsed_one('e')} JOIN {FACTS} h "
                f"ON h.position = e.{nid} WHERE e.{nid} > ? AND e.{nid} <= ? "
                f"AND ({kind} = 'correction' OR {platforms} IS NOT NULL) ORDER BY e.{nid}")

    def _parsed_one(self, alias: str) -> str:
        """What ``_json`` needs joined for the one row ``alias`` (nothing on SQLite)."""
        return ""

    def history_indexes(self, *, present: bool, analyze: bool = False) -> None:
        """Create the history view's indexes where missing, or drop them.

        ``projections.views`` drops them before filling an empty view from a large ledger
        and creates them once it is done: an index built at once, by sorting, costs a
        fraction of one kept current row by row in a key order that is not the rows' own
        (subjects). Measured on a million events, with the three indexes the view then had
        (the third of event ids): the copy 3.9 s and the indexes 1.7 s, against 29.7 s with
        the indexes in place. A fill killed midway leaves them missing until the next
        catch-up that adds rows, or the next open for writing, creates them.

        With ``analyze``, PostgreSQL's planner statistics of the view are brought up to
        date too: after a fill they describe an empty table, and a platform's as-of read
        was planned badly (p99 27 ms against 3.3 ms after ANALYZE, at 200,000 events).
        """
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self._lock(c)
            for (name, _), create in zip(_INDEXES, _CREATE_INDEXES, strict=True):
                self._run(c, create if present else f"DROP INDEX IF EXISTS {name}")
            if analyze:
                self._analyze(c)

    def _analyze(self, c: Any) -> None:
        """Update the planner's statistics of the history view (PostgreSQL only: SQLite
        plans these reads well without them)."""

    def _json(self, alias: str, *path: str) -> str:
        """The SQL text value at ``path`` in the JSON of the event row ``alias`` (its
        ``state``; NULL where absent)."""
        raise NotImplementedError

    #: What ``copy_history`` joins to the event rows ``e`` and ``c`` for ``_json``.
    _parsed = ""

    _notification_id = "notification_id"

    def _rowcount(self, cursor: Any) -> int:
        raise NotImplementedError

    def _position_in(self, c: Any, view: str) -> int:
        row = self._run(c, f"SELECT notification_id FROM {self._tracking_table} "
                           "WHERE application_name = ?", (tracking_name(view),)).fetchone()
        return row[0] if row and row[0] is not None else 0

    def _lock(self, c: Any) -> None:
        """Take the views' write lock, held until the transaction ends."""
        raise NotImplementedError

    def drop(self, view: str) -> None:
        """Empty ``view`` and its position, so that it rebuilds from zero. Under the views'
        write lock: a writer catching up meanwhile (on PostgreSQL, where the lock is not the
        database's) would otherwise add its rows and move the position past the emptied
        rows, leaving the view without them."""
        from eventsourcing.persistence import Tracking  # a write: the library's recorder

        tables = (FACTS, MOVES) if view == "history" else (STATUS,)
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self._lock(c)
            for table in tables:
                self._run(c, f"DELETE FROM {table}")
            self._run(c, f"DELETE FROM {self._tracking_table} WHERE application_name = ?",
                      (tracking_name(view),))
            count = self._position_in(c, EMPTIED) + 1
            self._insert_tracking(c, Tracking(tracking_name(EMPTIED), count))  # type: ignore[attr-defined]

    def emptied(self) -> int:
        """How many times a view has been emptied (``drop``): a reader of the views that
        reads it before and after sees whether they were emptied meanwhile (a position read
        after a rebuild is done would not tell)."""
        return self.position(EMPTIED)


def moves_named(type_name: str, data: Mapping[str, Any]) -> list[str]:
    """The platforms an event moves its subject to, besides the one its history row names
    (``domain.concerns``): each of an order's ``platforms`` (an order over several: its row
    names the first), and the ``platform`` or ``platforms`` a correction sets. The history
    view, its SQL fill and ``verify`` all ask this one function."""
    if type_name == "correction":
        data = data.get("set") or {}
        single = data.get("platform")
        named = [single] if isinstance(single, str) and single else []
    else:
        named = []
    listed = data.get("platforms")
    if isinstance(listed, list):
        named += [p for p in listed if isinstance(p, str) and p]
    return list(dict.fromkeys(named))


def _values(row: Any) -> tuple:
    """A row's values in column order (PostgreSQL's rows come as dicts)."""
    return tuple(row.values()) if isinstance(row, dict) else tuple(row)


def _json_list(text: str | None) -> list[Any] | None:
    if not text:
        return None
    try:
        found = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return found if isinstance(found, list) else None


def _lateral_json(alias: str) -> str:
    """The PostgreSQL join that parses the event row ``alias``'s state once, for
    ``_json``."""
    return (f" CROSS JOIN LATERAL (SELECT convert_from({alias}.state, 'UTF8')::jsonb "
            f"AS {alias}_json OFFSET 0) AS {alias}_parsed")



def __getattr__(name: str) -> Any:
    # ``from ledger.views import SQLiteViews``, as before it had a module of its own.
    if name == "SQLiteViews":
        from ledger.views_sqlite import SQLiteViews

        return SQLiteViews
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
