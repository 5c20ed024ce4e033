"""The history of a subject (or of the whole ledger) in valid-time order, on both axes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from attrs import frozen

from domain.amendments import Effective
from domain.errors import SubjectNotFound
from domain.fact import Fact
from domain.timeline import valid_key
from domain.values import When
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
    out = line.current.to_json()
    out["position"] = book.position(line.original)
    out["summary"] = line.current.describe()
    out.update(line.amendments.links(line.original.id))
    if line.corrected:
        out["original"] = changed_fields(line.original, line.current)
    return out


def changed_fields(before: Fact, after: Fact) -> dict[str, Any]:
    """The original values of what a correction changed (``data.x`` for data fields)."""
    old, new = before.to_json(), after.to_json()
    changed = {k: old.get(k) for k in ("occurred_at", "note") if old.get(k) != new.get(k)}
    changed.update({f"data.{k}": v for k, v in old["data"].items() if new["data"].get(k) != v})
    changed.update({f"data.{k}": None for k in new["data"] if k not in old["data"]})
    return changed


def _keys(book: Book, subject: str) -> list[tuple[str, str]]:
    keys = [(kind, subject) for kind in KINDS if book.has(kind, subject)]
    if book.has("platform", subject):
        keys += [(kind, ref) for kind in KINDS if kind != "platform"
                 for ref in book.related(subject, kind)]
    if not keys:
        raise SubjectNotFound(f"no subject {subject} in the ledger")
    return list(dict.fromkeys(keys))


@frozen
class Filter:
    """Which history lines to keep: event types, valid time between ``since`` and
    ``until`` (inclusive, as corrected), who recorded them. Empty keeps everything."""

    types: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    operator: str | None = None

    def keeps(self, line: Line) -> bool:
        fact = line.current
        if self.types and fact.type not in self.types:
            return False
        at = fact.occurred_at.instant
        if (self.since is not None and at < self.since) or (
                self.until is not None and at > self.until):
            return False
        return self.operator is None or line.original.recorded_by == self.operator


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
    flat however long the ledger. ``read`` is told how many events were read so far."""
    store, done = views.store, 0
    keys = store.platforms_since(0)
    groups = [keys[i:i + PLATFORMS] for i in range(0, len(keys), PLATFORMS)] + [[""]]
    for group in groups:
        held = store.platform_rows(group)
        for key in group:
            # The views' own decoding (a cipher's, a compressor's): one place reads rows.
            entries = list(views._decoded(held.pop(key, ())))
            done += len(entries)
            book = Book(entries, as_known_at=as_known_at)
            yield from rows(book, lines(book, subjects=_own(book, key == ""), as_of=as_of),
                            keep)
            if read is not None:
                read(done)


def _own(book: Book, everything: bool) -> list[tuple[str, str]]:
    """The subjects a platform's book answers for: the platform and the orders and
    requests that concern it now (a subject moved to another platform by a correction is
    that one's); all of them for the subjects that concern no platform."""
    platforms = book.refs("platform")
    if everything or not platforms:
        return list(book.subjects)
    ref = platforms[0]
    return [("platform", ref), *((kind, r) for kind in KINDS if kind != "platform"
                                 for r in book.related(ref, kind))]
