"""``import-registry --backfill``: a snapshot S placed between two imported snapshots A and
B (its time between theirs), leaving the ledger as if the snapshots had been imported in
order: status and block intervals at every date, on both time axes, as an import of A, S,
B in turn gives them. Everything is derived from what the ledger holds: A's state is what
the registry holds at S's time, B's what it holds at B's.

For each entry (decision and target), by whether A, S and B list it:

- S lists it and A does not: ordered at S's time, as any diff orders it; and where B does
  not list it, lifted at B's time (B's import, diffed against A, never saw it). Where B
  lists it, B's import ordered it at B's time: that order's ``blocked`` is corrected to
  S's time (``correction`` of ``occurred_at``), rather than a second order holding it
  too; a platform that B's import registered for it is corrected so too.
- A lists it and S does not: lifted at S's time (against A's state); where B lists it,
  ordered anew at B's time. Where B does not, B's import lifted it at B's time: that lift
  is corrected to lift only what S still listed (or retracted, if that is nothing), since
  S lifted the rest first.
- Every other entry is as the import of B left it.

The corrections and retractions cite S (its name, SHA-256 and time) and say why; the
ledger's record time keeps what it said before (``--as-known-at``). What cannot be made
exact is refused, naming it, with nothing written: an order of B's that also holds entries
S does not list (a decision that gained targets between S and B), a platform B's import
registered with targets S does not list, a lift or order of an entry that is not the
registry's own (a hand-made event in between), or another snapshot of S's very time.
Re-running adds nothing: S's digest is then on the registry's events, and a snapshot
already imported is skipped (a backfill that wrote only corrections is diffed again and
finds nothing to do).

Orders may differ from an in-order import in name only: an entry B ordered keeps B's
order (corrected to S's time), and an entry S adds to a decision B ordered gets an order
of its own (``-at-`` S's time).

The moves of platforms a later import registered or gave targets are in
``sources.registry_moves``; the checks of where later orders' targets go, in
``sources.registry_placed``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import orjson

from domain.amendments import effective
from domain.errors import BadInput, Refused
from domain.fact import Fact
from sources.holders import Holders
from sources.registry import Plan, Registry, decision_ref, new_platform, stamp
from sources.registry_held import Held
from sources.registry_ids import free_ref
from sources.registry_moves import PlatformMoves
from sources.registry_placed import check_beyond, check_holders, check_moved, check_shared
from sources.snapshots import Entry, Snapshot


def previous_and_next(held: Held, at: datetime, digest: str | None = None,
                      ) -> datetime | None:
    """The time of the first imported snapshot after ``at`` (None: ``at`` is the latest);
    refused when another snapshot was imported for that very time, when a later snapshot
    has the same bytes (``digest``: its events' ids, derived from the digest, type and
    subject, would be that import's, the store refusing them as "in the ledger already,
    with other content"; a limit, named in the README), and when the next
    snapshot is known only from a ``registry-checked`` (no order's event of its import
    cites it): anyone can compute a check's id, so a check alone must not decide what the
    registry listed then (a forged later check would have this backfill lift what it
    adds). A later snapshot that changed nothing is known so too: that backfill is
    refused (a limit, named in the README)."""
    times = held.at
    if times.get(at):
        raise BadInput(f"another snapshot of this registry, of the same time "
                       f"({at.isoformat()}), was imported already: two snapshots of one "
                       "time cannot both be the registry then", field="file")
    later = sorted(t for t in times if t > at)
    same = [t for t in later if digest in times[t]]
    if same:
        raise Refused(f"refused: the same bytes (sha256 {(digest or '')[:12]}…) were "
                      f"imported as a later snapshot, {held.check_of(same[0])}: a backfill "
                      "of a later snapshot's bytes at an earlier time is not supported: "
                      "nothing written")
    if not later:
        return None
    after = later[0]
    if not any((digest, after) in held.evented for digest in times[after]):
        raise Refused(f"refused: the snapshot after {at.isoformat()} is known only from "
                      f"{held.check_of(after)}, with no event of its import: a backfill "
                      "will not take what the registry listed then on a check's word: "
                      "nothing written")
    return after


class Backfill(PlatformMoves):
    """The events that place ``snapshot`` between the snapshots imported before and after
    it (``after``: the time of the one after)."""

    def __init__(self, snapshot: Snapshot, *, registry: Registry, held: Held, after: datetime,
                 after_held: Held, holders: Holders, reader: Any):
        self.snapshot, self.registry = snapshot, registry
        self.held, self.after = held, after_held  # at S's time; at B's
        self.holders, self._read = holders, reader  # reader(kind, ref) -> facts
        self.t, self.t_b = snapshot.updated, after
        self.amendments: list[tuple[int, Fact]] = []
        self.plan: Plan | None = None
        self._targets: set[str] | None = None
        self._original: dict[Any, Fact] = {}
        #: each subject read once: the checks and the moves ask for the same orders, and
        #: nothing is written before ``facts`` returns
        self._counted: dict[tuple[str, str], list[Fact]] = {}
        self.later: list[tuple[int, Fact]] = []  # the corrective events at B's time
        #: targets a later import gave a platform that S's time now has in part: the rest
        #: given at that later time (written right after the amendments)
        self.split: list[tuple[int, Fact]] = []

    def read(self, kind: str, ref: str) -> list[Fact]:
        """A subject's events as they count now (``effective``: corrected, the retracted
        ones left out): a backfill placed after another finds B's events where the first
        one moved them (backfilling backwards)."""
        facts = self._counted.get((kind, ref))
        if facts is None:
            counted = effective(self._read(kind, ref))
            self._original.update(counted.original)
            facts = self._counted[kind, ref] = counted.facts
        return list(facts)

    def _theirs(self, fact: Fact) -> str | None:
        """``Held.theirs`` of ``fact`` as first recorded (its id names its first time)."""
        return self.held.theirs(self._original.get(fact.id, fact))

    def facts(self) -> list[tuple[int, Fact]]:
        """Every event, in the order they are written: corrections and retractions, S's
        own events at its time, the corrective events at B's time."""
        listed = _keys(self.snapshot, self.registry.name)
        a, b = self.held.keys, self.after.keys
        new = {k for k in listed if k not in a}
        gone = {k for k in a if k not in listed}
        check_shared(self.snapshot.name, [*listed, *a, *b], self.held.orders, self.read)
        check_moved(self.snapshot.name, listed, new, b, self.t, self.t_b, self.holders,
                    new_platform)
        self._move_orders(new, b)
        self._move_registrations(new, listed)
        self._fix_lifts(gone, a, b)
        keep = Held(self.registry)
        keep.keys = {**a, **{k: b[k] for k in new if k in b}}
        keep.taken, keep.orders = self.held.taken, self.held.orders
        self.plan = Plan(self.snapshot, registry=self.registry, held=keep, holders=self.holders)
        own = list(self.plan.facts())
        check_holders(self.snapshot.name, own, b.values(), {b[k] for k in new if k in b},
                      self.t_b, self.read, self._theirs, self.holders)
        check_beyond(self.snapshot.name, own, self.held.orders, self.t_b, self.read)
        self._narrow_later_added()
        self._lift_later(new, b)
        self._order_later(gone, a, b)
        return [*self.amendments, *self.split, *own, *self.later]

    # --- entries S lists that A did not, and B's import ordered at B's time -----------

    def _move_orders(self, new: set, b: dict) -> None:
        moved = sorted({b[k] for k in new if k in b})
        platforms: dict[str, Fact] = {}
        blocked: list[Fact] = []
        for ref in moved:
            first = self.read("order", ref)[0]
            if self._theirs(first) is None or first.occurred_at.instant != self.t_b:
                raise Refused(f"refused: order {ref} holds entries of {self.snapshot.name} "
                              f"at {self.t_b.isoformat()}, but was not made then by this "
                              "registry's import: a backfill cannot place it: nothing written")
            base = self.held.base(ref)
            extra = [t for t in first.data.targets if (base, t) not in new]
            if extra:
                raise Refused(f"refused: order {ref}, made by the snapshot of "
                              f"{self.t_b.isoformat()}, also holds {', '.join(extra[:3])}, "
                              f"which {self.snapshot.name} does not list (the decision gained "
                              "targets in between): a backfill cannot split it: nothing "
                              "written")
            blocked.append(first)
            for name in first.data.platforms or (first.data.platform,):
                platforms.setdefault(name, first)
        for name in sorted(platforms):
            created = self.holders.platforms.get(name)
            if created is not None and created > self.t:
                self._move_platform(name, created, f"order {platforms[name].subject}",
                                    list(platforms[name].data.targets))
        for first in blocked:  # targets B's import gave a platform that held the domain
            for target in first.data.targets:
                found = self.holders.find(target, self.t)
                if found is None or isinstance(found, str) or found.later \
                        or found.target != target:
                    self._move_added(target, first)
        for first in blocked:
            self._amend("correction", first, {"occurred_at": self.t.isoformat()},
                        "listed already in the snapshot of "
                        f"{self.t.isoformat()}, imported later")

    # --- entries A listed that S does not, and B's import lifted at B's time -----------

    def _fix_lifts(self, gone: set, a: dict, b: dict) -> None:
        lifts: dict[Any, tuple[Fact, set[str]]] = {}
        for key in sorted(k for k in gone if k not in b):
            ref, target = a[key], key[1]
            lift = next((f for f in self.read("order", ref) if f.type == "unblocked"
                         and f.occurred_at.instant == self.t_b
                         and self._theirs(f) is not None
                         and target in f.data.targets), None)
            if lift is None:
                raise Refused(f"refused: {target} of order {ref} was lifted between "
                              f"{self.t.isoformat()} and {self.t_b.isoformat()} by an event "
                              "not of this registry's import: a backfill cannot place it: "
                              "nothing written")
            lifts.setdefault(lift.id, (lift, set()))[1].add(target)
        for lift, early in lifts.values():
            self._narrow(lift, early, f"the snapshot of {self.t.isoformat()}, imported later, "
                         f"no longer listed {', '.join(sorted(early)[:3])}: lifted then")

    def _narrow(self, lift: Any, gone: Collection[str], why: str) -> None:
        """Take ``gone`` out of ``lift``'s targets: a correction to the rest, or its
        retraction when nothing is left."""
        keep = [t for t in lift.data.targets if t not in gone]
        if keep:
            self._amend("correction", lift, {"targets": keep}, why)
        else:
            self._amend("retraction", lift, None, why)

    # --- the corrective events at B's time --------------------------------------------

    def _lift_later(self, new: set, b: dict) -> None:
        assert self.plan is not None
        lifts: dict[str, list[str]] = {}
        for ref, _, _, targets in self.plan.ordered():
            base = self.held.base(ref)
            gone = [t for t in targets if (base, t) in new and (base, t) not in b]
            if gone:
                lifts[ref] = gone
        for ref, targets in lifts.items():
            self.later.append(self._corrective("unblocked", ref, 1, {
                "targets": targets, "authority": self.registry.authority,
                "summary": f"no longer listed in the {self.registry.authority} registry"}))

    def _order_later(self, gone: set, a: dict, b: dict) -> None:
        """Entries A listed, S did not and B did: ordered anew at B's time, one order per
        decision (as B's diff against S would), with the data of the order A's was."""
        groups: dict[str | None, list[tuple[str, str]]] = {}
        for key in sorted(k for k in gone if k in b):
            if b[key] != a[key]:
                raise Refused(f"refused: {key[1]} is held at {self.t_b.isoformat()} by "
                              f"order {b[key]}, not by {a[key]} as at {self.t.isoformat()}: "
                              "a backfill cannot place it: nothing written")
            groups.setdefault(key[0], []).append((a[key], key[1]))
        taken = set(self.held.taken) | set(self.plan.orders if self.plan else ())
        when = stamp(self.t_b)
        for base, items in groups.items():
            ref = free_ref(f"{self.registry.name}-list-{when}" if base is None
                           else f"{base}-at-{when}", taken)  # taken: derived again
            taken.add(ref)
            platforms = [self._holder(target) for _, target in items]
            names = list(dict.fromkeys(platforms))
            made = self.read("order", items[0][0])[0].data
            self.later.append(self._corrective("blocked", ref, 1, {
                **({"platform": names[0]} if len(names) == 1 else {"platforms": names}),
                "authority": made.authority, "targets": [t for _, t in items],
                "reasons": list(made.reasons),
                **({"instrument": made.instrument} if made.instrument else {}),
                **({"jurisdiction": made.jurisdiction} if made.jurisdiction else {})}))
            self._move_later_lifts(ref, items)

    def _move_later_lifts(self, ref: str, items: list[tuple[str, str]]) -> None:
        """A snapshot after B that no longer listed an entry ordered anew at B's time
        lifted it from A's order: that lift is the new order's now (A's lift corrected
        to leave it out, or retracted; the new order lifted then)."""
        lifts: dict[Any, tuple[Fact, list[str]]] = {}
        for old, target in items:
            lift = next((f for f in self.read("order", old) if f.type == "unblocked"
                         and f.occurred_at.instant > self.t_b
                         and target in f.data.targets), None)
            if lift is None:
                continue
            if self._theirs(lift) is None or lift.data.until is not None:
                raise Refused(f"refused: {target} of order {old} was lifted at "
                              f"{lift.occurred_at} by an event not of this registry's "
                              "import: a backfill cannot place it: nothing written")
            lifts.setdefault(lift.id, (lift, []))[1].append(target)
        for lift, moved in lifts.values():
            self._narrow(lift, moved, f"the snapshot of {self.t.isoformat()}, imported later, "
                         f"lifted {', '.join(moved[:3])} first: this lift is order {ref}'s")
            self.later.append((1, self._make("unblocked", ref, lift.occurred_at.text, {
                "targets": moved, "authority": self.registry.authority,
                "summary": f"no longer listed in the {self.registry.authority} registry"},
                f"{ref}|{lift.occurred_at.text}")))

    def _holder(self, target: str) -> str:
        found = self.holders.find(target, self.t_b)
        if found is None or isinstance(found, str) or found.later:
            raise Refused(f"refused: no one platform holds {target} at "
                          f"{self.t_b.isoformat()}: a backfill cannot order it anew then: "
                          "nothing written")
        return found.platform

    # --- events ------------------------------------------------------------------------

    def _listed(self) -> set[str]:
        """Every target S lists."""
        if self._targets is None:
            self._targets = {t for entry in self.snapshot.entries for t in entry.targets}
        return self._targets

    def _title(self) -> str:
        return (f"{self.snapshot.name}: the {self.registry.authority} registry, updated "
                f"{self.t.isoformat()}, imported after the snapshot of {self.t_b.isoformat()}")

    def _corrective(self, kind: str, subject: str, line: int,
                    data: dict[str, Any]) -> tuple[int, Fact]:
        return line, self._make(kind, subject, self.t_b.isoformat(), data)

    def _amend(self, kind: str, target: Fact, changes: dict[str, Any] | None,
               reason: str) -> None:
        data: dict[str, Any] = {"target": str(target.id), "reason": reason}
        if changes is not None:
            data["set"] = changes
        # Its id names the event amended too: one subject may need two amendments.
        self.amendments.append((1, self._make(kind, target.subject, target.occurred_at.text,
                                              data, f"{target.subject}|{target.id}")))

    def _make(self, kind: str, subject: str, at: str, data: dict[str, Any],
              key: str | None = None) -> Fact:
        snap = self.snapshot
        return Fact.from_json({
            "id": str(self.registry.event_id(snap.sha256, kind, key or subject)),
            "type": kind, "subject": subject, "occurred_at": at,
            "sources": [{"title": self._title(), "sha256": snap.sha256}], "data": data})


def _keys(snapshot: Snapshot, name: str) -> dict[tuple[str | None, str], Entry]:
    listed: dict[tuple[str | None, str], Entry] = {}
    for entry in snapshot.entries:
        key = None if entry.decision is None else decision_ref(name, entry.decision)
        for target in entry.targets:
            listed.setdefault((key, target), entry)
    return listed


def decoded(views: Any) -> Any:
    """``reader`` for ``Backfill``: a subject's facts from the history view (caught up)."""
    decode = views.ledger.mapper.decode_state

    def read(kind: str, ref: str) -> list[Fact]:
        rows = views.store.history_rows(subject=(views.blind(kind), views.blind(ref)))
        return [Fact.from_stored(orjson.loads(decode(body))) for _, body in rows]

    return read
