"""A check of a backfill (``sources.registry_backfill``): which platform holds the later
snapshot's orders once the backfilled one is placed before it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from domain.errors import Refused
from domain.fact import Fact
from sources.domains import candidates


def check_holders(name: str, own: Iterable[tuple[int, Fact]], later: Iterable[str],
                  moved: set[str], t_b: datetime, read: Callable[[str, str], list[Fact]],
                  theirs: Callable[[Fact], Any]) -> None:
    """Refuse (nothing written) a backfill of snapshot ``name`` whose own events (``own``)
    give a target, or a domain above it, to a platform that an order the next snapshot's
    import made at ``t_b`` (``later``, less those the backfill ``moved`` to its own time)
    is not of: imported in order, that import would have found the target held by the
    backfilled snapshot's platform, and ordered it for that one (an address listed under
    two decisions, say). Attributed otherwise, the ledger would not be the one an import
    in order gives."""
    given: dict[str, str] = {}
    for _, fact in own:
        if fact.type in ("platform-registered", "targets-added"):
            for target in fact.data.targets:
                given.setdefault(target, fact.subject)
    if not given:
        return
    for ref in sorted(set(later) - moved):
        first = read("order", ref)[0]
        if first.occurred_at.instant != t_b or theirs(first) is None:
            continue
        platforms = set(first.data.platforms or (first.data.platform,))
        for target in first.data.targets:
            holder = next((given[c] for c in candidates(target) if c in given), None)
            if holder is not None and holder not in platforms:
                raise Refused(
                    f"refused: {name} gives {target} to platform {holder}, and order {ref}, "
                    f"made at {t_b.isoformat()}, is of {', '.join(sorted(platforms))}: "
                    f"imported in order it would be {holder}'s; a backfill cannot place it: "
                    "nothing written")
