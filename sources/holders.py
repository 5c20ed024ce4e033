"""Which platform holds a host at a valid time: every platform's targets over time, read once.

Targets are held by platforms over valid time (``platform-registered``, ``targets-added``,
``targets-removed``, as corrected or retracted). An importer of measurements asks "who held
this host then?" once per measurement, hundreds of thousands of times: ``Holders`` answers
from spans of valid time worked out once, from one read of the platforms' events (a page
of the history view at a time, ``read_holders``), never a fold per measurement.

A target is held from the instant of the event that gives it to a platform up to (not
including) the instant of the ``targets-removed`` that takes it away, as the rules fold
them (an observation at the very instant of a removal comes after it).
"""

from __future__ import annotations

from collections.abc import Callable, Container, Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson
from attrs import frozen

from domain.amendments import effective
from domain.errors import IntegrityFailure
from domain.fact import Fact
from domain.timeline import in_valid_order
from domain.values import stored_when
from sources.domains import candidates, parents

#: The events that give or take targets, and the amendments that may change them.
_READ = frozenset({"platform-registered", "targets-added", "targets-removed", "correction",
                   "retraction"})
#: History rows read a query.
PAGE = 5000


@frozen
class Held:
    """A host found held: by ``platform``, as its target ``target`` (the host itself, or
    the parent domain it was matched through: ``by_parent``)."""

    platform: str
    target: str
    by_parent: bool
    #: Held only after the time asked about: the rules will refuse the observation.
    later: bool = False


#: ``Holders.find`` found several platforms holding the host at that time.
AMBIGUOUS = "ambiguous"


class Holders:
    """Targets and the platforms holding them, over valid time."""

    def __init__(self, is_order: Callable[[str], bool] = lambda ref: False):
        #: target -> [(from, until or None, platform)]
        self._spans: dict[str, list[tuple[datetime, datetime | None, str]]] = {}
        #: platform -> when it was created (its registration's valid time)
        self.platforms: dict[str, datetime] = {}
        self._is_order = is_order
        self._orders: dict[str, bool] = {}

    def add_platform(self, ref: str, facts: Iterable[Fact]) -> None:
        """Take platform ``ref``'s facts (in recording order, amendments included)."""
        held: dict[str, datetime] = {}
        for fact in in_valid_order(effective(list(facts)).facts):
            at = fact.occurred_at.instant
            if fact.type == "platform-registered":
                self.platforms.setdefault(ref, at)
                for target in fact.data.targets:
                    held.setdefault(target, at)
            elif fact.type == "targets-added":
                for target in fact.data.targets:
                    held.setdefault(target, at)
            elif fact.type == "targets-removed":
                for target in fact.data.targets:
                    start = held.pop(target, None)
                    if start is not None:
                        self._hold(target, ref, start, at)
        for target, start in held.items():
            self._hold(target, ref, start, None)

    def add_registered(self, ref: str, at: datetime, targets: Iterable[str],
                       wanted: Container[str] | None = None) -> None:
        """``add_platform`` of a platform whose one event (of those that give or take
        targets) is its registration at ``at`` with ``targets``: most platforms, taken
        without building their facts; only the ``wanted`` targets, if given."""
        self.platforms.setdefault(ref, at)
        for target in dict.fromkeys(targets):
            if wanted is None or target in wanted:
                self._hold(target, ref, at, None)

    def moved(self, ref: str, created: datetime, at: datetime, *,
              registration: bool = True) -> None:
        """Platform ``ref``'s registration (or, not ``registration``, the targets it was
        given) at ``created`` corrected to ``at``: what it was given then is held from
        ``at`` (``sources.registry_backfill``)."""
        if registration:
            self.platforms[ref] = at
        for spans in self._spans.values():
            for i, (start, until, holder) in enumerate(spans):
                if holder == ref and start == created:
                    spans[i] = (at, until, holder)

    def _hold(self, target: str, ref: str, start: datetime, until: datetime | None) -> None:
        self._spans.setdefault(target, []).append((start, until, ref))

    def is_order(self, ref: str) -> bool:
        """Whether an order is called ``ref`` too: an observation named so is the order's
        (``EventType.about``), so a platform of that name cannot be observed in the
        interchange format."""
        found = self._orders.get(ref)
        if found is None:
            found = self._orders[ref] = self._is_order(ref)
        return found

    def find(self, host: str, at: datetime) -> Held | str | None:
        """Who held ``host`` at ``at`` (the rules of matching: ``sources.domains``):
        ``Held``; ``AMBIGUOUS`` when several platforms held the first target that anyone
        held then; else, when a platform holds it only later (it did not exist yet, or
        had not the target yet), that platform, whose rules will refuse the observation,
        naming it; None when nobody holds it at or after ``at``."""
        later: Held | None = None
        for target in _targets(host):
            spans = self._spans.get(target)
            if spans is None:
                continue
            found = _at(spans, host, target, at)
            if found is AMBIGUOUS or (found is not None and not found.later):  # type: ignore[union-attr]
                return found
            later = later or found  # type: ignore[assignment]
        return later

    def holds(self, platform: str, target: str, at: datetime) -> bool:
        """Whether ``platform`` holds ``target`` itself at ``at``, whoever else holds it
        too (``find`` answers ``AMBIGUOUS`` then, which is not "nobody")."""
        return any(ref == platform and start <= at and (until is None or at < until)
                   for start, until, ref in self._spans.get(target, ()))

    def ever_held(self, host: str) -> bool:
        """Whether any platform holds, or ever held, ``host`` (by the rules of matching)."""
        return any(target in self._spans for target in candidates(host))


class Hosts:
    """The hosts a plan will look up, and their parent domains (``Container``, for
    ``read_holders``' ``wanted``): the keys of ``homes``, new targets, and its values,
    the homes of the entries listing them, without a set of them all (at 500,000
    entries, two sets of 1.2 million hosts were 130 MB)."""

    def __init__(self, homes: dict[str, str | tuple[str, ...]]):
        self._homes = homes
        others: set[str] = set()  # homes that are no new target, and every parent
        for target, found in homes.items():
            for home in (found,) if isinstance(found, str) else found:
                # a home already noted has its parents noted: as a home, or as a
                # parent of a target (whose own parents are among that target's)
                if home not in homes and home not in others:
                    others.add(home)
                    others.update(parents(home))
            others.update(parents(target))
        self._others = others

    def __contains__(self, host: object) -> bool:
        return host in self._homes or host in self._others


def _targets(host: str) -> Iterator[str]:
    """The host, then (only if asked for: most hosts are held as they are) its parents."""
    yield host
    yield from parents(host)


def _at(spans: list[tuple[datetime, datetime | None, str]], host: str, target: str,
        at: datetime) -> Held | str | None:
    """Who of ``spans`` (of ``target``) held it at ``at``, else holds it first after."""
    if len(spans) == 1:  # most targets: one platform, from when it was given them
        start, until, ref = spans[0]
        if start <= at and (until is None or at < until):
            return Held(ref, target, target != host)
        return Held(ref, target, target != host, later=True) if start > at else None
    now = {ref for start, until, ref in spans if start <= at and (until is None or at < until)}
    if len(now) == 1:
        return Held(now.pop(), target, target != host)
    if now:
        return AMBIGUOUS
    after = sorted((start, ref) for start, _, ref in spans if start > at)
    return Held(after[0][1], target, target != host, later=True) if after else None


def read_holders(ledger: Any, wanted: Container[str] | None = None) -> Holders:
    """Every platform's targets over time, from the ledger's history view (caught up
    first): a page of rows at a time. A platform whose one event that gives or takes
    targets is its registration (most) is taken from its row as it is; any other is read
    again by itself and folded from its facts (``add_platform``). With ``wanted``, only
    those targets are taken from registrations (every platform is still known, and a
    platform read again keeps all its targets): ``find`` answers the same for a host
    whose every candidate (itself and its parent domains) is wanted."""
    from sources.view_rows import Checked, caught_up, damaged

    views, last = caught_up(ledger)
    order, platform = views.blind("order"), views.blind("platform")
    registered: dict[str, tuple[datetime, list[str]]] = {}
    others: set[str] = set()  # platforms with more than their registration: read again
    rows_read = Checked(views, "platform", last)  # the view's rows, checked as read
    for _, obj in rows_read:
        ref = obj["subject"]
        if obj["type"] not in _READ or ref in others:
            continue
        if obj["type"] == "platform-registered" and ref not in registered:
            registered[ref] = (stored_when(obj["occurred_at"]).instant, obj["data"]["targets"])
        else:
            registered.pop(ref, None)
            others.add(ref)

    def is_order(ref: str) -> bool:
        return any(k == order for k, _ in views.store.subject_kinds(views.blind(ref)))

    holders = Holders(is_order)
    for ref, (at, targets) in registered.items():
        holders.add_registered(ref, at, targets, wanted)
    decode = views.ledger.mapper.decode_state
    for ref in sorted(others):
        rows = [row for row in views.store.history_rows(subject=(platform, views.blind(ref)))
                if row[0] <= last]  # not another writer's since the scan
        if len(rows) != rows_read.subjects.get(ref):  # as many as the scan found
            raise IntegrityFailure(damaged(f"platform {ref}'s rows differ from its events"))
        holders.add_platform(ref, [fact for fact in (
            Fact.from_stored(orjson.loads(decode(body))) for _, body in rows)
            if fact.type in _READ])
    return holders


def kind_objects(views: Any, kind: str,
                 until: int | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(position, stored object)`` of every event of the subjects of ``kind``, in
    position order, from the history view (caught up by the caller), a page at a time; with
    ``until``, those at or before that position only (another writer's rows since are not
    read: a count of the events up to it then agrees)."""
    decode = views.ledger.mapper.decode_state
    after = 0
    while rows := views.store.kind_rows(views.blind(kind), after=after, limit=PAGE):
        for position, body in rows:
            if until is not None and position > until:
                return
            yield position, orjson.loads(decode(body))
        after = rows[-1][0]
