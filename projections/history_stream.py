"""The whole ledger's history from its stored bytes, platform by platform (``ledger_rows``
and ``ledger_lines`` of ``projections.history``).

Each stored event is read as every reader of stored events reads it (``domain.stored.read``,
a group's events at once by ``read_many``, the same rule in bulk): its bytes must be exactly
the canonical JSON of what the ledger writes for an event of its type, and its struct
(derived from the type's declaration) is what the type's ``describe`` reads; a damaged event
is ``IntegrityFailure`` naming its position, as ``verify`` and a subject's history say of
it. An event no amendment touches is written as it is stored: as a row, its stored object;
as a JSON Line, its stored bytes with the row's keys spliced in before the closing brace
(being what the ledger writes, the bytes hold no line break and no key the row sets, and the
line is the row's ``orjson.dumps``; a test holds them so). The events amendments touch are
amended as stored objects (``effective_stored``, in ``projections.history_touched``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from itertools import groupby, islice
from operator import attrgetter, eq, itemgetter
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from domain.declaration import REGISTRY
from domain.errors import IntegrityFailure
from domain.stored import TYPE_OF, read, read_many
from domain.timeline import OTHER_RANK, SAME_INSTANT_RANK
from domain.values import When
from projections import history
from projections.collection import paused
from projections.history import Filter, _book_rows, _damaged
from projections.history_touched import (
    _AMENDING,
    _DESCRIBE,
    _amended,
    _Keyed,
    _Touched,
    first_repeated,
)

if TYPE_CHECKING:
    from projections.views import Views

_SUBJECT_OF = {name: kind.subject for name, kind in REGISTRY.items()}
_CREATES = frozenset(name for name, kind in REGISTRY.items() if kind.creates)
#: Types about one of several kinds of subject (observations: of an order or a platform).
_OBSERVED = frozenset(name for name, kind in REGISTRY.items() if kind.also)
#: Per event type: where it sits among events at the same instant (``valid_key``).
_RANK = {name: SAME_INSTANT_RANK.get(name, OTHER_RANK) for name in REGISTRY}
#: Per observed type: the kinds of subject an event of it may be about, the declared first.
_KINDS_OF = {name: REGISTRY[name].subjects for name in _OBSERVED}
#: An event's id, from its struct.
_ID = attrgetter("id")
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
    # The cyclic collector paused while a group is made (``projections.collection``): a
    # group's thousands of structs, tuples and lists live until its lines are made, and
    # each 700 made set off a collection that went through them all again (1M events, 4.8
    # s of CPU; 4.45 s paused). Making a group leaves no reference cycle (a test holds it
    # so: the code it replaced left each amended platform's entries in one).
    with paused():
        return _group_rows(views, group, lines, options, joined)


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
            refused = first_repeated((row[1], row[3]) for row in rows)
            if refused is not None:
                raise IntegrityFailure(refused)
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
    well-formed, two hold one id, or a position comes twice for one platform (then each
    platform is read in turn, and the first of its events to hold the id of an earlier one
    refused, as a platform's history refuses it: the ledger writes each id once, and one
    event at each position)."""
    bodies = list(map(itemgetter(2), stored))
    if decode is not None:
        try:
            bodies = list(map(decode, bodies))
        except Exception:
            return None
    found = read_many(bodies)
    if found is None:
        return None
    ids = len(set(map(_ID, found[0])))
    positions = list(map(itemgetter(1), stored))
    # Fewer ids than rows: an event of an order over several platforms, once for each (not
    # an id held twice: that is one held at two positions), or else a row the view holds
    # twice. A position twice in a row (rows come by platform, then position): a row held
    # twice, two events stored at one position (an events table without its unique
    # index), or a shared event last of one platform and first of the next. Each
    # platform's read refuses the first two (``first_repeated``).
    if ((ids < len(stored) or any(map(eq, positions, islice(positions, 1, None))))
            and (ids < len(set(positions))
                 or len(set(map(itemgetter(0, 1), stored))) < len(stored))):
        return None
    return zip(map(itemgetter(0), stored), positions, bodies, *found, strict=True)


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
    daily = keep.since_day is not None or keep.until_day is not None  # (a zone's days)
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
        if filtered:
            if (types and t not in types) or (by is not None and recorded_by != by):
                continue
            if daily:  # a bare date bound is a day of the zone shown
                written = obj["occurred_at"] if item.__class__ is _Touched else item.occurred_at
                if keep.outside(at, len(written) == 10):
                    continue
            elif (since is not None and at < since) or (last is not None and at > last):
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
