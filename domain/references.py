"""The rules between subjects, as a fact that names others is held to them: a fine's order,
a request's orders and platform, an order's platforms and their targets at its time, an
observation's state (``check_references``), every way a fact breaks them
(``reference_errors``), and which of those are new against what stood before
(``new_errors``). One statement, for both writers (``domain.checked``: a new fact, an
amended one) and for the other side (``domain.dependents``: what a change leaves of the
facts that name it). Apart from ``domain.checked``, which re-exports them, so that each
stays a module of one subject.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from domain.concerns import platforms_named
from domain.errors import LedgerError, RuleBroken, SubjectNotFound
from domain.fact import Fact
from domain.jurisdictions import LEDGER, country
from domain.timeline import SubjectState, valid_key
from domain.values import When

#: The types of fact that name a subject of each kind, in what ``reference_errors`` reads
#: of it: an order is named by fines and requests (and by its own observations, for the
#: state it binds: ``domain.dependents``), a platform by orders and requests, the ledger's
#: settings (its default jurisdiction) by observations.
NAMING = {"order": frozenset({"penalty-imposed", "normalization-requested"}),
          "platform": frozenset({"blocked", "normalization-requested"}),
          "ledger": frozenset({"access-observed"})}
#: Every type of fact that names another subject.
NAMING_TYPES = frozenset().union(*NAMING.values())


def checked_state(subject: Any, fact: Fact) -> SubjectState:
    """The state of ``subject`` (a ``Timeline`` or an aggregate holding one) that a fact
    placed at the valid time of ``fact`` is checked against: what its rules read, after
    the facts that rank before ``fact`` at that instant (``valid_key``). Before the
    subject's creation, its state as created: a platform is reached at the targets it was
    registered with from before its registration too (ledgers hold orders dated before
    the registration of their platform, and those stay valid)."""
    index = getattr(subject, "timeline", subject)._index
    key = valid_key(fact)
    if index.created_key is not None and key < index.created_key:
        key = index.created_key
    return index.state_at(key)


def check_references(fact: Fact, find: Callable[[str, str], Any]) -> None:
    """The rules between subjects, for a fact that names others (raise ``RuleBroken`` or
    ``SubjectNotFound``): the platform of an order or a request is registered; a request's
    orders exist and concern its platform; every target of a ``blocked`` is one the
    platform holds at the order's valid time (``targets-added`` gives it more).

    ``find(kind, ref)`` is the subject of that kind and reference, or None. The record
    path and the bulk import both call this: one statement of these rules; for an
    amendment, ``check_amended`` applies them to what it changes, from both sides. It
    raises the first of ``reference_errors``.
    """
    for error in reference_errors(fact, find):
        raise error


def reference_errors(fact: Fact, find: Callable[[str, str], Any]) -> Iterator[LedgerError]:
    """Every way ``fact`` breaks the rules between subjects (``check_references``), in the
    order they are found: each target a ``blocked`` lacks, each order of a request that is
    missing or elsewhere, each platform not registered; what depends on a missing subject
    is not asked of it. So that a change can be told to have broken nothing new where the
    first way is the same (``domain.dependents``, ``check_amended``)."""
    data = fact.data
    if fact.type == "access-observed" and data.jurisdiction:
        elsewhere = _observed_elsewhere(fact, find)
        if elsewhere is not None:
            yield _rule(RuleBroken, "observed-where", fact.subject, elsewhere,
                        " (record it on the platform)")
    if fact.type == "penalty-imposed" and data.order is not None:
        yield from _penalty_errors(fact, find)
    if not hasattr(data, "platform"):
        return
    names = (data.platform,) if data.platform else tuple(getattr(data, "platforms", ()))
    platforms = {}
    for name in names:
        platform = find("platform", name)
        if platform is None or getattr(platform, "timeline", platform)._index.created is None:
            # (its index, not its state: a subject kept compacted reads nothing back)
            yield _rule(SubjectNotFound, "unregistered", name,
                        f"platform {name} is not registered" + (
                            " (its platform-registered was retracted)" if platform else ""),
                        "" if platform else "; record its platform-registered first")
            continue
        platforms[name] = platform
    for ref in getattr(data, "orders", ()):
        order = find("order", ref)
        if order is None or order.state().created is None:
            yield _rule(SubjectNotFound, "no-order", ref, f"order {ref} does not exist" + (
                " (its creating event was retracted)" if order else ""))
        elif data.platform not in order.state().platforms:
            yield _rule(SubjectNotFound, "elsewhere", ref, f"order {ref} concerns platform "
                        f"{', '.join(order.state().platforms)}, not {data.platform}")
    if fact.type == "blocked" and len(platforms) == len(names):
        held = set().union(*(checked_state(p, fact).targets  # type: ignore[attr-defined]
                             for p in platforms.values()))
        missing = [t for t in data.targets if t not in held]
        if not missing and len(names) > 1:
            for name, platform in platforms.items():
                if not set(data.targets) & set(checked_state(platform, fact).targets):  # type: ignore[attr-defined]
                    yield _rule(RuleBroken, "holds-none", name,
                                f"order {fact.subject} names platform {name}, which holds "
                                f"none of its targets at {fact.occurred_at}")
        which = f"platform {names[0]}" if len(names) == 1 else \
            f"any of its platforms ({', '.join(names)})"
        first = names[0] if len(names) == 1 else "its platform"
        for target in missing:
            yield _rule(RuleBroken, "unheld", target,
                        f"target {target} of order {fact.subject} is not a target of "
                        f"{which} at {fact.occurred_at}",
                        f"; if it is one, record targets-added for {first} first")


def _penalty_errors(fact: Fact, find: Callable[[str, str], Any]) -> Iterator[LedgerError]:
    """How a fine breaks the rules of the order it names (``reference_errors``)."""
    data = fact.data
    order = find("order", data.order)
    if order is None or order.state().created is None:
        yield _rule(SubjectNotFound, "no-order", data.order,
                    f"order {data.order} does not exist"
                    + (" (its creating event was retracted)" if order else ""))
        return
    created = order.state().created
    if fact.subject not in platforms_named(created):
        yield _rule(RuleBroken, "elsewhere", data.order,
                    f"order {data.order} does not concern platform {fact.subject}")
    # A fine under an order cannot precede it; a fine dated by day counts to its end (the
    # same day as the order is no contradiction).
    imposed = fact.occurred_at
    if len(imposed.text) == 10:
        imposed = When.parse(imposed.text, end_of_day=True)
    if imposed.instant < created.occurred_at.instant:
        yield _rule(RuleBroken, "before-order", data.order,
                    f"penalty-imposed at {fact.occurred_at} names order {data.order}, which "
                    f"was made at {created.occurred_at}: a penalty under an order cannot "
                    "come before it", " (give the penalty's date, or no --order)")


def new_errors(fact: Fact, find: Callable[[str, str], Any], old: Fact | None = None,
               found: Callable[[str, str], Any] | None = None) -> Iterator[LedgerError]:
    """The ways ``fact`` breaks the rules between subjects (``reference_errors``) that
    ``old`` did not as ``found`` found it (a ledger written before a check, where a change
    is not blamed for what was broken already; none given: every way). A way is a rule and
    what it is about (``_rule``: a target unheld, an order missing or elsewhere, a fine
    before its order, a platform unregistered), so a change that breaks one more target,
    order or platform is told apart from one that leaves them as they were, or mends some
    (a fine still before its order, moved nearer it)."""
    known = set() if old is None or found is None else {
        error.rule for error in reference_errors(old, found)}  # type: ignore[attr-defined]
    return (error for error in reference_errors(fact, find)
            if error.rule not in known)  # type: ignore[attr-defined]


def _rule(kind: type[LedgerError], rule: str, about: str, reason: str,
          advice: str = "") -> LedgerError:
    """The refusal ``refused: <reason><advice>``, marked with the rule it breaks and what
    that is about (``rule``: what ``new_errors`` compares) and its ``reason`` alone: the
    advice is for the writer of the fact refused (give another date, record something
    first), not for a change that would leave that fact against the rules, whose refusal
    says the reason and its own advice (``domain.dependents``)."""
    error = kind(f"refused: {reason}{advice}")
    error.rule = (rule, about)  # type: ignore[attr-defined]
    error.reason = reason  # type: ignore[attr-defined]
    return error


def _observed_elsewhere(fact: Fact, find: Callable[[str, str], Any]) -> str | None:
    """An observation recorded on an order must be of the order's country: its own
    jurisdiction, else the ledger's default (why it is not, or None)."""
    order = find("order", fact.subject)
    if order is None or fact.kind.about(fact.subject, lambda k, r: find(k, r) is not None) \
            != "order":
        return None
    binds = getattr(order.state(), "jurisdiction", None)
    if binds is None:
        settings = find("ledger", LEDGER)
        binds = getattr(settings.state(), "jurisdiction", None) if settings else None
    if binds is not None and country(binds) != country(fact.data.jurisdiction):
        return (f"order {fact.subject} binds {binds}: an observation in "
                f"{fact.data.jurisdiction} is not of it")
    return None
