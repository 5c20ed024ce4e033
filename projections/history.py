"""The history of a subject (or of the whole ledger) in valid-time order, on both axes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson
from attrs import frozen

from domain.amendments import AMENDMENTS, Effective, effective
from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure, SubjectNotFound
from domain.fact import Fact
from domain.timeline import OTHER_RANK, SAME_INSTANT_RANK, valid_key
from domain.values import When, stored_when
from ledger.application import Entry
from projections.book import KINDS, Book

if TYPE_CHECKING:
    from projections.views import Views

#: Platforms whose rows one query reads while the whole ledger's history streams.
PLATFORMS = 50
#: Per event type, looked up once: its subject kind, whether it creates, its description.
_SUBJECT_OF = {name: kind.subject for name, kind in REGISTRY.items()}
_CREATES = frozenset(name for name, kind in REGISTRY.items() if kind.creates)
_DESCRIBE = {name: kind.describe for name, kind in REGISTRY.items()}
#: Types about one of several kinds of subject (observations: of an order or a platform).
_OBSERVED = frozenset(name for name, kind in REGISTRY.items() if kind.also)


@frozen
class Line:
    """One event in a history: as first recorded, as it counts now, and its amendments."""

    original: Fact
    current: Fact
    amendments: Effective

    @property
    def corrected(self) -> bool:
        return self.current is not self.original


def lines(book: Book, subject: str | None = None, *, as_of: When | None = None,
          subjects: list[tuple[str, str]] | None = None) -> list[Line]:
    """Every event about ``subject`` (a platform brings its orders and requests), amendments
    included, by valid time (as corrected), then position; only what occurred by ``as_of``.
    ``subjects`` names the subjects' keys instead."""
    keys = subjects if subjects is not None else (
        list(book.subjects) if subject is None else _keys(book, subject))
    out = []
    for key in keys:
        eff = book.effective(*key)
        current = {f.id: f for f in eff.facts}
        for fact in book.facts(*key):
            line = Line(original=fact, current=current.get(fact.id, fact), amendments=eff)
            if as_of is None or line.current.occurred_at.instant <= as_of.instant:
                out.append(line)
    out.sort(key=lambda line: (valid_key(line.current), book.position(line.original)))
    return out


def history(book: Book, subject: str | None = None, *,
            as_of: When | None = None) -> list[dict[str, Any]]:
    """History rows: each event as it counts now (corrected, with its original values),
    its position, a one-line summary, and the ids of what corrected, retracted or disputed
    it."""
    return [row(book, line) for line in lines(book, subject, as_of=as_of)]


def row(book: Book, line: Line) -> dict[str, Any]:
    """One history row."""
    out = line.current.to_json()
    out["position"] = book.position(line.original)
    out["summary"] = line.current.describe()
    out.update(line.amendments.links(line.original.id))
    if line.corrected:
        out["original"] = changed_fields(line.original, line.current)
    return out


def changed_fields(before: Fact, after: Fact) -> dict[str, Any]:
    """The original values of what a correction changed (``data.x`` for data fields)."""
    old, new = before.to_json(), after.to_json()
    changed = {k: old.get(k) for k in ("occurred_at", "note") if old.get(k) != new.get(k)}
    changed.update({f"data.{k}": v for k, v in old["data"].items() if new["data"].get(k) != v})
    changed.update({f"data.{k}": None for k in new["data"] if k not in old["data"]})
    return changed


def subject_keys(book: Book, subject: str | None) -> list[tuple[str, str]]:
    """The subjects whose events make up the history of ``subject`` (all without)."""
    return list(book.subjects) if subject is None else _keys(book, subject)


def _keys(book: Book, subject: str) -> list[tuple[str, str]]:
    keys = [(kind, subject) for kind in KINDS if book.has(kind, subject)]
    if book.has("platform", subject):
        keys += [(kind, ref) for kind in KINDS if kind != "platform"
                 for ref in book.named(subject, kind)]
    if not keys:
        known = book.as_known_at
        raise SubjectNotFound(f"no subject {subject} in the ledger"
                              + (f" as known at {_moment(known)}" if known else ""))
    return list(dict.fromkeys(keys))


def _moment(instant: datetime) -> str:
    """An ``--as-known-at`` instant as it was most likely given: a bare date, read as the
    end of that day, is that date again."""
    if (instant.hour, instant.minute, instant.second, instant.microsecond) == (23, 59, 59,
                                                                               999_999):
        return instant.date().isoformat()
    return instant.isoformat()


@frozen
class Filter:
    """Which history lines to keep: event types, valid time between ``since`` and
    ``until`` (inclusive, as corrected), who recorded them. Empty keeps everything."""

    types: frozenset[str] = frozenset()
    since: datetime | None = None
    until: datetime | None = None
    operator: str | None = None

    def keeps(self, line: Line) -> bool:
        """Whether ``line`` passes every filter set."""
        fact = line.current
        if self.types and fact.type not in self.types:
            return False
        at = fact.occurred_at.instant
        if (self.since is not None and at < self.since) or (
                self.until is not None and at > self.until):
            return False
        return self.operator is None or line.original.recorded_by == self.operator


def rows(book: Book, found: Iterable[Line], keep: Filter = Filter()) -> Iterator[dict[str, Any]]:
    """History rows of the lines ``keep`` keeps, as they come."""
    for line in found:
        if keep.keeps(line):
            yield row(book, line)


def ledger_rows(views: Views, *, as_of: When | None = None,
                as_known_at: datetime | None = None, keep: Filter = Filter(),
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


def _book_rows(objs: list[tuple[int, dict[str, Any]]], *, everything: bool,
               as_of: When | None, as_known_at: datetime | None,
               keep: Filter) -> Iterator[dict[str, Any]]:
    """``_platform_rows`` through a ``Book`` of all the platform's facts."""
    book = Book((Entry(position=position, fact=_fact(position, obj)) for position, obj in objs),
                as_known_at=as_known_at)
    platforms = book.refs("platform")
    subjects = list(book.subjects)
    if platforms and not everything:
        ref = platforms[0]
        subjects = [("platform", ref), *((kind, r) for kind in KINDS if kind != "platform"
                                         for r in book.named(ref, kind))]
    yield from rows(book, lines(book, subjects=subjects, as_of=as_of), keep)


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
