"""The whole ledger's history as ``projections.history.ledger_rows`` streamed it at
commit adb47bb (before it was made faster), kept unchanged as the oracle that the faster
path must match byte for byte (``tests/test_history_bytes.py``). Not used by the ledger.

Only the names it needs from ``projections.history`` are imported (``Line``, ``Filter``,
``changed_fields``, the ``Book`` path for ``as_known_at``): those are the same code either
way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson

from domain.amendments import AMENDMENTS, effective
from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure
from domain.fact import Fact
from domain.timeline import OTHER_RANK, SAME_INSTANT_RANK, valid_key
from domain.values import When, stored_when
from projections.history import Filter, Line, _book_rows, changed_fields

PLATFORMS = 50
_SUBJECT_OF = {name: kind.subject for name, kind in REGISTRY.items()}
_CREATES = frozenset(name for name, kind in REGISTRY.items() if kind.creates)
_OBSERVED = frozenset(name for name, kind in REGISTRY.items() if kind.also)


def ledger_rows(views: Any, *, as_of: When | None = None,
                as_known_at: datetime | None = None, keep: Filter = Filter(),  # noqa: B008
                read: Callable[[int], None] | None = None) -> Iterator[dict[str, Any]]:
    """The whole ledger's history, streamed: platform by platform (each with its orders
    and requests, by valid time), then the subjects that concern no platform. Only a few
    platforms' events are held at a time, so the first rows come at once and memory stays
    flat however long the ledger. ``read`` is told how many events were read so far.

    Facts are built only for the events an amendment touches (and for every event with
    ``as_known_at``); the others' rows are their stored objects, checked for the shape
    of a stored event: a damaged one is ``IntegrityFailure`` naming its position, as a
    fact's decoding would be.
    """
    store, done = views.store, 0
    decode = views.ledger.mapper.decode_state
    keys = store.platforms_since(0)
    groups = [keys[i:i + PLATFORMS] for i in range(0, len(keys), PLATFORMS)] + [[""]]
    for group in groups:
        held = store.platform_rows(group)
        for key in group:
            stored = held.pop(key, ())
            done += len(stored)
            objs = [(position, _stored(position, body, decode)) for position, body in stored]
            yield from _platform_rows(objs, everything=key == "", as_of=as_of,
                                      as_known_at=as_known_at, keep=keep)
            if read is not None:
                read(done)


#: Per event type: its data fields, and those it requires.
_FIELDS = {name: (frozenset(n for n, _ in kind.fields()),
                  frozenset(n for n, spec in kind.fields() if spec.required))
           for name, kind in REGISTRY.items()}
_ENVELOPE = frozenset(("id", "subject", "occurred_at", "sources", "recorded_at"))


def _stored(position: int, body: bytes | None, decode: Callable[[bytes], bytes]) -> dict[str, Any]:
    """The stored object at ``position``, if it has the shape of a stored event: a known
    type, the envelope, data fields of that type (those it requires among them), a valid
    time that parses; ``IntegrityFailure`` naming the position otherwise."""
    try:
        obj = orjson.loads(decode(body))  # type: ignore[arg-type]
        fields, required = _FIELDS[obj["type"]]
        data = obj["data"]
        if not (isinstance(data, dict) and data.keys() <= fields and required <= data.keys()):
            raise ValueError("its data does not fit its type")
        if not obj.keys() >= _ENVELOPE:
            raise KeyError(", ".join(sorted(_ENVELOPE - obj.keys())))
        stored_when(obj["occurred_at"])
        return obj
    except Exception as error:
        raise IntegrityFailure(_damaged(position, error)) from None


def _fact(position: int, obj: dict[str, Any]) -> Fact:
    try:
        return Fact.from_stored(obj)
    except Exception as error:
        raise IntegrityFailure(_damaged(position, error)) from None


def _damaged(position: int, error: Exception) -> str:
    reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return (f"the event at position {position} is damaged and cannot be read "
            f"({reason[:200]}); run 'blockledger verify'")


def _platform_rows(objs: list[tuple[int, dict[str, Any]]], *, everything: bool,
                   as_of: When | None, as_known_at: datetime | None,
                   keep: Filter) -> Iterator[dict[str, Any]]:
    """The history rows of one platform's stored objects (of the subjects that concern no
    platform, with ``everything``), by valid time, then position.

    Facts are built only for the events an amendment touches (the amendments and what they
    target): every other event counts as stored. With ``as_known_at`` every event goes
    through a ``Book`` (what was recorded by then decides what counts).
    """
    if as_known_at is not None:
        yield from _book_rows(objs, everything=everything, as_of=as_of,
                              as_known_at=as_known_at, keep=keep)
        return
    by_id = {obj["id"]: obj for _, obj in objs}
    kind_of: dict[str, str] = {}  # an amendment's subject kind: its target's
    # An observation is of the order of its subject's name if one was created before it
    # in the log (``EventType.about``), else of the platform: worked out in log order.
    created: set[tuple[str, str]] = set()
    for _, obj in objs:
        if obj["type"] in _CREATES:
            created.add((_SUBJECT_OF[obj["type"]], obj["subject"]))
        elif obj["type"] in _OBSERVED:
            kind_of[obj["id"]] = REGISTRY[obj["type"]].about(
                obj["subject"], lambda k, ref: (k, ref) in created)

    def kind(obj: dict[str, Any]) -> str:
        declared = _SUBJECT_OF[obj["type"]]
        if obj["type"] in _OBSERVED:
            return kind_of[obj["id"]]
        if declared != "any":
            return declared
        if obj["id"] not in kind_of:
            target = by_id.get(obj["data"]["target"])
            kind_of[obj["id"]] = kind(target) if target is not None else "any"
        return kind_of[obj["id"]]

    touched: set[str] = set()
    for _, obj in objs:
        while obj["type"] in AMENDMENTS and obj["id"] not in touched:
            touched.add(obj["id"])
            target = by_id.get(obj["data"]["target"])
            if target is None:
                break
            touched.add(target["id"])
            obj = target
    facts: dict[tuple[str, str], list[Fact]] = {}
    for position, obj in objs:
        if obj["id"] in touched:
            facts.setdefault((kind(obj), obj["subject"]), []).append(_fact(position, obj))
    amended = {key: effective(found) for key, found in facts.items()}
    now = {str(f.id): (f, key) for key, eff in amended.items() for f in eff.facts}
    platform = next((o["subject"] for _, o in objs if o["type"] == "platform-registered"),
                    None)
    own: set[tuple[str, str]] | None = None
    if platform is not None and not everything:
        own = {("platform", platform)}
        for _, obj in objs:
            if obj["type"] not in _CREATES:
                continue
            if obj["id"] not in touched:
                named = _named(obj["data"])
            elif obj["id"] in now:  # as corrected
                data = now[obj["id"]][0].data
                named = {getattr(data, "platform", None), *getattr(data, "platforms", ())}
            else:  # retracted: it stays in the history of the platform it named, marked
                named = _named(obj["data"])
            if platform in named:
                own.add((kind(obj), obj["subject"]))
    until = as_of.instant if as_of else None
    keyed: list[tuple[datetime, int, int, Any]] = []
    for position, obj in objs:
        key = (kind(obj), obj["subject"])
        if own is not None and key not in own:
            continue
        if touched and obj["id"] in touched:
            eff = amended[key]
            original = eff.original[uuid.UUID(obj["id"])]
            current = now[obj["id"]][0] if obj["id"] in now else original
            at, rank = valid_key(current)
            item: Any = Line(original=original, current=current, amendments=eff)
        else:
            at = stored_when(obj["occurred_at"]).instant
            rank, item = SAME_INSTANT_RANK.get(obj["type"], OTHER_RANK), obj
        if until is None or at <= until:
            keyed.append((at, rank, position, item))
    keyed.sort(key=lambda entry: entry[:3])
    types, since, last, by = keep.types, keep.since, keep.until, keep.operator
    for at, _, position, item in keyed:
        if isinstance(item, Line):
            if keep.keeps(item):
                yield _line_row(item, position)
            continue
        if (types and item["type"] not in types) or (since is not None and at < since) or (
                last is not None and at > last) or (by is not None
                                                    and item.get("recorded_by") != by):
            continue
        item["position"] = position
        item["summary"] = REGISTRY[item["type"]].describe(_Data(item["data"]))
        item.update(corrected_by=[], retracted_by=[], disputed_by=[])
        yield item


def _line_row(line: Line, position: int) -> dict[str, Any]:
    """``row`` of a line whose position is known (no ``Book`` to ask)."""
    out = line.current.to_json()
    out["position"] = position
    out["summary"] = line.current.describe()
    out.update(line.amendments.links(line.original.id))
    if line.corrected:
        out["original"] = changed_fields(line.original, line.current)
    return out


class _Data:
    """A stored ``data`` object read as a payload is (``d.targets``; None where absent),
    for the types' ``describe`` (not of amendments: those go through facts). It says the
    same as describing the payload: a test holds them so, event by event."""

    __slots__ = ("_raw",)

    def __init__(self, raw: dict[str, Any]):
        self._raw = raw

    def __getattr__(self, name: str) -> Any:
        return self._raw.get(name)


def _named(data: dict[str, Any]) -> set[Any]:
    """The platforms a creating event's data names (an order's ``platform``, or each of
    its ``platforms``)."""
    return {data.get("platform"), *(data.get("platforms") or ())}
