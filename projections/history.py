"""The history of a subject (or of the whole ledger) in valid-time order, on both axes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING, Any

from attrs import frozen

from domain.amendments import Effective
from domain.errors import IntegrityFailure, SubjectNotFound
from domain.fact import Fact
from domain.timeline import valid_key
from domain.values import When
from ledger.application import Entry
from projections.book import KINDS, Book

if TYPE_CHECKING:
    from projections.views import Views

#: Platforms whose rows one query reads while the whole ledger's history streams.
PLATFORMS = 50


@frozen
class Line:
    """One event in a history: as first recorded, as it counts now, and its amendments."""

    original: Fact
    current: Fact
    amendments: Effective

    @property
    def corrected(self) -> bool:
        return self.current is not self.original


def lines(book: Book, subject: str | None = None, *, as_of: When | None = None,
          subjects: list[tuple[str, str]] | None = None) -> list[Line]:
    """Every event about ``subject`` (a platform brings its orders and requests), amendments
    included, by valid time (as corrected), then position; only what occurred by ``as_of``.
    ``subjects`` names the subjects' keys instead."""
    keys = subjects if subjects is not None else (
        list(book.subjects) if subject is None else _keys(book, subject))
    out = []
    for key in keys:
        eff = book.effective(*key)
        current = {f.id: f for f in eff.facts}
        for fact in book.facts(*key):
            line = Line(original=fact, current=current.get(fact.id, fact), amendments=eff)
            if as_of is None or line.current.occurred_at.instant <= as_of.instant:
                out.append(line)
    out.sort(key=lambda line: (valid_key(line.current), book.position(line.original)))
    return out


def history(book: Book, subject: str | None = None, *,
            as_of: When | None = None) -> list[dict[str, Any]]:
    """History rows: each event as it counts now (corrected, with its original values),
    its position, a one-line summary, and the ids of what corrected, retracted or disputed
    it."""
    return [row(book, line) for line in lines(book, subject, as_of=as_of)]


def row(book: Book, line: Line) -> dict[str, Any]:
    """One history row."""
    return _row(line.current.to_json(), book.position(line.original), line.current.describe(),
                line.amendments.links(line.original.id),
                line.original.to_json() if line.corrected else None)


def _row(current: dict[str, Any], position: int, summary: str, links: dict[str, list[str]],
         original: dict[str, Any] | None) -> dict[str, Any]:
    """The history row of an event as it counts now (``current``, its interchange object,
    which becomes the row): its position, a one-line summary, the ids of what corrected,
    retracted or disputed it, and, if corrected, the values it had as first recorded
    (``original``, its interchange object then)."""
    current["position"] = position
    current["summary"] = summary
    current.update(links)
    if original is not None:
        current["original"] = changed_values(original, current)
    return current


def changed_fields(before: Fact, after: Fact, *,
                   after_json: dict[str, Any] | None = None) -> dict[str, Any]:
    """``changed_values`` of two facts; ``after_json``: ``after.to_json()`` if the caller
    has it."""
    return changed_values(before.to_json(),
                          after_json if after_json is not None else after.to_json())


def changed_values(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The original values of what a correction changed (``data.x`` for data fields), from
    the event's interchange object as first recorded (``old``) and as corrected (``new``)."""
    changed = {k: old.get(k) for k in ("occurred_at", "note") if old.get(k) != new.get(k)}
    changed.update({f"data.{k}": v for k, v in old["data"].items() if new["data"].get(k) != v})
    changed.update({f"data.{k}": None for k in new["data"] if k not in old["data"]})
    return changed


def subject_keys(book: Book, subject: str | None) -> list[tuple[str, str]]:
    """The subjects whose events make up the history of ``subject`` (all without)."""
    return list(book.subjects) if subject is None else _keys(book, subject)


def _keys(book: Book, subject: str) -> list[tuple[str, str]]:
    keys = [(kind, subject) for kind in KINDS if book.has(kind, subject)]
    if book.has("platform", subject):
        keys += [(kind, ref) for kind in KINDS if kind != "platform"
                 for ref in book.named(subject, kind)]
    if not keys:
        known = book.as_known_at
        raise SubjectNotFound(f"no subject {subject} in the ledger"
                              + (f" as known at {_moment(known)}" if known else ""))
    return list(dict.fromkeys(keys))


def _moment(instant: datetime) -> str:
    """An ``--as-known-at`` instant as it was most likely given: a bare date, read as the
    end of that day, is that date again."""
    if (instant.hour, instant.minute, instant.second, instant.microsecond) == (23, 59, 59,
                                                                               999_999):
        return instant.date().isoformat()
    return instant.isoformat()


@frozen
class Filter:
    """Which history lines to keep: event types, valid time between ``since`` and
    ``until`` (inclusive, as corrected), who recorded them. Empty keeps everything.

    A bound given as a bare date is a day of the zone the times are shown in
    (``bounded``): a timed event is held to that day's start or end in the zone, and an
    event dated by a day alone to the day itself (``since_day``, ``until_day``: the start
    or end of that day as the ledger orders bare dates, in UTC), so ``--since 2017-07-14
    --tz America/New_York`` keeps an event of 14 July written as a date, and one at
    23:30 on the 13th in New York is left out though it is the 14th in UTC."""

    types: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    operator: str | None = None
    since_day: datetime | None = None
    until_day: datetime | None = None

    def keeps(self, line: Line) -> bool:
        """Whether ``line`` passes every filter set."""
        fact = line.current
        if self.types and fact.type not in self.types:
            return False
        when = fact.occurred_at
        if self.outside(when.instant, when.day):
            return False
        return self.operator is None or line.original.recorded_by == self.operator

    @property
    def empty(self) -> bool:
        """Whether the time bounds leave nothing to match: neither a timed event nor one
        dated by a day alone (a day the zone skipped, as Samoa's 30 December 2011, still
        holds the events dated by it)."""
        if self.since is None or self.until is None:
            return False
        return self.since > self.until and (self.since_day or self.since) > (
            self.until_day or self.until)

    def outside(self, at: datetime, day: bool) -> bool:
        """Whether an event at instant ``at`` (dated by a day alone when ``day``) falls
        outside the bounds."""
        since, until = self.since, self.until
        if day:
            since = self.since_day or since
            until = self.until_day or until
        return (since is not None and at < since) or (until is not None and at > until)


def bounded(since: When | None, until: When | None, zone: tzinfo) -> dict[str, datetime]:
    """``Filter``'s bounds for ``--since`` and ``--until`` as given, bare dates read as days
    of ``zone``: ``since`` and ``until`` for timed events, and for events dated by a day
    alone ``since_day`` and ``until_day`` (set only where they differ)."""
    out: dict[str, datetime] = {}
    for name, given, ends in (("since", since, False), ("until", until, True)):
        if given is None:
            continue
        out[name] = given.instant
        if given.day:
            try:
                day = given.instant.date() + timedelta(days=ends)
                local = datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
                local -= timedelta(microseconds=ends)
            except OverflowError:  # the first or last day the calendar holds: as in UTC
                continue
            if local != given.instant:
                out[name], out[f"{name}_day"] = local, given.instant
    return out


def rows(book: Book, found: Iterable[Line], keep: Filter = Filter()) -> Iterator[dict[str, Any]]:
    """History rows of the lines ``keep`` keeps, as they come."""
    for line in found:
        if keep.keeps(line):
            yield row(book, line)


def ledger_rows(views: Views, *, as_of: When | None = None,
                as_known_at: datetime | None = None, keep: Filter = Filter(),
                read: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
    """The whole ledger's history, streamed: platform by platform (each with its orders
    and requests, by valid time), then the subjects that concern no platform. Only a few
    platforms' events are held at a time, so the first rows come at once and memory stays
    flat however long the ledger. ``read`` is told how many events were read so far.
    (``projections.history_stream``: the rows from the stored objects.)"""
    from projections.history_stream import streamed

    return streamed(views, as_of=as_of, as_known_at=as_known_at, keep=keep, read=read,
                    lines=False)


def ledger_lines(views: Views, *, as_of: When | None = None,
                 as_known_at: datetime | None = None, keep: Filter = Filter(),
                 read: Callable[[int], None] | None = None,
                 joined: bool = False, workers: bool = True) -> Iterator[bytes]:
    """``ledger_rows`` as JSON Lines: each row's ``orjson.dumps`` and a line break, the
    rows of the events no amendment touches spliced from their stored bytes. ``joined``:
    a group of platforms' lines at a time, in one piece (``history_stream.Lines``, which
    ``projections.formats.write_jsonl`` writes and counts as the lines they are).
    ``workers``: a large ledger's lines may be made by worker processes
    (``projections.history_parallel``); not for a reader that takes only the first few."""
    from projections.history_stream import streamed

    return streamed(views, as_of=as_of, as_known_at=as_known_at, keep=keep, read=read,
                    lines=True, joined=joined, workers=workers)


def _fact(position: int, obj: dict[str, Any]) -> Fact:
    try:
        return Fact.from_stored(obj)
    except Exception as error:
        raise IntegrityFailure(_damaged(position, error)) from None


def _damaged(position: int, error: Exception) -> str:
    reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return (f"the event at position {position} is damaged and cannot be read "
            f"({reason[:200]}); run 'blockledger verify'")


def _book_rows(objs: list[tuple[int, dict[str, Any]]], *, everything: bool,
               as_of: When | None, as_known_at: datetime | None,
               keep: Filter) -> Iterator[dict[str, Any]]:
    """``_platform_rows`` through a ``Book`` of all the platform's facts."""
    book = Book((Entry(position=position, fact=_fact(position, obj)) for position, obj in objs),
                as_known_at=as_known_at)
    platforms = book.refs("platform")
    subjects = list(book.subjects)
    if platforms and not everything:
        ref = platforms[0]
        subjects = [("platform", ref), *((kind, r) for kind in KINDS if kind != "platform"
                                         for r in book.named(ref, kind))]
    yield from rows(book, lines(book, subjects=subjects, as_of=as_of), keep)
