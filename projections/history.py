"""The history of a subject (or of the whole ledger) in valid-time order, on both axes."""

from __future__ import annotations

from typing import Any

from attrs import frozen

from domain.amendments import Effective
from domain.errors import SubjectNotFound
from domain.fact import Fact
from domain.timeline import valid_key
from domain.values import When
from projections.book import KINDS, Book


@frozen
class Line:
    """One event in a history: as first recorded, as it counts now, and its amendments."""

    original: Fact
    current: Fact
    amendments: Effective

    @property
    def corrected(self) -> bool:
        return self.current is not self.original


def lines(book: Book, subject: str | None = None, *, as_of: When | None = None) -> list[Line]:
    """Every event about ``subject`` (a platform brings its orders and requests), amendments
    included, by valid time (as corrected), then position; only what occurred by ``as_of``."""
    keys = list(book.subjects) if subject is None else _keys(book, subject)
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
