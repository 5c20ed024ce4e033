"""The events amendments touch in one platform's whole-ledger history
(``projections.history_stream``): the amendments and what they target, amended as stored
objects (``effective_stored``, the rules ``effective`` applies to facts), each laid out as
its row (``projections.history.row``)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple

from domain.amendments import AMENDMENTS, effective_stored
from domain.declaration import REGISTRY, FieldValues
from domain.errors import IntegrityFailure
from domain.stored import DATA, TYPE_OF, interchange_of
from domain.values import stored_when
from ledger.view_reads import held_twice, two_at
from projections.book import not_earlier, repeated
from projections.history import _row

_AMENDING = frozenset(AMENDMENTS)
_DESCRIBE = {name: kind.describe for name, kind in REGISTRY.items()}
#: Per amendment type: its data fields that hold field values (a correction's ``set``),
#: which its ``describe`` reads as its payload has them (``FieldValues``, in key order). Its
#: event references are read as stored: ``read`` holds them to the text ``uuid.UUID``
#: writes, which is what describing a payload's UUID prints. (Not loading the payload, as
#: the row did, saves its ``uuid.UUID`` and its class's constructor: a correction's
#: description 51,000 -> 21,200 instructions (callgrind); by CPU 6.6 -> 2.5 us (the
#: review's process_time), 10.3-11.8 -> 4.2-4.4 us at load 3.2.)
_FIELDS = {name: tuple(field for field, spec in REGISTRY[name].fields() if spec.kind == "fields")
           for name in AMENDMENTS}

#: An event as one platform's history keys it: valid time, rank, position, its struct (or
#: ``_Touched``), its subject's kind, its stored bytes and its stored object (None in JSON
#: Lines, where only the events amendments touch are read as objects).
_Keyed = tuple[datetime, int, int, Any, "str | None", bytes, "dict[str, Any] | None"]


class _Touched(NamedTuple):
    """An event an amendment touches (an amendment, or what one targets), in one
    platform's history: its interchange object as first recorded and as it counts now
    (the same object if no correction applies), and the ids of what amends it."""

    original: dict[str, Any]
    current: dict[str, Any]
    links: dict[str, list[str]]
    data: Any  # its stored struct's data

    def row(self, position: int) -> dict[str, Any]:
        """Its history row (``projections.history.row``, from the stored objects)."""
        current = self.current
        t = current["type"]
        # Its data as stored, unless a correction replaced it (``corrected_stored`` keeps
        # the data object of an event whose data fields it does not correct).
        fields = _FIELDS.get(t)
        if fields is None and current["data"] is self.original["data"]:
            shown = self.data
        else:
            shown = DATA[t](**current["data"])
            for field in fields or ():  # (a correction's ``set``: as its payload has it)
                setattr(shown, field, FieldValues(tuple(sorted(getattr(shown, field).items()))))
        summary = _DESCRIBE[t](shown)
        return _row(current, position, summary, self.links,
                    self.original if current is not self.original else None)


def _amended(keyed: list[_Keyed],
             amending: list[int]) -> dict[str, dict[str, Any]]:
    """For a platform whose events include amendments (at the indexes ``amending`` of
    ``keyed``, their kind None): each event they touch (the amendments and what they
    target) as it counts now (by id: its interchange object; a retracted one is absent).
    The amendments are applied to the stored objects (``effective_stored``, the rules
    ``effective`` applies to facts); each touched entry becomes its ``_Touched``, at its
    valid time as corrected, and an amendment's entry gets its target's kind."""
    # Each event's index: each id is held once (the group's read, ``_read_all``, or else
    # ``first_repeated``, refused a platform with one held twice: which one an amendment
    # targets would be a guess).
    by_id = {entry[3].id: i for i, entry in enumerate(keyed)}
    for i in amending:  # each targets an earlier event of its subject, as in a Book
        # (so kind_of ends)
        event = keyed[i][3]
        target = by_id.get(event.data.target)
        if (target is None or keyed[target][2] >= keyed[i][2]
                or keyed[target][3].subject != event.subject):
            raise IntegrityFailure(not_earlier(keyed[i][2], TYPE_OF[event.__class__],
                                               event.data.target))
    touched: set[str] = set()
    for i in amending:
        event = keyed[i][3]
        while TYPE_OF[event.__class__] in _AMENDING and event.id not in touched:
            touched.add(event.id)
            target = by_id.get(event.data.target)
            if target is None:
                break
            event = keyed[target][3]
            touched.add(event.id)

    lines = sorted(by_id[event] for event in touched)  # in log order, as effective needs
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    shaped: dict[str, dict[str, Any]] = {}
    for i in lines:
        event = keyed[i][3]
        found = shaped[event.id] = interchange_of(event)
        groups.setdefault((_kind_of(keyed, by_id, i), event.subject), []).append(found)
    amended = {key: effective_stored(found) for key, found in groups.items()}
    now = {event: obj for eff in amended.values() for event, obj in eff.current.items()}
    for i in lines:  # each touched event: as it counts now, at its valid time as corrected
        at, rank, position, event, kind, body, obj = keyed[i]
        original = shaped[event.id]
        current = now.get(event.id, original)
        links = amended[(kind, event.subject)].links(event.id)  # type: ignore[index]
        if current is not original:
            at = stored_when(current["occurred_at"]).instant
        keyed[i] = (at, rank, position, _Touched(original, current, links, event.data), kind,
                    body, obj)
    return now


def first_repeated(events: Iterable[tuple[int, Any]]) -> str | None:
    """``book.repeated`` of the first of ``events`` (``(position, struct)`` in log order)
    to hold the id of an earlier one, or the refusal of a position read twice (a view row
    held twice, or two events stored at one position); None if none."""
    seen: dict[str, int] = {}
    last = None
    for position, event in events:
        if position == last:  # (in log order: a position twice comes twice in a row)
            return (held_twice if seen.get(event.id) == position else two_at)(position)
        last = position
        first = seen.get(event.id)
        if first is not None:
            return repeated(position, event.id, first)
        seen[event.id] = position
    return None


def _kind_of(keyed: list[_Keyed], by_id: dict[str, int], i: int) -> str:
    """The kind of the subject of ``keyed[i]``: an amendment's (None until then) is its
    target's, down the chain of what amends what, each entry on the way given it. (A loop,
    not a recursive closure: one would hold the platform's entries in a reference cycle,
    left for the cyclic collector: 1M events, 5.6 s of CPU, 7.8-10 s with it off.)"""
    chain = []
    while keyed[i][4] is None:
        chain.append(i)
        i = by_id[keyed[i][3].data.target]
    kind = keyed[i][4]
    for j in chain:
        entry = keyed[j]
        keyed[j] = (*entry[:4], kind, *entry[5:])
    return kind  # type: ignore[return-value]
