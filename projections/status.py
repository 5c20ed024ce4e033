"""The status of platforms at a valid time, as known at a record time (DESIGN "Status")."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from domain.errors import SubjectNotFound
from domain.fact import Fact
from domain.jurisdictions import binds, country, covers, is_regional, may_cover
from domain.timeline import OrderState, PlatformState, RequestState
from domain.values import When
from projections.book import Book


def platform_status(book: Book, ref: str, *, as_of: When | None = None,
                    as_known_at: When | None = None, now: datetime | None = None,
                    jurisdiction: str | None = None) -> dict[str, Any]:
    """The status object of platform ``ref``: state, blocked targets, orders, requests,
    and ``jurisdictions``: the same per country its orders bind or its observations were
    made in (``domain.jurisdictions``). With ``jurisdiction``, the top level is that
    jurisdiction's answer, and says so.

    Without ``as_of`` it is the status at ``now`` (default: the clock's now, as a temporary
    lift may have ended); a caller that folds the same book at that moment again for other
    purposes passes its ``now``, so that the book's cached folds serve both.
    """
    at = as_of.instant if as_of else (now or datetime.now(UTC))
    platform = book.state("platform", ref, at)
    if platform is None:
        when = f" as of {as_of}" if as_of else ""
        known = f" as known at {as_known_at}" if as_known_at else ""
        raise SubjectNotFound(f"platform {ref} is not registered{when}{known}")
    assert isinstance(platform, PlatformState)
    orders = [s for s in (book.order(ref, r, at) for r in book.related(ref, "order"))
              if isinstance(s, OrderState)]
    requests = [s for s in (book.state("request", r, at) for r in book.related(ref, "request"))
                if isinstance(s, RequestState)]
    head = {"platform": ref, "name": platform.name}
    if jurisdiction is not None:
        answer = _answer(book, platform, orders, requests, at, jurisdiction)
        return {**head, "state": answer["state"], "as_of": as_of.text if as_of else None,
                "as_known_at": as_known_at.text if as_known_at else None,
                "jurisdiction": jurisdiction, **answer}
    top = _answer(book, platform, orders, requests, at, None)
    default = book.default_jurisdiction()
    made = [j or default for j, _ in platform.seen] + [
        j or book.jurisdiction_of(o) for o in orders for j, _ in o.seen]
    # The countries its orders bind and its own observations were made in (an
    # observation of an order counts only with its order: in no other country's answer).
    codes = {country(c) for c in (*(book.jurisdiction_of(o) for o in orders),
                                  *(j or default for j, _ in platform.seen)) if c}
    answers = {}
    # A request counts where an order it names binds, of the orders there are at ``at``
    # (``_answer``): one naming none of them (an order not made yet) counts nowhere.
    made_refs = {o.ref for o in orders}
    for code in sorted(codes):
        if all(binds(book.jurisdiction_of(o), code) for o in orders) and all(
                binds(j, code) for j in made) and all(
                binds(_penalty_in(book, p, at), code) for p in platform.penalties.values()
                ) and all(made_refs & set(r.orders) for r in requests):
            there = top  # everything counts there: the same answer
        else:
            there = _answer(book, platform, orders, requests, at, code)
        answers[code] = {**head, "state": there["state"], "jurisdiction": code, **there}
    times = {"as_of": as_of.text if as_of else None,
             "as_known_at": as_known_at.text if as_known_at else None}
    return {**head, "state": top["state"], **times, **top, "jurisdictions": answers}


def _answer(book: Book, platform: PlatformState, every: list[OrderState],
            requests: list[RequestState], at: datetime,
            jurisdiction: str | None) -> dict[str, Any]:
    """What the status says of ``platform`` from the orders and observations of
    ``jurisdiction`` (None: all of them)."""
    penalties = list(platform.penalties.values())
    if jurisdiction is None:
        orders, observed = every, _observed([*every, platform])
    else:
        orders = [o for o in every if binds(book.jurisdiction_of(o), jurisdiction)]
        refs = {o.ref for o in orders}
        requests = [r for r in requests if refs & set(r.orders)]
        default = book.default_jurisdiction()
        # Each observation where it was made: its own jurisdiction, else its order's (on
        # an order), else the default (on the platform). ``seen`` holds the latest of each
        # place and target, the latest applied last (``domain.timeline``): so the last
        # kept of a target is its latest there.
        seen = [_Seen({target: fact for (j, target), fact in o.seen.items()
                       if binds(j or book.jurisdiction_of(o), jurisdiction)})
                for o in orders]
        seen.append(_Seen({target: fact for (j, target), fact in platform.seen.items()
                           if binds(j or default, jurisdiction)}))
        observed = _observed(seen)
        penalties = [p for p in penalties if binds(_penalty_in(book, p, at), jurisdiction)]
    blocked = set().union(*(o.blocked for o in orders))
    divergence = _divergence(book, platform.ref, observed, at, orders)
    return {
        "state": _platform_state(platform.targets, blocked),
        "blocked_targets": _ordered(blocked, platform.targets),
        "orders": [{
            "ref": o.ref,
            "authority": o.authority,
            "state": o.state,
            "blocked_targets": _ordered(o.blocked, o.targets),
            "disputed": book.is_disputed("order", o.ref, at),
            "jurisdiction": book.jurisdiction_of(o),
            "regional": is_regional(book.jurisdiction_of(o)),
            **_pending(o),
        } for o in orders],
        "normalizations": [{
            "ref": r.ref,
            "state": r.state,
            "conditions": dict(r.conditions),
            "disputed": book.is_disputed("request", r.ref, at),
        } for r in requests],
        "observed": {target: {"accessible": f.data.accessible, "network": f.data.network,
                              "at": f.occurred_at.text,
                              "jurisdiction": _seen_in(book, f, orders)}
                     for target, f in sorted(observed.items())},
        "divergent": _ordered(set(divergence), platform.targets),
        "divergence": {t: divergence[t] for t in _ordered(set(divergence), platform.targets)},
        "penalties": [penalty.to_json(at) for penalty in penalties],
        "disputed": book.is_disputed("platform", platform.ref, at),
    }


def _penalty_in(book: Book, penalty: Any, at: datetime) -> str | None:
    """Where a penalty counts (``penalty_place``)."""
    return penalty_place(book, penalty.imposed)


def penalty_place(book: Book, imposed: Fact) -> str | None:
    """Where a penalty (its ``penalty-imposed``) counts: where its order binds, else the
    default. An order's jurisdiction is the same at every valid time, so this is too: a
    penalty valid-dated before its order (refused since, but a ledger may hold one) counts
    where that order binds, not where the default would put it until the order exists.
    The status and the report's marks both read this one rule."""
    ref = imposed.data.order
    return order_place(book, ref) if ref else book.default_jurisdiction()


def order_place(book: Book, ref: str) -> str | None:
    """Where order ``ref`` binds: its own jurisdiction (as corrected), else the default;
    for an order whose creation was retracted, what its creating event said."""
    state = book.state("order", ref)
    if isinstance(state, OrderState):
        return book.jurisdiction_of(state)
    created = next((f for f in book.facts("order", ref) if f.kind.creates), None)
    own = getattr(created.data, "jurisdiction", None) if created is not None else None
    return own or book.default_jurisdiction()


class _Seen:
    """Observations of a platform chosen by jurisdiction, as ``_observed`` reads a state."""

    def __init__(self, observed: dict[str, Fact]):
        self.observed = observed


def _seen_in(book: Book, fact: Fact, orders: list[OrderState]) -> str | None:
    """Where an observation counts: its own jurisdiction, that of the order it was
    recorded on, else the ledger's default."""
    if fact.data.jurisdiction:
        return fact.data.jurisdiction
    order = next((o for o in orders if o.ref == fact.subject
                  and any(f is fact for f in o.seen.values())), None)
    return (book.jurisdiction_of(order) if order is not None
            else book.default_jurisdiction())


def all_status(book: Book, *, as_of: When | None = None, as_known_at: When | None = None,
               jurisdiction: str | None = None) -> list[dict[str, Any]]:
    """The status of every platform registered by ``as_of`` (in ``jurisdiction``)."""
    at = as_of.instant if as_of else datetime.now(UTC)
    return [platform_status(book, ref, as_of=as_of, as_known_at=as_known_at,
                            jurisdiction=jurisdiction)
            for ref in book.refs("platform") if book.state("platform", ref, at) is not None]


def _pending(order: OrderState) -> dict[str, Any]:
    """``pending_rulings``, for an order a court has ruled on whose ruling has not taken
    effect by then (nothing for any other order: its object is as it always was)."""
    if not order.pending:
        return {}
    return {"pending_rulings": [{
        "court": r.data.court, "outcome": r.data.outcome, "given": r.occurred_at.text,
        "effective_at": r.data.effective_at.text if r.data.effective_at else None,
    } for r in order.pending]}


def _observed(subjects: list[Any]) -> dict[str, Fact]:
    """The latest observation of each target, across the platform's orders and the
    platform's own observations."""
    latest: dict[str, Fact] = {}
    for order in subjects:
        for target, fact in order.observed.items():
            seen = latest.get(target)
            if seen is None or fact.occurred_at.instant >= seen.occurred_at.instant:
                latest[target] = fact
    return latest


def _divergence(book: Book, platform: str, observed: dict[str, Fact],
                at: datetime, orders: list[OrderState]) -> dict[str, str]:
    """Targets whose observed access contradicts what the orders held when it was observed,
    and how (``diverges``), each observation compared with the orders that bind where it
    was made (``_seen_in``).

    ``observed`` was folded as at ``at``, so every observation is at or before ``at``.
    """
    out = {}
    # Only an order that names the target can hold it: the others need no fold at that time.
    # Its targets are those of its creating event (as corrected), the same in its state at
    # ``at`` (the fold the status made already) as in any later one; an order created after
    # ``at`` did not exist at any observation either.
    naming = {state.ref: state.targets for state in orders}
    for target, fact in observed.items():
        seen_at = fact.occurred_at.instant
        then = [state for state in (book.order(platform, ref, seen_at) for ref in naming
                                    if target in naming[ref])
                if isinstance(state, OrderState)]
        how = diverges(book, fact, _seen_in(book, fact, orders), then)
        if how is not None:
            out[target] = how
    return out


def diverges(book: Book, fact: Fact, place: str | None,
             then: list[OrderState]) -> str | None:
    """How observation ``fact``, made at ``place``, contradicts the orders ``then`` (as
    they were when it was made), if it does: ``reachable-while-blocked`` (an order that
    surely binds that place held the target: ``covers``); ``unreachable-after-lift`` (no
    order that may bind it held it then, but one that names it had been made there);
    ``unexplained`` (unreachable, and no order of that place named it: what censorship
    measurement looks for). A regional order is thus no answer for an observation made
    in another region: Jammu and Kashmir's block says nothing of access in Delhi. The
    status and the provenance report's timeline both read this one rule."""
    target = fact.data.target
    naming = [(state, book.jurisdiction_of(state)) for state in then
              if target in state.targets]
    if fact.data.accessible:
        held = any(target in state.blocked and covers(code, place)
                   for state, code in naming)
        return "reachable-while-blocked" if held else None
    if any(target in state.blocked and may_cover(code, place) for state, code in naming):
        return None
    made = any(may_cover(code, place) for _, code in naming)
    return "unreachable-after-lift" if made else "unexplained"


def _platform_state(registered: tuple[str, ...], blocked: set[str]) -> str:
    if not blocked:
        return "accessible"
    if not registered or set(registered) <= blocked:
        return "blocked"
    return "partially-blocked"


def _ordered(targets: set[str], order: tuple[str, ...]) -> list[str]:
    """``targets`` in the order they were registered, any others after, sorted."""
    known = [t for t in order if t in targets]
    return known + sorted(targets - set(known))


# --- what a person reads beside the status object ---------------------------------------


def status_detail(book: Book, ref: str, *, as_of: When | None = None,
                  now: datetime | None = None, full: bool = True,
                  jurisdiction: str | None = None) -> dict[str, Any]:
    """What the human status shows beside ``platform_status``: the platform's registered
    targets, since when it has been in its state and (``full``) each order's periods (from
    -> to, its lifts, a temporary lift's end) and every disputed event with its claims.
    With ``jurisdiction``, from the orders that bind there only (as the status's answer
    for that jurisdiction counts them).

    Kept apart from the status object, whose shape the persisted status view holds.
    """
    at = as_of.instant if as_of else (now or datetime.now(UTC))
    platform = book.state("platform", ref, at)
    if not isinstance(platform, PlatformState):
        raise SubjectNotFound(f"platform {ref} is not registered")
    orders = {r: s for r in book.related(ref, "order")
              if isinstance(s := book.order(ref, r, at), OrderState) and (
                  jurisdiction is None or binds(book.jurisdiction_of(s), jurisdiction))}
    if not full:
        return {"targets": list(platform.targets), "since": _since(platform, orders, at)}
    keys = [("platform", ref), *(("order", r) for r in orders),
            *(("request", r) for r in book.related(ref, "request"))]
    return {
        "targets": list(platform.targets),
        "since": _since(platform, orders, at),
        "orders": {r: order_periods(s) for r, s in orders.items()},
        "disputes": [d for kind, subject in keys for d in _disputes(book, kind, subject, at)],
    }


def order_periods(order: OrderState) -> dict[str, Any]:
    """An order's course: ``from`` (its block), ``to`` (the lift that left nothing held,
    None while it holds anything), and ``steps``: each block and lift with its targets and,
    for a temporary lift, ``until``."""
    steps, start, end = [], None, None
    mine = order.concerning  # an order over several platforms, as one of them sees it
    for fact in order.facts:
        if fact.type == "blocked":
            start = fact.occurred_at.text
            steps.append({"at": start, "what": "blocked",
                          "targets": _mine(fact.data.targets, mine)})
        elif fact.type == "unblocked":
            if mine is not None and fact.data.targets and not set(fact.data.targets) & mine:
                continue  # it lifted another platform's targets only
            until = fact.data.until.text if fact.data.until else None
            steps.append({"at": fact.occurred_at.text,
                          "what": "temporarily lifted" if until else "lifted",
                          "targets": _mine(fact.data.targets, mine), "until": until})
        elif fact.type == "ruling" and fact not in order.pending:  # in effect by then
            effect = fact.data.effective_at or fact.occurred_at
            steps.append({"at": effect.text, "what": f"{fact.data.outcome} by {fact.data.court}",
                          "targets": [], "until": None})
    if order.state == "lifted":
        lifts = [s for s in steps if s["what"] == "lifted"]
        end = lifts[-1]["at"] if lifts else None
    elif order.state == "overturned":
        end = [s for s in steps if s["what"].startswith("overturned by ")][-1]["at"]
    return {"from": start, "to": end, "steps": steps}


def _mine(targets: tuple[str, ...], mine: frozenset[str] | None) -> list[str]:
    return [t for t in targets if mine is None or t in mine]


def _since(platform: PlatformState, orders: dict[str, OrderState], at: datetime) -> str | None:
    """When the platform's blocked targets last changed by ``at`` (a block, a lift, the
    end of a temporary lift); its registration when they never did.

    One pass: each order's facts (as folded by ``at``, in valid order) are applied to a
    fresh state moment by moment, as a fold to each moment would apply them.
    """
    moments: dict[datetime, str] = {}
    for state in orders.values():
        for fact in state.facts:
            if fact.type in ("blocked", "unblocked"):
                moments.setdefault(fact.occurred_at.instant, fact.occurred_at.text)
                if fact.type == "unblocked" and fact.data.until is not None \
                        and fact.data.until.instant <= at:
                    moments.setdefault(fact.data.until.instant, fact.data.until.text)
            elif fact.type == "ruling":  # a court's suspension, overturning, reinstatement
                effect = fact.data.effective_at or fact.occurred_at
                if effect.instant <= at:
                    moments.setdefault(effect.instant, effect.text)
    since = platform.created.occurred_at.text if platform.created else None
    replay = [(OrderState(ref), state.facts) for ref, state in orders.items()]
    done = [0] * len(replay)
    before: set[str] = set()
    for instant in sorted(moments):
        held: set[str] = set()
        for i, (state, facts) in enumerate(replay):
            while done[i] < len(facts) and facts[done[i]].occurred_at.instant <= instant:
                state.apply(facts[done[i]])
                done[i] += 1
            state.advance(instant)
            held |= state.blocked if orders[state.ref].concerning is None else (
                state.blocked & orders[state.ref].concerning)
        if held != before:
            since, before = moments[instant], held
    return since


def _disputes(book: Book, kind: str, ref: str, at: datetime) -> list[dict[str, Any]]:
    eff = book.effective(kind, ref)
    out = []
    for fact in eff.facts:
        if fact.id not in eff.disputed_by or fact.occurred_at.instant > at:
            continue
        claims = [eff.original[d].data.claim for d in eff.disputed_by[fact.id]
                  if d in eff.original]
        out.append({"id": str(fact.id), "type": fact.type, "subject": fact.subject,
                    "occurred_at": fact.occurred_at.text, "summary": fact.describe(),
                    "claims": claims})
    return out
