"""The status of platforms at a valid time, as known at a record time (DESIGN "Status")."""

from __future__ import annotations

from typing import Any

from domain.errors import SubjectNotFound
from domain.timeline import OrderState, PlatformState, RequestState
from domain.values import When
from projections.book import Book


def platform_status(book: Book, ref: str, *, as_of: When | None = None,
                    as_known_at: When | None = None) -> dict[str, Any]:
    """The status object of platform ``ref``: state, blocked targets, orders, requests."""
    at = as_of.instant if as_of else None
    platform = book.state("platform", ref, at)
    if platform is None:
        when = f" as of {as_of}" if as_of else ""
        known = f" as known at {as_known_at}" if as_known_at else ""
        raise SubjectNotFound(f"platform {ref} is not registered{when}{known}")
    assert isinstance(platform, PlatformState)
    orders = [s for s in (book.state("order", r, at) for r in book.related(ref, "order"))
              if isinstance(s, OrderState)]
    requests = [s for s in (book.state("request", r, at) for r in book.related(ref, "request"))
                if isinstance(s, RequestState)]
    blocked = set().union(*(o.blocked for o in orders))
    return {
        "platform": ref,
        "name": platform.name,
        "state": _platform_state(platform.targets, blocked),
        "as_of": as_of.text if as_of else None,
        "as_known_at": as_known_at.text if as_known_at else None,
        "blocked_targets": _ordered(blocked, platform.targets),
        "orders": [{
            "ref": o.ref,
            "authority": o.authority,
            "state": o.state,
            "blocked_targets": _ordered(o.blocked, o.targets),
        } for o in orders],
        "normalizations": [{
            "ref": r.ref,
            "state": r.state,
            "conditions": dict(r.conditions),
        } for r in requests],
        "observed": {},
    }


def all_status(book: Book, *, as_of: When | None = None,
               as_known_at: When | None = None) -> list[dict[str, Any]]:
    """The status of every platform registered by ``as_of``."""
    at = as_of.instant if as_of else None
    return [platform_status(book, ref, as_of=as_of, as_known_at=as_known_at)
            for ref in book.refs("platform") if book.state("platform", ref, at) is not None]


def _platform_state(registered: tuple[str, ...], blocked: set[str]) -> str:
    if not blocked:
        return "accessible"
    if not registered or set(registered) <= blocked:
        return "blocked"
    return "partially-blocked"


def _ordered(targets: set[str], order: tuple[str, ...]) -> list[str]:
    """``targets`` in the order they were registered, any others after, sorted."""
    known = [t for t in order if t in targets]
    return known + sorted(targets - set(known))
