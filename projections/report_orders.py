"""Each order's and request's part of a report's summary (``projections.report_summary``):
an order's authority, basis and targets, every interval in which it was in force (its own
events folded again by ``domain.timeline``'s order state, advanced to each instant its
state can change), the marks on its lane (an observation marked only where it differs from
the orders, by ``projections.status.diverges``), and a request's state and conditions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import frozen

from domain.fact import Fact
from domain.jurisdictions import binds, is_regional
from domain.timeline import STATES, OrderState, RequestState, in_valid_order, valid_key
from projections.book import Book
from projections.report_jurisdiction import order_code
from projections.report_superseded import CURRENT, lane_divergence
from projections.report_times import Clock
from projections.status import diverges

#: Event types that draw a labelled mark, and the word that labels it.
WORDS = {
    "blocked": "blocked", "unblocked": "lifted", "meeting-held": "meeting",
    "sop-agreed": "SOP agreed", "normalization-granted": "granted",
    "normalization-denied": "denied", "normalization-requested": "requested",
    "email-sent": "email", "no-response": "no response", "response-received": "response",
    "statement-issued": "statement", "commitment-made": "commitment",
    "condition-set": "condition set", "condition-met": "condition met",
    "condition-waived": "condition waived", "platform-registered": "registered",
    "access-observed": "observed",
}
#: Marks whose word is drawn on the timeline; the others are ticks with a tooltip.
LABELLED = frozenset({"blocked", "unblocked", "meeting-held", "sop-agreed",
                      "normalization-granted", "normalization-denied", "no-response",
                      "normalization-requested", "ruling"})

STATE_WORDS = {"in-effect": "in force", "partially-lifted": "in force for some targets",
               "temporarily-lifted": "lifted for a while"}


def period_words(period: Period, clock: Clock, targets: int) -> str:
    """One interval of an order, in words: ``in force: 14 Jul 2017 11:00 WIB → 10 Aug
    2017 (11 of 11 targets blocked)``."""
    end = (clock.when(period.end, period.end_text) if period.end is not None
           else "still at the report's time")
    if period.state == "temporarily-lifted":
        if period.end is not None and period.end == period.until:
            note = "none blocked; the block came back by itself at its end"
        elif period.end is None and period.until is not None:
            note = f"none blocked until {clock.instant(period.until)}"
        else:  # ended by another event: the next interval (or none) says what followed
            note = "none blocked"
    else:
        note = f"{len(period.blocked)} of {targets} targets blocked"
    if period.ruled is not None:  # who set it so, and when they ruled
        court, given, effective = period.ruled
        note += f"; by {court}, ruling of {clock.text(given)}" + (
            f", in effect from {clock.text(effective)}" if effective else "")
    return (f"{STATE_WORDS.get(period.state, period.state)}: "
            f"{clock.when(period.start, period.start_text)} → {end} ({note})")


@frozen
class Mark:
    """One event drawn on a lane: when, what (a word), and its number in the report."""

    at: datetime
    text: str | None  # the valid time as written (a bare date keeps its day)
    type: str
    word: str
    number: int
    summary: str
    divergent: str | None = None  # reachable while blocked, unreachable after lift
    target: str | None = None  # an observation's


@frozen
class Period:
    """A stretch of time in which an order's state stayed the same."""

    start: datetime
    start_text: str | None
    end: datetime | None  # None: still so at the report's time
    end_text: str | None
    state: str  # in-effect, partially-lifted, temporarily-lifted
    blocked: tuple[str, ...]
    until: datetime | None = None  # a temporary lift's end
    #: The court's ruling that began it, in words (``_ruled``): "by the Constitutional
    #: Court (ruling of 26 Dec 2019)"; None when no ruling took effect at its start.
    ruled: tuple[str, str | None, str | None] | None = None


@frozen
class OrderSummary:
    ref: str
    authority: str
    instrument: str | None
    legal_basis: str | None
    reasons: tuple[str, ...]
    targets: tuple[str, ...]
    state: str | None  # at the report's time; None when it did not exist yet
    blocked: tuple[str, ...]
    periods: list[Period]
    marks: list[Mark]
    disputed: bool = False
    #: In a report for one jurisdiction, a regional order's subdivision (``IN-JK``): it
    #: counts in its country's answer, and binds that region only.
    regional: str | None = None


@frozen
class RequestSummary:
    ref: str
    state: str | None
    orders: tuple[str, ...]
    conditions: dict[str, str]
    marks: list[Mark]


def order_summary(book: Book, ref: str, at: datetime, mark: Any,
                  disputed: dict[str, str], platform: str | None = None,
                  code: str | None = None, rule: str = CURRENT) -> OrderSummary:
    """An order's summary; in the report of ``platform``, an order over several platforms
    as that one sees it (the targets that concern it: ``Book.concerning``); its
    observations' marks by ``rule`` (``projections.report_superseded``)."""
    facts = in_valid_order(book.effective("order", ref).facts)
    created = next(f for f in facts if f.kind.creates)
    data = created.data
    keep = book.concerning(platform, ref) if platform and len(data.platforms) > 1 else None
    platforms = (data.platform,) if data.platform else data.platforms
    # Every instant at which the fold may change: each event, each temporary lift's end,
    # and each ruling's effect (published later than given: Turkey's of 2019 took effect
    # on 15 January 2020, which no event of the order marks).
    texts: dict[datetime, str] = {}
    for f in facts:
        texts.setdefault(f.occurred_at.instant, f.occurred_at.text)
        for later in (getattr(f.data, "until", None), getattr(f.data, "effective_at", None)):
            if later is not None:
                texts.setdefault(later.instant, later.text)
    # The fold of ``domain.timeline.fold``, kept as it goes rather than done again for
    # each instant (an order with thousands of observations took seconds): the same
    # state class, fed the same facts in the same order, advanced to each instant.
    state = STATES["order"](ref)
    assert isinstance(state, OrderState)
    periods: list[Period] = []
    diverging: dict[Any, str | None] = {}
    applied = 0
    for point in sorted(p for p in texts if p <= at):
        while applied < len(facts) and facts[applied].occurred_at.instant <= point:
            fact = facts[applied]
            state.apply(fact)
            applied += 1
            if fact.type == "access-observed":
                diverging[fact.id] = _divergence(book, state, fact, platforms, code, rule)
        state.advance(point)
        if state.created is None:
            continue
        seen = state if keep is None else state.narrowed(keep)
        shape = (seen.state, tuple(sorted(seen.blocked)))
        if periods and periods[-1].end is None:
            last = periods[-1]
            if (last.state, tuple(sorted(last.blocked))) == shape:
                continue
            periods[-1] = _ended(last, point, texts[point])
        if seen.state != "lifted":
            ordered = tuple(t for t in seen.targets if t in seen.blocked)
            until = max(seen.suspended.values()) if seen.suspended else None
            periods.append(Period(point, texts[point], None, None, seen.state, ordered,
                                  until, _ruled(facts[:applied], point)))
    now = book.order(platform, ref, at) if keep is not None else book.state("order", ref, at)
    targets = tuple(t for t in data.targets if keep is None or t in keep)
    marks = []
    for f in facts:
        if f.occurred_at.instant > at:
            continue
        if f.type == "access-observed":
            kind = diverging.get(f.id)
            if kind is None:
                continue  # as the order says: not marked
            marks.append(mark(f, kind))
        else:
            marks.append(mark(f))
    return OrderSummary(
        ref, data.authority, getattr(data, "instrument", None),
        getattr(data, "legal_basis", None), tuple(data.reasons), targets,
        now.state if isinstance(now, OrderState) else None,
        tuple(t for t in targets if isinstance(now, OrderState) and t in now.blocked),
        periods, marks, disputed=any(str(f.id) in disputed for f in facts),
        regional=where if code is not None and is_regional(where := order_code(book, ref))
        else None)


def concerns(book: Book, platform: str, ref: str) -> bool:
    """Whether order ``ref`` holds any target of ``platform`` (an order over several
    platforms may hold none of one's: ``Book.order``)."""
    created = next((f for f in book.effective("order", ref).facts if f.kind.creates), None)
    if created is None or len(created.data.platforms) < 2:
        return True
    return bool(book.concerning(platform, ref))


def _ended(period: Period, end: datetime, text: str | None) -> Period:
    return Period(period.start, period.start_text, end, text, period.state, period.blocked,
                  period.until, period.ruled)


def _ruled(facts: list[Fact], point: datetime) -> tuple[str, str | None, str | None] | None:
    """The last of ``facts`` that is a ruling in effect from ``point``: its court, the
    valid time it was given at (as written), and the time it took effect from (as written,
    when given apart); None if none is."""
    for fact in reversed(facts):
        if fact.type != "ruling":
            continue
        effect = fact.data.effective_at or fact.occurred_at
        if effect.instant == point:
            return (fact.data.court, fact.occurred_at.text,
                    fact.data.effective_at.text if fact.data.effective_at else None)
    return None


def _divergence(book: Book, state: OrderState, fact: Fact, platforms: tuple[str, ...],
                code: str | None = None, rule: str = CURRENT) -> str | None:
    """How an observation recorded on an order differs from what the orders held when it
    was made (``state``: this order's fold up to it), if it does, by the status's rule
    (``projections.status.diverges``: each observation against the orders that bind where
    it was made, its own jurisdiction else the order's), or by an earlier ``rule``
    (``report_superseded``); in a report for jurisdiction ``code``, only that
    jurisdiction's orders count."""
    if state.created is None:  # before the order (no ledger holds that; a hand-made report)
        return None

    def others() -> list[OrderState]:
        """The platforms' other orders (of ``code``), as they were when it was made."""
        at = fact.occurred_at.instant
        refs = sorted({r for p in platforms for r in book.related(p, "order")})
        return [other for other in (book.state("order", ref, at) for ref in refs
                                    if ref != state.ref and (code is None or binds(
                                        order_code(book, ref), code)))
                if isinstance(other, OrderState)]

    if rule != CURRENT:
        return lane_divergence(state, fact, others)
    place = fact.data.jurisdiction or book.jurisdiction_of(state)
    if fact.data.accessible:  # the mark is on this order's lane: it differs from this one
        how = diverges(book, fact, place, [state])
        return how.replace("-", " ") if how is not None else None
    # unreachable: another of the platform's orders may hold it then: not a divergence
    how = diverges(book, fact, place, [state, *others()])
    return how.replace("-", " ") if how is not None else None


def request_summary(book: Book, ref: str, at: datetime, mark: Any) -> RequestSummary:
    state = book.state("request", ref, at)
    facts = sorted(book.effective("request", ref).facts, key=valid_key)
    if not isinstance(state, RequestState):
        return RequestSummary(ref, None, (), {}, [])
    return RequestSummary(ref, state.state, tuple(state.orders), dict(state.conditions),
                          [mark(f) for f in facts if f.occurred_at.instant <= at])
