"""Block intervals: one row per platform, target and stretch of valid time in which an
order held that target blocked; what researchers and journalists chart.

An interval is half-open, ``[from, to)``: the target is blocked at ``from`` and no longer at
``to``, as ``status --as-of`` answers at any instant (a valid time orders as its instant: a
bare date as the start of that day). A temporary lift ends an interval and its end
(``until``) starts the next; a court's suspension or overturning ends one (when the ruling
takes effect) and a reinstatement starts one; a lift ends it for good. ``to`` is None where
the target is still blocked at the as-of time.

Nothing here knows the blocking rules: each order's own facts, as they count (corrections
applied, retractions left out, as known at the book's record time), are folded by the
ledger's own state class (``domain.timeline``), fed as ``fold`` feeds them and read at every
instant where the order's state can change (each of its events, each temporary lift's end,
each ruling's effect), the incremental fold of ``projections.report_orders.order_summary``. An
order over several platforms is read as each of them sees it (``Book.concerning``): each
platform's rows hold only its own targets.

The whole ledger is read platform by platform from the views (``Views.books``: a few
platforms a query, each folded from its own rows), never as one book of the whole
ledger, so the first rows come at once and memory stays flat.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson
from attrs import frozen

from domain.errors import IntegrityFailure
from domain.jurisdictions import binds
from domain.timeline import STATES, OrderState, in_valid_order
from domain.values import When
from projections.book import Book
from projections.formats import Columns, spreadsheet_safe
from projections.views import Views


@frozen
class Ordered:
    """What an interval says of the order that held it."""

    ref: str
    authority: str
    instrument: str | None
    legal_basis: str | None
    reasons: tuple[str, ...]
    jurisdiction: str | None  # its own, else the ledger's default; None: neither
    made: When  # when it was made (its ``blocked`` event's valid time)


@frozen
class Interval:
    """One target of one platform, blocked by one order from ``start`` until ``end``."""

    platform: str
    target: str
    order: Ordered
    start: When
    end: When | None  # None: still blocked at the as-of time

    def record(self) -> dict[str, Any]:
        """The interval as a flat record: the export's columns, in order."""
        return {"platform": self.platform, "target": self.target,
                "jurisdiction": self.order.jurisdiction, "order": self.order.ref,
                "authority": self.order.authority, "instrument": self.order.instrument,
                "legal_basis": self.order.legal_basis, "from": self.start.text,
                "to": self.end.text if self.end is not None else None}


def _safe(name: str) -> Any:
    return lambda record: spreadsheet_safe(record[name])


#: export intervals --format csv: one row per platform, target and interval.
INTERVAL_COLUMNS: Columns = [(name, _safe(name)) for name in (
    "platform", "target", "jurisdiction", "order", "authority", "instrument", "legal_basis",
    "from", "to")]


def order_intervals(book: Book, platform: str, ref: str, at: datetime) -> list[Interval]:
    """The intervals of order ``ref`` as platform ``platform`` sees it, up to valid time
    ``at`` (see the module), in the order they start."""
    facts = in_valid_order(book.effective("order", ref).facts)
    created = next((f for f in facts if f.kind.creates), None)
    if created is None or created.occurred_at.instant > at:
        return []  # retracted, or made after the as-of time
    data = created.data
    keep = book.concerning(platform, ref) if data.platforms else None
    # Every instant at which the fold may change: each event, each temporary lift's end,
    # each ruling's effect (a ruling published later than it was given).
    moments: dict[datetime, When] = {}
    for f in facts:
        moments.setdefault(f.occurred_at.instant, f.occurred_at)
        for later in (getattr(f.data, "until", None), getattr(f.data, "effective_at", None)):
            if later is not None:
                moments.setdefault(later.instant, later)
    state = STATES["order"](ref)
    assert isinstance(state, OrderState)
    opened: dict[str, When] = {}
    closed: list[tuple[str, When, When]] = []
    applied = 0
    for point in sorted(p for p in moments if p <= at):
        while applied < len(facts) and facts[applied].occurred_at.instant <= point:
            state.apply(facts[applied])
            applied += 1
        state.advance(point)
        blocked = state.blocked if keep is None else state.blocked & keep
        for target in [t for t in opened if t not in blocked]:
            closed.append((target, opened.pop(target), moments[point]))
        for target in blocked:
            opened.setdefault(target, moments[point])
    ordered = Ordered(ref, data.authority, getattr(data, "instrument", None),
                      getattr(data, "legal_basis", None), tuple(data.reasons),
                      book.jurisdiction_of(state), created.occurred_at)
    found = [Interval(platform, t, ordered, start, end) for t, start, end in closed]
    found += [Interval(platform, t, ordered, start, None) for t, start in opened.items()]
    found.sort(key=lambda i: (i.start.instant, i.target))
    return found


def platform_intervals(book: Book, platform: str, *, at: datetime,
                       jurisdiction: str | None = None) -> list[Interval]:
    """Every interval of ``platform``'s targets up to ``at``, by the orders that bind
    ``jurisdiction`` (all without), sorted by target, start, order."""
    found: list[Interval] = []
    for ref in book.related(platform, "order"):
        intervals = order_intervals(book, platform, ref, at)
        if jurisdiction is not None and intervals and not binds(
                intervals[0].order.jurisdiction, jurisdiction):
            continue
        found += intervals
    found.sort(key=lambda i: (i.target, i.start.instant, i.order.ref))
    return found


def ledger_intervals(views: Views | None, *, book: Book | None = None,
                     as_of: When | None = None, as_known_at: When | None = None,
                     jurisdiction: str | None = None) -> Iterator[Interval]:
    """Every interval of the ledger up to ``as_of`` (default: now), as known at
    ``as_known_at``, in the order (platform, target, from, order): from the views, platform
    by platform; from ``book`` (the whole ledger's) where there are no views."""
    at = as_of.instant if as_of else datetime.now(UTC)
    known = as_known_at.instant if as_known_at else None
    if views is None:
        assert book is not None
        for ref in book.refs("platform"):
            yield from platform_intervals(book, ref, at=at, jurisdiction=jurisdiction)
        return
    keys = _by_reference(views, views.store.platforms_since(0))
    for _, one in views.books(keys, as_known_at=known):
        for ref in one.refs("platform"):
            yield from platform_intervals(one, ref, at=at, jurisdiction=jurisdiction)


def _by_reference(views: Views, keys: list[str]) -> list[str]:
    """Platform keys in the order of the platforms' references. Without a cipher a key is
    the reference; with one it is a keyed hash, and the reference is read from the
    platform's kept status (checked against its key), else from its events."""
    if views.blind("platform") == "platform":  # no cipher: the keys are the references
        return sorted(keys)
    names: dict[str, str] = {}
    for key, body in views.store.status_rows():
        try:
            name = orjson.loads(views._open(body))["status"]["platform"]
        except Exception:
            raise IntegrityFailure("a row of the status view cannot be read (altered or "
                                   "damaged): run 'blockledger verify'") from None
        if views.blind(name) == key:
            names[key] = name
    for key in keys:
        if key not in names:  # no kept status (none folded yet): its own events say
            rows = views.store.platform_rows([key]).get(key, ())
            refs = Book(views._decoded(rows)).refs("platform")
            names[key] = refs[0] if refs else ""
    return sorted(keys, key=lambda key: (names[key], key))
