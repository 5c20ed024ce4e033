"""What a provenance report says at a glance: the subject's state at the report's time,
each order's authority, basis and targets, every interval in which it was in force, and the
requests with their conditions.

Nothing here knows the blocking rules: the report's own events, as they count now (a
correction's ``current`` values applied, retracted events left out, as the report states
them), are folded again by the ledger's own code (``projections.book.Book`` over
``domain.timeline``'s state classes, fed as ``fold`` feeds them and read at every instant
where an order's state can change: each of its events, and the end of each temporary
lift; and ``projections.status.platform_status`` for the platform). So the intervals are
exactly what ``status --as-of`` answers at any time between.

A report whose events cannot be read as facts (hand-made, or hostile) gets a summary that
says so (``problem``), and the rest of the report renders as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

from domain.declaration import REGISTRY
from domain.fact import Fact
from domain.jurisdictions import binds, is_regional
from domain.timeline import STATES, OrderState, RequestState, in_valid_order, valid_key
from domain.values import When
from ledger.application import Entry
from projections.book import Book
from projections.report_jurisdiction import order_code
from projections.report_times import Clock
from projections.status import diverges, platform_status
from projections.sweep import Sweep

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
                      "normalization-requested"})

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


@frozen
class Summary:
    subject: str
    kind: str | None  # platform, order, request; None when the events could not be read
    name: str | None
    state: str | None
    at: datetime  # the report's time: its as-of, else when it was made
    at_text: str | None
    start: datetime | None
    blocked: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    orders: list[OrderSummary] = field(factory=list)
    requests: list[RequestSummary] = field(factory=list)
    notices: list[Mark] = field(factory=list)
    #: target -> (how it differs, network, when observed)
    divergent: dict[str, tuple[str, str | None, str | None]] = field(factory=dict)
    #: the platform's own state over time, from its first block to the report's time:
    #: (from, its text, to, its text, state), one stretch per state
    course: list[tuple[datetime, str | None, datetime | None, str | None, str]] = field(
        factory=list)
    problem: str | None = None
    #: A report for one jurisdiction (``projections.report_jurisdiction``): which, how
    #: many of its events count elsewhere (listed, marked), and, for an order that binds
    #: another, where it binds.
    jurisdiction: str | None = None
    elsewhere: int = 0
    binds_elsewhere: str | None = None
    #: target -> the regions whose orders alone block it (a report for one jurisdiction)
    regional: dict[str, tuple[str, ...]] = field(factory=dict)
    #: the orders that bind no jurisdiction (none given, no default): the answer is
    #: undetermined; and how many events bind none
    unplaced: tuple[str, ...] = ()
    unplaced_events: int = 0
    #: former countries (ISO 3166-3) among the jurisdiction asked and its orders'
    former: tuple[str, ...] = ()


def _when(value: Any) -> When | None:
    try:
        return When.parse(value, end_of_day=True) if isinstance(value, str) else None
    except Exception:
        return None


def report_time(report: dict[str, Any]) -> tuple[datetime, str | None]:
    """The time the report answers for: its as-of, else (a report for one jurisdiction)
    the time its answer is at, else when it was made (UTC)."""
    answer = report.get("answer") if report.get("jurisdiction") else None
    for value in (report.get("as_of"), (answer or {}).get("as_of")
                  if isinstance(answer, dict) else None, report.get("generated_at")):
        when = _when(value)
        if when is not None:
            return when.instant, when.text
    return datetime.now(UTC), None


def summarise(report: dict[str, Any]) -> Summary:
    """The summary of ``report`` (see the module); never raises."""
    subject = str(report.get("subject"))
    at, at_text = report_time(report)
    try:
        return _summarise(report, subject, at, at_text)
    except Exception as error:  # a hand-made or hostile report: say so, render the rest
        return Summary(subject, None, None, None, at, at_text, None,
                       problem=f"the report's events could not be folded "
                               f"({type(error).__name__}): no summary")


def _facts(report: dict[str, Any]) -> tuple[list[Entry], dict[str, int], dict[str, str]]:
    """The report's events as they count now, as ledger entries; each id's number in the
    report; and each (dispute) target."""
    entries, number, disputed = [], {}, {}
    for n, ev in enumerate(report.get("events") or [], 1):
        number[str(ev["id"])] = n
        kind = REGISTRY[ev["type"]]
        if kind.subject == "any" or ev.get("retracted_by"):
            continue  # amendments are already applied (current); retracted ones don't count
        obj = {k: ev[k] for k in ("id", "type", "subject", "occurred_at", "sources", "note",
                                  "data") if k in ev}
        obj.update({k: v for k, v in (ev.get("current") or {}).items()
                    if k in ("occurred_at", "note", "data")})
        fact = Fact.from_json(obj)
        entries.append(Entry(int(ev.get("position") or n), fact))
        if ev.get("disputed_by"):
            disputed[str(fact.id)] = "disputed"
    return entries, number, disputed


def _elsewhere(report: dict[str, Any]) -> tuple[str | None, set[str], int]:
    """The jurisdiction a report answers for, the ids of its events that are not part of
    its answer (``projections.report_jurisdiction``: another's, none's, or an observation
    outside its order's country; a notice, tied to no state, is kept), and how many bind
    no jurisdiction."""
    code = report.get("jurisdiction")
    if not isinstance(code, str):
        return None, set(), 0
    marks = {str(ev.get("id")): ev["jurisdiction"] for ev in report.get("events") or []
             if isinstance(ev.get("jurisdiction"), dict)}
    out = {i for i, m in marks.items() if m.get("counts") is False
           and m.get("where") != "untied"}
    return code, out, sum(1 for i in out if marks[i].get("where") is None)


def _former(report: dict[str, Any]) -> tuple[str, ...]:
    """The former countries (ISO 3166-3) among a report's jurisdiction and its orders'."""
    answer = report.get("answer") if isinstance(report.get("answer"), dict) else {}
    codes = {report.get("jurisdiction"), *(o.get("jurisdiction") for o in (
        answer.get("orders") or {}).values() if isinstance(o, dict))}
    import pycountry  # only for a report for one jurisdiction

    def former(code: str) -> bool:
        name = code.split("-", 1)[0]
        return pycountry.countries.get(alpha_2=name) is None and any(
            c.alpha_2 == name for c in pycountry.historic_countries)

    return tuple(sorted(c for c in codes if isinstance(c, str) and former(c)))


def _summarise(report: dict[str, Any], subject: str, at: datetime,
               at_text: str | None) -> Summary:
    entries, number, disputed = _facts(report)
    code, elsewhere, unplaced_events = _elsewhere(report)
    book = Book(entries)
    start = min((e.fact.occurred_at.instant for e in entries), default=None)

    def mark(fact: Fact, divergent: str | None = None) -> Mark:
        word = WORDS.get(fact.type, fact.type.replace("-", " "))
        if fact.type == "unblocked" and fact.data.until is not None:
            word = "lifted for a while"
        elif fact.type == "unblocked" and fact.data.targets:
            count = len(fact.data.targets)
            word = f"lifted for {count} target{'s' if count > 1 else ''}"
        if fact.type == "meeting-held":
            word = f"{fact.data.kind.upper() if fact.data.kind == 'ceo' else fact.data.kind}"\
                   " meeting"
        return Mark(fact.occurred_at.instant, fact.occurred_at.text, fact.type, word,
                    number[str(fact.id)], fact.describe(), divergent,
                    getattr(fact.data, "target", None))

    as_of = When.of(at)
    binds_elsewhere = None
    if book.has("platform", subject):
        kind, platform = "platform", book.state("platform", subject, at)
        # not registered (a report made before it was, or a hand-made one): no state
        status = platform_status(book, subject, as_of=as_of,
                                 jurisdiction=code) if platform else None
        # In a report for one jurisdiction, only what counts there (as status says it).
        orders = [r for r in book.related(subject, "order")
                  if code is None or binds(order_code(book, r), code)]
        requests = [r for r in book.related(subject, "request") if code is None or any(
            str(f.id) not in elsewhere for f in book.facts("request", r))]
        notices = [mark(f) for f in book.effective("platform", subject).facts
                   if str(f.id) not in elsewhere]
    else:
        kind = "order" if book.has("order", subject) else (
            "request" if book.has("request", subject) else None)
        status, platform = None, None
        orders = [subject] if kind == "order" else []
        requests = [subject] if kind == "request" else []
        notices = []
        if kind == "order" and code is not None and not binds(order_code(book, subject),
                                                              code):
            binds_elsewhere = order_code(book, subject) or "no jurisdiction"
    summaries = [_order(book, ref, at, mark, disputed,
                        subject if kind == "platform" else None, code) for ref in orders
                 if kind != "platform" or _concerns(book, subject, ref)]
    # Each divergent target (as status says) with how it differs, on which network, when.
    kinds = {m.target: m.divergent for o in summaries for m in o.marks if m.divergent}
    divergent = {}
    for target in (status or {}).get("divergent") or []:
        seen = status["observed"].get(target) or {}
        how = kinds.get(target) or (status.get("divergence") or {}).get(
            target, "differs from the orders").replace("-", " ")
        divergent[target] = (how, seen.get("network"), seen.get("at"))
    if kind == "order" and summaries:
        state = summaries[0].state
    elif kind == "request":
        r = book.state("request", subject, at)
        state = r.state if isinstance(r, RequestState) else None
    else:
        state = status["state"] if status else None
    return Summary(
        subject, kind, getattr(platform, "name", None), state, at, at_text, start,
        blocked=tuple((status or {}).get("blocked_targets") or
                      (summaries[0].blocked if kind == "order" and summaries else ())),
        targets=tuple(getattr(platform, "targets", ()) or ()),
        orders=summaries,
        requests=[_request(book, ref, at, mark) for ref in requests],
        notices=[m for m in notices if m.type != "platform-registered"] if notices else [],
        divergent=divergent,
        course=_course(book, subject, summaries, at, code) if status else [],
        jurisdiction=code, elsewhere=len(elsewhere) - unplaced_events,
        binds_elsewhere=binds_elsewhere,
        regional=_regional(status) if code is not None else {},
        unplaced=_unplaced(report) if code is not None else (),
        unplaced_events=unplaced_events, former=_former(report) if code is not None else ())


def _unplaced(report: dict[str, Any]) -> tuple[str, ...]:
    answer = report.get("answer") if isinstance(report.get("answer"), dict) else {}
    return tuple(str(ref) for ref in answer.get("unplaced") or [])


def _regional(status: dict[str, Any] | None) -> dict[str, tuple[str, ...]]:
    """Each blocked target that only regional orders block, with their regions: a
    country's answer counts its regions' orders (``domain.jurisdictions``), and a reader
    must not take Jammu and Kashmir's block for India's."""
    out = {}
    for target in (status or {}).get("blocked_targets") or []:
        holders = [o for o in status["orders"] if target in o["blocked_targets"]]
        if holders and all(o.get("regional") for o in holders):
            out[target] = tuple(sorted({o["jurisdiction"] for o in holders}))
    return out


def _course(book: Book, subject: str, orders: list[OrderSummary],
            at: datetime, code: str | None = None
            ) -> list[tuple[datetime, str | None, datetime | None, str | None, str]]:
    """The platform's state (as ``status --as-of`` gives it) at every instant an order's
    state changed, merged into stretches.

    The instants are asked in order of a ``projections.sweep.Sweep`` of the book, which
    moves each subject's fold forward (each fact applied once, not once per instant: a
    fold from the start at each of an order's changes was quadratic in them), keeping
    copies at the instants of the observations, which the status asks for again."""
    texts: dict[datetime, str | None] = {}
    for order in orders:
        for p in order.periods:
            texts.setdefault(p.start, p.start_text)
            if p.end is not None:
                texts.setdefault(p.end, p.end_text)
    observed = {f.occurred_at.instant
                for kind, ref in (("platform", subject),
                                  *(("order", r) for r in book.related(subject, "order")))
                for f in book.effective(kind, ref).facts if f.type == "access-observed"}
    sweep = Sweep(book, stops=observed)
    stretches: list[list[Any]] = []
    for point in sorted(texts):  # in order: the sweep never goes back
        state = platform_status(sweep, subject, as_of=When.of(point),
                                jurisdiction=code)["state"]
        if stretches and stretches[-1][4] == state:
            continue
        if stretches:
            stretches[-1][2:4] = [point, texts[point]]
        stretches.append([point, texts[point], None, None, state])
    return [tuple(s) for s in stretches]  # type: ignore[misc]


def _order(book: Book, ref: str, at: datetime, mark: Any,
           disputed: dict[str, str], platform: str | None = None,
           code: str | None = None) -> OrderSummary:
    """An order's summary; in the report of ``platform``, an order over several platforms
    as that one sees it (the targets that concern it: ``Book.concerning``)."""
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
                diverging[fact.id] = _divergence(book, state, fact, platforms, code)
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
                                  until))
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


def _concerns(book: Book, platform: str, ref: str) -> bool:
    """Whether order ``ref`` holds any target of ``platform`` (an order over several
    platforms may hold none of one's: ``Book.order``)."""
    created = next((f for f in book.effective("order", ref).facts if f.kind.creates), None)
    if created is None or len(created.data.platforms) < 2:
        return True
    return bool(book.concerning(platform, ref))


def _ended(period: Period, end: datetime, text: str | None) -> Period:
    return Period(period.start, period.start_text, end, text, period.state, period.blocked,
                  period.until)


def _divergence(book: Book, state: OrderState, fact: Fact,
                platforms: tuple[str, ...], code: str | None = None) -> str | None:
    """How an observation recorded on an order differs from what the orders held when it
    was made (``state``: this order's fold up to it), if it does, by the status's rule
    (``projections.status.diverges``: each observation against the orders that bind where
    it was made, its own jurisdiction else the order's); in a report for jurisdiction
    ``code``, only that jurisdiction's orders count."""
    if state.created is None:  # before the order (no ledger holds that; a hand-made report)
        return None
    place = fact.data.jurisdiction or book.jurisdiction_of(state)
    if fact.data.accessible:  # the mark is on this order's lane: it differs from this one
        how = diverges(book, fact, place, [state])
        return how.replace("-", " ") if how is not None else None
    # unreachable: another of the platform's orders may hold it then: not a divergence
    at = fact.occurred_at.instant
    others = [other for other in (book.state("order", ref, at)
                                  for ref in sorted({r for p in platforms
                                                     for r in book.related(p, "order")})
                                  if ref != state.ref and (code is None or binds(
                                      order_code(book, ref), code)))
              if isinstance(other, OrderState)]
    how = diverges(book, fact, place, [state, *others])
    return how.replace("-", " ") if how is not None else None


def _request(book: Book, ref: str, at: datetime, mark: Any) -> RequestSummary:
    state = book.state("request", ref, at)
    facts = sorted(book.effective("request", ref).facts, key=valid_key)
    if not isinstance(state, RequestState):
        return RequestSummary(ref, None, (), {}, [])
    return RequestSummary(ref, state.state, tuple(state.orders), dict(state.conditions),
                          [mark(f) for f in facts if f.occurred_at.instant <= at])
