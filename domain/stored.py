"""What a well-formed stored event is, and how each reader of stored events reads one.

The ledger stores each event as the canonical JSON (RFC 8785, ``ledger.canonical``) of
``Fact.to_json`` with ``recorded_at`` and ``recorded_by``. The struct of its type here
(``STORED``, derived from the type's declaration, made when the type is first asked for)
holds exactly what such an object can hold: the envelope's keys and no other, each
source's (``Source``), the data fields of its type with the JSON kinds their specs give,
those it requires among them; no null, and no empty text or list where ``to_json`` leaves
the field out. Its fields are declared in the canonical order of their keys, so encoding a
struct writes the canonical JSON of its object (msgspec escapes every string as orjson
does: a test holds them so).

``read`` is the rule every reader of stored events applies (``verify``, a subject's
history, the whole ledger's): the bytes decode into the struct of their type, encoding the
struct gives them back byte for byte (so no key twice, nothing between tokens, no other
escape, no key or value the ledger would not write), and the values that have one written
form are in it (an id or an event reference as ``uuid.UUID`` writes it, a valid time as
``When`` does, the record time as ``isoformat``). So
what ``read`` takes is exactly what the ledger writes for the fact it holds (a test holds
them so), and its stored bytes are that fact's row. It checks forms, not rules: a value a
later, stricter rule would refuse still reads.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any, Literal

import msgspec

import domain.vocabulary  # noqa: F401  (registers the event types)
from domain.declaration import REGISTRY, FieldSpec
from domain.fact import _DATA_ORDER, _SOURCE_KEYS
from domain.values import When, stored_when

#: An id or an event reference as ``str(uuid.UUID(...))`` writes it, a record time as
#: ``isoformat`` does (``_is_uuid``, ``_is_record_time``), checked by translation: each
#: ASCII digit (for an id, each lower-case hex digit) becomes 0, every other character
#: stays itself (or ? outside ASCII), and the result must be one of the forms' shapes. A
#: quarter of a pattern's time (0.12 against 0.5 us an id: ``re``'s character classes are
#: slow); tests hold both to ``uuid``'s and ``isoformat``'s round trips.
_HEX_TO_0 = bytes.maketrans(b"0123456789abcdef", b"0" * 16)
_DIGIT_TO_0 = bytes.maketrans(b"0123456789", b"0" * 10)
_UUID_SHAPE = b"00000000-0000-0000-0000-000000000000"
#: A time as ``datetime.isoformat`` writes one the ledger records: six digits of a second
#: unless none (never .000000), a whole-minute offset (never -00:00) or none; with
#: ``fromisoformat`` reading it (a day or an hour out of range), the round trip.
_RECORD_TIME_SHAPES = frozenset(b"0000-00-00T00:00:00" + fraction + offset
                                for fraction in (b"", b".000000")
                                for offset in (b"", b"+00:00", b"-00:00"))
#: Text that ``to_json`` writes only when it is not empty (a note, a source's fields).
_Given = Annotated[str, msgspec.Meta(min_length=1)]
_Strings = Annotated[list[str], msgspec.Meta(min_length=1)]
#: A correction's ``set``: each replaced value text, a list of texts, true, false or null.
_Replacements = dict[str, str | list[str] | bool | None]
#: What every struct here is: fields by keyword, only those, absent ones left out.
_STRUCT = {"kw_only": True, "forbid_unknown_fields": True, "omit_defaults": True, "gc": False}


class Source(msgspec.Struct, **_STRUCT):  # type: ignore[call-arg, misc]
    """A stored citation (``domain.values.Source.to_json``: its fields that are given)."""

    quote: _Given = None  # type: ignore[assignment]
    sha256: _Given = None  # type: ignore[assignment]
    title: _Given = None  # type: ignore[assignment]
    url: _Given = None  # type: ignore[assignment]


def _json_kind(spec: FieldSpec) -> Any:
    """The JSON kind of a stored value of a field of ``spec``."""
    if spec.is_list:
        return _Strings
    return {"bool": bool, "fields": _Replacements}.get(spec.kind, str)


def _stored_data(name: str) -> type:
    """The struct of a stored ``data`` object of type ``name``: its declared fields, those
    not required absent as in its payload (None, or () for a list), no other field. Read
    as its payload is (``d.targets``), for the type's ``describe``: a test holds the two
    descriptions equal, event by event."""
    fields: list[tuple[Any, ...]] = []
    for field, spec in sorted(REGISTRY[name].fields()):
        kind = _json_kind(spec)
        if spec.required:
            fields.append((field, kind))
        else:  # (absent, never null: ``to_json`` leaves an empty field out)
            fields.append((field, kind, () if spec.is_list else None))
    return msgspec.defstruct(f"Stored({name})", fields, **_STRUCT)


def _stored_event(name: str) -> type:
    """The struct of a stored event of type ``name``: the envelope (its ``type`` that
    name), its sources and its data."""
    struct = msgspec.defstruct(
        f"StoredEvent({name})",
        [("data", DATA[name]), ("id", str), ("note", _Given, None),
         ("occurred_at", str), ("recorded_at", str), ("recorded_by", str, None),
         ("sources", Annotated[list[Source], msgspec.Meta(min_length=1)]), ("subject", str),
         ("type", Literal[name])], **_STRUCT)
    TYPE_OF[struct] = name
    return struct


class _Reader:
    """How ``read`` reads a stored event of one type: its struct's decoder, and the data
    fields whose values have one written form (valid times; event references; objects: a
    correction's ``set``, its keys in order)."""

    __slots__ = ("decode", "dicts", "more", "refs", "times")

    def __init__(self, name: str):
        self.decode = msgspec.json.Decoder(STORED[name]).decode
        fields = REGISTRY[name].fields()
        self.times = tuple(field for field, spec in fields if spec.kind == "time")
        self.refs = tuple(field for field, spec in fields if spec.kind == "event")
        self.dicts = tuple(field for field, spec in fields if spec.kind == "fields")
        self.more = bool(self.times or self.refs or self.dicts)


class _Made(dict):
    """Per type name: what ``make`` makes of it, when the type is first asked for (the
    structs of every type need every payload class, which importing the domain leaves
    for later)."""

    def __init__(self, make: Any):
        super().__init__()
        self.make = make

    def __missing__(self, key: Any) -> Any:
        name = key.decode() if isinstance(key, bytes) else key  # (read's: as stored)
        if name not in REGISTRY:
            raise ValueError(f"unknown event type {str(name)[:40]!r}")
        made = self[key] = self.make(name)
        return made


#: Per event type: the struct of its stored ``data`` (``DATA[name](**data)`` reads a data
#: object so).
DATA: dict[str, type] = _Made(_stored_data)
#: Per event type: the struct of a stored event of it.
STORED: dict[str, type] = _Made(_stored_event)
#: Per struct of ``STORED``: its type's name.
TYPE_OF: dict[type, str] = {}
_READERS: dict[bytes, _Reader] = _Made(_Reader)
_TYPE_KEY = b',"type":"'
_encode = msgspec.json.encode


def type_of(plain: bytes) -> str | None:
    """The type of a stored event's canonical JSON (its last key, where ``read`` finds it),
    without decoding the rest; None if it has none (``read`` says why)."""
    at = plain.rfind(_TYPE_KEY)
    return plain[at + 9:-2].decode("utf-8", "replace") if at >= 0 else None


def read(plain: bytes) -> tuple[Any, When]:
    """The struct of an event's stored bytes (decrypted), and its valid time, if they are a
    well-formed stored event; else ``ValueError`` (or msgspec's, naming where) saying what
    is wrong."""
    # Its type is where canonical JSON puts it, last; the struct's decoder checks it.
    at = plain.rfind(_TYPE_KEY)
    if at < 0:
        raise ValueError("no type")
    reader = _READERS[plain[at + 9:-2]]
    event = reader.decode(plain)
    recorded_at = event.recorded_at
    if (_encode(event) != plain  # (then _is_uuid and _is_record_time, inline)
            or event.id.encode("ascii", "replace").translate(_HEX_TO_0) != _UUID_SHAPE
            or recorded_at.encode("ascii", "replace").translate(_DIGIT_TO_0)
            not in _RECORD_TIME_SHAPES
            or ".000000" in recorded_at or recorded_at.endswith("-00:00")):
        _refuse(event, plain)
    datetime.fromisoformat(recorded_at)  # (a day or an hour out of range)
    occurred_at = event.occurred_at
    when = _WRITTEN.get(occurred_at)
    if when is None:
        when = _written(occurred_at, "occurred_at")
    if reader.more:
        _data_checked(reader, event.data)
    return event, when


def _data_checked(reader: _Reader, data: Any) -> None:
    """``ValueError`` unless the data fields of ``data`` (read by ``reader``) whose values
    have one written form are in it."""
    for field in reader.times:
        value = getattr(data, field)
        if value is not None and value not in _WRITTEN:
            _written(value, f"data.{field}")
    for field in reader.refs:
        value = getattr(data, field)
        if value is not None and not _is_uuid(value):
            raise ValueError(f"data.{field} {value[:40]!r} is not an event id as the "
                             "ledger writes one")
    for field in reader.dicts:
        keys = list(getattr(data, field))
        if keys != sorted(keys):
            raise ValueError(f"data.{field} is not in canonical JSON (its keys' order)")


_ID, _RECORDED_AT, _OCCURRED_AT = (attrgetter(name)
                                   for name in ("id", "recorded_at", "occurred_at"))
#: The shape (``_DIGIT_TO_0``) of a record time as the ledger writes nearly every one: UTC
#: to the microsecond (``read_many`` reads a batch of them in one piece).
_UTC_RECORD_TIME = b"0000-00-00T00:00:00.000000+00:00"


def read_many(bodies: Sequence[bytes]) -> tuple[list[Any], list[When]] | None:
    """``read`` of each of ``bodies`` (its structs, and their valid times), in bulk: None
    unless every one is well-formed (then ``read`` each in turn to know which is not, and
    why). The same rule as ``read``, its per-event calls made once for the batch (a test
    holds the two to the same answers):

    - the bytes: encoding the list of structs gives ``[`` + the bodies joined by ``,`` +
      ``]``. Each encoding is a compact JSON object, and each body one JSON object, so
      (an object's extent being fixed by its characters) the two joins are equal only if
      each body is its struct's encoding;
    - the ids: each 36 characters, and the joined ids one shape repeated;
    - the record times: each of UTC's 32 characters and the joined times its shape
      repeated, no fraction ``.000000`` in them (else each is checked as ``read`` checks
      it); then ``fromisoformat`` of each.

    (Whole-ledger history, 1M events: 5.1 -> 4.8 s of CPU; per event held a group at a
    time, 2.10 -> 1.60 us, where the decode alone is 0.97.)"""
    try:
        readers = [_READERS[plain[plain.rfind(_TYPE_KEY) + 9:-2]] for plain in bodies]
        events = [reader.decode(plain) for reader, plain in zip(readers, bodies, strict=True)]
        count = len(events)
        if _encode(events) != b"[" + b",".join(bodies) + b"]":
            return None
        ids = list(map(_ID, events))
        if count and (set(map(len, ids)) != {36} or "".join(ids).encode(
                "ascii", "replace").translate(_HEX_TO_0) != _UUID_SHAPE * count):
            return None
        recorded = list(map(_RECORDED_AT, events))
        if count and set(map(len, recorded)) == {32}:
            joined = "".join(recorded)
            if ((joined.encode("ascii", "replace").translate(_DIGIT_TO_0)
                    != _UTC_RECORD_TIME * count or ".000000" in joined)
                    and not all(map(_is_record_time, recorded))):
                return None
        elif not all(map(_is_record_time, recorded)):
            return None
        deque(map(datetime.fromisoformat, recorded), 0)  # (a day or an hour out of range)
        whens = list(map(_WRITTEN.get, map(_OCCURRED_AT, events)))
        if None in whens:
            whens = [when or _written(event.occurred_at, "occurred_at")
                     for when, event in zip(whens, events, strict=True)]
        more: dict[_Reader, list[Any]] = {}
        for reader, event in zip(readers, events, strict=True):
            if reader.more:
                datas = more.get(reader)
                if datas is None:
                    datas = more[reader] = []
                datas.append(event.data)
        for reader, datas in more.items():
            _data_checked_many(reader, datas)
    except Exception:  # (read says which, and why)
        return None
    return events, whens


def _data_checked_many(reader: _Reader, datas: list[Any]) -> None:
    """``_data_checked`` of each of ``datas`` (of one type), a field at a time: a valid
    time found before is not read again, a field's references are checked joined (as
    ``read_many`` checks ids). ``ValueError`` (not saying which) unless each is well-formed.
    (1M synthetic events, 217,566 with such fields, most of their times repeated: 0.56-0.63
    -> 0.36-0.43 s of CPU, alternating, under load; ``read`` parsed every one again.)"""
    for field in reader.times:
        for value in map(attrgetter(field), datas):
            if value is not None and value not in _WRITTEN:
                _written(value, f"data.{field}")
    for field in reader.refs:
        values = [value for value in map(attrgetter(field), datas) if value is not None]
        if values and (set(map(len, values)) != {36} or "".join(values).encode(
                "ascii", "replace").translate(_HEX_TO_0) != _UUID_SHAPE * len(values)):
            raise ValueError(f"data.{field} is not an event id as the ledger writes one")
    for field in reader.dicts:
        for keys in map(list, map(attrgetter(field), datas)):
            if keys != sorted(keys):
                raise ValueError(f"data.{field} is not in canonical JSON (its keys' order)")


def _refuse(event: Any, plain: bytes) -> None:
    """Why ``read`` refuses ``event`` (decoded from ``plain``): its bytes, its id or its
    record time."""
    if _encode(event) != plain:
        raise ValueError("its bytes are not the canonical JSON of what they hold (a key "
                         "twice, a byte between tokens, another escape, another order)")
    if not _is_uuid(event.id):
        raise ValueError(f"id {event.id[:40]!r} is not a UUID as the ledger writes one")
    _recorded(event.recorded_at)
    raise AssertionError("read refused a well-formed event")  # pragma: no cover


def _recorded(text: str) -> None:
    """``ValueError`` unless ``text`` is a record time as the ledger writes one
    (``datetime.isoformat``)."""
    if not _is_record_time(text):
        raise ValueError(f"recorded_at {text[:40]!r} is not a time as the ledger records one")
    datetime.fromisoformat(text)  # (a day or an hour out of range)


def _is_uuid(text: str) -> bool:
    """Whether ``text`` is an id as ``str(uuid.UUID(...))`` writes one."""
    return text.encode("ascii", "replace").translate(_HEX_TO_0) == _UUID_SHAPE


def _is_record_time(text: str) -> bool:
    """Whether ``text`` has the form of a time as ``isoformat`` writes one the ledger
    records (its digits unchecked: ``fromisoformat`` reads them)."""
    return (text.encode("ascii", "replace").translate(_DIGIT_TO_0) in _RECORD_TIME_SHAPES
            and ".000000" not in text and not text.endswith("-00:00"))


#: Valid times already found in their written form, by text (``_written``), up to
#: ``_WRITTEN_HELD`` of them: most of a ledger's repeat (bare dates, above all).
_WRITTEN: dict[str, When] = {}
_WRITTEN_HELD = 65536


def _written(text: str, name: str) -> When:
    """The ``When`` of ``text``; ``ValueError`` unless it is written as ``When`` writes it."""
    when = stored_when(text)
    if when.text != text:
        raise ValueError(f"{name} {text[:40]!r} is not a time as the ledger writes one")
    if len(_WRITTEN) >= _WRITTEN_HELD:
        _WRITTEN.clear()
    _WRITTEN[text] = when
    return when


def interchange_of(event: Any) -> dict[str, Any]:
    """``domain.fact.interchange`` of the object a struct of ``read`` was decoded from, from
    the struct (its values are the object's: the same texts, lists and objects), without
    decoding the bytes again: the same keys in ``to_json``'s order, empty ones left out (an
    absent field is None, or () for a list; a stored list is never empty). A test holds the
    two equal for every kind. (The events amendments touch are laid out so in the whole
    ledger's history, at half the cost of ``orjson.loads`` and ``interchange``: callgrind,
    17,700-22,700 instructions an event instead of 35,100-46,300 (a correction, a block, an
    observation); by CPU 1.9-2.6 us instead of 3.5-4.5 (the review's process_time), 1.5-1.9
    times both at load 3.2 on the 2 shared cores. Loops, not comprehensions, each of which
    is a call of its own: 2.7 -> 2.3 us a block or a correction.)"""
    t = TYPE_OF[event.__class__]
    data = event.data
    sources = []
    for source in event.sources:
        laid: dict[str, str] = {}
        for key in _SOURCE_KEYS:
            value = getattr(source, key)
            if value:
                laid[key] = value
        sources.append(laid)
    out: dict[str, Any] = {"id": event.id, "type": t, "subject": event.subject,
                           "occurred_at": event.occurred_at, "sources": sources}
    if event.note:
        out["note"] = event.note
    fields: dict[str, Any] = {}
    for key in _DATA_ORDER[t]:
        value = getattr(data, key)
        if value is not None and value != ():
            fields[key] = value
    out["data"] = fields
    out["recorded_at"] = event.recorded_at
    if event.recorded_by is not None:
        out["recorded_by"] = event.recorded_by
    return out
