"""What the ledger holds for one registry, read for a diff: which order holds each entry
(decision and target) at the snapshot's valid time, and which snapshots it has imported.

No state is kept between imports: every diff reads the registry's orders from the log
(through the history view, as ``sources.holders`` reads platforms), so nothing outside the
hash chain decides what an import writes, and nobody holding a copy of the database can
steer it by editing a cache. The read is made cheap instead of skipped:

- rows are decoded as JSON only, never built into ``Fact``s, for the orders the registry's
  own imports wrote and nobody touched since: their events are the registry's ``blocked``
  and ``unblocked`` (of named targets, with no ``until``), whose fold is a set difference
  (``_Pure``), the same the rules' fold gives (``tests/test_import_registry.py`` holds the
  two equal);
- any other order of the registry (a hand-made lift, a correction, a ruling, an
  observation recorded on it) is folded by the rules themselves, from its own events read
  again by subject (``_folded``).

A registry's orders are those its imports made: an order's creating event has the id
``Registry.event_id`` gives for it and the snapshot it cites (its reference alone proves
nothing: a hand-made order, or another registry's, may share its prefix), and a check
of that snapshot recorded by the same operator (the id can be computed by anyone; who
recorded an event is what the chain proves: ``Held.proven``). Only the events its imports
wrote date its latest snapshot. An event of the registry's shape that no check proves, of
a type a plain import writes (``CUT_SHORT``), is an import cut short, or made by hand
(``Held.unfinished``): the registry then refuses every other snapshot
(``sources.registry_checks.check_order``). The view's rows read are checked against
the events (``sources.view_rows.Checked``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.amendments import effective
from domain.errors import IntegrityFailure, Refused
from domain.fact import Fact
from domain.timeline import OrderState, fold
from domain.values import stored_when
from sources.registry_checks import read_checks
from sources.registry_ids import again_before, stamp

if TYPE_CHECKING:
    from sources.registry import Plan, Registry

#: A plain list's order: ``<registry>-list-<14 digits>``; a re-made order's time suffix
#: (each derived again, ``-again-N``, where another order took it: ``free_ref``).
LIST = re.compile(r"list-\d{14}(?:-again-\d{1,9})?")
SUFFIX = re.compile(r"(.+)-at-\d{14}(?:-again-\d{1,9})?")
#: A backfill's order made at a later snapshot's time (its stamp, group 1)
LATER = re.compile(r".+-(?:at|list)-(\d{14})(?:-again-\d{1,9})?")
#: What a plain import writes before its check, so what one cut short can leave. A backfill's
#: amendments (``correction``, ``retraction``) are one transaction with its check: one of the
#: registry's shape that no check proves was made by hand, and the rules' fold decides it.
CUT_SHORT = frozenset({"platform-registered", "targets-added", "blocked", "unblocked"})


class Held:
    """What the ledger holds for one registry: for each key (decision ref or None, target)
    the order holding it; the references of its orders and of every order in the ledger;
    the digests and latest time of the snapshots whose events it holds; and, per digest,
    the valid time of that snapshot (``times``)."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.keys: dict[tuple[str | None, str], str] = {}
        self.orders: set[str] = set()
        self.taken: set[str] = set()  # every order reference in the ledger
        self.digests: set[str] = set()
        self.times: dict[str, datetime] = {}  # digest -> the valid time of its events
        self.latest: datetime | None = None
        #: valid time -> the digests of the snapshots recorded for it: each check's own,
        #: and each digest's earliest event
        self.at: dict[datetime, set[str]] = {}
        #: (digest, time) -> who recorded its check and when (for refusals to name it)
        self.checks: dict[tuple[str, datetime], tuple[str | None, str | None]] = {}
        #: time -> (digest, recorder) -> when each check at that time was recorded,
        #: where there are two (one forged: ``check_order`` refuses, naming both)
        self.doubled: dict[datetime, dict[tuple[str, str | None], str | None]] = {}
        #: (digest, time) of the orders' events its imports wrote: not on a check's word
        self.evented: set[tuple[str, datetime]] = set()
        #: (digest, recorder) -> the times of its checks of that snapshot: what proves an
        #: event of that snapshot the registry's (``proven``)
        self.checkers: dict[tuple[str, str | None], set[datetime]] = {}
        #: (digest, time) -> an import with no check of its recorder's yet: cut short, or
        #: events made by hand to look like an import's (``check_order`` refuses the rest)
        self.unfinished: dict[tuple[str, datetime], Unfinished] = {}
        #: the valid times of every check of the registry's
        self.check_times: set[datetime] = set()
        #: the position of the last check recorded (events after it are read for
        #: ``unfinished``)
        self.last_check = 0

    def base(self, ref: str) -> str | None:
        """The decision key of the registry's order ``ref``: its reference without a time
        suffix (``-at-`` and 14 digits, at its end); None for an order of a plain list."""
        if LIST.fullmatch(ref[len(self.registry.name) + 1:]):
            return None
        found = SUFFIX.fullmatch(ref)
        return found.group(1) if found else ref

    def proven(self, digest: str | None, recorder: str | None, when: datetime,
               order: str | None = None) -> bool:
        """Whether an event citing ``digest``, with the id the registry's import gives it,
        recorded by ``recorder`` for valid time ``when``, is the registry's: a check of that
        snapshot at that time (written last by every import) was recorded by the same
        recorder. Ids can be computed by anyone; who recorded an event is what the hash
        chain (and a signature) proves. The same bytes at another time are another
        snapshot, whose import may be cut short: the earlier check proves none of its
        events. A backfill's corrective events, written with its check in one transaction,
        are at the time of the snapshot it is placed before (checked, later than its own),
        never at a time of a check of that same snapshot (``digest``): there only that
        check's recorder's events are its import's (another operator's earlier check of the
        same bytes proves none of them). There, an order made (``order``: the reference of
        a ``blocked``) counts only under the reference a backfill gives one it makes then,
        ``<base>-at-<that time>`` or ``<registry>-list-<that time>`` (the second review's
        idea 3: a plain decision reference dated at another check's time is not the
        registry's)."""
        if digest is None:
            return False
        times = self.checkers.get((digest, recorder))
        if not times:
            return False
        if when in times:
            return True
        if not (min(times) < when and when in self.check_times
                and (digest, when) not in self.checks):
            return False
        made = LATER.fullmatch(order) if order is not None else None
        return order is None or (made is not None and made.group(1) == stamp(when))

    def theirs(self, fact: Fact) -> str | None:
        """The digest of the snapshot whose import of this registry made ``fact`` (as
        ``Registry.wrote``), when proven so (``proven``); else None."""
        digest = self.registry.wrote(fact)
        order = fact.subject if fact.type == "blocked" else None
        return (digest if self.proven(digest, fact.recorded_by, fact.occurred_at.instant,
                                      order) else None)

    def _dated(self, digest: str, when: datetime) -> None:
        self.digests.add(digest)
        # A snapshot's own events are at its time; a backfilled one's corrective events
        # are later (sources.registry_backfill): its time is its earliest.
        if digest not in self.times or when < self.times[digest]:
            self.times[digest] = when
        if self.latest is None or when > self.latest:
            self.latest = when

    def _checked(self, digest: str, when: datetime, obj: dict[str, Any]) -> None:
        self._dated(digest, when)
        self.at.setdefault(when, set()).add(digest)
        self.checks.setdefault((digest, when), (obj.get("recorded_by"),
                                                obj.get("recorded_at")))
        self.checkers.setdefault((digest, obj.get("recorded_by")), set()).add(when)
        self.check_times.add(when)

    def _unproven(self, digest: str, when: datetime, obj: dict[str, Any]) -> None:
        """An event of the registry's shape that no check of its recorder proves."""
        found = self.unfinished.get((digest, when))
        if found is None:
            title = next((s.get("title") for s in obj["sources"] if s.get("sha256") == digest),
                         None) or "a snapshot"
            found = self.unfinished[(digest, when)] = Unfinished(
                title.partition(": the ")[0], obj.get("recorded_at"))
        found.recorders.add(obj.get("recorded_by"))
        found.events += 1

    def imported(self, digest: str, when: datetime) -> bool:
        """Whether the snapshot of ``digest`` was imported for time ``when`` (its digest
        and its time both: the same bytes at another time are another snapshot): a check
        of it is recorded."""
        return (digest, when) in self.checks

    def check_of(self, when: datetime) -> str:
        """The check recorded for ``when``, in words (who recorded it, and when), for a
        refusal to name: a forged one is then visible."""
        found = sorted((d, r) for (d, t), r in self.checks.items() if t == when)
        if not found:
            return f"the snapshot of {when.isoformat()}"
        digest, (by, at) = found[0]
        return (f"the check of {when.isoformat()} (sha256 {digest[:12]}…, recorded by "
                f"{by or 'unknown'} at {at or 'an unknown time'})")


class Unfinished:
    """An import of a snapshot whose events are in and whose check is not: its file's name
    (from its events' source), when it was first recorded, by whom, how many events."""

    __slots__ = ("events", "name", "recorded_at", "recorders")

    def __init__(self, name: str, recorded_at: str | None):
        self.name, self.recorded_at = name, recorded_at
        self.recorders: set[str | None] = set()
        self.events = 0

    def said(self, digest: str, when: datetime) -> str:
        """The import, in words, for a refusal to name."""
        by = ", ".join(sorted(str(r) for r in self.recorders))
        return (f"the import of {self.name} (updated {when.isoformat()}, sha256 "
                f"{digest[:12]}…, {self.events} events recorded by {by} from "
                f"{self.recorded_at or 'an unknown time'})")


class _Pure:
    """An order of the registry whose events so far are its own blocked and unblocked of
    named targets without ``until``: its targets when made, when, and what was lifted when."""

    __slots__ = ("lifts", "made", "targets")

    def __init__(self, targets: tuple[str, ...], made: datetime):
        self.targets, self.made = targets, made
        self.lifts: list[tuple[datetime, tuple[str, ...]]] = []

    def held(self, at: datetime | None) -> tuple[str, ...]:
        """The targets it holds at valid time ``at`` (None: now), as the rules fold them:
        blocked when made, less every lift by then."""
        if at is not None and self.made > at:
            return ()
        if not self.lifts:  # most orders of a registry: never lifted
            return self.targets
        lifted = {t for when, targets in self.lifts if at is None or when <= at
                  for t in targets}
        return tuple(t for t in self.targets if t not in lifted)


def read_held(registry: Registry, objects: Iterable[tuple[int, dict[str, Any]]],
              at: datetime | None, reread: Any = None,
              checks: Iterable[tuple[int, dict[str, Any]]] = (),
              tail: Any = None, elsewhere: Any = None) -> Held:
    """What the registry's orders hold at valid time ``at`` (None: now), from the stored
    objects of every order's events (``(position, object)`` in position order, as
    ``sources.holders.kind_objects`` gives them). ``reread(ref)`` gives an order's own
    facts, in recording order, for one that needs the rules' fold (default: those of
    ``objects``, kept while reading: for tests and small ledgers). ``checks``: the stored
    objects of the ledger's snapshots (``registry-checked``), which date the snapshots a
    registry imported, changed or not, and prove its events (``Held.proven``).
    ``tail(position)``: the stored objects of the platforms' events after ``position``
    (the last check's), where an import cut short before its first order leaves its
    registrations. ``elsewhere(id)``: whether an event of another kind holds that id (a
    check's derived again where one did: ``sources.registry_checks``)."""
    held = Held(registry)
    read_checks(held, checks, elsewhere)  # first: they prove the events read next
    prefix = f"{registry.name}-"
    pure: dict[str, _Pure] = {}
    foreign: set[str] = set()  # its prefix, not its imports' (hand-made, another registry's)
    kept: dict[str, list[dict[str, Any]]] = {}
    suspects: list[tuple[str, datetime, dict[str, Any]]] = []
    retracted: set[str] = set()
    for _, obj in objects:
        ref = obj["subject"]
        held.taken.add(ref)
        if not ref.startswith(prefix) or ref in foreign:
            continue
        digest = _theirs(held, obj, suspects, retracted)
        first = ref not in held.orders
        if first and (digest is None or obj["type"] != "blocked" or _unneeded(ref, held)):
            foreign.add(ref)  # not made by its imports (nor derived again: not needed)
            continue
        if reread is None:
            kept.setdefault(ref, []).append(obj)
        when = stored_when(obj["occurred_at"]).instant
        if digest is not None and obj["type"] in ("blocked", "unblocked"):
            held._dated(digest, when)
            held.evented.add((digest, when))
        if first:
            held.orders.add(ref)
            pure[ref] = _Pure(tuple(obj["data"]["targets"]), when)
            continue
        order = pure.get(ref)
        if order is None:
            continue
        data = obj["data"]
        if (digest is not None and obj["type"] == "unblocked" and data.get("targets")
                and data.get("until") is None):
            order.lifts.append((when, tuple(data["targets"])))
        else:  # anything else: the rules' fold decides
            del pure[ref]
    for _, obj in tail(held.last_check) if tail is not None else ():
        _theirs(held, obj, suspects, retracted)
    for digest, when, obj in suspects:  # what no check proves, and nobody retracted
        if obj["id"] not in retracted:
            held._unproven(digest, when, obj)
    for digest, when in held.times.items():  # an import cut short before its check
        held.at.setdefault(when, set()).add(digest)
    for ref in sorted(held.orders):  # a key two orders hold: the last by reference
        order = pure.get(ref)
        if order is not None:
            targets = order.held(at)
        else:
            facts = (reread(ref) if reread is not None
                     else [Fact.from_stored(obj) for obj in kept[ref]])
            targets = sorted(_folded(ref, facts, at))
        base = held.base(ref)
        for target in targets:
            held.keys[(base, target)] = ref
    return held


def _unneeded(ref: str, held: Held) -> bool:
    """Whether order ``ref`` is derived again (``free_ref``) where the reference before it
    was free when it was made (its events read in recording order): not the registry's."""
    before = again_before(ref)
    return before is not None and before not in held.taken


def _theirs(held: Held, obj: dict[str, Any], suspects: list, retracted: set[str]) -> str | None:
    """The digest of the snapshot whose import made stored event ``obj``, when it has the
    registry's id for it; one that no check of its recorder proves, of a type an import cut
    short can leave (``CUT_SHORT``), is a suspect (an import cut short, or made by hand):
    read as the registry's, and ``check_order`` refuses every import but the one that
    finishes it."""
    if obj["type"] == "retraction":
        retracted.add(obj["data"]["target"])
    digest = held.registry.wrote_stored(obj)
    if digest is not None and obj["type"] in CUT_SHORT:
        when = stored_when(obj["occurred_at"]).instant
        order = obj["subject"] if obj["type"] == "blocked" else None
        if not held.proven(digest, obj.get("recorded_by"), when, order):
            suspects.append((digest, when, obj))
    return digest


def check_again(plan: Plan, maker: Callable[[str], str | None] | None = None,
                ) -> str | None:
    """For a snapshot imported already (``Held.imported``), diffed again: "already
    imported" when it is older than the latest (nothing to write); None for the latest
    (its check, written if missing). Refused when the ledger does not hold what it lists
    then: its check was recorded by hand, or the registry's orders were changed by hand
    since, and a diff now would not be the registry's; the refusal names the first orders
    it would lift and (``maker(ref)``) who recorded each: a hand-made order is the cause
    as often as the check it names."""
    held, snapshot = plan.held, plan.snapshot
    plan.diff()
    changes = len(plan.orders) + sum(len(t) for t in plan.lifted.values())
    if changes:
        lifting = sorted(plan.lifted)
        named = ", ".join(ref + (f" (recorded by {maker(ref) or 'unknown'})"
                                 if maker is not None else "") for ref in lifting[:3])
        more = f" and {len(lifting) - 3:,} more" if len(lifting) > 3 else ""
        raise Refused(f"refused: {snapshot.name} is recorded as imported already, "
                      f"{held.check_of(snapshot.updated)}, but the ledger does not hold what "
                      f"it lists then ({len(plan.orders):,} orders to make, "
                      f"{changes - len(plan.orders):,} targets to lift"
                      + (f", of {named}{more}" if named else "")
                      + "): a check recorded by hand, or the registry's orders made or "
                      "amended by hand since: nothing written")
    if held.latest is not None and snapshot.updated < held.latest:
        return "already imported"
    return None


def _folded(ref: str, facts: list[Fact], at: datetime | None) -> set[str]:
    """The targets order ``ref`` holds at ``at`` by the rules' own fold of its facts (in
    recording order, amendments included), as ``projections.book.Book.state`` folds."""
    state = fold("order", ref, effective(facts).facts, until=at)
    if state.created is None or not isinstance(state, OrderState):
        return set()
    return state.held


def held_in(ledger: Any, registry: Registry, at: datetime | None) -> Held:
    """``read_held`` of the ledger's orders, from its history view (caught up first): a
    page of rows at a time, an order that needs the rules' fold read again by itself.
    The view is an index anyone with the database can edit (its rows name no hash): the
    rows read are checked against the events (``sources.view_rows.Checked``), and a view
    that disagrees refuses the import (``IntegrityFailure``) rather than steer its diff."""
    import orjson

    from sources.holders import PAGE
    from sources.view_rows import Checked, caught_up, damaged

    views, last = caught_up(ledger)
    decode = views.ledger.mapper.decode_state
    kind = views.blind("order")

    def reread(ref: str) -> list[Fact]:
        rows = views.store.history_rows(subject=(kind, views.blind(ref)))
        facts = [Fact.from_stored(orjson.loads(decode(body))) for position, body in rows
                 if position <= last]  # not another writer's since the scan
        if len(facts) != orders.subjects.get(ref):  # as many as the scan found
            raise IntegrityFailure(damaged(f"order {ref}'s rows differ from its events"))
        return facts

    def tail(after: int) -> Iterator[tuple[int, dict[str, Any]]]:
        platform = views.blind("platform")
        while rows := views.store.kind_rows(platform, after=after, limit=PAGE):
            for position, body in rows:
                if position > last:  # written since the read began: not this diff's
                    return
                yield position, Checked.row("platform", position, orjson.loads(decode(body)))
            after = rows[-1][0]

    orders = Checked(views, "order", last)
    def elsewhere(event: str) -> bool:
        return bool(ledger.recorder.positions_of([event]))

    return read_held(registry, orders, at, reread, checks=Checked(views, "snapshot", last),
                     tail=tail, elsewhere=elsewhere)
