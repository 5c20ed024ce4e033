"""A check of a backfill (``sources.registry_backfill``): which platform holds the later
snapshot's orders once the backfilled one is placed before it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from domain.errors import Refused
from domain.fact import Fact
from sources.domains import candidates

#: The suffix of an order made again for a decision listed anew (``sources.registry``;
#: its reference derived again, ``-again-N``, where another order took it).
_AT = re.compile(r"-at-\d{14}(?:-again-\d{1,9})?$")


def check_holders(name: str, own: Iterable[tuple[int, Fact]], later: Iterable[str],
                  moved: set[str], t_b: datetime, read: Callable[[str, str], list[Fact]],
                  theirs: Callable[[Fact], Any], holders: Any) -> None:
    """Refuse (nothing written) a backfill of snapshot ``name`` whose own events (``own``)
    give a target, or a domain above it, to a platform that an order the next snapshot's
    import made at ``t_b`` (``later``, less those the backfill ``moved`` to its own time)
    is not of: imported in order, that import would have found the target held by the
    backfilled snapshot's platform, and ordered it for that one (an address listed under
    two decisions, say). The same for a platform whose registration or targets the
    backfill moves to its own time (``holders``, with the moves made: who holds the target
    just before ``t_b``). Attributed otherwise, the ledger would not be the one an import
    in order gives."""
    given = _given(own)
    before = t_b - timedelta(microseconds=1)
    for ref in sorted(set(later) - moved):
        first = read("order", ref)[0]
        if first.occurred_at.instant != t_b or theirs(first) is None:
            continue
        platforms = set(first.data.platforms or (first.data.platform,))
        for target in first.data.targets:
            holder = _nearest(target, given, holders.find(target, before))
            if holder is not None and holder not in platforms:
                raise Refused(
                    f"refused: {name} gives {target} to platform {holder}, and order {ref}, "
                    f"made at {t_b.isoformat()}, is of {', '.join(sorted(platforms))}: "
                    f"imported in order it would be {holder}'s; a backfill cannot place it: "
                    "nothing written")


def check_moved(name: str, listed: dict, moved_keys: Iterable[tuple[Any, str]],
                b: dict[Any, str], t: datetime, t_b: datetime, holders: Any,
                new_platform: Callable[[str], str]) -> None:
    """Refuse (nothing written) a backfill of snapshot ``name`` that would move to its time
    (``t``) an order the next snapshot's import made at ``t_b`` whose target no platform
    holds at ``t`` and that the later import gave a platform other than the one the
    snapshot, imported in order, would register for the entry listing it (its home's):
    an address that the later snapshot lists under two decisions, say. Checked before
    any move (``holders`` as the ledger holds them)."""
    for key in sorted(moved_keys, key=lambda k: (k[0] or "", k[1])):
        if key not in b:
            continue
        target = key[1]
        found = holders.find(target, t)
        if found is not None and not isinstance(found, str) and not found.later:
            continue  # held at S's time already: S's import finds the same
        then = holders.find(target, t_b)
        if then is None or isinstance(then, str):
            continue
        own = new_platform(listed[key].home)
        if then.platform != own:
            raise Refused(f"refused: {name} lists {target} with {listed[key].home}, which "
                          f"an import in order registers as platform {own}; order {b[key]}, "
                          f"made at {t_b.isoformat()}, gave it to {then.platform}: a "
                          "backfill cannot place it: nothing written")


def check_shared(name: str, listed: Iterable[tuple[Any, str]], orders: Iterable[str],
                 read: Callable[[str, str], list[Fact]]) -> None:
    """Refuse (nothing written) a backfill of snapshot ``name`` where a target it lists,
    or the registry held before or after it (``listed``: keys of the three), is listed
    under two decisions, there or by any of the registry's orders (``orders``, of any
    time): an address shared by decisions. Which platform such a
    target goes to depends on every entry listing it at each snapshot's time, which a
    backfill does not re-derive (the review's cases: 6.6.6.6 listed with six.example.net
    under D-7 and alone under D-6, in orders that narrower checks missed, verify passing);
    so it is refused rather than guessed. Snapshots imported oldest first take it. Reads
    each of the registry's orders once."""
    mine: dict[str, set[Any]] = {}
    for decision, target in listed:
        if decision is not None:  # a plain domain list has no decisions to share
            mine.setdefault(target, set()).add(decision)
    if not mine:
        return
    for ref in sorted(orders):
        base = _AT.sub("", ref)
        facts = read("order", ref)
        if not facts or facts[0].type != "blocked":
            continue
        for target in facts[0].data.targets:
            if target in mine:
                mine[target].add(base)
    for target in sorted(mine):
        if len(mine[target]) > 1:
            named = ", ".join(sorted(mine[target]))
            raise Refused(f"refused: backfilling {name} touches {target}, which the registry "
                          "lists under "
                          f"more than one decision ({named}): a backfill cannot place a "
                          "target shared by decisions exactly; import the snapshots oldest "
                          "first: nothing written")


def check_beyond(name: str, own: Iterable[tuple[int, Fact]], orders: Iterable[str],
                 t_b: datetime, read: Callable[[str, str], list[Fact]]) -> None:
    """Refuse (nothing written) a backfill of snapshot ``name`` whose own events give a
    target (or a domain above it) to a platform that an order of the registry made after
    the next snapshot (``t_b``) holding that target is not of. ``check_holders`` looks at
    the next snapshot's orders; a later one's platform was chosen by who held the target
    then, which the backfill changes too (6.6.6.6 given to example.net's platform by the
    backfilled snapshot, where a later snapshot's import, not knowing it, had made it a
    platform of its own). Refused, not re-derived: some such orders would be placed right."""
    given = _given(own)
    if not given:
        return
    for ref in sorted(orders):
        facts = read("order", ref)
        if not facts or facts[0].occurred_at.instant <= t_b:
            continue
        first = facts[0]
        platforms = set(first.data.platforms or (first.data.platform,))
        for target in first.data.targets:
            holder = next((given[c] for c in candidates(target) if c in given), None)
            if holder is not None and holder not in platforms:
                raise Refused(
                    f"refused: {name} gives {target} to platform {holder}, and order {ref}, "
                    f"made at {first.occurred_at.instant.isoformat()} after the next "
                    f"snapshot, is of {', '.join(sorted(platforms))}: a backfill cannot "
                    "re-derive which platform a later import would have found: nothing "
                    "written")


def _nearest(target: str, given: dict[str, str], found: Any) -> str | None:
    """Who an import in order finds holding ``target``: the platform the backfilled
    snapshot gives it (or a domain above it), unless the ledger's holder just before the
    next snapshot (``found``, ``Holders.find``) holds a nearer one (the target itself, say,
    where the snapshot gives its parent domain: matching takes the nearest)."""
    hosts = candidates(target)
    mine = next(((i, given[c]) for i, c in enumerate(hosts) if c in given), None)
    if found is None or isinstance(found, str) or found.later:
        return mine[1] if mine else None
    if mine is None or hosts.index(found.target) < mine[0]:
        return found.platform
    return mine[1]


def _given(own: Iterable[tuple[int, Fact]]) -> dict[str, str]:
    """Each target the backfilled snapshot's own events give a platform: the first one."""
    given: dict[str, str] = {}
    for _, fact in own:
        if fact.type in ("platform-registered", "targets-added"):
            for target in fact.data.targets:
                given.setdefault(target, fact.subject)
    return given
