"""Snapshots of a national registry of blocked resources, read: their time, their digest
and their entries, each entry's targets in the ledger's one spelling.

Two formats:

- ``rkn``: the Russian registry as republished by the long-running public mirror
  ``zapret-info/z-i`` (``dump.csv``): a first line ``Updated: <time>``, then one entry a
  line, ``ip;domain;url;organisation;decision number;decision date``, several IP addresses
  joined by `` | ``. Windows-1251 as published; UTF-8 is accepted too (a re-saved copy).
- ``domains``: one domain name a line (``#`` comments and blank lines skipped), with an
  optional first line ``Updated: <time>``.

The encoding is decided per file, never guessed per line: UTF-8 (with or without a BOM)
when the whole file is valid UTF-8, else Windows-1251, else the file is refused, so a
Cyrillic name is never stored as mojibake. A snapshot without an ``Updated:`` line takes
its time from ``--at``.

Targets: a domain as IDNA 2008 A-labels (``*.example.ru``, a wildcard of the registry, is
recorded as ``example.ru``); IP addresses and networks as written by ``ipaddress``; an
entry without a domain takes the hosts of its URLs. An entry with no target is refused,
naming its file and line.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from sys import intern

from attrs import frozen

from domain.errors import BadInput
from domain.identifiers import check_target
from domain.values import check_text, shown
from sources.domains import host_of

FORMATS = ("rkn", "domains")
#: The longest line read (a registry line is far shorter; a hostile one is refused unread).
MAX_LINE = 64_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@frozen
class Entry:
    """One line of a snapshot: its decision (None in a plain list), the decision's date and
    deciding body as written, and its targets; ``home`` is the target whose platform
    holds the entry's others (its domain, else its first)."""

    line: int
    decision: str | None
    decided: str | None
    organisation: str | None
    targets: tuple[str, ...]

    @property
    def home(self) -> str:
        return self.targets[0]

    @property
    def rank(self) -> tuple[str, str]:
        return _rank(self)


@frozen
class Listing:
    """What an order's data take from an entry of its decision: its line (for errors),
    the decision, its date and deciding body as written."""

    line: int
    decision: str | None
    decided: str | None
    organisation: str | None

    @staticmethod
    def of(entry: Entry) -> Listing:
        return Listing(entry.line, entry.decision, entry.decided, entry.organisation)

    @property
    def rank(self) -> tuple[str, str]:
        return _rank(self)


def _rank(entry: Entry | Listing) -> tuple[str, str]:
    """Which entry of a decision its order's data come from, whatever the order of the
    lines: the least by decision date, then deciding body."""
    return entry.decided or "", entry.organisation or ""


@frozen
class Snapshot:
    """A registry file read: its name, SHA-256, time and entries (in file order)."""

    name: str
    sha256: str
    updated: datetime
    encoding: str
    entries: Entries | tuple[Entry, ...]


class Entries:
    """A snapshot's entries, in file order: read again from the file's bytes (held, so
    that what is read is what the SHA-256 is of) each time they are iterated, never held
    all at once. A first snapshot of 500,000 entries held as ``Entry`` objects, with the
    file's text and its list of lines beside them while it was read, made the peak of
    ``import-registry``; now the bytes alone are held, about 100 bytes an entry.

    Each line is checked as it is read: iterating raises ``BadInput`` naming the first
    malformed one. The import's diff reads every entry before anything is written, so that
    pass is the file's check; ``len`` counts them (a pass of its own only if no pass has
    gone to the end). A check of the whole file when it was read, before the diff read it
    again, parsed every line twice: 3.3 of 184 s of CPU of a first snapshot of 500,000
    entries, 3.0 of a day's diff's 19.5 (py-spy; issue 15)."""

    __slots__ = ("_count", "_encoding", "_first", "_fmt", "_path", "_raw")

    def __init__(self, raw: bytes, encoding: str, fmt: str, path: Path, first: int):
        self._raw, self._encoding, self._fmt, self._path = raw, encoding, fmt, path
        self._first = first  # lines before the entries (the 'Updated:' line)
        self._count: int | None = None  # known once a pass has gone to the end

    def __len__(self) -> int:
        if self._count is None:
            for _ in self:
                pass
        return self._count  # type: ignore[return-value]

    def __bool__(self) -> bool:
        """Whether there is an entry (the lines up to the first one read, and checked)."""
        if self._count is not None:
            return self._count > 0
        return next(iter(self), None) is not None

    def __iter__(self) -> Iterator[Entry]:
        read = _rkn if self._fmt == "rkn" else _domain
        path, fmt, count = self._path, self._fmt, 0
        for number, line in _lines(self._raw, self._encoding):
            if number <= self._first:
                continue
            if len(line) > MAX_LINE:
                raise BadInput(f"{path}, line {number}: longer than {MAX_LINE:,} "
                               "characters", field="line")
            if not line.strip() or (fmt == "domains" and line.lstrip().startswith("#")):
                continue
            yield read(line, number, path)
            count += 1
        self._count = count


def read_snapshot(path: Path, fmt: str, at: datetime | None = None) -> Snapshot:
    """Read the snapshot at ``path`` in format ``fmt`` (``BadInput`` naming file, line and
    field for anything malformed)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise BadInput(f"{path}: {error.strerror or error}", field="file") from None
    digest = hashlib.sha256(raw).hexdigest()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    encoding = _encoding(raw, path)
    updated, first = _updated(next(_lines(raw, encoding), (1, ""))[1], path)
    if updated is None:
        if at is None:
            raise BadInput(f"{path}: no 'Updated:' line, and no --at: when is this snapshot "
                           "of?", field="at")
        updated = at
    elif at is not None:
        raise BadInput(f"{path}: says when it is of (Updated: {updated.isoformat()}); --at "
                       "is for a file that does not", field="at")
    return Snapshot(name=path.name, sha256=digest, updated=updated, encoding=encoding,
                    entries=Entries(raw, encoding, fmt, path, first))


def _lines(raw: bytes, encoding: str) -> Iterator[tuple[int, str]]:
    """The numbered lines of ``raw`` decoded, as ``str.splitlines`` of the whole text gives
    them, one at a time: each piece up to a newline is split alone (every separator that
    ``splitlines`` knows lies within one, a newline ending it)."""
    codec = "utf-8" if encoding == "utf-8" else "cp1251"
    number = 0
    for piece in io.BytesIO(raw):
        for line in piece.decode(codec).splitlines():
            number += 1
            yield number, line


def _encoding(raw: bytes, path: Path) -> str:
    """``utf-8`` when the whole of ``raw`` (its BOM taken off) is UTF-8, else
    ``windows-1251``; refused when it mixes the two or is neither. Decoded a chunk at a
    time, never held whole as text; lines one by one only where the whole is not UTF-8,
    for the first line beyond ASCII that is (a file of mixed encodings), and where it is
    neither, for the byte at fault: UTF-8 is valid as a whole exactly when each piece up
    to a newline is (a newline is never part of a multi-byte sequence)."""
    if _decodes(raw, "utf-8"):
        return "utf-8"
    utf8 = True
    mixed = None  # the first line beyond ASCII that is UTF-8
    for number, piece in enumerate(io.BytesIO(raw), start=1):
        if piece.isascii():
            continue
        if not _CONTINUATION.search(piece):  # (no multi-byte sequence can be whole)
            utf8 = False
            continue
        try:
            piece.decode("utf-8")
        except UnicodeDecodeError:
            utf8 = False
        else:
            mixed = mixed or number
        if not utf8 and mixed is not None:
            break
    if utf8:
        return "utf-8"
    # Not UTF-8 as a whole: Windows-1251, unless some of its lines are UTF-8 beyond ASCII
    # (a file re-saved in part): decoding those as Windows-1251 would store mojibake.
    if mixed is not None:
        raise BadInput(f"{path}, line {mixed}: UTF-8, while other lines are not: a file "
                       "of mixed encodings (save it as one)", field="file")
    if _decodes(raw, "cp1251"):
        return "windows-1251"
    at = 0  # (where: the line at fault)
    for piece in io.BytesIO(raw):
        try:
            piece.decode("cp1251")
        except UnicodeDecodeError as bad:
            start = at + bad.start
            raise BadInput(f"{path}: neither UTF-8 nor Windows-1251 (byte "
                           f"0x{raw[start]:02x} at byte {start + 1})", field="file") from None
        at += len(piece)
    return "windows-1251"


#: A UTF-8 continuation byte: a line beyond ASCII without one is not UTF-8 (a Windows-1251
#: line of Cyrillic letters alone, 0xC0-0xFF, has none), known without decoding it and
#: catching the error (1.5 us a line; 0.75 s of a 500,000-entry diff's 17 s).
_CONTINUATION = re.compile(rb"[\x80-\xbf]")
#: How much of a file ``_decodes`` decodes at a time.
_CHUNK = 1 << 16


def _decodes(raw: bytes, codec: str) -> bool:
    """Whether the whole of ``raw`` decodes as ``codec``, decoded a chunk at a time (the
    text never held whole; an incremental decoder carries a sequence cut at a chunk's
    end over to the next)."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        for start in range(0, len(raw), _CHUNK):
            decoder.decode(raw[start:start + _CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _updated(head: str, path: Path) -> tuple[datetime | None, int]:
    """The snapshot's time from its first line ``head``, and how many lines that took."""
    if not head.startswith("Updated:"):
        return None, 0
    value = head[len("Updated:"):].strip()
    for form in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"):
        try:
            when = datetime.strptime(value, form)
            break
        except ValueError:
            continue
    else:
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            raise BadInput(f"{path}, line 1: {shown(value)} is not a time (Updated: "
                           "YYYY-MM-DD HH:MM:SS +ZZZZ)", field="updated") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(UTC), 1


def _rkn(line: str, number: int, path: Path) -> Entry:
    parts = line.split(";")
    if len(parts) < 6:
        raise BadInput(f"{path}, line {number}: {len(parts)} fields, not the 6 of "
                       "ip;domain;url;organisation;decision number;decision date",
                       field="line")
    ips, domain = parts[0], parts[1].strip()
    organisation, decision, decided = parts[-3].strip(), parts[-2].strip(), parts[-1].strip()
    if not decision:
        raise BadInput(f"{path}, line {number}: no decision number", field="decision number")
    if decided and not _is_date(decided):
        raise BadInput(f"{path}, line {number}: {shown(decided)} is not a date (YYYY-MM-DD)",
                       field="decision date")
    for name, value in (("organisation", organisation), ("decision number", decision)):
        problem = _text_problem(value or "-", name)
        if problem is not None:
            raise BadInput(f"{path}, line {number}: {problem}", field=name)
    targets: list[str] = []
    if domain:
        targets.append(_target(domain.removeprefix("*."), path, number, "domain"))
    if ips:
        for address in ips.split("|"):
            address = address.strip()
            if address:
                targets.append(_target(address, path, number, "ip"))
    if not domain:
        for url in filter(None, (u.strip() for u in ";".join(parts[2:-3]).split(" | "))):
            try:
                targets.append(host_of(url, "url"))
            except BadInput as error:
                raise BadInput(f"{path}, line {number}: {error.message}", field="url") from None
    if not targets:
        raise BadInput(f"{path}, line {number}: no domain, IP address or URL", field="line")
    # A registry's deciding bodies and dates recur on most lines: one string each.
    return Entry(number, decision, intern(decided) if decided else None,
                 intern(organisation) if organisation else None, tuple(dict.fromkeys(targets)))


@lru_cache(maxsize=4096)
def _is_date(text: str) -> bool:
    """Whether ``text`` is a date, YYYY-MM-DD (decision dates recur: each is asked once)."""
    if not _DATE.fullmatch(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=4096)
def _text_problem(value: str, name: str) -> str | None:
    """What ``check_text`` says is wrong with a field's ``value``, or None (the deciding
    bodies of a registry recur: each is checked once)."""
    try:
        check_text(value, name, limit=1000)
    except BadInput as error:
        return error.message
    return None


def _domain(line: str, number: int, path: Path) -> Entry:
    name = line.strip().removeprefix("*.")
    return Entry(number, None, None, None, (_target(name, path, number, "domain"),))


#: An IPv4 address as ``ipaddress`` writes it (no leading zeros): stored as it is, so the
#: addresses of a dump (half its targets) skip ``ipaddress`` (a test holds the two equal).
#: ASCII digits only: ``\d`` alone took other scripts' digits (U+0661 in '\u0661.2.3.4')
#: past ``check_target``, so that such a target was refused only when its order was
#: written (naming ``data.targets[N]``); now ``check_target`` refuses it as the file is
#: read, naming the line and its field (``--ip``, ``--domain``).
_IPV4 = re.compile(r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}"
                   r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)", re.ASCII)


def _target(value: str, path: Path, number: int, field: str) -> str:
    if _IPV4.fullmatch(value):
        return value
    try:
        return check_target(value, field)
    except BadInput as error:
        raise BadInput(f"{path}, line {number}: {error.message}", field=field) from None
