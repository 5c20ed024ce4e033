"""The one-row-per-platform summary: statuses filtered, sorted and cut, each with what a
person reads beside it (registered targets, since when), folded a few platforms at a time."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from domain.errors import SubjectNotFound
from domain.values import When
from projections.book import Book
from projections.status import platform_status, status_detail
from projections.views import Views

#: Platforms whose rows one query reads while their details are folded.
PLATFORMS = 50


def select(statuses: Iterable[dict[str, Any]], *, states: Sequence[str] = (),
           authority: str | None = None) -> list[dict[str, Any]]:
    """The statuses in one of ``states`` (all without), with an order by ``authority``
    (any case)."""
    wanted = authority.casefold() if authority else None
    return [s for s in statuses
            if (not states or s["state"] in states)
            and (wanted is None or any(o["authority"].casefold() == wanted
                                       for o in s["orders"]))]


def detailed(statuses: Sequence[dict[str, Any]], *, views: Views | None, book: Book | None,
             as_of: When | None = None, as_known_at: When | None = None,
             jurisdiction: str | None = None) -> Iterator[dict[str, Any]]:
    """Each status with ``targets`` (registered) and ``since`` added, as they come: from
    each platform's own rows in the views, or from ``book`` (the whole ledger's); with
    ``jurisdiction``, ``since`` counts that jurisdiction's orders only, as its answer."""
    now = datetime.now(UTC)
    known = as_known_at.instant if as_known_at else None
    for start in range(0, len(statuses), PLATFORMS):
        chunk = statuses[start:start + PLATFORMS]
        books: dict[str, Book] = {}
        if views is not None:
            keys = {views.blind(s["platform"]): s["platform"] for s in chunk}
            held = views.store.platform_rows(sorted(keys), shared=views.settings)
            books = {ref: Book(views._decoded(held.get(key, ())), as_known_at=known)
                     for key, ref in keys.items()}
        for status in chunk:
            ref = status["platform"]
            source = books.get(ref) or book
            if source is None:
                yield status
                continue
            yield {**status, **status_detail(source, ref, as_of=as_of, now=now, full=False,
                                             jurisdiction=jurisdiction)}


def folded(views: Views, *, as_of: When | None = None, as_known_at: When | None = None,
           jurisdiction: str | None = None) -> Iterator[dict[str, Any]]:
    """The status of every platform registered by ``as_of`` (as known at ``as_known_at``),
    with ``targets`` and ``since``, each folded from its own rows, ``PLATFORMS`` platforms
    a query (not from one book of the whole ledger, where finding each platform's orders
    went through every order of the ledger)."""
    now = datetime.now(UTC)
    known = as_known_at.instant if as_known_at else None
    for _, book in views.books(views.store.platforms_since(0), as_known_at=known):
        for ref in book.refs("platform"):
            try:
                status = platform_status(book, ref, as_of=as_of, as_known_at=as_known_at,
                                         now=now, jurisdiction=jurisdiction)
            except SubjectNotFound:
                continue  # not registered by then
            yield {**status, **status_detail(book, ref, as_of=as_of, now=now, full=False,
                                             jurisdiction=jurisdiction)}
