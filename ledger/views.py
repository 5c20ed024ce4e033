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
``ledger.views_postgres``).
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping, Sequence
from functools import cached_property
from itertools import islice
from operator import itemgetter
from typing import Any

import orjson

from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure

VIEWS = ("history", "status")
FACTS = "bl_view_history"
STATUS = "bl_view_status"
#: Subjects (orders, requests) a correction moved to another platform: each concerns that
#: platform too, with all its events (``domain.concerns``), from the correction's position.
MOVES = "bl_view_moves"
#: Status rows replaced per statement pair when they come as an iterator.
STATUS_CHUNK = 500

#: The history view's indexes: (name, columns).
_INDEXES = [(f"{FACTS}_platform", "platform, position"),
            (f"{FACTS}_subject", "subject, kind, position")]
_CREATE_INDEXES = [f"CREATE INDEX IF NOT EXISTS {name} ON {FACTS} ({columns})"
                   for name, columns in _INDEXES]
_CREATE = [
    f"CREATE TABLE IF NOT EXISTS {FACTS} (position BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
    "subject TEXT NOT NULL, platform TEXT NOT NULL)",
    *_CREATE_INDEXES,
    f"CREATE TABLE IF NOT EXISTS {STATUS} (platform TEXT PRIMARY KEY, body BYTEA NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {MOVES} (platform TEXT NOT NULL, kind TEXT NOT NULL, "
    "subject TEXT NOT NULL, position BIGINT NOT NULL, PRIMARY KEY (platform, kind, subject))",
    # where a batch's subjects were moved (``moves_of``); on a ledger written before it,
    # made at its next open for writing (until then the lookup reads the table whole)
    f"CREATE INDEX IF NOT EXISTS {MOVES}_subject ON {MOVES} (subject, kind)",
]
#: The advisory lock key that serializes schema changes (the same as ledger.recorders').
_DDL_LOCK = 0x626C2D64646C  # "bl-ddl"
#: The advisory lock key that makes writers of the views take turns on PostgreSQL.
_VIEWS_LOCK = 0x626C2D7669657773  # "bl-views"
#: Columns only earlier layouts had: the presence of either means the views are rebuilt
#: (they are read models, so dropping them loses nothing). ``body`` was a copy of each
#: event's stored bytes, read now from the events table by position; ``event_id`` indexed
#: each event's id, found now through the hash chain's index of ids.
_OLD_LAYOUT = ("recorded_at", "body", "event_id")
#: Event types and subject kinds, written into the SQL of ``copy_history``.
_SLUG = re.compile(r"[a-z][a-z0-9-]{0,99}")


#: The form of a kept status row (``projections.views``: ``{"format", "status",
#: "stale_after"}``, the status as ``projections.status.platform_status`` gives it). Bump
#: it whenever that status changes shape or meaning (tests/test_views.py fingerprints it):
#: rows of another format are read by nobody (reads fold afresh, ``verify`` does not
#: compare them), and the status view's tracking row is named after the format, so the
#: next catch-up rewrites every platform's row. Before formats, a release that added a
#: status field made ``verify`` call every kept row altered.
STATUS_FORMAT = 5  # 3: jurisdictions, orders and observations say theirs; 4: a
# jurisdiction's answer keeps the latest observation of a target and, as status --jurisdiction,
# no request naming no order yet made; 5: the same shape, an observation diverges only from
# the orders that bind where it was made (a regional order is no answer for another
# region), and a penalty counts where its order binds whatever the as-of


def tracking_name(view: str) -> str:
    """The tracking row of a view (the library's tracking table, keyed by name); the
    status view's names its row format (``STATUS_FORMAT``)."""
    if view == "status":
        return f"blockledger-view-status-v{STATUS_FORMAT}"
    return f"blockledger-view-{view}"


class _Views:
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
        """Whether the views' tables exist (a ledger never opened for writing since the
        views came may lack them)."""
        try:
            with self.datastore.transaction(commit=False) as c:  # type: ignore[attr-defined]
                self._run(c, f"SELECT 1 FROM {STATUS} WHERE 1 = 0").fetchall()
                self._run(c, f"SELECT 1 FROM {FACTS} WHERE 1 = 0").fetchall()
            return True
        except Exception as error:
            if self._is_missing(error):
                return False
            raise

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
              moves: Sequence[tuple] = ()) -> None:
        """Add history rows (and moves), replace status rows, and move the views'
        positions, in one transaction (both views, or either)."""
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            self.write_in(c, history, status, history_to=history_to, status_to=status_to,
                          moves=moves)

    def write_in(self, c: Any, history: Sequence[tuple], status: Iterable[tuple[str, bytes]],
                 *, history_to: int | None = None, status_to: int | None = None,
                 moves: Sequence[tuple] = ()) -> None:
        """``write`` with a cursor of a transaction the caller holds.

        Writers of the views take turns (a lock held to the commit), and each skips what
        another one wrote meanwhile: history rows at or before the view's position now, and
        status rows computed up to a position the status view has already reached. So
        processes catching up at once never conflict, and a status never goes backwards.
        """
        from eventsourcing.persistence import Tracking  # a write: the library's recorder

        self._lock(c)
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
        """Empty ``view`` and its position, so that it rebuilds from zero."""
        tables = (FACTS, MOVES) if view == "history" else (STATUS,)
        with self.datastore.transaction(commit=True) as c:  # type: ignore[attr-defined]
            for table in tables:
                self._run(c, f"DELETE FROM {table}")
            self._run(c, f"DELETE FROM {self._tracking_table} WHERE application_name = ?",
                      (tracking_name(view),))

    def history_rows(self, *, platform: str | None = None,
                     subject: tuple[str, str] | None = None,
                     shared: tuple[str, str] | None = None) -> list[tuple[int, bytes]]:
        """``(position, body)`` of one platform's events (with its orders and requests, and
        the ``shared`` subject's: see ``platform_rows``), of one subject's (``(kind,
        subject)``), or of all, in position order."""
        statement, params = f"SELECT h.position, e.state {self._with_bodies()}", ()
        if platform is not None:
            return self.platform_rows([platform], shared=shared).get(  # type: ignore[return-value]
                platform, [])
        if subject is not None:
            statement, params = statement + " WHERE h.subject = ? AND h.kind = ?", subject[::-1]
        return [(row[0], _body(row[0], row[1])) for row in self._read(
            statement + " ORDER BY h.position", params)]

    def kind_rows(self, kind: str, *, after: int = 0,
                  limit: int = 5000) -> list[tuple[int, bytes]]:
        """``(position, body)`` of the events of subjects of (index) ``kind`` after position
        ``after``, ``limit`` at most, in position order: a scan of the view, for a reader
        that needs every subject of one kind (``sources.holders``: every platform's
        targets), a page at a time."""
        rows = self._read(f"SELECT h.position, e.state {self._with_bodies()} WHERE h.kind = ? "
                          "AND h.position > ? ORDER BY h.position LIMIT ?",
                          (kind, after, limit))
        return _bodies_checked(rows, 1)

    #: The ledger's events table, where the history rows' bodies are read (by position);
    #: set by ``ledger.application.Ledger.view_store``.
    events_table = "stored_events"
    #: The ledger's hash chain table (``ledger.recorders``), whose index of event ids
    #: ``kinds_of`` reads; set with ``events_table``.
    chain_table = "stored_events_chain"

    def _with_bodies(self) -> str:
        """FROM the history view ``h`` joined to its events ``e`` (their stored bytes): a
        left join, so that a row whose event was deleted comes with no body and is refused
        (``_body``), never silently left out of what is read."""
        return (f"FROM {FACTS} h LEFT JOIN {self.events_table} e "
                f"ON e.{self._notification_id} = h.position")

    def platform_rows(self, platforms: Sequence[str], *, before: int | None = None,
                      known: Container[int] = frozenset(),
                      shared: tuple[str, str] | None = None,
                      ) -> dict[str, list[tuple[int, bytes | None]]]:
        """``(position, body)`` of the events of each of ``platforms`` (before position
        ``before``), in position order, by platform, with those of the ``shared`` subject
        (``(kind, subject)`` keys: the ledger's settings, which every status reads). Events
        at ``known`` positions (whose facts the caller holds) come with body None, and only
        the others' bytes are read: their positions from the view's platform index alone,
        then their bytes by position.
        """
        if not platforms:
            return {}
        where = f"WHERE h.platform IN ({', '.join('?' * len(platforms))})"
        params: list[Any] = list(platforms)
        if before is not None:
            where += " AND h.position < ?"
            params.append(before)
        # The subjects moved to these platforms by a correction, with all their events.
        moved = (f"FROM {MOVES} m JOIN {FACTS} h ON h.kind = m.kind AND h.subject = m.subject "
                 f"WHERE m.platform IN ({', '.join('?' * len(platforms))})"
                 + (" AND h.position < ?" if before is not None else ""))
        out: dict[str, list[tuple[int, bytes | None]]] = {}
        rows = [*self._read(f"SELECT h.platform, h.position FROM {FACTS} h {where}", params),
                *self._read(f"SELECT m.platform, h.position {moved}", params)]
        if shared is not None:
            common = self._read(f"SELECT position FROM {FACTS} WHERE subject = ? AND kind = ?"
                                + (" AND position < ?" if before is not None else ""),
                                [*shared[::-1], *([before] if before is not None else [])])
            rows += [(platform, row[0]) for row in common for platform in platforms]
        rows = sorted(set(rows))
        bodies = self._bodies([position for _, position in rows if position not in known])
        for platform, position in rows:
            out.setdefault(platform, []).append((position, bodies.get(position)))
        return out

    def platform_bodies(self, platforms: Sequence[str]) -> list[tuple[str, int, bytes]]:
        """``(platform, position, body)`` of every event of each of ``platforms`` (those of
        the subjects moved to them too), by platform, then position: what
        ``platform_rows(platforms)`` gives, read in two joined queries (the view's rows of
        these platforms, and the subjects moved to them) rather than the index and then
        the bodies by position. The whole ledger's history reads every event so, in a third
        of the time."""
        if not platforms:
            return []
        marks = ", ".join("?" * len(platforms))
        # A left join: a view row whose event was deleted is refused, not left out.
        joined = f"LEFT JOIN {self.events_table} e ON e.{self._notification_id} = h.position"
        rows = self._read(f"SELECT h.platform, h.position, e.state FROM {FACTS} h {joined} "
                          f"WHERE h.platform IN ({marks}) ORDER BY h.platform, h.position",
                          platforms)
        moved = self._read(f"SELECT m.platform, h.position, e.state FROM {MOVES} m JOIN "
                           f"{FACTS} h ON h.kind = m.kind AND h.subject = m.subject {joined} "
                           f"WHERE m.platform IN ({marks})", platforms)
        if moved:  # (as platform_rows: each event once)
            rows = sorted({row[:2]: row for row in [*rows, *moved]}.values(),
                          key=lambda row: row[:2])
        return _bodies_checked(rows, 2)

    def _bodies(self, positions: Sequence[int]) -> dict[int, bytes]:
        """The stored bytes of the events at ``positions``, 500 a query."""
        out = {}
        nid = self._notification_id
        for start in range(0, len(positions), 500):
            chunk = positions[start:start + 500]
            for position, body in self._read(
                    f"SELECT {nid}, state FROM {self.events_table} WHERE {nid} IN "
                    f"({', '.join('?' * len(chunk))})", chunk):
                out[position] = _blob(body)
        return out

    def subject_kinds(self, subject: str) -> list[tuple[str, str]]:
        """``(kind, platform)`` of every subject called ``subject``."""
        return self._read(f"SELECT DISTINCT kind, platform FROM {FACTS} WHERE subject = ?",
                          (subject,))

    def kinds_of(self, event_ids: Iterable[str]) -> dict[str, tuple[str, str]]:
        """``event id -> (kind, platform)`` for events already in the view; the ids are
        found through the hash chain's unique index of event ids (``chain_table``)."""
        out = {}
        for event_id in event_ids:
            rows = self._read(f"SELECT h.kind, h.platform FROM {self.chain_table} c JOIN "
                              f"{FACTS} h ON h.position = c.position WHERE c.event_id = ?",
                              (event_id,))
            if rows:
                out[event_id] = (rows[0][0], rows[0][1])
        return out

    def status_rows(self, platform: str | None = None) -> list[tuple[str, bytes]]:
        """The kept status of one platform, or of all, by platform key."""
        statement, params = f"SELECT platform, body FROM {STATUS}", ()
        if platform is not None:
            statement, params = statement + " WHERE platform = ?", (platform,)
        return [(row[0], _blob(row[1])) for row in self._read(statement + " ORDER BY platform",
                                                              params)]

    def platforms_since(self, position: int) -> list[str]:
        """Platforms (keys, "" aside) with events in the history view after ``position``,
        and those a subject was moved to since."""
        found = {row[0] for row in self._read(
            f"SELECT DISTINCT platform FROM {FACTS} WHERE position > ? AND platform <> ''",
            (position,))}
        found.update(row[0] for row in self._read(
            f"SELECT DISTINCT m.platform FROM {MOVES} m JOIN {FACTS} h ON h.kind = m.kind "
            f"AND h.subject = m.subject WHERE h.position > ?", (position,)))
        found.update(row[0] for row in self._read(
            f"SELECT DISTINCT platform FROM {MOVES} WHERE position > ?", (position,)))
        return sorted(found)

    def has_since(self, position: int, kind: str, subject: str) -> bool:
        """Whether subject ``(kind, subject)`` (keys) has events after ``position``."""
        return bool(self._read(f"SELECT 1 FROM {FACTS} WHERE subject = ? AND kind = ? AND "
                               "position > ? LIMIT 1", (subject, kind, position)))

    def subject_keys_of(self, kind: str) -> list[tuple[str, str]]:
        """``(subject, platform)`` keys of every subject of ``kind`` (a key)."""
        return self._read(f"SELECT DISTINCT subject, platform FROM {FACTS} WHERE kind = ?",
                          (kind,))

    def status_keys(self) -> list[str]:
        """The keys of every platform with a row in the status view."""
        return [row[0] for row in self._read(f"SELECT platform FROM {STATUS}")]

    def moves(self) -> list[tuple]:
        """Every move: ``(platform, kind, subject, position)``, in that order."""
        return self._read(f"SELECT platform, kind, subject, position FROM {MOVES} "
                          "ORDER BY platform, kind, subject")

    def moves_of(self, subjects: Iterable[str]) -> list[tuple]:
        """The moves ``(platform, kind, subject, position)`` of the subjects called
        ``subjects`` (keys; of any kind), 500 names a query: what a batch of new events
        needs to know of where its subjects were moved, without reading every move (a
        national registry's first snapshot moves each of its orders: reading them all for
        each batch grew with the square of the ledger)."""
        names = sorted(set(subjects))
        out: list[tuple] = []
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            out += self._read(f"SELECT platform, kind, subject, position FROM {MOVES} "
                              f"WHERE subject IN ({', '.join('?' * len(chunk))})", chunk)
        return out

    def history_between(self, after: int, until: int) -> list[tuple]:
        """The history rows ``(position, kind, subject, platform)`` with a position after
        ``after`` and up to ``until``, in order (for ``verify``)."""
        return self._read(f"SELECT position, kind, subject, platform FROM {FACTS} "
                          "WHERE position > ? AND position <= ? ORDER BY position",
                          (after, until))

    def count_events(self, topics: Sequence[str], until: int) -> int:
        """How many of the ledger's events up to position ``until`` are stored under one
        of ``topics`` (the classes of one kind of subject): what the history view's rows
        of that kind must number (``sources.registry_held`` checks the rows it reads)."""
        if not topics:
            return 0
        rows = self._read(f"SELECT COUNT(*) FROM {self.events_table} WHERE topic IN "
                          f"({', '.join('?' * len(topics))}) AND {self._notification_id} <= ?",
                          (*topics, until))
        return int(rows[0][0]) if rows else 0

    def counts(self) -> dict[str, int]:
        """Rows in each view (0 where its table does not exist yet)."""
        out = {}
        for view, table in (("history", FACTS), ("status", STATUS)):
            rows = self._read(f"SELECT COUNT(*) FROM {table}")
            out[view] = rows[0][0] if rows else 0
        return out


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


def _bodies_checked(rows: list[tuple], at: int) -> list[tuple]:
    """``rows`` whose column ``at`` is a body read for the view's row at the position in
    the column before it: as read when every body is bytes (one set of types, made in C),
    else each through ``_body`` (a deleted event, a value of another type refused)."""
    if set(map(type, map(itemgetter(at), rows))) - {bytes}:
        return [(*row[:at], _body(row[at - 1], row[at]), *row[at + 1:]) for row in rows]
    return rows


def _body(position: int, value: Any) -> bytes:
    """``_blob`` of the body read for the view's row at ``position``; None (the event is
    gone from the ledger's events, the view's row kept) is ``IntegrityFailure`` naming it."""
    if value is None:
        raise IntegrityFailure(f"the event at position {position} is missing from the "
                               "ledger's events (deleted): run 'blockledger verify'")
    return _blob(value)


def _blob(value: Any) -> bytes:
    """A stored body as bytes; a value of another type (a row edited outside the ledger)
    is ``IntegrityFailure``, not a traceback."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise IntegrityFailure("the ledger's database holds a body of the wrong type "
                           f"({type(value).__name__}) where the views read one (altered): "
                           "run 'blockledger verify'")


def _drop_old_layout(c: Any, tracking: str, param: str) -> None:
    for table in (FACTS, STATUS, MOVES):
        c.execute(f"DROP TABLE IF EXISTS {table}")
    for view in VIEWS:
        c.execute(f"DELETE FROM {tracking} WHERE application_name = {param}",
                  (tracking_name(view),))


def __getattr__(name: str) -> Any:
    # ``from ledger.views import SQLiteViews``, as before it had a module of its own.
    if name == "SQLiteViews":
        from ledger.views_sqlite import SQLiteViews

        return SQLiteViews
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
