"""The persisted views' reads (``ledger.views``): what each reader of the views asks of
their tables, mixed into the statements common to both stores (``ledger.views._Views``,
which runs them: ``_read``). A body read through a view's row is refused when the event
is gone or is not bytes (``_body``), never silently left out."""

from __future__ import annotations

import os
from collections.abc import Container, Iterable, Sequence
from operator import eq, itemgetter
from typing import Any

from domain.errors import IntegrityFailure
from ledger.view_tables import FACTS, MOVES, STATUS


class ViewReads:
    """The views' reads; ``_read`` runs one (``ledger.views._Views``)."""

    _notification_id: str

    def _read(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        raise NotImplementedError  # pragma: no cover

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
        return [(row[0], _body(row[0], row[1])) for row in _each_once(self._read(
            statement + " ORDER BY h.position", params), 0)]

    def kind_rows(self, kind: str, *, after: int = 0,
                  limit: int = 5000) -> list[tuple[int, bytes]]:
        """``(position, body)`` of the events of subjects of (index) ``kind`` after position
        ``after``, ``limit`` at most, in position order: a scan of the view, for a reader
        that needs every subject of one kind (``sources.holders``: every platform's
        targets), a page at a time."""
        rows = self._read(f"SELECT h.position, e.state {self._with_bodies()} WHERE h.kind = ? "
                          "AND h.position > ? ORDER BY h.position LIMIT ?",
                          (kind, after, limit))
        return _bodies_checked(_each_once(rows, 0), 1)

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
        # Each position once: an event of several platforms (the shared subject's, an order
        # over many) is a row of each, and a position asked for in two chunks of
        # ``_bodies`` came back twice, refused as two events stored there (a review,
        # 2026-12-07: a write on a ledger of 600 orders was refused as altered).
        bodies = self._bodies(sorted({position for _, position in rows
                                      if position not in known}))
        for platform, position in rows:
            out.setdefault(platform, []).append((position, bodies.get(position)))
        return out

    def platform_bodies(self, platforms: Sequence[str]) -> list[tuple[str, int, bytes]]:
        """``(platform, position, body)`` of every event of each of ``platforms`` (those of
        the subjects moved to them too), by platform, then position: what
        ``platform_rows(platforms)`` gives, read in two joined queries (the view's rows of
        these platforms, and the subjects moved to them) rather than the index and then
        the bodies by position. The whole ledger's history reads every event so, in a third
        of the time (and refuses a row held twice: ``history_stream._read_all``)."""
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
        if moved:  # (as platform_rows: each event once; two bodies at one position refused)
            merged: dict[tuple, tuple] = {}
            for row in (*rows, *moved):
                held = merged.setdefault(row[:2], row)
                if held is not row and held[2] != row[2]:
                    raise IntegrityFailure(two_at(row[1]))
            rows = sorted(merged.values(), key=lambda row: row[:2])
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
                if position in out:  # (an events table without its unique index)
                    raise IntegrityFailure(two_at(position))
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

    def id_prefix_length(self, least: int = 8, *, page_size: int = 20_000) -> int:
        """The shortest length (``least`` at the least) at which no two of the ledger's
        event ids share a prefix: read in id order through the hash chain's unique index
        of ids, a page at a time (memory flat), each id against the one before it. (1M
        ids: 0.76-0.80 s, of which SQLite reads the ids in 0.5; 100,000: under 0.1 s.)"""
        longest, last = least, ""
        while True:
            page = [row[0] for row in self._read(
                f"SELECT event_id FROM {self.chain_table} WHERE event_id > ? "
                "ORDER BY event_id LIMIT ?", (last, page_size))]
            if not page:
                return longest
            cut = [text[:least] for text in page]
            before = [last[:least], *cut[:-1]]
            for at in [i for i, same in enumerate(map(eq, before, cut)) if same]:
                a, b = (page[at - 1] if at else last), page[at]
                shared = len(os.path.commonprefix([a, b]))  # noqa: RUF071 (characters)
                longest = max(longest, shared + 1)
            last = page[-1]

    def status_rows(self, platform: str | None = None) -> list[tuple[str, bytes]]:
        """The kept status of one platform, or of all, by platform key."""
        statement, params = f"SELECT platform, body FROM {STATUS}", ()
        if platform is not None:
            statement, params = statement + " WHERE platform = ?", (platform,)
        rows = self._read(statement + " ORDER BY platform", params)
        if len(set(map(itemgetter(0), rows))) < len(rows):  # (its primary key: one each)
            raise IntegrityFailure("the status view holds two rows for one platform "
                                   "(altered): run 'blockledger verify'")
        return [(row[0], _blob(row[1])) for row in rows]

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

    def subject_positions_on(self, platforms: Iterable[str] | None, kind: str) -> list[int]:
        """A position of an event of each subject of (index) ``kind`` that concerns one of
        ``platforms`` (keys; None: any), those moved to one by a correction included: whom
        a change to a platform or an order may leave against the rules
        (``domain.dependents``). The event's body names the subject (the index holds its
        key, blinded on an encrypted ledger)."""
        if platforms is None:
            return [row[0] for row in self._read(
                f"SELECT MIN(position) FROM {FACTS} WHERE kind = ? GROUP BY subject", (kind,))]
        names, out = sorted(set(platforms)), []
        for start in range(0, len(names), 500):
            chunk = names[start:start + 500]
            where = f"kind = ? AND platform IN ({', '.join('?' * len(chunk))})"
            out += [row[0] for row in self._read(
                f"SELECT MIN(position) FROM {FACTS} WHERE {where} GROUP BY subject",
                (kind, *chunk))]
            out += [row[0] for row in self._read(f"SELECT position FROM {MOVES} WHERE {where}",
                                                 (kind, *chunk))]
        return out

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


def two_at(position: int) -> str:
    """The refusal of two events stored at one position (an events table without its
    unique index on positions)."""
    return (f"two events are stored at position {position} (altered): run 'blockledger "
            "verify'")


def held_twice(position: int) -> str:
    """The refusal of a history view row held twice (its table without its key)."""
    return (f"the history view holds two rows for the event at position {position} "
            "(altered): run 'blockledger verify'")


def _each_once(rows: list[tuple], at: int) -> list[tuple]:
    """``rows`` of the history view, unless a position (column ``at``) comes twice: the view
    holds one row per event and the events table one event per position (their keys), so
    only altered tables hold two, and a reader would show the event twice, or two events
    as one. ``IntegrityFailure`` names the first (two bodies, if the next column holds
    them and they differ: two events stored there)."""
    positions = list(map(itemgetter(at), rows))
    if len(set(positions)) < len(positions):
        seen: dict[int, tuple] = {}
        for row in rows:
            held = seen.setdefault(row[at], row)
            if held is not row:
                twice = two_at if row[at + 1:at + 2] != held[at + 1:at + 2] else held_twice
                raise IntegrityFailure(twice(row[at]))
    return rows


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
