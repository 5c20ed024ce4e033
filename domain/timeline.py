"""The rules of each subject, as a fold over its facts in valid-time order.

A subject's state at a valid time is the fold of its facts that occurred by then. The same
fold checks the rules: ``check`` looks before ``apply`` changes anything. A back-dated fact
is accepted when the whole timeline, with it placed at its valid time, still folds without
a broken rule; otherwise the refusal names the event it conflicts with.
"""

from __future__ import annotations

import copy
from bisect import insort
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.errors import RuleBroken
from domain.fact import Fact
from domain.penalties import Penalty


class Broken(Exception):
    """A rule broken by ``fact``, found while folding a timeline."""

    def __init__(self, fact: Fact, message: str):
        self.fact = fact
        self.message = message
        super().__init__(message)


class SubjectState:
    """What all subjects share: their reference and the fact that created them."""

    kind = ""

    def __init__(self, ref: str):
        self.ref = ref
        self.created: Fact | None = None
        self.facts: list[Fact] = []

    def check(self, fact: Fact) -> None:
        """Raise ``Broken`` if ``fact`` may not follow the facts folded so far."""
        if fact.kind.creates:
            if self.created is not None:
                raise Broken(fact, f"{self.ref} was already created by {self.created.label()}")
        elif self.created is None:
            raise Broken(fact, f"{fact.type} of {fact.occurred_at} is before {self.ref} "
                               "was created")
        self.advance(fact.occurred_at.instant)
        self._check(fact)

    def apply(self, fact: Fact) -> None:
        """Fold ``fact`` into the state (no rule is checked here)."""
        self.advance(fact.occurred_at.instant)
        if fact.kind.creates:
            self.created = fact
        self.facts.append(fact)
        self._apply(fact)

    def advance(self, instant: datetime) -> None:
        """Let time pass up to ``instant`` (a temporary lift ends by itself)."""

    def _check(self, fact: Fact) -> None:
        pass

    def _apply(self, fact: Fact) -> None:
        pass


class PlatformState(SubjectState):
    """A platform: its name, targets and correspondence with authorities."""

    kind = "platform"

    def __init__(self, ref: str):
        super().__init__(ref)
        self.name = ref
        self.company: str | None = None
        self.targets: tuple[str, ...] = ()
        self.emails: dict[UUID, Fact] = {}
        self.observed: dict[str, Fact] = {}  # target -> latest access-observed of it
        #: (jurisdiction given, target) -> the latest access-observed of it there, the
        #: latest applied last (``_saw``), so that the last of a target is its latest
        self.seen: dict[tuple[str | None, str], Fact] = {}
        self.penalties: dict[UUID, Penalty] = {}  # by the id of its penalty-imposed

    def _check(self, fact: Fact) -> None:
        if fact.type in ("penalty-paid", "penalty-lifted"):
            penalty = self.penalties.get(fact.data.penalty)
            if penalty is None:
                raise Broken(fact, f"{fact.data.penalty} is not a penalty-imposed of platform "
                                   f"{self.ref} by {fact.occurred_at}")
            done = penalty.paid or penalty.lifted
            if done is not None:
                raise Broken(fact, f"penalty {fact.data.penalty} was already "
                                   f"{done.type.split('-')[1]} by {done.label()}")
        elif fact.type == "penalty-imposed" and fact.data.cap is not None and (
                Decimal(fact.data.cap) < Decimal(fact.data.amount)):
            raise Broken(fact, f"the cap {fact.data.cap} is less than the amount "
                               f"{fact.data.amount}")
        if fact.type == "access-observed" and fact.data.target not in self.targets:
            raise Broken(fact, f"{fact.data.target} is not a target of platform {self.ref} "
                               f"at {fact.occurred_at}; record targets-added first")
        if fact.type == "targets-added":
            held = [t for t in fact.data.targets if t in self.targets]
            if held:
                raise Broken(fact, f"{held[0]} is already a target of platform {self.ref} "
                                   f"at {fact.occurred_at}")
        elif fact.type == "targets-removed":
            missing = [t for t in fact.data.targets if t not in self.targets]
            if missing:
                raise Broken(fact, f"{missing[0]} is not a target of platform {self.ref} "
                                   f"at {fact.occurred_at}")
        if fact.type == "no-response":
            if not self.emails:
                raise Broken(fact, f"no-response needs an earlier email-sent to {self.ref}")
            regarding = fact.data.regarding
            if regarding is not None and regarding not in self.emails:
                raise Broken(fact, f"no-response regards {regarding}, which is not an "
                                   f"earlier email-sent to {self.ref}")

    def _apply(self, fact: Fact) -> None:
        if fact.type == "platform-registered":
            self.name, self.company = fact.data.name, fact.data.company
            self.targets = fact.data.targets
        elif fact.type == "targets-added":
            self.targets = (*self.targets, *fact.data.targets)
        elif fact.type == "targets-removed":
            gone = set(fact.data.targets)
            self.targets = tuple(t for t in self.targets if t not in gone)
        elif fact.type == "email-sent":
            self.emails[fact.id] = fact
        elif fact.type == "penalty-imposed":
            self.penalties[fact.id] = Penalty(fact)
        elif fact.type == "penalty-paid":
            self.penalties[fact.data.penalty].paid = fact
        elif fact.type == "penalty-lifted":
            self.penalties[fact.data.penalty].lifted = fact
        elif fact.type == "access-observed":
            self.observed[fact.data.target] = fact
            _saw(self.seen, fact)


class OrderState(SubjectState):
    """A block order: which of its targets are blocked, suspended or lifted."""

    kind = "order"

    def __init__(self, ref: str):
        super().__init__(ref)
        self.platform = ""  # its first platform (of an order over several, the first named)
        self.platforms: tuple[str, ...] = ()
        self.jurisdiction: str | None = None  # as it names it (None: the ledger's default)
        self.authority = ""
        self.targets: tuple[str, ...] = ()
        self.blocked: set[str] = set()
        self.suspended: dict[str, datetime] = {}  # target -> end of its temporary lift
        self.observed: dict[str, Fact] = {}  # target -> latest access-observed
        #: (jurisdiction given, target) -> the latest access-observed of it there
        self.seen: dict[tuple[str | None, str], Fact] = {}
        self.ruled: Fact | None = None  # the ruling in effect that suspended or overturned it
        self.ruled_out: set[str] = set()  # what that ruling took away (reinstated: back)
        self.pending: list[Fact] = []  # rulings given whose effect has not begun, by effect
        self.concerning: frozenset[str] | None = None  # ``narrowed`` to these targets

    @property
    def held(self) -> set[str]:
        """Targets the order still holds: blocked now, lifted only for a while, or set
        aside by a court (a reinstatement brings them back; a lift ends them)."""
        return self.blocked | set(self.suspended) | self.ruled_out

    def narrowed(self, keep: frozenset[str]) -> OrderState:
        """The order as one of its platforms sees it: only the targets in ``keep`` (those
        that platform is reached at), so that a lift of another platform's targets leaves
        it in effect there. A copy; ``concerning`` remembers ``keep``."""
        out = copy.copy(self)
        out.concerning = keep
        out.targets = tuple(t for t in self.targets if t in keep)
        out.blocked = self.blocked & keep
        out.suspended = {t: until for t, until in self.suspended.items() if t in keep}
        out.ruled_out = self.ruled_out & keep
        out.observed = {t: f for t, f in self.observed.items() if t in keep}
        out.seen = {key: f for key, f in self.seen.items() if key[1] in keep}
        return out

    @property
    def state(self) -> str:
        """in-effect, partially-lifted, temporarily-lifted, lifted, or (by a ruling in
        effect) suspended or overturned."""
        if not self.held:
            return "lifted"
        if self.ruled is not None:
            return self.ruled.data.outcome
        if len(self.blocked) == len(self.targets):
            return "in-effect"
        if not self.blocked:
            return "temporarily-lifted"
        return "partially-lifted"

    def advance(self, instant: datetime) -> None:
        if not self.suspended and not self.pending:
            return  # the common case, asked for every fact folded
        # Temporary lifts ending and rulings taking effect, in the order they happen.
        moments = sorted([(until, 0, target) for target, until in self.suspended.items()
                          if until <= instant]
                         + [(_effect(f), 1, f) for f in self.pending if _effect(f) <= instant],
                         key=lambda m: (m[0], m[1]))
        for _, what, item in moments:
            if what == 0:
                del self.suspended[item]  # type: ignore[arg-type]
                if self.ruled is not None:
                    self.ruled_out.add(item)  # type: ignore[arg-type]
                else:
                    self.blocked.add(item)  # type: ignore[arg-type]
            else:
                self.pending.remove(item)  # type: ignore[arg-type]
                self._rule(item)  # type: ignore[arg-type]

    def _rule(self, ruling: Fact) -> None:
        """A ruling takes effect."""
        outcome = ruling.data.outcome
        if outcome in ("suspended", "overturned"):
            self.ruled = ruling
            self.ruled_out |= self.blocked
            self.blocked = set()
        elif outcome == "reinstated" and self.ruled is not None:
            self.ruled = None
            self.blocked |= self.ruled_out
            self.ruled_out = set()

    def _check(self, fact: Fact) -> None:
        if fact.type == "access-observed" and fact.data.target not in self.targets:
            raise Broken(fact, f"{fact.data.target} is not a target of order {self.ref}")
        if fact.type == "access-observed" and fact.data.jurisdiction and self.jurisdiction \
                and fact.data.jurisdiction.split("-")[0] != self.jurisdiction.split("-")[0]:
            raise Broken(fact, f"order {self.ref} binds {self.jurisdiction}: an observation "
                               f"in {fact.data.jurisdiction} is not of it (record it on the "
                               "platform)")
        if fact.type == "ruling":
            effect = fact.data.effective_at
            if effect is not None and effect.instant < fact.occurred_at.instant:
                raise Broken(fact, f"a ruling's effect cannot begin ({effect}) before it was "
                                   f"given ({fact.occurred_at})")
            if fact.data.outcome == "reinstated" and self.ruled is None and not any(
                    p.data.outcome in ("suspended", "overturned") for p in self.pending):
                raise Broken(fact, f"order {self.ref} is neither suspended nor overturned at "
                                   f"{fact.occurred_at}: nothing to reinstate")
            return
        if fact.type != "unblocked":
            return
        data = fact.data
        if not data.targets and not self.held:
            raise Broken(fact, f"nothing of order {self.ref} is blocked at {fact.occurred_at}")
        for target in data.targets:
            if target not in self.held:
                why = "is not a target of" if target not in self.targets else "is not blocked by"
                raise Broken(fact, f"target {target} {why} order {self.ref} "
                                   f"at {fact.occurred_at}")
        if data.until is not None and data.until.instant <= fact.occurred_at.instant:
            raise Broken(fact, f"a temporary lift must end after it starts ({data.until})")

    def _apply(self, fact: Fact) -> None:
        data = fact.data
        if fact.type == "blocked":
            self.platforms = (data.platform,) if data.platform else data.platforms
            self.platform, self.authority = self.platforms[0], data.authority
            self.jurisdiction = data.jurisdiction
            self.targets = data.targets
            self.blocked = set(data.targets)
        elif fact.type == "access-observed":
            self.observed[data.target] = fact
            _saw(self.seen, fact)
        elif fact.type == "unblocked":
            for target in data.targets or sorted(self.held):
                self.blocked.discard(target)
                self.suspended.pop(target, None)
                self.ruled_out.discard(target)
                if data.until is not None:
                    self.suspended[target] = data.until.instant
        elif fact.type == "ruling":
            self.pending.append(fact)
            self.advance(fact.occurred_at.instant)  # in effect at once unless later


def _effect(ruling: Fact) -> datetime:
    """When a ruling's effect begins: ``effective_at``, else when it was given."""
    effect = ruling.data.effective_at
    return (effect or ruling.occurred_at).instant


class RequestState(SubjectState):
    """A normalization request: its conditions, meetings, SOP and decision."""

    kind = "request"

    def __init__(self, ref: str):
        super().__init__(ref)
        self.platform = ""
        self.orders: tuple[str, ...] = ()
        self.conditions: dict[str, str] = {}  # condition -> pending|committed|met|waived
        self.committed: set[str] = set()
        self.sop: Fact | None = None
        self.decision: Fact | None = None

    @property
    def state(self) -> str:
        """open, granted or denied."""
        if self.decision is None:
            return "open"
        return "granted" if self.decision.type == "normalization-granted" else "denied"

    def _check(self, fact: Fact) -> None:
        if self.decision is not None:
            raise Broken(fact, f"request {self.ref} was already decided by "
                               f"{self.decision.label()}")
        if fact.type in ("condition-met", "condition-waived"):
            condition = fact.data.condition
            if condition not in self.conditions:
                raise Broken(fact, f"condition {condition} was never set on request {self.ref}")
        elif fact.type == "normalization-granted":
            outstanding = [c for c, s in self.conditions.items() if s not in ("met", "waived")]
            if outstanding:
                raise Broken(fact, f"conditions neither met nor waived: {', '.join(outstanding)}")

    def _apply(self, fact: Fact) -> None:
        data, kind = fact.data, fact.type
        if kind == "normalization-requested":
            self.platform, self.orders = data.platform, data.orders
        elif kind == "condition-set":
            if data.condition not in self.conditions:
                self.conditions[data.condition] = self._initial(data.condition)
        elif kind == "commitment-made":
            self.committed.add(data.condition)
            if self.conditions.get(data.condition) == "pending":
                self.conditions[data.condition] = "committed"
        elif kind == "sop-agreed":
            self.sop = fact
            if self.conditions.get("sop") in ("pending", "committed"):
                self.conditions["sop"] = "met"
        elif kind == "condition-met":
            self.conditions[data.condition] = "met"
        elif kind == "condition-waived":
            self.conditions[data.condition] = "waived"
        elif kind in ("normalization-granted", "normalization-denied"):
            self.decision = fact

    def _initial(self, condition: str) -> str:
        if condition == "sop" and self.sop is not None:
            return "met"
        return "committed" if condition in self.committed else "pending"


# --- a timeline's facts in any valid-time order ----------------------------------------
#
# Checking a back-dated fact by folding the whole timeline again costs the whole timeline
# for every such fact: importing a subject's facts in reverse valid-time order was
# quadratic. Two questions decide a back-dated fact ``new`` (a fold of the timeline with
# ``new`` in its place breaks no rule exactly when both answers are yes):
#
# 1. does ``new`` itself hold against the state at its valid time? The facts before it are
#    unchanged, so they still hold; an index answers with that state, built from what the
#    rules read (``Index.state_at``), and the rule checked is the state's own ``check``.
# 2. do the facts after it still hold? For most facts they must: placing them earlier
#    changes nothing a later check reads, or only widens it (an earlier email-sent, a
#    temporary lift, an earlier condition met). Only a fact that ``reshapes`` the
#    timeline (a permanent lift, a decision, a condition the request never had) needs the
#    fold of everything after it again; a subject holds few of those, as each can only
#    be placed once (a target is lifted for good once, a request is decided once).
#
# ``tests/test_import_scaling.py`` holds the indexes to the full fold (``check_addition``)
# on generated timelines, in random valid-time orders.

Key = tuple[datetime, int]


class Index:
    """What the rules read of a subject (no rules of its own: only its creation), for any
    valid time, kept as its facts are added in any valid-time order."""

    state_class: type[SubjectState] = SubjectState
    #: Fact types whose ``_apply`` changes what a check reads (``state_at`` folds these).
    SHAPING: frozenset[str] = frozenset()

    def __init__(self, ref: str):
        self.ref = ref
        self.created: Fact | None = None
        self.created_key: Key | None = None
        self.latest: Key | None = None
        self._shaping: list[tuple[Key, int, Fact]] = []  # in valid order, then recording

    def add(self, fact: Fact, key: Key) -> None:
        """Take ``fact`` (at ``key``) into the index, unchecked."""
        if self.latest is None or key > self.latest:
            self.latest = key
        if fact.kind.creates and self.created is None:
            self.created, self.created_key = fact, key
        elif fact.type in self.SHAPING:
            insort(self._shaping, (key, len(self._shaping), fact))
        self._add(fact, key)

    def _add(self, fact: Fact, key: Key) -> None:
        pass

    def state_at(self, key: Key) -> SubjectState:
        """The state a fact placed at ``key`` (after the facts at the same key) is checked
        against, as far as the rules read it."""
        state = self.state_class(self.ref)
        if self.created is not None and self.created_key <= key:  # type: ignore[operator]
            state.apply(self.created)
            for at, _, fact in self._shaping:
                if at > key:
                    break
                state.apply(fact)
        return state

    def reshapes(self, fact: Fact) -> bool:
        """Whether facts after ``fact`` in valid time may stop holding once it is placed
        before them (otherwise they hold: they held without it)."""
        return fact.kind.creates


class _EmailsBefore(Mapping[UUID, Any]):
    """The email-sent facts of a platform up to a valid time, as the rules read them."""

    def __init__(self, index: PlatformIndex, key: Key):
        self._index = index
        self._key = key

    def __contains__(self, fact_id: object) -> bool:
        at = self._index.email_keys.get(fact_id)  # type: ignore[call-overload]
        return at is not None and at <= self._key

    def __getitem__(self, fact_id: UUID) -> Key:
        if fact_id not in self:
            raise KeyError(fact_id)
        return self._index.email_keys[fact_id]  # where it is (the rules ask only whether)

    def __bool__(self) -> bool:
        first = self._index.first_email
        return first is not None and first <= self._key

    def __iter__(self) -> Iterator[UUID]:
        return (i for i in self._index.email_keys if i in self)

    def __len__(self) -> int:
        return sum(1 for _ in self)


class PlatformIndex(Index):
    """A platform's checks read its email-sent facts and its targets. Placing an email
    earlier changes no later check (it only gives a later no-response more to regard);
    a change of targets placed earlier may (a target removed before it is observed, added
    twice), and so may a penalty's payment or lift (a second one after it), so the
    timeline is folded again after one (a platform has few)."""

    state_class = PlatformState
    SHAPING = frozenset({"targets-added", "targets-removed", "penalty-imposed",
                         "penalty-paid", "penalty-lifted"})

    def __init__(self, ref: str):
        super().__init__(ref)
        self.email_keys: dict[UUID, Key] = {}
        self.first_email: Key | None = None

    def _add(self, fact: Fact, key: Key) -> None:
        if fact.type == "email-sent":
            self.email_keys[fact.id] = key
            if self.first_email is None or key < self.first_email:
                self.first_email = key

    def state_at(self, key: Key) -> SubjectState:
        state = super().state_at(key)
        state.emails = _EmailsBefore(self, key)  # type: ignore[attr-defined]
        return state

    def reshapes(self, fact: Fact) -> bool:
        return fact.kind.creates or fact.type in self.SHAPING


class OrderIndex(Index):
    """An order's checks read its targets and which of them it holds. A temporary lift
    holds its targets still (suspended ones come back by themselves), and so does a
    court's suspension (a reinstatement brings them back), so only a permanent lift ends
    holding a target, for good: a target is held at a valid time unless a permanent lift
    naming it, or one of all targets, comes before. A ruling's check reads the rulings
    before it (``state_at`` folds them), and one placed earlier may change a later one's."""

    state_class = OrderState
    SHAPING = frozenset({"ruling"})

    def __init__(self, ref: str):
        super().__init__(ref)
        self.lifted: dict[str, Key] = {}  # target -> its permanent lift
        self.lifted_all: Key | None = None  # the permanent lift of all held targets

    def _add(self, fact: Fact, key: Key) -> None:
        if fact.type == "unblocked" and fact.data.until is None:
            if not fact.data.targets and (self.lifted_all is None or key < self.lifted_all):
                self.lifted_all = key
            for target in fact.data.targets:
                if target not in self.lifted or key < self.lifted[target]:
                    self.lifted[target] = key

    def state_at(self, key: Key) -> SubjectState:
        state = super().state_at(key)
        if self.lifted_all is not None and self.lifted_all <= key:
            held: set[str] = set()
        else:
            lifted = self.lifted
            held = {t for t in state.targets  # type: ignore[attr-defined]
                    if t not in lifted or lifted[t] > key}
        state.blocked = held  # type: ignore[attr-defined]
        state.ruled_out = set()  # type: ignore[attr-defined]  (held says it all)
        return state

    def reshapes(self, fact: Fact) -> bool:
        return fact.kind.creates or fact.type == "ruling" or (
            fact.type == "unblocked" and fact.data.until is None)


class RequestIndex(Index):
    """A request's checks read its conditions and decision: ``state_at`` folds the facts
    that change them. Placing a commitment, the SOP, a condition met or waived earlier only
    widens later checks; a condition set earlier that the request sets later anyway leaves
    every later check as it was (nothing between reads it). A decision, or a condition
    the request never had, may make later facts fail."""

    state_class = RequestState
    SHAPING = frozenset({"condition-set", "commitment-made", "sop-agreed", "condition-met",
                         "condition-waived", "normalization-granted", "normalization-denied"})

    def __init__(self, ref: str):
        super().__init__(ref)
        self.conditions: set[str] = set()  # every condition ever set
        #: The state after every fact that changes it, while they came in valid-time
        #: order: a fact placed after them all is checked against it, with no fold (its
        #: check reads it and changes nothing).
        self._end: SubjectState | None = None

    def _add(self, fact: Fact, key: Key) -> None:
        if fact.type == "condition-set":
            self.conditions.add(fact.data.condition)
        if fact.type in self.SHAPING and self._end is not None:
            if self._shaping[-1][2] is fact:  # placed last: the end state moves on
                self._end.apply(fact)
            else:
                self._end = None
        elif fact.kind.creates:
            self._end = None

    def state_at(self, key: Key) -> SubjectState:
        if (self.created is None or self.created_key > key  # type: ignore[operator]
                or (self._shaping and self._shaping[-1][0] > key)):
            return super().state_at(key)
        if self._end is None:
            self._end = super().state_at(key)
        return self._end

    def reshapes(self, fact: Fact) -> bool:
        return (fact.kind.creates
                or fact.type in ("normalization-granted", "normalization-denied")
                or (fact.type == "condition-set"
                    and fact.data.condition not in self.conditions))


INDEXES: dict[str, type[Index]] = {
    "platform": PlatformIndex,
    "order": OrderIndex,
    "request": RequestIndex,
}


STATES: dict[str, type[SubjectState]] = {
    "platform": PlatformState,
    "order": OrderState,
    "request": RequestState,
}


#: Facts at the same instant (often the same bare date) fold in this causal order, then in
#: recording order, so that the answer never depends on the order documents surfaced in.
#: An order is a decision: its ``blocked`` ranks with the decisions, after the same day's
#: notices and silences (a reader expects the email, no response, then the block). Its
#: own later facts rank with it or after it, and it is always recorded before them, so
#: within the order it still comes first.
SAME_INSTANT_RANK = {
    "platform-registered": 0, "normalization-requested": 0,
    "email-sent": 1, "condition-set": 1, "targets-added": 1,
    "no-response": 3, "condition-met": 3, "condition-waived": 3,
    "blocked": 4, "normalization-granted": 4, "normalization-denied": 4, "unblocked": 4,
    "ruling": 4,
    "access-observed": 5, "targets-removed": 5,
    # About other events, not the world: after what they amend (never folded themselves).
    "correction": 6, "retraction": 6, "dispute": 6,
}
OTHER_RANK = 2  # statements, responses, meetings, commitments, the SOP


def _saw(seen: dict[tuple[str | None, str], Fact], fact: Fact) -> None:
    """Keep ``fact`` as the latest observation of its target in its place, moved to the
    end of ``seen``: an observation in BR-SP, then BR, then BR-SP again leaves BR-SP's
    last, so a reader keeping the last of a target across places keeps the latest."""
    key = (fact.data.jurisdiction, fact.data.target)
    seen.pop(key, None)
    seen[key] = fact


def valid_key(fact: Fact) -> tuple[datetime, int]:
    """Where ``fact`` sits in valid time: its instant, then its causal rank."""
    return fact.occurred_at.instant, SAME_INSTANT_RANK.get(fact.type, OTHER_RANK)


def in_valid_order(facts: Iterable[Fact]) -> list[Fact]:
    """Facts in valid-time order; equal keys keep their recording order (a stable sort)."""
    return sorted(facts, key=valid_key)


def fold(kind: str, ref: str, facts: Sequence[Fact], *, until: datetime | None = None,
         check: bool = False) -> SubjectState:
    """The state of subject ``ref`` from ``facts`` (in recording order), as at ``until``.

    With ``check``, every rule is checked on the way and the first broken one raises
    ``Broken``.
    """
    state = STATES.get(kind, SubjectState)(ref)  # a kind without rules of its own
    for fact in in_valid_order(facts):
        if until is not None and fact.occurred_at.instant > until:
            break
        if check:
            state.check(fact)
        state.apply(fact)
    if until is not None:
        state.advance(until)
    return state


def check_amendment(kind: str, ref: str, facts: Sequence[Fact], amendment: Fact) -> None:
    """Raise ``RuleBroken`` unless the subject's rules hold with ``amendment`` applied."""
    from domain.amendments import effective

    try:
        fold(kind, ref, effective([*facts, amendment]).facts, check=True)
    except Broken as broken:
        target = amendment.data.target
        what = ("the corrected event breaks a rule" if broken.fact.id == target
                else f"it would break {broken.fact.label()}")
        raise RuleBroken(f"refused: {amendment.type} of {target}: {what}: "
                         f"{broken.message}") from None


def check_addition(kind: str, ref: str, facts: Sequence[Fact], state: SubjectState | None,
                   latest: tuple[datetime, int] | None, new: Fact) -> None:
    """Raise ``RuleBroken`` unless ``new`` may join ``facts`` at its valid time.

    ``state`` is the fold of all of ``facts`` and ``latest`` their latest ``valid_key``; when
    ``new`` comes last in valid time only it is checked against that state, otherwise the
    whole timeline is folded again with ``new`` in its place.
    """
    try:
        if state is not None and (latest is None or valid_key(new) >= latest):
            state.check(new)
        else:
            fold(kind, ref, [*facts, new], check=True)
    except Broken as broken:
        raise refusal(new, broken) from None


def check_placed(kind: str, ref: str, index: Index, facts: Callable[[], Sequence[Fact]],
                 new: Fact) -> None:
    """Raise ``RuleBroken`` unless ``new`` may join ``facts()`` (the subject's facts that
    count, all holding, taken into ``index``) at its valid time: what ``check_addition``
    decides by folding them all, at the cost of one state (see ``Index``), and of the fold
    (and of asking for the facts) only for a fact that ``reshapes`` a timeline with facts
    after it."""
    key = valid_key(new)
    try:
        index.state_at(key).check(new)
        if index.reshapes(new) and index.latest is not None and index.latest > key:
            fold(kind, ref, [*facts(), new], check=True)
    except Broken as broken:
        raise refusal(new, broken) from None


def refusal(new: Fact, broken: Broken) -> RuleBroken:
    if broken.fact.id == new.id:
        return RuleBroken(f"refused: {broken.message}")
    return RuleBroken(f"refused: {new.type} of {new.occurred_at} conflicts with "
                      f"{broken.fact.label()}: {broken.message}")
