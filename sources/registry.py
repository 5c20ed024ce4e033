"""A national registry followed over time: each snapshot diffed against what the ledger
holds for that registry, as orders and lifts (``blockledger import-registry``).

A registry is named by its jurisdiction and authority (``ru-roskomnadzor``); its orders are
the ledger's orders whose reference starts with that name. An entry's key is its decision
number (an ``rkn`` dump) with each of its targets; a plain domain list has no decisions,
and its key is the target alone.

- An entry the ledger does not hold for the registry is ordered blocked: one order per
  decision number (its reference the registry's name, the decision slugged, and a digest
  of the decision, so that two numbers never share one), or one order per snapshot for a
  plain list. A decision number seen before (an entry re-added after its lift, or a
  decision that gained a target) gets a new order, its reference suffixed with the
  snapshot's time (``-at-20240115100000``): an order's targets are fixed when it is made.
- An entry the ledger holds and the snapshot no longer lists is lifted (``unblocked``,
  those targets), at the snapshot's time: the registry was seen without it then.
- Each order names the platforms of its entries: the platform holding the entry's first
  target (its domain) at that time, by the rules of matching of ``sources.domains``; else
  one platform registered per registrable domain (``example.ru``), or per address for an
  entry of addresses only (``ip-203.0.113.7``, ``net-203.0.113.0-24``). A platform that
  holds the entry's domain but not its other targets (its IP addresses, a subdomain) gets
  them by ``targets-added``.

Every event happens at the snapshot's time: the ledger records when the registry listed
an entry (the decision's own number, date and body are in the order's ``instrument``);
it cites the snapshot file's name, SHA-256 and time. Event ids derive from the registry,
the snapshot's digest and the subject, and a snapshot already imported (by digest) adds
nothing; a snapshot older than the last one imported is refused unless ``backfill``,
which diffs it against what the registry held at its time.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from domain.errors import BadInput, Refused
from domain.fact import Fact
from domain.identifiers import displayed
from domain.timeline import OrderState
from projections.book import Book
from sources.domains import platform_slug, registrable
from sources.holders import Holders
from sources.snapshots import Entry, Snapshot

#: Event ids of registry imports: uuid5 in this namespace of the registry, the snapshot's
#: digest, the kind of event and its subject.
NAMESPACE = uuid.UUID("0d5b6f1e-54a8-4a37-9a5e-3c1f8f0b7d21")
_RUNS = re.compile(r"[a-z0-9]+")


def registry_name(jurisdiction: str, authority: str) -> str:
    """``ru-roskomnadzor``: the prefix of a registry's order references."""
    words = "-".join(_RUNS.findall(authority.casefold()))[:40].strip("-")
    if not words:
        words = hashlib.sha256(authority.encode()).hexdigest()[:8]
    return f"{jurisdiction.casefold()}-{words}"


def decision_ref(registry: str, decision: str) -> str:
    """The reference of the order for ``decision`` in ``registry``: its ASCII runs and a
    digest of the whole number (Cyrillic letters, slashes and all)."""
    digest = hashlib.sha256(decision.encode()).hexdigest()[:8]
    runs = "-".join(_RUNS.findall(decision.casefold()))[:60].strip("-")
    return f"{registry}-{runs}-{digest}" if runs else f"{registry}-{digest}"


def stamp(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S")


class Held:
    """What the ledger holds for one registry: for each key (decision ref or None, target)
    the order holding it, and the digests and latest time of the snapshots imported."""

    def __init__(self, registry: str):
        self.registry = registry
        self.keys: dict[tuple[str | None, str], str] = {}
        self.orders: set[str] = set()
        self.digests: set[str] = set()
        self.latest: datetime | None = None

    def base(self, ref: str) -> str | None:
        """The decision key of order ``ref``: its reference without a time suffix; None
        for an order of a plain list (``-list-``)."""
        if ref.startswith(f"{self.registry}-list-"):
            return None
        return ref.split("-at-", 1)[0]


def read_held(registry: str, entries: Iterable[Any], at: datetime | None) -> Held:
    """What the registry's orders hold at valid time ``at`` (None: now), from the ledger's
    ``entries`` of orders (those of other registries and hand-made orders are passed
    over: only references starting with the registry's name)."""
    prefix = f"{registry}-"
    mine = [e for e in entries if e.fact.subject.startswith(prefix)]
    book = Book(mine)
    held = Held(registry)
    for ref in book.refs("order"):
        held.orders.add(ref)
        for fact in book.facts("order", ref):
            for source in fact.sources:
                digest = getattr(source, "sha256", None)
                if digest:
                    held.digests.add(digest)
            when = fact.occurred_at.instant
            held.latest = when if held.latest is None or when > held.latest else held.latest
        state = book.state("order", ref, at)
        if isinstance(state, OrderState):
            for target in state.held:
                held.keys[(held.base(ref), target)] = ref
    return held


class Plan:
    """The events one snapshot makes, in the order they are written."""

    def __init__(self, snapshot: Snapshot, *, registry: str, authority: str,
                 jurisdiction: str, held: Held, holders: Holders):
        self.snapshot, self.registry, self.authority = snapshot, registry, authority
        self.jurisdiction, self.held, self.holders = jurisdiction, held, holders
        self.registered: dict[str, list[str]] = {}  # new platform -> its targets
        self.added: dict[str, list[str]] = {}  # existing platform -> targets it gains
        self.orders: dict[str, dict[str, Any]] = {}  # new order -> its data
        self.lifted: dict[str, list[str]] = {}  # order -> targets lifted
        self.owner: dict[str, str] = {}  # target -> the platform it is ordered on
        self.names: dict[str, str] = {}  # new platform -> its name (its domain, shown)

    def facts(self) -> list[Fact]:
        """Every event of the snapshot: registrations, targets added, orders, lifts."""
        self._diff()
        at = self.snapshot.updated.isoformat()
        out = [self._fact("platform-registered", ref, at, {
            "name": self.names[ref], "targets": targets})
            for ref, targets in self.registered.items()]
        out += [self._fact("targets-added", ref, at, {
            "targets": targets, "summary": f"listed in the {self.authority} registry"})
            for ref, targets in self.added.items()]
        out += [self._fact("blocked", ref, at, data) for ref, data in self.orders.items()]
        out += [self._fact("unblocked", ref, at, {
            "targets": targets, "authority": self.authority,
            "summary": f"no longer listed in the {self.authority} registry"})
            for ref, targets in self.lifted.items()]
        return out

    def _diff(self) -> None:
        listed: dict[tuple[str | None, str], Entry] = {}
        for entry in self.snapshot.entries:
            key = None if entry.decision is None else decision_ref(self.registry,
                                                                   entry.decision)
            for target in entry.targets:
                listed.setdefault((key, target), entry)
        for key, ref in sorted(self.held.keys.items(), key=lambda kv: (kv[1], kv[0][1])):
            if key not in listed:
                self.lifted.setdefault(ref, []).append(key[1])
        new: dict[str | None, list[tuple[str, Entry]]] = {}
        for (key, target), entry in listed.items():
            if (key, target) not in self.held.keys:
                new.setdefault(key, []).append((target, entry))
        for key, items in new.items():
            self._order(key, items)

    def _order(self, key: str | None, items: list[tuple[str, Entry]]) -> None:
        when = stamp(self.snapshot.updated)
        if key is None:
            ref = f"{self.registry}-list-{when}"
        else:
            ref = key if key not in self.held.orders else f"{key}-at-{when}"
        if ref in self.held.orders:
            raise Refused(f"refused: order {ref} exists already; the snapshot of "
                          f"{self.snapshot.updated.isoformat()} was imported before under "
                          "another digest?")
        platforms: list[str] = []
        targets: list[str] = []
        for target, entry in items:
            platform = self._platform(target, entry)
            platforms.append(platform)
            targets.append(target)
        entry = items[0][1]
        instrument = (f"registry entry: decision {entry.decision}"
                      + (f" of {entry.decided}" if entry.decided else "")
                      + (f" ({entry.organisation})" if entry.organisation else "")
                      if entry.decision else f"registry list of {self.snapshot.updated:%Y-%m-%d}")
        names = list(dict.fromkeys(platforms))
        self.orders[ref] = {
            **({"platform": names[0]} if len(names) == 1 else {"platforms": names}),
            "authority": self.authority, "targets": targets,
            "reasons": [f"listed in the {self.authority} registry"
                        + (f" on the decision of {entry.organisation}"
                           if entry.organisation else "")],
            "instrument": instrument[:1000], "jurisdiction": self.jurisdiction}

    def _platform(self, target: str, entry: Entry) -> str:
        """The platform ``target`` of ``entry`` is ordered on (registering it, or adding the
        target to it, where needed)."""
        known = self.owner.get(target)
        if known is not None:
            return known
        home = entry.home
        platform = self.owner.get(home) or self._holder(home)
        if platform is None:
            platform = _new_platform(home)
        if platform in self.holders.platforms:  # in the ledger: does it hold the target?
            if not self._holds(platform, target):
                self.added.setdefault(platform, []).append(target)
        else:  # registered by this snapshot: with every target it is given
            self.registered.setdefault(platform, []).append(target)
            self.names.setdefault(platform, displayed(registrable(home) or home))
        self.owner[target] = platform
        return platform

    def _holder(self, host: str) -> str | None:
        found = self.holders.find(host, self.snapshot.updated)
        if found is None or isinstance(found, str):
            return None  # nobody, or several: a platform of its own
        return found.platform

    def _holds(self, platform: str, target: str) -> bool:
        found = self.holders.find(target, self.snapshot.updated)
        return (found is not None and not isinstance(found, str) and not found.later
                and found.platform == platform and found.target == target)

    def _fact(self, kind: str, subject: str, at: str, data: dict[str, Any]) -> Fact:
        snap = self.snapshot
        key = f"{self.registry}|{snap.sha256}|{kind}|{subject}"
        return Fact.from_json({
            "id": str(uuid.uuid5(NAMESPACE, key)), "type": kind, "subject": subject,
            "occurred_at": at,
            "sources": [{"title": f"{snap.name}: the {self.authority} registry, updated "
                                  f"{snap.updated.isoformat()}", "sha256": snap.sha256}],
            "data": data})


def _new_platform(home: str) -> str:
    """The platform registered for a target no platform holds: its registrable domain's,
    else one of its own (an address, a network, a name under no known suffix)."""
    domain = registrable(home)
    if domain is not None:
        return platform_slug(domain)
    try:
        network = ipaddress.ip_network(home, strict=False)
    except ValueError:
        return platform_slug(home.replace(":", "-"))
    kind = "net" if "/" in home else "ip"
    shown = str(network.network_address if kind == "ip" else network)
    return f"{kind}-{shown.replace(':', '.').replace('/', '-')}"[:100]


def check_order(snapshot: Snapshot, held: Held, backfill: bool) -> str | None:
    """Why ``snapshot`` is not imported (None: it is): already imported (by digest), or
    older than the last one imported without ``backfill`` (``BadInput``)."""
    if snapshot.sha256 in held.digests:
        return "already imported"
    if held.latest is not None and snapshot.updated < held.latest and not backfill:
        raise BadInput(f"{snapshot.name}: updated {snapshot.updated.isoformat()}, before the "
                       f"last snapshot imported for this registry "
                       f"({held.latest.isoformat()}); give --backfill to place it in the "
                       "past", field="file")
    return None
