"""One jurisdiction's part of a history (``history --jurisdiction CC``): the platforms'
own events, the orders that bind CC (``domain.jurisdictions.binds``: their own
jurisdiction, else the ledger's default) with all their events, the requests that name
one of those orders, and the observations of a platform made in CC. What binds no known
jurisdiction (no jurisdiction given and no default) is in no jurisdiction's part."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from domain.jurisdictions import binds
from domain.timeline import OrderState
from projections.book import Book

Key = tuple[str, str]


def jurisdiction_keys(book: Book, keys: Iterable[Key], code: str) -> tuple[list[Key],
                                                                           set[UUID]]:
    """Of the subjects ``keys``, those in ``code``'s part; and the ids of the platform
    observations among them made elsewhere (to leave out)."""
    keys = list(keys)
    orders = {ref for ref in book.refs("order") if _binds(book, ref, code)}
    default = book.default_jurisdiction()
    kept, elsewhere = [], set()
    for kind, ref in keys:
        if kind == "ledger" or (kind == "order" and ref not in orders):
            continue  # (the ledger's settings are no state's part)
        if kind == "request":
            state = book.state("request", ref)
            if not orders & set(getattr(state, "orders", ())):
                continue
        if kind == "platform":
            elsewhere |= {f.id for f in book.facts("platform", ref)
                          if f.type == "access-observed"
                          and not binds(f.data.jurisdiction or default, code)}
        kept.append((kind, ref))
    return kept, elsewhere


def _binds(book: Book, ref: str, code: str) -> bool:
    state = book.state("order", ref)
    return isinstance(state, OrderState) and binds(book.jurisdiction_of(state), code)
