"""The history of a subject (or of the whole ledger) in valid-time order, on both axes."""

from __future__ import annotations

from typing import Any

from domain.amendments import Effective
from domain.errors import SubjectNotFound
from domain.fact import Fact
from domain.timeline import valid_key
from domain.values import When
from projections.book import KINDS, Book


def history(book: Book, subject: str | None = None, *,
            as_of: When | None = None) -> list[dict[str, Any]]:
    """Rows for every event about ``subject`` (a platform brings its orders and requests),
    amendments included, ordered by valid time, then position; only events that occurred
    by ``as_of``. An event shows as corrected (with its original values), retracted or
    disputed, with the ids of the events that did so."""
    keys = list(book.subjects) if subject is None else _keys(book, subject)
    rows = []
    for key in keys:
        eff = book.effective(*key)
        current = {f.id: f for f in eff.facts}
        for fact in book.facts(*key):
            rows.append(row(book, current.get(fact.id, fact), eff))
    if as_of is not None:
        rows = [r for r in rows if r["_instant"] <= as_of.instant]
    rows.sort(key=lambda r: (r["_key"], r["position"]))
    for r in rows:
        del r["_instant"], r["_key"]
    return rows


def row(book: Book, fact: Fact, eff: Effective) -> dict[str, Any]:
    """One history row: the event as it counts now, its position, a summary, its links."""
    out = fact.to_json()
    out["position"] = book.position(fact)
    out["summary"] = fact.describe()
    out.update(eff.links(fact.id))
    original = eff.original[fact.id]
    if original is not fact:
        before, after = original.to_json(), out
        changed = {k: before.get(k) for k in ("occurred_at", "note")
                   if before.get(k) != after.get(k)}
        changed.update({f"data.{k}": v for k, v in before["data"].items()
                        if after["data"].get(k) != v})
        changed.update({f"data.{k}": None for k in after["data"] if k not in before["data"]})
        out["original"] = changed
    out["_instant"] = fact.occurred_at.instant
    out["_key"] = valid_key(fact)
    return out


def _keys(book: Book, subject: str) -> list[tuple[str, str]]:
    keys = [(kind, subject) for kind in KINDS if book.has(kind, subject)]
    if book.has("platform", subject):
        keys += [(kind, ref) for kind in ("order", "request")
                 for ref in book.related(subject, kind)]
    if not keys:
        raise SubjectNotFound(f"no subject {subject} in the ledger")
    return list(dict.fromkeys(keys))
