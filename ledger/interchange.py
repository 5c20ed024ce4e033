"""The interchange format: JSON Lines of events, read for import and written by export."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from domain.errors import BadInput
from domain.fact import Fact
from ledger.application import Entry
from ledger.canonical import event_hash

#: The longest line import reads, in bytes (its line ending aside). A longer line is refused
#: before it is parsed; an event is at most ``MAX_EVENT`` bytes of JSON, so that an export
#: line (the event, its recording, position and hash) always fits.
MAX_LINE = 1_000_000
#: How deep orjson nests before it refuses (no event nests deeper than 4).
MAX_DEPTH = 1024
BOM = b"\xef\xbb\xbf"
# A key ends with '"', optional JSON whitespace and ':'. Counting these counts every key of
# the line (and, rarely, a '":' inside a text, which only costs an exact check).
_KEY_END = re.compile(rb'"[ \t\n\r]*:')


def exported(entry: Entry) -> dict[str, Any]:
    """The export object of an entry: envelope, data, recording, position and hash."""
    out = entry.fact.to_json()
    out["position"] = entry.position
    out["hash"] = event_hash(out)
    return out


def write_lines(entries: Iterable[Entry], out: IO[bytes]) -> int:
    """Write ``entries`` as JSON Lines; return how many."""
    n = 0
    for entry in entries:
        out.write(orjson.dumps(exported(entry)) + b"\n")
        n += 1
    return n


def read_facts(lines: Iterable[bytes]) -> Iterator[tuple[int, Fact]]:
    """Parse and validate JSON Lines into facts, with their line numbers.

    Blank (or whitespace-only) lines are skipped, a UTF-8 byte order mark at the start of the
    file is ignored, and a line may end in CRLF. A bad line raises ``BadInput`` naming the
    line and the field: invalid UTF-8, a line longer than ``MAX_LINE`` bytes (refused
    unparsed), invalid JSON, JSON nested deeper than ``MAX_DEPTH``, a key given twice in one
    object (JSON parsers silently keep one of the values: a record must not), or a bad event.
    """
    for number, raw in enumerate(_bounded(lines), start=1):
        if number == 1 and raw.startswith(BOM):
            raw = raw[len(BOM):]
        if len(raw) > MAX_LINE and len(raw.rstrip(b"\r\n")) > MAX_LINE:
            raise BadInput(f"longer than 1 MB ({MAX_LINE:,} bytes): one line is one event",
                           line=number)
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise BadInput(_json_error(raw, error), line=number) from None
        try:
            _refuse_duplicate_keys(raw, obj)
            fact = Fact.from_json(obj, size=len(raw))
        except BadInput as error:
            raise error.at_line(number) from None
        yield number, fact


def _bounded(lines: Iterable[bytes]) -> Iterator[bytes]:
    """The lines of a file read at most ``MAX_LINE`` (and its line ending) at a time, so that
    a huge line is never held whole; any other iterable as it is."""
    readline = getattr(lines, "readline", None)
    if readline is None:
        yield from lines
        return
    while line := readline(MAX_LINE + 2):
        yield line


def _json_error(raw: bytes, error: orjson.JSONDecodeError) -> str:
    """One clear line for JSON that does not parse."""
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as bad:
        return (f"not valid UTF-8 (byte 0x{raw[bad.start]:02x} at byte {bad.start + 1}): "
                "save the file as UTF-8")
    if raw.startswith(BOM):
        return "a byte order mark (BOM) is allowed only at the start of the file"
    message = error.msg
    if "depth limit" in message or "recursion" in message.lower():
        return f"not valid JSON: nested deeper than {MAX_DEPTH} levels"
    if "infinity" in message:
        message = "a number too large"
    return f"not valid JSON: {message} (at character {error.pos + 1})"


def _refuse_duplicate_keys(raw: bytes, obj: Any) -> None:
    """Refuse a line with a key given twice in one object. Cheap for a line without one:
    count the keys parsed against the key endings in the raw line, and parse again, keeping
    every pair, only when there may be more keys in the line than were parsed."""
    keys = 0
    # Only objects and lists go on the stack: most values are texts.
    stack = [obj] if obj.__class__ is dict or obj.__class__ is list else []
    while stack:
        value = stack.pop()
        if value.__class__ is dict:
            keys += len(value)
            value = value.values()
        for item in value:
            if item.__class__ is dict or item.__class__ is list:
                stack.append(item)
    if len(_KEY_END.findall(raw)) <= keys:
        return
    # Nested hundreds deep, the stdlib parser may give up: no event nests so, and validation
    # refuses the line anyway.
    with contextlib.suppress(RecursionError):
        json.loads(raw.decode("utf-8"), object_pairs_hook=_unique_pairs)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise BadInput("given twice in one object: which value is meant? (JSON readers "
                           "keep one silently)", field=key if len(key) <= 60 else key[:57] + "...")
        seen.add(key)
    return dict(pairs)
