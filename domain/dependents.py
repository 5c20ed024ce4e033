"""The rules between subjects from the other side: what a write's changes to an order, a
platform or the ledger's settings do to the facts of other subjects that name them.

``check_references`` holds a new fact (and ``check_amended`` an amended one) to what it
names: a fine's order exists, concerns the fine's platform and comes before it; a
request's orders concern its platform; an order's targets are its platforms' at its time;
an observation of an order is of the state the order binds. Those facts stay named after
they are written, so a change to what they name can break the same rules: an order moved
after the fine under it, or to another platform; a registration retracted, or corrected
to take away a target an order blocks; a ``targets-removed`` dated before an order that
blocks what it removes; the ledger's default jurisdiction set under observations of
orders that name none.

Such changes are checked once a whole write is checked (a ``record`` call, an import, or
with ``--batch-commit`` each batch, which commits on its own), against the state at its
end: within one write a registry backfill narrows a registration before it gives back what
an order needs, and only the end state counts (checked one event at a time, a first
version refused valid backfills).

A fact that the write touches neither itself nor through its amendments is not blamed on
it for a way of breaking the rules it already had with the changed subjects as they were
(a ledger written before this check): a way is a rule and what it is about
(``domain.references.new_errors``), so one more target, order or platform lost is new.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from domain.amendments import effective
from domain.checked import Timeline
from domain.concerns import platforms_named
from domain.errors import RuleBroken
from domain.jurisdictions import LEDGER
from domain.references import NAMING, NAMING_TYPES, new_errors, reference_errors

Find = Callable[[str, str], Any]

#: What others read of a subject of each kind, by the type of its facts that count and
#: their fields: of an order, its creating event (that it exists, its time, its platforms,
#: the state it binds); of a platform, that it exists and which targets it holds when; of
#: the ledger's settings, the default jurisdiction. A change to anything else changes
#: nothing another subject's facts are checked against.
READ_BY_OTHERS: dict[str, dict[str, tuple[str, ...]]] = {
    "order": {"blocked": ("occurred_at", "platform", "platforms", "jurisdiction")},
    "platform": {kind: ("occurred_at", "targets")
                 for kind in ("platform-registered", "targets-added", "targets-removed")},
    "ledger": {"jurisdiction-default": ("jurisdiction",)},
}
#: Of a changed subject of each kind: the kinds of subject whose facts may name it, found
#: among the subjects that concern its platforms (``domain.concerns``): an order is named
#: by fines (its platforms' own facts) and requests; a platform by orders and requests.
#: The ledger's settings are read by every order's observations.
NAMED_BY = {"order": ("platform", "request"), "platform": ("order", "request"),
            "ledger": ("order",)}


def changes_what_others_read(fact: Any, kind: str, holder: Any) -> bool:
    """Whether ``fact``, joining ``holder`` (a subject of ``kind``: a ``Timeline`` or an
    aggregate, ``fact`` among its facts), may change what other subjects' facts are
    checked against: a correction of a field others read (``READ_BY_OTHERS``); a
    retraction of an event others read, or of an amendment (what it replaced comes back);
    a ``targets-removed`` (back-dated, an order made after it on a target it removes no
    longer holds); the ledger's default jurisdiction set. Adding targets takes nothing
    away."""
    read = READ_BY_OTHERS.get(kind)
    if read is None:
        return False
    if fact.type in ("correction", "retraction"):
        target = fact.data.target
        amended = next((f for f in holder.facts if f.id == target), None)
        if amended is None or amended.type in ("correction", "retraction"):
            return amended is not None
        fields = read.get(amended.type)
        if fields is None:
            return False
        return fact.type == "retraction" or any(
            name in fields for name in fact.data.set.as_dict())
    return fact.type == "targets-removed" or kind == "ledger"


def platforms_of(kind: str, ref: str, facts: Iterable[Any]) -> set[str]:
    """The platforms a platform or an order has ever named, by all its facts (its creating
    event's, and those a correction set: ``domain.concerns``, whatever counts now); none
    for the ledger's settings (whose readers are every order). A fact that names it was
    checked when it was written, against the order as it was then, on one of them."""
    if kind == "platform":
        return {ref}
    return set().union(*map(platforms_named, facts)) if kind == "order" else set()


#: An order's own observations name the order too (the state it binds, or the ledger's
#: default where it names none, is what they are checked against).
_OWN = frozenset({"access-observed"})


#: What is read of a changed order: its creating event (``platforms_of``), with all it is
#: asked about later in the same read (its observations where the change may move the
#: state they are held to, ``_moves_state``; its facts that name others, where it is
#: ``own``): read twice, each changed order cost ``verify``'s rules part a query of its
#: own (8,110 at 200,000 events).
CREATING = frozenset({"blocked"})
_NONE: frozenset[str] = frozenset()


def _moves_state(fact: Any) -> bool:
    """Whether a change to an order may move the state its own observations are held to:
    a retraction (of its creation, or of a correction), or a correction of its
    jurisdiction (to another, or to none: then the ledger's default)."""
    return fact.type == "retraction" or (fact.type == "correction"
                                         and "jurisdiction" in fact.data.set.as_dict())


def named(fact: Any) -> list[tuple[str, str]]:
    """The subjects ``fact`` (as it counts) names in what ``check_references`` reads of
    them: a fine its order; a request its orders and platform; an order its platforms; an
    observation with a jurisdiction the order it is of (the state the order binds) and the
    ledger's settings (the default it may rest on)."""
    data, t = fact.data, fact.type
    if t == "penalty-imposed":
        return [("order", data.order)] if data.order else []
    if t == "normalization-requested":
        return [("platform", data.platform), *(("order", o) for o in data.orders or ())]
    if t == "blocked":
        return [("platform", p) for p in (data.platform, *(data.platforms or ())) if p]
    if t == "access-observed" and data.jurisdiction:
        return [("order", fact.subject), ("ledger", LEDGER)]
    return []


def check_dependents(changed: dict[tuple[str, str], list[Any]], *,
                     before: Callable[[str, str], list[Any] | None], after: Find,
                     candidates: Callable[[str, set[str] | None], Iterable[tuple[str, str]]],
                     untouched: Callable[[list[Any]], bool],
                     facts_of: Callable[[str, str, frozenset[str]], list[Any] | None] | None
                     = None) -> None:
    """Refuse (``RuleBroken``) a write whose changes ``changed`` (``(kind, ref)`` -> the
    facts of the write that changed it, in order) leave a fact that names a changed
    subject against the rules between subjects, as they stand at the write's end: another
    subject's fact, or an order's own observation (the state it binds may now be the
    ledger's default).

    ``after(kind, ref)``: the subject as the write leaves it (a ``Timeline`` or an
    aggregate; None if there is none); ``before(kind, ref)``: the facts it held before the
    write (None if it had none); ``candidates(kind, platforms)``: ``(kind, ref)`` of the
    subjects of ``kind`` that concern one of ``platforms`` (``("order", None)``: the orders
    that may rest on the ledger's default), those made by the write included;
    ``untouched(facts)``: whether the write added none of
    ``facts``; ``facts_of(kind, ref, types)``: a subject's facts as the write leaves them
    (default: ``after``'s), or at least those of ``types`` and the amendments of them, in
    order, read once for each subject that may name a changed one.

    Every subject that may name a changed one is checked, even where what others read of
    the changed one ends the write as it began: a fact the write added in between was
    checked against the state then. A fact is not blamed on the write when the write
    touched neither it nor its amendments and it breaks the rules in no way it did not
    before the write (``domain.references.new_errors``: one more target, order or
    platform lost is a new way). The refusal names the first new way (its reason, without
    the advice for a new fact's writer), the fact, and the last change of the subject
    whose change alone breaks it (its ``cause``).
    """
    was: dict[tuple[str, str], Any] = {}

    def find_was(kind: str, ref: str) -> Any:
        if (kind, ref) not in changed:
            return after(kind, ref)
        if (kind, ref) not in was:
            facts = before(kind, ref)
            was[kind, ref] = Timeline.of(kind, ref, facts) if facts else None
        return was[kind, ref]

    for key, fact, blamed, error in stranded(changed, after=after, candidates=candidates,
                                             facts_of=facts_of, untouched=untouched,
                                             found=find_was):
        # Blamed: the subject whose change alone, undone, mends this way of breaking
        # them (an order's date corrected beside a default set: the default).
        culprit = next((name for name in blamed
                        if error.rule not in _rules(fact, _undone(name, find_was, after))),
                       blamed[-1])
        causes = changed[culprit]
        more = (f" (the last of {len(causes)} changes to {culprit[0]} {culprit[1]} in "
                "this write)" if len(causes) > 1 else "")
        refusal = RuleBroken(
            f"refused: {_what(causes[-1], after(*culprit))}{more} would leave "
            f"{fact.type} of {fact.occurred_at} ({fact.id}) of {key[0]} {key[1]} "
            f"against the rules: {error.reason}; "  # type: ignore[attr-defined]
            f"correct or retract that {fact.type} first")
        refusal.cause = causes[-1]  # type: ignore[attr-defined]
        raise refusal


def stranded(changed: dict[tuple[str, str], Any], *, after: Find,
             candidates: Callable[[str, set[str] | None], Iterable[tuple[str, str]]],
             facts_of: Callable[[str, str, frozenset[str]], list[Any] | None] | None = None,
             untouched: Callable[[list[Any]], bool] | None = None, found: Find | None = None,
             own: Iterable[tuple[str, str]] = (),
             ) -> Iterator[tuple[tuple[str, str], Any, list[tuple[str, str]], Any]]:
    """Each fact, as it counts, that names one of ``changed`` (``(kind, ref)``: a subject
    others read whose facts changed; a dict, or its keys) and breaks the rules between
    subjects as ``after`` finds them: ``(key, fact, blamed, error)``, ``key`` the subject
    holding it, ``blamed`` the changed subjects it names, ``error`` the first way it breaks
    them (``reference_errors``). ``check_dependents`` names the rest. Without
    ``untouched`` every way counts (``verify``, which asks whether the ledger holds the
    rules, not what a write did), else only those ``new_errors`` finds new against
    ``found``. ``own``: subjects each of whose facts that name another is asked about too,
    whatever it names (``verify``: those with an amendment), read in the same pass."""
    if facts_of is None:
        def facts_of(kind: str, ref: str, types: frozenset[str]) -> list[Any] | None:
            subject = after(kind, ref)
            return None if subject is None else subject.facts

    wanted: dict[str, set[str]] = {}  # per kind: the platforms its subjects may be on
    default = False  # whether the ledger's default changed (its readers: some orders)
    types: dict[tuple[str, str] | str, frozenset[str]] = {}  # what each is read for
    read: dict[tuple[str, str], list[Any] | None] = {}  # the changed orders, read once
    own = set(own)  # (subjects, whatever their facts name)
    for kind, ref in changed:  # (first what each is read for: a changed order is read once)
        if kind == "order" and (untouched is None
                                or any(_moves_state(f) for f in changed[kind, ref])):
            types[kind, ref] = _OWN  # (its own observations)
        for other in NAMED_BY[kind]:
            types[other] = types.get(other, frozenset()) | NAMING[kind]
    for key in own:
        types[key] = types.get(key, frozenset()) | NAMING_TYPES
    for kind, ref in changed:
        if kind == "order":  # (its creating event, and all it is asked about below)
            read[kind, ref] = facts_of(kind, ref, CREATING | types.get((kind, ref), _NONE)
                                       | types.get(kind, _NONE))
        if kind == "ledger":
            # Apart from the platforms sought: the default's readers are the orders that
            # may rest on it, whatever their platforms, and those alone (``candidates``
            # with None). Merged as "any platform", they once took the place of the
            # orders on a platform changed in the same write (a review, 2026-12-07).
            default = True
            continue
        platforms = platforms_of(kind, ref, read.get((kind, ref)) or ())
        for other in NAMED_BY[kind]:  # (in place: a copy each was quadratic in them)
            wanted.setdefault(other, set()).update(platforms)
    sought = {key for other, platforms in wanted.items() for key in candidates(other, platforms)}
    if default:
        sought.update(candidates("order", None))
    keys = sorted(sought | own | {key for key in changed if key in types})
    for key in keys:
        facts = read[key] if key in read else facts_of(
            *key, types.get(key, _NONE) | types.get(key[0], _NONE))
        if not facts:
            continue
        for fact in effective(facts).facts:
            blamed = [name for name in named(fact) if name in changed]
            if not blamed and key not in own:
                continue
            old = fact if untouched is not None and untouched(_own(fact, facts)) else None
            error = next(new_errors(fact, after, old, found), None)
            if error is not None:  # (else holds; or broke them so before, not by this write)
                yield key, fact, blamed, error


def _own(fact: Any, facts: list[Any]) -> list[Any]:
    """``fact`` among ``facts`` and the amendments of it, and of those, as stored."""
    ids, out = {fact.id}, []
    for f in facts:
        if f.id in ids or getattr(f.data, "target", None) in ids:
            ids.add(f.id)
            out.append(f)
    return out


def _undone(name: tuple[str, str], find_was: Find, after: Find) -> Find:
    """``after`` with the subject ``name`` as it was before the write."""
    return lambda kind, ref: find_was(kind, ref) if (kind, ref) == name else after(kind, ref)


def _rules(fact: Any, find: Find) -> set[Any]:
    return {error.rule for error in reference_errors(fact, find)}  # type: ignore[attr-defined]


def _what(cause: Any, holder: Any) -> str:
    """The changing fact, as a refusal names it: an amendment by what it amends."""
    target = getattr(cause.data, "target", None)
    amended = next((f for f in holder.facts if f.id == target), None) if (
        target is not None and holder is not None) else None
    return f"{cause.type} of {amended.label()}" if amended else cause.label()

