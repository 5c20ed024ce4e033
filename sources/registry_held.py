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
nothing: a hand-made order, or another registry's, may share its prefix). Only the events
its imports wrote date its latest snapshot.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.amendments import effective
from domain.fact import Fact
from domain.timeline import OrderState, fold
from domain.values import stored_when

if TYPE_CHECKING:
    from sources.registry import Registry

#: A plain list's order: ``<registry>-list-<14 digits>``; a re-made order's time suffix.
LIST = re.compile(r"list-\d{14}")
SUFFIX = re.compile(r"(.+)-at-\d{14}")


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

    def base(self, ref: str) -> str | None:
        """The decision key of the registry's order ``ref``: its reference without a time
        suffix (``-at-`` and 14 digits, at its end); None for an order of a plain list."""
        if LIST.fullmatch(ref[len(self.registry.name) + 1:]):
            return None
        found = SUFFIX.fullmatch(ref)
        return found.group(1) if found else ref

    def _dated(self, digest: str, when: datetime) -> None:
        self.digests.add(digest)
        # A snapshot's own events are at its time; a backfilled one's corrective events
        # are later (sources.registry_backfill): its time is its earliest.
        if digest not in self.times or when < self.times[digest]:
            self.times[digest] = when
        if self.latest is None or when > self.latest:
            self.latest = when


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
              checks: Iterable[tuple[int, dict[str, Any]]] = ()) -> Held:
    """What the registry's orders hold at valid time ``at`` (None: now), from the stored
    objects of every order's events (``(position, object)`` in position order, as
    ``sources.holders.kind_objects`` gives them). ``reread(ref)`` gives an order's own
    facts, in recording order, for one that needs the rules' fold (default: those of
    ``objects``, kept while reading: for tests and small ledgers). ``checks``: the stored
    objects of the ledger's snapshots (``registry-checked``), which date the snapshots a
    registry imported, changed or not."""
    held = Held(registry)
    prefix = f"{registry.name}-"
    pure: dict[str, _Pure] = {}
    foreign: set[str] = set()  # its prefix, not its imports' (hand-made, another registry's)
    kept: dict[str, list[dict[str, Any]]] = {}
    for _, obj in objects:
        ref = obj["subject"]
        held.taken.add(ref)
        if not ref.startswith(prefix) or ref in foreign:
            continue
        digest = registry.wrote_stored(obj)
        first = ref not in held.orders
        if first and (digest is None or obj["type"] != "blocked"):
            foreign.add(ref)  # not made by its imports: not the registry's order
            continue
        if reread is None:
            kept.setdefault(ref, []).append(obj)
        when = stored_when(obj["occurred_at"]).instant
        if digest is not None and obj["type"] in ("blocked", "unblocked"):
            held._dated(digest, when)
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
    for _, obj in checks:  # snapshots the registry checked, changed or not
        if obj["type"] == "registry-checked" and registry.wrote_stored(obj) is not None:
            held._dated(registry.wrote_stored(obj), stored_when(obj["occurred_at"]).instant)
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


def _folded(ref: str, facts: list[Fact], at: datetime | None) -> set[str]:
    """The targets order ``ref`` holds at ``at`` by the rules' own fold of its facts (in
    recording order, amendments included), as ``projections.book.Book.state`` folds."""
    state = fold("order", ref, effective(facts).facts, until=at)
    if state.created is None or not isinstance(state, OrderState):
        return set()
    return state.held


def held_in(ledger: Any, registry: Registry, at: datetime | None) -> Held:
    """``read_held`` of the ledger's orders, from its history view (caught up first): a
    page of rows at a time, an order that needs the rules' fold read again by itself."""
    import orjson

    from projections.views import Views
    from sources.holders import kind_objects

    views = Views(ledger)
    views.catch_up()
    decode = views.ledger.mapper.decode_state
    kind = views.blind("order")

    def reread(ref: str) -> list[Fact]:
        rows = views.store.history_rows(subject=(kind, views.blind(ref)))
        return [Fact.from_stored(orjson.loads(decode(body))) for _, body in rows]

    return read_held(registry, kind_objects(views, "order"), at, reread,
                     checks=kind_objects(views, "snapshot"))
