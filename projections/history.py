"""The history of a subject (or of the whole ledger) in valid-time order."""

from __future__ import annotations

from typing import Any

from domain.errors import SubjectNotFound
from domain.fact import Fact
from domain.values import When
from projections.book import Book

KINDS = ("platform", "order", "request")


def history(book: Book, subject: str | None = None, *,
            as_of: When | None = None) -> list[dict[str, Any]]:
    """Rows for every event about ``subject`` (a platform brings its orders and requests),
    ordered by valid time, then by position; only events that occurred by ``as_of``."""
    if subject is None:
        facts = [f for fs in book.subjects.values() for f in fs]
    else:
        facts = _subject_facts(book, subject)
    if as_of is not None:
        facts = [f for f in facts if f.occurred_at.instant <= as_of.instant]
    facts.sort(key=lambda f: (f.occurred_at.instant, book.position(f)))
    return [row(book, f) for f in facts]


def row(book: Book, fact: Fact) -> dict[str, Any]:
    """One history row: the event as exported, with its position and a one-line summary."""
    out = fact.to_json()
    out["position"] = book.position(fact)
    out["summary"] = fact.describe()
    return out


def _subject_facts(book: Book, subject: str) -> list[Fact]:
    facts: list[Fact] = []
    for kind in KINDS:
        facts += book.facts(kind, subject)
    if book.has("platform", subject):
        for kind in ("order", "request"):
            for ref in book.related(subject, kind):
                facts += book.facts(kind, ref)
    if not facts:
        raise SubjectNotFound(f"no subject {subject} in the ledger")
    return list({f.id: f for f in facts}.values())
