"""Which platforms an event concerns: the one rule that the history view, the checkpoints'
platform index and the provenance reports share.

- A platform's events concern that platform.
- An order's or a request's events concern every platform the subject has ever named: the
  ``platform`` of its creating event, and the ``platform`` set by any correction of that
  event (a correction that moves an order to another platform). So once an order has
  been moved from ``alpha`` to ``beta``, all its events, earlier ones included, concern
  both: ``beta``'s status and report must see the order (it is in force there by a full
  replay), and ``alpha``'s report must still show that it was once named there. Whether
  the order counts for a platform at a given record time is the fold's business
  (``projections.book.Book.related``), not this index's.
- An amendment concerns what its target's subject concerns.
- A subject of any other kind (operators) concerns no platform.

``Concerns`` folds events in log order and says, for each, its subject and the platforms
that subject concerns now, and which platforms it has newly come to concern (whose earlier
events must then be indexed under them too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain import vocabulary as _vocabulary  # noqa: F401 (fills REGISTRY)
from domain.declaration import REGISTRY

Subject = tuple[str, str]  # (kind, reference)


class Concerns:
    """The platforms each subject concerns, folded over the log in order.

    Events are given as their exported JSON objects (``id``, ``type``, ``subject``,
    ``data``). An amendment's subject kind is that of its target: remembered here for
    every event seen, or asked of ``kind_of`` (an event id to its subject's kind) when
    ``remembered`` events have been forgotten to keep memory flat.
    """

    def __init__(self, *, kind_of: Callable[[str], str | None] | None = None,
                 platforms_of: Callable[[Subject], set[str]] | None = None,
                 remembered: int | None = None):
        self._kind_of = kind_of
        self._platforms_of = platforms_of
        self._remembered = remembered
        self.kinds: dict[str, str] = {}
        self.platforms: dict[Subject, set[str]] = {}

    def add(self, obj: Mapping[str, Any]) -> tuple[Subject, frozenset[str], frozenset[str]]:
        """Fold in one event; return ``(subject, platforms it concerns, newly concerned)``.

        ``newly concerned`` is non-empty when this event (a creating event, or a correction
        that names another platform) made its subject concern a platform it did not: every
        earlier event of the subject concerns that platform too.
        """
        declared = REGISTRY[obj["type"]]
        kind = declared.subject
        data = obj.get("data") or {}
        if kind == "any":
            kind = self.kinds.get(data["target"]) or (
                self._kind_of(data["target"]) if self._kind_of else None)
            if kind is None:
                raise KeyError(f"the target {data['target']} of event {obj['id']} is unknown")
        elif declared.also:  # an observation: of the order of that name if one exists
            kind = declared.about(obj["subject"], self._exists)
        subject = (kind, obj["subject"])
        self._remember(obj["id"], kind)
        known = self.platforms.get(subject)
        if known is None:
            known = set(self._platforms_of(subject)) if self._platforms_of else set()
            self.platforms[subject] = known
        named = _named(kind, obj, declared.creates, data)
        new = frozenset(named - known)
        known |= new
        return subject, frozenset(known), new

    def _exists(self, kind: str, ref: str) -> bool:
        """Whether subject ``(kind, ref)`` was created earlier in the log."""
        if (kind, ref) in self.platforms:
            return True
        return bool(self._platforms_of((kind, ref))) if self._platforms_of else False

    def _remember(self, event_id: str, kind: str) -> None:
        if self._remembered is not None and len(self.kinds) >= self._remembered:
            self.kinds.clear()
            self.platforms.clear()
        self.kinds[event_id] = kind


def _named(kind: str, obj: Mapping[str, Any], creates: bool, data: Mapping[str, Any]) -> set[str]:
    """The platforms this one event names for its subject."""
    if kind == "platform":
        return {obj["subject"]}
    if creates:
        return _platforms_in(data)
    if obj["type"] == "correction":
        return _platforms_in(data.get("set") or {})
    return set()


def platforms_named(fact: Any) -> set[str]:
    """The platforms one fact of an order or a request names: those of its creating event
    (``platform``, or ``platforms`` of an order over many), those a correction sets; none
    for any other fact (its subject's creation says what it concerns)."""
    if fact.type == "correction":
        return _platforms_in(fact.data.set.as_dict())
    if not fact.kind.creates:
        return set()
    found = set(getattr(fact.data, "platforms", None) or ())
    platform = getattr(fact.data, "platform", None)
    if platform:
        found.add(platform)
    return found


def _platforms_in(fields: Mapping[str, Any]) -> set[str]:
    found = set()
    value = fields.get("platform")
    if isinstance(value, str) and value:
        found.add(value)
    for value in fields.get("platforms") or ():  # the second edition's many-platform orders
        if isinstance(value, str) and value:
            found.add(value)
    return found
