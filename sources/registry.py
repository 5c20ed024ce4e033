"""A national registry followed over time: each snapshot diffed against what the ledger
holds for that registry, as orders and lifts (``blockledger import-registry``).

A registry is named by its jurisdiction and authority (``ru-roskomnadzor``); its orders are
the ledger's orders whose reference starts with that name and whose creating event its
imports wrote. An entry's key is its decision
number (an ``rkn`` dump) with each of its targets; a plain domain list has no decisions,
and its key is the target alone.

- An entry the ledger does not hold for the registry is ordered blocked: one order per
  decision number (its reference the registry's name, the decision slugged, and a digest
  of the decision, so that two numbers never share one), or one order per snapshot for a
  plain list. A decision number seen before (an entry re-added after its lift, or a
  decision that gained a target) gets a new order, its reference suffixed with the
  snapshot's time (``-at-20240115100000``): an order's targets are fixed when it is made.
  A reference another order took (made by hand, retracted or not) is derived again
  (``-again-N``: ``sources.registry_ids.free_ref``).
- An entry the ledger holds and the snapshot no longer lists is lifted (``unblocked``,
  those targets), at the snapshot's time: the registry was seen without it then.
- Each order names the platforms of its entries: the platform holding the entry's first
  target (its domain) at that time, by the rules of matching of ``sources.domains`` (a
  platform that holds it only later is not it); else one platform registered per
  registrable domain (``example.ru``), or per address for an entry of addresses only
  (``ip-203.0.113.7``, ``net-203.0.113.0-24``). A platform that holds the entry's domain
  but not its other targets (its IP addresses, a subdomain) gets them by
  ``targets-added``.
- Every snapshot, changed or not, ends with a ``registry-checked`` (its own subject, of
  kind ``snapshot``): the trace that the registry was seen so then, in that file.

Every event happens at the snapshot's time: the ledger records when the registry listed
an entry (the decision's own number, date and body are in the order's ``instrument``); it
cites the snapshot file's name, SHA-256 and time. Event ids derive from the registry (its
state and authority exactly), the snapshot's digest and the subject, which is also how a
registry knows its own orders (``Registry.wrote``, ``sources.registry_ids``; an id
another event took is derived again, ``sources.registry_taken``). A snapshot already
imported (by digest AND time: the same bytes at a later time are imported again, as a
list may revert) adds nothing, but the last is diffed again (an interrupted import
finishes); one of the time of another snapshot recorded is refused
(``sources.registry_checks.check_order``); an older one is
refused unless placed between the imported ones (``--backfill``,
``sources.registry_backfill``), naming the later check (who recorded it, when). Those ids
can be computed by anyone: a check alone is never trusted to say what the registry listed
(a backfill refuses a next snapshot known only from its check). What the ledger holds for
the registry is read afresh for every diff (``sources.registry_held``): nothing is kept
between imports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from attrs import evolve

from domain.errors import BadInput, Refused
from domain.fact import Fact
from domain.identifiers import displayed
from domain.values import check_slug
from sources.domains import new_platform, registrable
from sources.holders import Holders, Hosts
from sources.registry_held import Held
from sources.registry_ids import Registry, decision_ref, free_ref, registry_name, stamp
from sources.registry_records import (
    ITEM,
    Walk,
    line_of,
    listed,
    packed,
    ranked,
    registration,
    separators,
    unpacked,
)
from sources.snapshots import Listing, Snapshot

# the registry's names and ids, where its readers have always found them
__all__ = ["Plan", "Registry", "decision_ref", "new_platform", "registry_name", "stamp"]

class Plan:
    """The events one snapshot makes, in the order they are written.

    What a snapshot makes is a function of the set of its entries, not of the order of
    its lines (two files listing the same entries in another order make the same ledger;
    only the order of the events, and the line an error names, follow the file):

    - a target goes to the platform of its own (the one holding it, else the one
      registered for it) when some entry lists it as its home (its domain, or its first
      target without one); else to the least, in sorted order, of the platforms of the
      entries that list it (an address two domains share goes to the lesser domain's
      platform, whichever line comes first);
    - an order's instrument and reason come from the least, in sorted order of (decision
      date, deciding body), of the entries of its decision that it orders.
    """

    def __init__(self, snapshot: Snapshot, *, registry: Registry, held: Held,
                 holders: Holders | Callable[[Hosts], Holders]):
        """``holders``: who holds what, or a reader of it given the hosts the plan will
        look up (those of the entries it orders and their parent domains), read once the
        diff knows them: a day's churn looks up 1% of a registry's hosts."""
        self.snapshot, self.registry, self.held = snapshot, registry, held
        self._holders = holders
        self.authority, self.jurisdiction = registry.authority, registry.jurisdiction
        # What the snapshot makes, kept small (a first snapshot is 500,000 entries): the
        # events' data are made as they are written, from these.
        self.registered: dict[str, Any] = {}  # platform -> its record (``packed``: the
        # line, a home it is registered for, the targets it is registered with;
        # ``_register``); None once written, ``facts(let_go=True)``
        self.added: dict[str, tuple[int, list[str]]] = {}  # platform -> (line, targets)
        self.orders: dict[str, bytes | None] = {}  # order -> its record (``packed``: the
        # entry its data come from, its platforms, its targets; ``ordered``); None once
        # written, ``facts(let_go=True)``
        self.lifted: dict[str, list[str]] = {}  # order -> targets lifted
        self.owner: dict[str, str] = {}  # target listed again -> its platform
        self._diffed = False
        self.entries = 0  # how many the snapshot lists: counted by the diff's pass

    def facts(self, let_go: bool = False) -> Iterator[tuple[int, Fact]]:
        """Every event of the snapshot, with the file line it comes from (a lift: the
        'Updated:' line): each order just after the registrations and targets-added of
        its platforms not yet written, then lifts. Made as they are written (an import
        takes them a batch at a time): a first snapshot of 500,000 entries never holds
        its events all at once. With ``let_go``, each order's and registration's record is
        let go (None) once its event is made: the import's last batches, its peak, no
        longer hold the plan beside them (only what was planned is counted after).

        Each order follows its platforms closely so that the import still keeps them when
        it checks the order (``ledger.bulk.Bulk``'s subjects kept, or the batch's facts
        pending): registrations all first, then orders, had each order's platforms read
        back from the store, 250,000 times at 500,000 entries (benchmarks/README.md)."""
        self.diff()
        at = self.snapshot.updated.isoformat()
        # ``registered`` and ``added`` are filled as the orders are made (``_order`` ->
        # ``_platform``), an order's new platforms in the order of its platforms: walking
        # them alongside the orders yields each platform's events once, before its first
        # order, with no set of the platforms yielded.
        registered, added = Walk(self.registered), Walk(self.added)
        for ref, record in self.orders.items():
            listing, platforms, targets = unpacked(record)
            for platform in platforms:
                for item in registered.take(platform):
                    yield self._registration(item, at)
                    if let_go:
                        self.registered[platform] = None
                yield from self._added(added.take(platform), at)
            yield self._fact("blocked", ref, at, listing.line,
                             self._blocked(listing, list(platforms), list(targets)))
            if let_go:
                self.orders[ref] = None
        for item in registered.rest():  # none, by the walk above
            yield self._registration(item, at)
        yield from self._added(added.rest(), at)
        for ref, targets in self.lifted.items():
            yield self._fact("unblocked", ref, at, 1, {
                "targets": targets, "authority": self.authority,
                "summary": f"no longer listed in the {self.authority} registry"})
        yield self._fact("registry-checked", self.checked, at, 1, {
            "registry": self.registry.name, "authority": self.authority,
            "jurisdiction": self.jurisdiction, "summary": self.summary()})

    def ordered(self) -> Iterator[tuple[str, Listing, tuple[str, ...], tuple[str, ...]]]:
        """Each order planned: its reference, the entry its data come from, its platforms
        and its targets (before ``facts(let_go=True)`` lets them go)."""
        for ref, record in self.orders.items():
            yield ref, *unpacked(record)  # (ValueError for one let go: written already)

    def _registration(self, item: tuple[str, bytes], at: str) -> tuple[int, Fact]:
        ref, record = item
        line, home, targets = registration(record)
        home = home or ref  # left out where it is the platform's own reference
        return self._fact("platform-registered", ref, at, line, {
            "name": displayed(registrable(home) or home), "targets": targets})

    def _added(self, items: Iterable[tuple[str, Any]], at: str,
               ) -> Iterator[tuple[int, Fact]]:
        for ref, (line, targets) in items:
            yield self._fact("targets-added", ref, at, line, {
                "targets": targets, "summary": f"listed in the {self.authority} registry"})

    @property
    def checked(self) -> str:
        """The subject of the snapshot's ``registry-checked`` (written last, changed or
        not): ``Registry.check_subject``."""
        return self.registry.check_subject(self.snapshot.sha256, self.snapshot.updated)

    def summary(self) -> str:
        """What the snapshot is, in words: a fact of the file alone (the check of a snapshot
        diffed again is the same event, whatever the first diff changed)."""
        return f"{self.entries:,} entries listed"

    def diff(self) -> None:
        """Work out what the snapshot changes (once); its entries are let go after."""
        if not self._diffed:
            self._diff()  # (every entry read, and checked: a malformed line refused)
            self.entries = len(self.snapshot.entries)
            self._diffed = True
            self.snapshot = evolve(self.snapshot, entries=())
            self.owner.clear()

    def _diff(self) -> None:
        # One pass over the entries (read again from the file, one at a time), holding
        # only what differs: the held keys not seen yet (lifted if never seen), the new
        # ones per decision (its listing, then its targets), and for each new target the
        # homes of the entries listing it (itself, if it is one's home).
        held = self.held.keys
        unseen = set(held)
        new: dict[str | None, Any] = {}  # key -> [its listing (``listed``), *its new
        # targets]
        many: dict[str | None, set[str]] = {}  # the targets of a key with many, as a set
        homes: dict[str, str | tuple[str, ...]] = {}  # new target -> its homes
        again: set[str] = set()  # new targets listed more than once
        name, decision, key = self.registry.name, None, None
        for entry in self.snapshot.entries:
            if entry.decision != decision:  # a decision's lines mostly follow each other
                decision = entry.decision
                key = None if decision is None else decision_ref(name, decision)
            for target in entry.targets:
                pair = (key, target)
                if pair in held:
                    unseen.discard(pair)
                    continue
                if self._home(homes, target, entry.home):
                    again.add(target)  # listed again: its platform is remembered
                ordered = new.get(key)
                if ordered is None:
                    new[key] = [listed(entry), target]
                    continue
                if self._fresh(ordered, many, key, target):
                    ordered.append(target)
                if entry.rank < ranked(ordered[0]):
                    ordered[0] = listed(entry)
        del many
        for ref, target in sorted((held[pair], pair[1]) for pair in unseen):
            self.lifted.setdefault(ref, []).append(target)
        if isinstance(self._holders, Holders):
            self.holders = self._holders
        else:
            self.holders = self._holders(Hosts(homes))
        self._homes, self._again = homes, again
        for key in new:
            listing, *targets = new[key]
            new[key] = None  # its list let go as its order is made
            self._order(key, listing, targets)
        del self._homes, self._again
        for platform, value in self.registered.items():  # each one record, as orders
            if value.__class__ is list:  # a platform of many targets (_register)
                self.registered[platform] = value[0] + packed(("", *value[1:]),
                                                              len(value) - 1)

    def _order(self, key: str | None, listing: bytes, targets: list[str]) -> None:
        when = stamp(self.snapshot.updated)
        taken = self.held.taken
        if key is None:
            ref = free_ref(f"{self.registry.name}-list-{when}", taken)
        else:  # a reference taken, for ever (retracted or not), is derived again
            ref = key if key not in taken else free_ref(f"{key}-at-{when}", taken)
        line = line_of(listing)
        platforms = dict.fromkeys([self._platform(target, line) for target in targets])
        try:
            self.orders[ref] = listing + packed(
                ("", ITEM.join(platforms), ITEM.join(targets)), 2,
                len(platforms) + len(targets) - 2)
        except ValueError:
            self._refuse_platforms(list(platforms), line)
            raise  # a separator in a target: the snapshot's reader let one through

    def _refuse_platforms(self, platforms: list[str], line: int) -> None:
        """Refuse, in one line naming the file, line and field as the order's write would
        have, a platform reference no record can hold: the ledger's holders are read back
        as stored, and one tampered with can hold a separator (U+001F, U+001E); only then
        is each checked, so a plan pays nothing for it."""
        field = "data.platform" if len(platforms) == 1 else "data.platforms"
        for platform in platforms:
            try:
                check_slug(platform, field)
            except BadInput as error:
                raise BadInput(f"{self.snapshot.name}, line {line}: {error.message}",
                               field=error.field) from None

    def _blocked(self, listing: Listing, names: list[str], targets: list[str],
                 ) -> dict[str, Any]:
        """The data of the order made from ``listing`` on ``names``."""
        instrument = (f"registry entry: decision {listing.decision}"
                      + (f" of {listing.decided}" if listing.decided else "")
                      + (f" ({listing.organisation})" if listing.organisation else "")
                      if listing.decision else
                      f"registry list of {self.snapshot.updated:%Y-%m-%d}")
        return {
            **({"platform": names[0]} if len(names) == 1 else {"platforms": names}),
            "authority": self.authority, "targets": targets,
            "reasons": [f"listed in the {self.authority} registry"
                        + (f" on the decision of {listing.organisation}"
                           if listing.organisation else "")],
            "instrument": instrument[:1000], "jurisdiction": self.jurisdiction}

    def _platform(self, target: str, line: int) -> str:
        """The platform ``target`` is ordered on (registering it, or adding the target to
        it, where needed): its own home's, else the least of its homes' (the class's
        rules); ``line``, that of the order, for a refusal to name."""
        known = self.owner.get(target)
        if known is not None:
            return known
        # asked once (a target listed again is remembered in ``owner``, below): its homes
        # let go, and with them the last hold on its string, as the orders are made
        found = self._homes.pop(target)
        platform, home = min((self._home_platform(h), h) for h in (
            (found,) if isinstance(found, str) else found))
        created = self.holders.platforms.get(platform)
        if created is not None and created > self.snapshot.updated:
            raise Refused(
                f"refused: {self.snapshot.name}, line {line}: {displayed(target)} is "
                f"held by no platform at {self.snapshot.updated.isoformat()}, and the "
                f"platform this import would register for it, {platform}, exists only from "
                f"{created.isoformat()}: correct that registration's time (occurred_at) if "
                "it was reached there already: nothing written")
        if created is not None:  # in the ledger: does it hold the target?
            if not self._holds(platform, target):
                self.added.setdefault(platform, (line, []))[1].append(target)
        else:  # registered by this snapshot: with every target it is given
            self._register(platform, line, home, target)
        if target in self._again:  # asked again (another decision lists it)
            self.owner[target] = platform
        return platform

    def _register(self, platform: str, line: int, home: str, target: str) -> None:
        # One record a platform (``packed``: its line, its home unless the platform's
        # own name, its targets), grown by copying while short (a tuple and a list each
        # were 190 bytes a platform, 95 MB at 500,000; a tuple and its line 103, a record
        # 70), then a list of it and its later targets, so that a platform of thousands
        # stays linear (one record once diffed).
        value = self.registered.get(platform)
        if value is None:
            self.registered[platform] = packed(
                (str(line), "" if home == platform else home, target), 2)
        elif value.__class__ is list:
            value.append(target)
        elif separators(value) < 40:
            self.registered[platform] = value + packed(("", target), 1)
        else:
            self.registered[platform] = [value, target]

    def _home_platform(self, home: str) -> str:
        """The platform of the entries whose home is ``home``: the one holding it then,
        else the one registered for it."""
        return self._holder(home) or new_platform(home)

    def _holder(self, host: str) -> str | None:
        found = self.holders.find(host, self.snapshot.updated)
        if found is None or isinstance(found, str) or found.later:
            return None  # nobody then (or several): a platform of its own
        return found.platform

    def _holds(self, platform: str, target: str) -> bool:
        # by the platform's own spans: a target several platforms hold (an address shared
        # by two decisions) is held, not "nobody's" (which planned a targets-added the
        # rules refuse, for this snapshot and every later one)
        return self.holders.holds(platform, target, self.snapshot.updated)

    #: A decision's new targets are checked for repeats in its list up to this many, then
    #: in a set of its own (most decisions list one to three targets).
    LISTED = 16

    @staticmethod
    def _fresh(ordered: list[Any], many: dict[str | None, set[str]], key: str | None,
               target: str) -> bool:
        """Whether ``target`` is not yet among the targets of ``ordered`` (and note it)."""
        seen = many.get(key)
        if seen is not None:
            if target in seen:
                return False
            seen.add(target)
            return True
        if target in ordered:
            return False
        if len(ordered) > Plan.LISTED:
            many[key] = {*ordered[1:], target}
        return True

    @staticmethod
    def _home(homes: dict[str, str | tuple[str, ...]], target: str, home: str) -> bool:
        """Note that an entry of home ``home`` lists ``target``: its homes are itself when
        it is one's home, else every home of an entry listing it. Whether it was listed
        before."""
        found = homes.get(target)
        if found is None or home == target:
            homes[target] = home
        elif found == target:
            pass
        elif isinstance(found, str):
            if found != home:
                homes[target] = (found, home)
        elif home not in found:
            homes[target] = (*found, home)
        return found is not None

    def _fact(self, kind: str, subject: str, at: str, line: int,
              data: dict[str, Any]) -> tuple[int, Fact]:
        snap = self.snapshot
        try:
            return line, Fact.from_json({
                "id": self.registry.id_text(snap.sha256, kind, subject),
                "type": kind, "subject": subject, "occurred_at": at,
                "sources": [{"title": f"{snap.name}: the {self.authority} registry, updated "
                                      f"{snap.updated.isoformat()}", "sha256": snap.sha256}],
                "data": data})
        except BadInput as error:
            raise BadInput(f"{snap.name}, line {line}: {error.message}",
                           field=error.field) from None
