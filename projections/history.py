"""The history of a subject (or of the whole ledger) in valid-time order, on both axes."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson
from attrs import frozen

from domain.amendments import AMENDMENTS, Effective, effective_stored
from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure, SubjectNotFound
from domain.fact import Fact, interchange
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
    return _row(line.current.to_json(), book.position(line.original), line.current.describe(),
                line.amendments.links(line.original.id),
                line.original.to_json() if line.corrected else None)


def _row(current: dict[str, Any], position: int, summary: str, links: dict[str, list[str]],
         original: dict[str, Any] | None) -> dict[str, Any]:
    """The history row of an event as it counts now (``current``, its interchange object,
    which becomes the row): its position, a one-line summary, the ids of what corrected,
    retracted or disputed it, and, if corrected, the values it had as first recorded
    (``original``, its interchange object then)."""
    current["position"] = position
    current["summary"] = summary
    current.update(links)
    if original is not None:
        current["original"] = changed_values(original, current)
    return current


def changed_fields(before: Fact, after: Fact, *,
                   after_json: dict[str, Any] | None = None) -> dict[str, Any]:
    """``changed_values`` of two facts; ``after_json``: ``after.to_json()`` if the caller
    has it."""
    return changed_values(before.to_json(),
                          after_json if after_json is not None else after.to_json())


def changed_values(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The original values of what a correction changed (``data.x`` for data fields), from
    the event's interchange object as first recorded (``old``) and as corrected (``new``)."""
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
    mapper = views.ledger.mapper
    # Stored bytes are the canonical JSON unless the ledger is encrypted or compressed.
    decode = mapper.decode_state if mapper.cipher or mapper.compressor else None
    keys = store.platforms_since(0)
    groups = [keys[i:i + PLATFORMS] for i in range(0, len(keys), PLATFORMS)] + [[""]]
    for group in groups:
        held = {key: list(found)
                for key, found in groupby(store.platform_bodies(group), itemgetter(0))}
        for key in group:  # (in Python's order: a database's collation may differ)
            stored = held.pop(key, ())
            done += len(stored)
            yield from _platform_rows(stored, decode, everything=key == "", as_of=as_of,
                                      as_known_at=as_known_at, keep=keep)
            if read is not None:
                read(done)


#: Per event type: its data fields, and those it requires.
_FIELDS = {name: (frozenset(n for n, _ in kind.fields()),
                  frozenset(n for n, spec in kind.fields() if spec.required))
           for name, kind in REGISTRY.items()}
_ENVELOPE = frozenset(("id", "subject", "occurred_at", "sources", "recorded_at"))
_AMENDING = frozenset(AMENDMENTS)
#: Per event type: where it sits among events at the same instant (``valid_key``).
_RANK = {name: SAME_INSTANT_RANK.get(name, OTHER_RANK) for name in REGISTRY}
#: Per observed type: the kinds of subject an event of it may be about, the declared first.
_KINDS_OF = {name: REGISTRY[name].subjects for name in _OBSERVED}


def _fact(position: int, obj: dict[str, Any]) -> Fact:
    try:
        return Fact.from_stored(obj)
    except Exception as error:
        raise IntegrityFailure(_damaged(position, error)) from None


def _damaged(position: int, error: Exception) -> str:
    reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return (f"the event at position {position} is damaged and cannot be read "
            f"({reason[:200]}); run 'blockledger verify'")


def _platform_rows(stored: Iterable[tuple[str, int, bytes]],
                   decode: Callable[[bytes], bytes] | None, *, everything: bool,
                   as_of: When | None, as_known_at: datetime | None,
                   keep: Filter) -> Iterable[dict[str, Any]]:
    """The history rows of one platform's stored events (of the subjects that concern no
    platform, with ``everything``), by valid time, then position.

    Facts are built only for the events an amendment touches (the amendments and what they
    target): every other event counts as stored, its row its stored object. With
    ``as_known_at`` every event goes through a ``Book`` (what was recorded by then decides
    what counts).

    Each stored object is checked for the shape of a stored event: a known type, the
    envelope, data fields of that type (those it requires among them), a valid time that
    parses; ``IntegrityFailure`` naming its position otherwise.
    """
    # One pass in log order: each object checked, its sort key, and its subject's kind.
    # An observation is of the order of its subject's name if one was created before it
    # in the log (``EventType.about``), else of the platform; an amendment's kind is its
    # target's (worked out below, None until then).
    keyed: list[tuple[datetime, int, int, Any, str | None]] = []
    created: set[tuple[str, str]] = set()
    creating: list[tuple[dict[str, Any], str]] = []
    amending: list[int] = []  # where the amendments are in keyed
    loads = orjson.loads
    kind: str | None
    for _, position, body in stored:
        try:
            obj = loads(body if decode is None else decode(body))
            t = obj["type"]
            fields, required = _FIELDS[t]
            data = obj["data"]
            if not (isinstance(data, dict) and data.keys() <= fields
                    and required <= data.keys()):
                raise ValueError("its data does not fit its type")
            if not obj.keys() >= _ENVELOPE:
                raise KeyError(", ".join(sorted(_ENVELOPE - obj.keys())))
            at = stored_when(obj["occurred_at"]).instant
        except Exception as error:
            raise IntegrityFailure(_damaged(position, error)) from None
        if t in _CREATES:
            kind = _SUBJECT_OF[t]
            created.add((kind, obj["subject"]))
            creating.append((obj, kind))
        elif t in _OBSERVED:  # EventType.about, inline: its first kind that exists here
            subject = obj["subject"]
            for kind in _KINDS_OF[t]:
                if (kind, subject) in created:
                    break
            else:
                kind = _SUBJECT_OF[t]
        elif t in _AMENDING:
            if not (data["target"].__class__ is str and (
                    t != "correction" or data["set"].__class__ is dict)):
                raise IntegrityFailure(_damaged(position, ValueError(
                    "its target or its set is not of an amendment")))
            kind = None
            amending.append(len(keyed))
        else:
            kind = _SUBJECT_OF[t]
        keyed.append((at, _RANK[t], position, obj, kind))
    if as_known_at is not None:
        return _book_rows([(entry[2], entry[3]) for entry in keyed], everything=everything,
                          as_of=as_of, as_known_at=as_known_at, keep=keep)
    touched, now = _amended(keyed, amending) if amending else (frozenset(), {})
    platform = next((obj["subject"] for obj, _ in creating
                     if obj["type"] == "platform-registered"), None)
    own: set[tuple[str, str]] | None = None
    if platform is not None and not everything:
        own = {("platform", platform)}
        for obj, kind in creating:
            if obj["id"] not in touched:
                named = _named(obj["data"])
            elif obj["id"] in now:  # as corrected
                named = _named(now[obj["id"]]["data"])
            else:  # retracted: it stays in the history of the platform it named, marked
                named = _named(obj["data"])
            if platform in named:
                own.add((kind, obj["subject"]))
    keyed.sort()  # by valid time, rank and position (unique: never the rest)
    until = as_of.instant if as_of else None
    types, since, last, by = keep.types, keep.since, keep.until, keep.operator
    filtered = bool(types) or since is not None or last is not None or by is not None
    out = []
    for at, _, position, item, kind in keyed:
        if until is not None and at > until:
            continue
        touched_one = item.__class__ is _Touched
        obj = item.current if touched_one else item
        if own is not None and (kind, obj["subject"]) not in own:
            continue
        t = obj["type"]
        if filtered and ((types and t not in types) or (since is not None and at < since) or (
                last is not None and at > last) or (by is not None
                                                    and obj.get("recorded_by") != by)):
            continue
        if touched_one:
            out.append(item.row(position))
            continue
        obj["position"] = position
        obj["summary"] = _DESCRIBE[t](_PAYLOADS[t](**obj["data"]))
        obj["corrected_by"] = []
        obj["retracted_by"] = []
        obj["disputed_by"] = []
        out.append(obj)
    return out


class _Touched(NamedTuple):
    """An event an amendment touches (an amendment, or what one targets), in one
    platform's history: its interchange object as first recorded and as it counts now
    (the same object if no correction applies), and the ids of what amends it."""

    original: dict[str, Any]
    current: dict[str, Any]
    links: dict[str, list[str]]

    def row(self, position: int) -> dict[str, Any]:
        """Its history row (``row``, from the stored objects)."""
        current = self.current
        t, data = current["type"], current["data"]
        # (an amendment's data as its payload: a correction's ``set`` is read as one)
        summary = _DESCRIBE[t](REGISTRY[t].load(data) if t in _AMENDING
                               else _PAYLOADS[t](**data))
        return _row(current, position, summary, self.links,
                    self.original if current is not self.original else None)


def _amended(keyed: list[tuple[datetime, int, int, Any, str | None]],
             amending: list[int]) -> tuple[set[str], dict[str, dict[str, Any]]]:
    """For a platform whose events include amendments (at the indexes ``amending`` of
    ``keyed``, their kind None): the ids of the events they touch (the amendments and what
    they target) and each touched event as it counts now (by id: its interchange object; a
    retracted one is absent). The amendments are applied to the stored objects
    (``effective_stored``, the rules ``effective`` applies to facts); each touched entry
    becomes its ``_Touched``, at its valid time as corrected, and an amendment's entry gets
    its target's kind."""
    targets = {keyed[i][3]["data"]["target"] for i in amending}
    by_id = {obj["id"]: i for i, (_, _, _, obj, _) in enumerate(keyed) if obj["id"] in targets}
    by_id.update((keyed[i][3]["id"], i) for i in amending)
    touched: set[str] = set()
    for i in amending:
        obj = keyed[i][3]
        while obj["type"] in _AMENDING and obj["id"] not in touched:
            touched.add(obj["id"])
            target = by_id.get(obj["data"]["target"])
            if target is None:
                break
            obj = keyed[target][3]
            touched.add(obj["id"])

    def kind_of(i: int) -> str:
        entry = keyed[i]
        if entry[4] is None:  # an amendment: its target's kind ("any" if not here)
            target = by_id.get(entry[3]["data"]["target"])
            keyed[i] = (*entry[:4], kind_of(target) if target is not None else "any")
        return keyed[i][4]  # type: ignore[return-value]

    lines = sorted(by_id[event] for event in touched)  # in log order, as effective needs
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    shaped: dict[str, dict[str, Any]] = {}
    for i in lines:
        _, _, position, obj, _ = keyed[i]
        try:
            found = shaped[obj["id"]] = interchange(obj)
        except Exception as error:
            raise IntegrityFailure(_damaged(position, error)) from None
        groups.setdefault((kind_of(i), obj["subject"]), []).append(found)
    amended = {key: effective_stored(found) for key, found in groups.items()}
    now = {event: obj for eff in amended.values() for event, obj in eff.current.items()}
    for i in lines:  # each touched event: as it counts now, at its valid time as corrected
        _, rank, position, obj, kind = keyed[i]
        event = obj["id"]
        original = shaped[event]
        current = now.get(event, original)
        eff = amended[(kind, obj["subject"])]  # type: ignore[index]
        links = {"corrected_by": eff.corrected_by.get(event, []),
                 "retracted_by": eff.retracted_by.get(event, []),
                 "disputed_by": eff.disputed_by.get(event, [])}
        at = keyed[i][0] if current is original else stored_when(
            current["occurred_at"]).instant
        keyed[i] = (at, rank, position, _Touched(original, current, links), kind)
    return touched, now


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


def _stored_payload(name: str) -> type:
    """The class that reads a stored ``data`` object of type ``name`` as its payload is
    (``d.targets``; None where absent), for the type's ``describe`` (not of amendments:
    those go through facts): ``_PAYLOADS[name](**data)``. Its fields are attributes, so
    reading one costs what a payload's does. It says the same as describing the payload:
    a test holds them so, event by event."""
    return type(f"Stored({name})", (SimpleNamespace,), dict.fromkeys(_FIELDS[name][0]))


_PAYLOADS = {name: _stored_payload(name) for name in REGISTRY}


def _named(data: dict[str, Any]) -> set[Any]:
    """The platforms a creating event's data names (an order's ``platform``, or each of
    its ``platforms``)."""
    return {data.get("platform"), *(data.get("platforms") or ())}
