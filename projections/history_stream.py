"""The whole ledger's history from its stored bytes, platform by platform (``ledger_rows``
and ``ledger_lines`` of ``projections.history``).

Each stored event is read as every reader of stored events reads it (``domain.stored.read``):
its bytes must be exactly the canonical JSON of what the ledger writes for an event of its
type, and its struct (derived from the type's declaration) is what the type's ``describe``
reads; a damaged event is ``IntegrityFailure`` naming its position, as ``verify`` and a
subject's history say of it. An event no amendment touches is written as it is stored: as a
row, its stored object; as a JSON Line, its stored bytes with the row's keys spliced in
before the closing brace (being what the ledger writes, the bytes hold no line break and no
key the row sets, and the line is the row's ``orjson.dumps``; a test holds them so). The
events amendments touch are amended as stored objects (``effective_stored``).
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from domain.amendments import AMENDMENTS, effective_stored
from domain.declaration import REGISTRY, FieldValues
from domain.errors import IntegrityFailure
from domain.stored import DATA, TYPE_OF, interchange_of, read, read_many
from domain.timeline import OTHER_RANK, SAME_INSTANT_RANK
from domain.values import When, stored_when
from projections import history
from projections.book import not_earlier, repeated
from projections.history import Filter, _book_rows, _damaged, _row

if TYPE_CHECKING:
    from projections.views import Views

_SUBJECT_OF = {name: kind.subject for name, kind in REGISTRY.items()}
_CREATES = frozenset(name for name, kind in REGISTRY.items() if kind.creates)
_DESCRIBE = {name: kind.describe for name, kind in REGISTRY.items()}
#: Types about one of several kinds of subject (observations: of an order or a platform).
_OBSERVED = frozenset(name for name, kind in REGISTRY.items() if kind.also)
_AMENDING = frozenset(AMENDMENTS)
#: Per event type: where it sits among events at the same instant (``valid_key``).
_RANK = {name: SAME_INSTANT_RANK.get(name, OTHER_RANK) for name in REGISTRY}
#: Per amendment type: its data fields that hold field values (a correction's ``set``),
#: which its ``describe`` reads as its payload has them (``FieldValues``, in key order). Its
#: event references are read as stored: ``read`` holds them to the text ``uuid.UUID``
#: writes, which is what describing a payload's UUID prints. (Not loading the payload, as
#: the row did, saves its ``uuid.UUID`` and its class's constructor: a correction's
#: description 51,000 -> 21,200 instructions (callgrind); by CPU 6.6 -> 2.5 us (the
#: review's process_time), 10.3-11.8 -> 4.2-4.4 us at load 3.2.)
_FIELDS = {name: tuple(field for field, spec in REGISTRY[name].fields() if spec.kind == "fields")
           for name in AMENDMENTS}
#: Per observed type: the kinds of subject an event of it may be about, the declared first.
_KINDS_OF = {name: REGISTRY[name].subjects for name in _OBSERVED}
#: What an event is to the first pass (``_Info.role``).
_PLAIN, _CREATING, _OBSERVING, _AMENDMENT = range(4)


class _Info(NamedTuple):
    """What one platform's history needs of an event type, found by its struct's class in
    one lookup (``_INFO``): its name, its rank among events at the same instant, its role,
    its subject's kind (an observation's: the kinds it may be about; an amendment's: None),
    and its ``describe``."""

    name: str
    rank: int
    role: int
    kind: Any
    describe: Callable[[Any], str]


class _ByStruct(dict):
    """Per struct class of ``domain.stored.STORED``: its ``_Info``, made when first asked
    for (the structs are made when their type is first read)."""

    def __missing__(self, struct: type) -> _Info:
        t = TYPE_OF[struct]
        role, kind = ((_CREATING, _SUBJECT_OF[t]) if t in _CREATES else
                      (_OBSERVING, _KINDS_OF[t]) if t in _OBSERVED else
                      (_AMENDMENT, None) if t in _AMENDING else (_PLAIN, _SUBJECT_OF[t]))
        info = self[struct] = _Info(t, _RANK[t], role, kind, _DESCRIBE[t])
        _DESCRIBE_OF[struct] = info.describe
        return info


_INFO: dict[type, _Info] = _ByStruct()
#: Per struct class met in ``_INFO``: its type's ``describe`` (one lookup a plain line).
_DESCRIBE_OF: dict[type, Callable[[Any], str]] = {}


#: An event as one platform's history keys it: valid time, rank, position, its struct (or
#: ``_Touched``), its subject's kind, its stored bytes and its stored object (None in JSON
#: Lines, where only the events amendments touch are read as objects).
_Keyed = tuple[datetime, int, int, Any, "str | None", bytes, "dict[str, Any] | None"]
#: A plain event's JSON Line: its stored bytes without the closing brace, then this, the
#: row's keys. (Added to the bytes, not formatted with them: ``%b`` of the whole line grows
#: its buffer twice; a 430-byte line 4,390 -> 3,650 instructions, 438 -> 349 ns.)
_LINE = (b',"position":%d,"summary":%b,"corrected_by":[],"retracted_by":[],'
         b'"disputed_by":[]}\n')


class Lines(bytes):
    """The JSON Lines of a group of platforms in one piece, and how many they are
    (``rows``): what ``ledger_lines(joined=True)`` gives, for a writer that writes them as
    they are (``projections.formats.write_jsonl``)."""

    rows: int


def streamed(views: Views, *, as_of: When | None, as_known_at: datetime | None,
             keep: Filter, read: Callable[[int], None] | None,
             lines: bool, joined: bool = False, workers: bool = True) -> Iterator[Any]:
    """``ledger_rows`` (``lines``: ``ledger_lines``; ``joined``: each group's lines as one
    ``Lines``): the platforms' rows, a group of platforms read at a time (their events'
    bodies in two joined queries); with enough events and cores, the groups' JSON Lines
    made by worker processes (``projections.history_parallel``; not ``workers``: never),
    in the same order."""
    from projections import history_parallel

    keys, size = views.store.platforms_since(0), history.PLATFORMS
    groups = [keys[i:i + size] for i in range(0, len(keys), size)] + [[""]]
    options = {"as_of": as_of, "as_known_at": as_known_at, "keep": keep}
    joined = joined and lines
    jobs = history_parallel.jobs_for(views) if lines and workers else 1
    if jobs > 1:
        made = history_parallel.group_lines(
            views, groups, jobs, options, joined,
            here=lambda group: group_rows(views, group, lines, options, joined))
    else:
        made = (group_rows(views, group, lines, options, joined) for group in groups)
    done = 0
    for out, count in made:
        done += count
        if not joined:
            yield from out
        elif out is not None:  # (a group with no lines gives no piece)
            yield out
        if read is not None:
            read(done)


def group_rows(views: Views, group: list[str], lines: bool, options: dict[str, Any],
               joined: bool = False) -> tuple[Any, int]:
    """The rows (``lines``: JSON Lines; ``joined``: those in one ``Lines``, or None for
    none) of a group of platforms (``[""]``: the subjects that concern no platform), in
    order, and how many stored events were read for them."""
    with _collector_paused():
        return _group_rows(views, group, lines, options, joined)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused while a group is made. A group's thousands
    of structs, tuples and lists live until its lines are made, and each 700 made set off
    a collection that went through them all again: 1M events, 4.8 s of CPU, 4.45 s paused.
    Making a group leaves no reference cycle, so nothing waits for the collector (a test
    holds it so: the code it replaced left each amended platform's entries in one)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _group_rows(views: Views, group: list[str], lines: bool, options: dict[str, Any],
                joined: bool) -> tuple[Any, int]:
    mapper = views.ledger.mapper
    stored = views.store.platform_bodies(group)
    # Stored bytes are the canonical JSON unless the ledger is encrypted or compressed.
    decode = mapper.decode_state if mapper.cipher or mapper.compressor else None
    found = _read_all(stored, decode)
    if found is None:  # (some event is damaged: each platform's read in turn, the first named)
        held = {key: list(rows) for key, rows in groupby(stored, itemgetter(0))}
    else:
        held = {key: list(rows) for key, rows in groupby(found, itemgetter(0))}
    out: list[Any] = []
    count = 0
    for key in group:  # (in Python's order: a database's collation may differ)
        rows = held.pop(key, ())
        if found is None:
            rows = _read_each(rows, decode)
        count += len(rows)
        out += _platform_rows(rows, everything=key == "", lines=lines, **options)
    if joined:
        if not out:
            return None, count
        piece = Lines(b"".join(out))
        piece.rows = len(out)
        return piece, count
    return out, count


def _read_all(stored: list[tuple[str, int, bytes]], decode: Callable[[bytes], bytes] | None
              ) -> Iterator[tuple[str, int, bytes, Any, When]] | None:
    """``(platform, position, body, struct, valid time)`` of each of ``stored`` (its body
    decoded, then read by ``read_many``: the rule of ``read``, in bulk); None if any is not
    well-formed."""
    bodies = list(map(itemgetter(2), stored))
    if decode is not None:
        try:
            bodies = list(map(decode, bodies))
        except Exception:
            return None
    found = read_many(bodies)
    if found is None:
        return None
    return zip(map(itemgetter(0), stored), map(itemgetter(1), stored), bodies, *found,
               strict=True)


def _read_each(stored: list[tuple[str, int, bytes]], decode: Callable[[bytes], bytes] | None
               ) -> list[tuple[str, int, bytes, Any, When]]:
    """What ``_read_all`` gives of ``stored``, read one by one: ``IntegrityFailure`` naming
    the position of the first that is not well-formed."""
    out = []
    for platform, position, body in stored:
        try:
            if decode is not None:
                body = decode(body)
            out.append((platform, position, body, *read(body)))
        except Exception as error:
            raise IntegrityFailure(_damaged(position, error)) from None
    return out


def _platform_rows(stored: Iterable[tuple[str, int, bytes, Any, When]], *, everything: bool,
                   as_of: When | None, as_known_at: datetime | None,
                   keep: Filter, lines: bool = False) -> Iterable[Any]:
    """The history rows (``lines``: JSON Lines) of one platform's stored events (of the
    subjects that concern no platform, with ``everything``), read (``_read_all``: each
    ``(platform, position, body, struct, valid time)``), by valid time, then position.

    Only the events an amendment touches (the amendments and what they target) are read as
    objects and amended; every other event counts as stored. With ``as_known_at`` every
    event goes through a ``Book`` (what was recorded by then decides what counts).
    """
    # One pass in log order: each event's sort key, and its subject's kind.
    # An observation is of the order of its subject's name if one was created before it
    # in the log (``EventType.about``), else of the platform; an amendment's kind is its
    # target's (worked out below, None until then).
    keyed: list[_Keyed] = []
    created: set[tuple[str, str]] = set()
    creating: list[tuple[Any, str]] = []
    amending: list[int] = []  # where the amendments are in keyed
    kind: str | None
    # (the rows are the stored objects; JSON Lines splice the bytes)
    objects = not lines or as_known_at is not None
    obj: dict[str, Any] | None = None
    info = _INFO
    for _, position, body, event, when in stored:
        if objects:
            obj = orjson.loads(body)
        t, rank, role, kind, _ = info[event.__class__]
        at = when.instant
        if role is _PLAIN:
            pass
        elif role is _OBSERVING:  # EventType.about, inline: its first kind that exists here
            subject, kinds = event.subject, kind
            for kind in kinds:
                if (kind, subject) in created:
                    break
            else:
                kind = _SUBJECT_OF[t]
        elif role is _CREATING:
            created.add((kind, event.subject))
            creating.append((event, kind))
        else:  # an amendment
            amending.append(len(keyed))
        keyed.append((at, rank, position, event, kind, body, obj))
    if as_known_at is not None:
        found = _book_rows([(entry[2], entry[6]) for entry in keyed],
                           everything=everything, as_of=as_of, as_known_at=as_known_at,
                           keep=keep)
        return [orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
                for row in found] if lines else found
    now = _amended(keyed, amending) if amending else {}
    platform = next((event.subject for event, _ in creating
                     if TYPE_OF[event.__class__] == "platform-registered"), None)
    own: set[tuple[str, str]] | None = None
    if platform is not None and not everything:
        own = {("platform", platform)}
        for event, kind in creating:
            current = now.get(event.id)
            if current is not None:  # as corrected
                named = {current["data"].get("platform"),
                         *(current["data"].get("platforms") or ())}
            else:  # as stored; or retracted: it stays in the history of the platform it
                data = event.data  # named, marked
                named = {getattr(data, "platform", None), *getattr(data, "platforms", ())}
            if platform in named:
                own.add((kind, event.subject))
    keyed.sort()  # by valid time, rank and position (unique: never the rest)
    until = as_of.instant if as_of else None
    types, since, last, by = keep.types, keep.since, keep.until, keep.operator
    filtered = bool(types) or since is not None or last is not None or by is not None
    out: list[Any] = []
    dumps, line, describe_of = orjson.dumps, _LINE, _DESCRIBE_OF
    if until is None and not filtered and lines:  # (the loop below, for all of it)
        for _, _, position, item, kind, body, _ in keyed:
            if item.__class__ is _Touched:
                if own is None or (kind, item.current["subject"]) in own:
                    out.append(dumps(item.row(position), option=orjson.OPT_APPEND_NEWLINE))
            elif own is None or (kind, item.subject) in own:
                out.append(body[:-1] + line % (
                    position, dumps(describe_of[item.__class__](item.data))))
        return out
    for at, _, position, item, kind, body, obj in keyed:
        if until is not None and at > until:
            continue
        if item.__class__ is _Touched:
            obj = item.current
            subject, t, recorded_by = obj["subject"], obj["type"], obj.get("recorded_by")
        else:
            t, _, _, _, describe = info[item.__class__]
            subject, recorded_by = item.subject, item.recorded_by
        if own is not None and (kind, subject) not in own:
            continue
        if filtered and ((types and t not in types) or (since is not None and at < since) or (
                last is not None and at > last) or (by is not None and recorded_by != by)):
            continue
        if item.__class__ is _Touched:
            row = item.row(position)
            out.append(dumps(row, option=orjson.OPT_APPEND_NEWLINE) if lines else row)
        elif lines:
            out.append(body[:-1] + line % (position, dumps(describe(item.data))))
        else:
            obj["position"] = position
            obj["summary"] = describe(item.data)
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
    by_id = {entry[3].id: i for i, entry in enumerate(keyed)}  # (each event's index)
    if len(by_id) < len(keyed):  # which one an amendment targets would be a guess
        raise IntegrityFailure(_repeated(keyed))
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


def _repeated(keyed: list[_Keyed]) -> str:
    """``book.repeated`` of the first of a platform's events (in log order) to hold the id
    of an earlier one."""
    seen: dict[str, int] = {}
    for entry in keyed:
        first = seen.setdefault(entry[3].id, entry[2])
        if first != entry[2]:
            return repeated(entry[2], entry[3].id, first)
    raise AssertionError("no id is repeated")  # pragma: no cover


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
