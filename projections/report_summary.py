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

Each order's and request's part (its intervals in force, the marks on its lane) is folded
in ``projections.report_orders``; this module reads the report's events, the platform's
state and its course over time, and puts them together.

A report whose events cannot be read as facts (hand-made, or hostile) gets a summary that
says so (``problem``), and the rest of the report renders as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attrs import field, frozen

from domain.declaration import REGISTRY
from domain.fact import Fact
from domain.jurisdictions import binds
from domain.timeline import RequestState
from domain.values import When
from ledger.application import Entry
from projections.book import Book
from projections.report_jurisdiction import order_code
from projections.report_orders import (
    WORDS,
    Mark,
    OrderSummary,
    RequestSummary,
    concerns,
    order_summary,
    request_summary,
)
from projections.report_superseded import CURRENT, platform_divergence
from projections.status import platform_status
from projections.sweep import Sweep


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


def summarise(report: dict[str, Any], *, rule: str = CURRENT) -> Summary:
    """The summary of ``report`` (see the module); never raises. ``rule``: the rules it
    is drawn by, the current ones or an earlier version's (``report_superseded``)."""
    subject = str(report.get("subject"))
    at, at_text = report_time(report)
    try:
        return _summarise(report, subject, at, at_text, rule)
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
               at_text: str | None, rule: str = CURRENT) -> Summary:
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
        if fact.type == "ruling":  # the court's decision, named where it is drawn
            word = f"{fact.data.outcome} by court"
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
    summaries = [order_summary(book, ref, at, mark, disputed,
                               subject if kind == "platform" else None, code, rule)
                 for ref in orders if kind != "platform" or concerns(book, subject, ref)]
    if status and rule != CURRENT and code is None:  # as the earlier rule drew it
        earlier = platform_divergence(book, subject, at)
        status = {**status, "divergent": list(earlier), "divergence": earlier}
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
        requests=[request_summary(book, ref, at, mark) for ref in requests],
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
