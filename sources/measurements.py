"""Reading JSON Lines of measurements: a file, gzip-compressed or not, a directory of them,
or standard input, as one stream of ``(place, object)``.

OONI publishes its measurements as JSON Lines in gzip files (one bucket file per hour,
country and test, in nested directories); a researcher may hold them plain, or pipe them.
Every input is hostile: a line is read at most ``MAX_LINE`` bytes at a time and refused
past it, never held whole; a compressed stream is recognised by its magic bytes, whatever
its name; a truncated or damaged gzip stream, invalid UTF-8 or JSON, or a line that is not
a JSON object is ``BadInput`` naming the file and the line.

A directory is read in one deterministic order: every file under it whose name ends in
``.jsonl``, ``.json``, ``.jsonl.gz`` or ``.json.gz``, sorted by its path relative to the
directory (OONI's date-named folders and files sort in time order); other files are left
alone and counted; symbolic links to directories are not followed.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import orjson

from domain.errors import BadInput
from domain.values import shown

#: The longest measurement line read, in bytes. Web Connectivity measurements carry
#: response bodies (OONI's probes keep a snapshot of each): megabytes at most.
MAX_LINE = 16 * 1024 * 1024
SUFFIXES = (".jsonl", ".json", ".jsonl.gz", ".json.gz")
_GZIP_MAGIC = b"\x1f\x8b"
_BOM = b"\xef\xbb\xbf"
#: Blank lines (as ``bytes.strip`` sees them) up to the last newline of their run.
_BLANK_LINES = re.compile(rb"[ \t\r\n\x0b\x0c]*\n")
_AHEAD = 64 * 1024


class Place:
    """Where a measurement was read: a file (or "stdin") and a line. Printed as the
    import's refusals print a line number, so that they name the file as well."""

    __slots__ = ("file", "line")

    def __init__(self, file: str, line: int):
        self.file = file
        self.line = line

    def __str__(self) -> str:
        return f"{self.line} of {self.file}"

    def __repr__(self) -> str:
        return f"Place({self.file!r}, {self.line})"


def files_of(path: str) -> tuple[list[Path], int]:
    """The measurement files of ``path`` (a file, or a directory's, in order) and how many
    other files a directory holds (not read)."""
    root = Path(path)
    if not root.exists():
        raise BadInput(f"{path!r} does not exist")
    if root.is_file():
        return [root], 0
    if not root.is_dir():
        raise BadInput(f"{path!r} is neither a file nor a directory")
    found, others = [], 0
    for folder, dirs, names in os.walk(root, onerror=_walk_error):
        dirs.sort()
        for name in names:
            full = Path(folder) / name
            if name.endswith(SUFFIXES) and full.is_file():
                found.append(full)
            else:
                others += 1
    found.sort(key=lambda p: p.relative_to(root).parts)
    return found, others


def _walk_error(error: OSError) -> None:
    raise BadInput(f"{error.filename}: {error.strerror or error}")


@contextmanager
def spooled(stream: IO[bytes]) -> Iterator[IO[bytes]]:
    """``stream`` (standard input) copied to a temporary file, for a second reading."""
    with tempfile.TemporaryFile() as copy:
        shutil.copyfileobj(stream, copy, 1024 * 1024)
        copy.seek(0)
        yield copy


def read_objects(stream: IO[bytes], name: str,
                 unique: tuple[str, ...] = ()) -> Iterator[tuple[Place, Any]]:
    """The JSON values of the lines of ``stream`` (plain or gzip), blank lines skipped.

    A key of ``unique`` given twice in one object is refused: JSON parsers keep one of
    the values silently, and a record must not. (Each key's quoted name is counted in the
    raw line, at C speed; only a line where one appears twice, in a text perhaps, is
    parsed again to tell.)"""
    needles = [(key, b'"' + key.encode() + b'"') for key in unique]
    escaped = _escapes(unique)
    raw = stream if hasattr(stream, "peek") else _buffered(stream)
    if raw.peek(2)[:2] == _GZIP_MAGIC:
        raw = gzip.GzipFile(fileobj=raw, mode="rb")
    number = 0
    try:
        while line := raw.readline(MAX_LINE + 2):
            number += 1
            if len(line) > MAX_LINE and len(line.rstrip(b"\r\n")) > MAX_LINE:
                raise BadInput(f"longer than {MAX_LINE // (1024 * 1024)} MB: one line is one "
                               "measurement", line=Place(name, number))  # type: ignore[arg-type]
            if number == 1 and line.startswith(_BOM):
                line = line[len(_BOM):]
            if not line.strip():
                number += _skip_blank_lines(raw)
                continue
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                raise BadInput(_json_error(line, error),
                               line=Place(name, number)) from None  # type: ignore[arg-type]
            if needles and (any(line.count(needle) > 1 for _, needle in needles)
                            or (b"\\u" in line and escaped.search(line))):
                _refuse_repeated(line, unique, Place(name, number))
            yield Place(name, number), value
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        # Raised by the gzip reader, between lines: the stream ends inside a member, or
        # its bytes are not deflate data.
        what = ("ends before the end of its gzip stream (truncated)"
                if isinstance(error, EOFError) else f"is damaged gzip data ({error})")
        raise BadInput(f"{name} {what}, after line {number}") from None


@lru_cache(maxsize=16)
def _escapes(keys: tuple[str, ...]) -> re.Pattern[bytes]:
    """A ``\\uXXXX`` escape of a character of ``keys``: ``"probe_c\\u0063"`` is the key
    ``probe_cc`` too, which counting its quoted name in the raw line does not see. Only
    such lines (rare: encoders escape no letters) are parsed again to tell; OONI's bodies
    are full of other escapes (``\\u003c``), which need not be."""
    codes = sorted({f"{ord(c):04x}" for c in "".join(keys)})
    alternatives = ("".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in code)
                    for code in codes)
    return re.compile(rb"\\u(?:" + "|".join(alternatives).encode() + rb")")


def _skip_blank_lines(raw: Any) -> int:
    """Skip the run of blank lines ``raw`` starts with, a buffer at a time (millions of
    blank lines, a few KB compressed, read one by one took seconds); return how many."""
    skipped = 0
    while True:
        ahead = raw.peek(_AHEAD)
        run = _BLANK_LINES.match(ahead)
        if run is None:
            return skipped
        skipped += ahead.count(b"\n", 0, run.end())
        raw.read(run.end())
        if run.end() < len(ahead):
            return skipped


def _refuse_repeated(line: bytes, unique: tuple[str, ...], place: Place) -> None:
    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: set[str] = set()
        for key, _ in items:
            if key in seen and key in unique:
                raise BadInput("given twice in one object: which value is meant? (JSON "
                               "readers keep one silently)", field=key,
                               line=place)  # type: ignore[arg-type]
            seen.add(key)
        return dict(items)

    # Nested hundreds deep, the stdlib parser may give up where orjson did not: such a
    # line holds no measurement, and its fields are checked anyway.
    with contextlib.suppress(RecursionError):
        json.loads(line.decode("utf-8"), object_pairs_hook=pairs)


def _buffered(stream: Any) -> Any:
    import io

    return io.BufferedReader(stream)


def _json_error(line: bytes, error: orjson.JSONDecodeError) -> str:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError as bad:
        return f"not valid UTF-8 (byte 0x{line[bad.start]:02x} at byte {bad.start + 1})"
    return f"not valid JSON: {shown(error.msg)[1:-1]} (at character {error.pos + 1})"
