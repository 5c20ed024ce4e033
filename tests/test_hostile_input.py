"""Hostile input: whatever `import` and `record` are given, they answer with exit 0, or with
one error line naming the line (and the field, where there is one), exit 2 (or 1 for a rule's
refusal), nothing written and never a traceback.

What is accepted, and why (the decisions a user may ask about):

- a UTF-8 byte order mark at the start of the file is ignored (Windows editors write one and
  RFC 8259 lets a reader ignore it); anywhere else it is an error;
- CRLF line endings are fine (JSON allows a carriage return between tokens);
- blank and whitespace-only lines are skipped, but still counted in line numbers;
- free text (summary, reason, claim, detail, note, quote) may hold a tab and a line break.

What is refused: invalid UTF-8, a line longer than 1 MB (unparsed), JSON nested deeper than
orjson's 1024 levels, a number where text is expected (huge or not), a key given twice in one
object, an unknown field at any level, control characters (C0, DEL, C1) other than a tab or a
line break in free text, line breaks in one-line fields, bidirectional embedding, override and
isolate characters (U+202A-U+202E, U+2066-U+2069) anywhere, lone surrogates, a text over
10,000 characters, a list over 1,000 items, an event over 990,000 bytes of JSON.

Identifiers are stricter (tests/test_identifiers.py): a target is a domain name, an IP address
or network, or an app id, in one stored spelling, and neither a target nor an operator's name
may hold an invisible character (any Unicode format character: zero-width space and joiners,
bidi marks, the BOM), a compatibility look-alike or letters of two scripts that do not mix.
Free text (and names, senders, authorities) keeps every script and the joiners and marks that
scripts need; only the bidi embedding, override and isolate characters are refused there.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import uuid
from typing import Any

import orjson
import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import ledger.interchange as interchange
from domain.errors import BadInput
from domain.fact import Fact
from domain.values import MAX_EVENT, MAX_TEXT, check_text
from tests.clitools import count, run

# --- the events the corpus starts from ---------------------------------------------------

SOURCE = {"url": "https://example.org/kominfo/letter", "title": "Kominfo letter"}
REGISTERED = {"type": "platform-registered", "subject": "telegram", "occurred_at": "2013-08-14",
              "sources": [SOURCE], "data": {"name": "Telegram", "targets": ["t.me"]}}
REGISTERED_ID = str(Fact.from_json(copy.deepcopy(REGISTERED)).id)

#: A valid event on the seeded platform; the corpus makes it hostile one field at a time.
EMAIL = {"id": "0b0e7c4e-4f55-4d87-9a3e-2a4f7c1d9e01", "type": "email-sent",
         "subject": "telegram", "occurred_at": "2017-03-01",
         "sources": [{"url": "https://example.org/a", "title": "A letter",
                      "sha256": "ab" * 32, "quote": "please"}],
         "note": "the first one",
         "data": {"sender": "Kominfo", "recipient": "abuse@telegram.org",
                  "summary": "please remove the channels", "deadline": "2017-03-08"}}
#: Events whose data fields are of every other kind (validation comes before the rules, so
#: their subjects need not exist for a bad field to be named).
BLOCKED = {"type": "blocked", "subject": "kominfo-1", "occurred_at": "2017-07-14",
           "sources": [SOURCE], "data": {"platform": "telegram", "authority": "Kominfo",
                                         "targets": ["t.me"], "reasons": ["terrorism"]}}
OBSERVED = {"type": "access-observed", "subject": "kominfo-1", "occurred_at": "2017-07-15",
            "sources": [SOURCE], "data": {"target": "t.me", "accessible": False}}
MEETING = {"type": "meeting-held", "subject": "telegram-id", "occurred_at": "2017-08-01",
           "sources": [SOURCE], "data": {"kind": "ceo", "attendees": ["Pavel Durov"]}}
NO_RESPONSE = {"type": "no-response", "subject": "telegram", "occurred_at": "2017-03-09",
               "sources": [SOURCE], "data": {"regarding": EMAIL["id"]}}
CORRECTION = {"type": "correction", "subject": "telegram", "occurred_at": "2014-01-01",
              "sources": [SOURCE], "data": {"target": REGISTERED_ID, "set": {"name": "T"},
                                            "reason": "misspelt"}}

RAW = "@@raw@@"  # stands for a JSON token Python cannot write (1e400, 2**70), put in after


def line(base: dict[str, Any], path: str | None = None, value: Any = None, *,
         raw: bytes | None = None, drop: bool = False) -> bytes:
    """``base`` as one JSON line, with the value at ``path`` (``data.targets.0``) replaced
    (by ``raw`` JSON bytes if given) or dropped."""
    obj = copy.deepcopy(base)
    if path is not None:
        *parents, last = path.split(".")
        holder: Any = obj
        for part in parents:
            holder = holder[int(part)] if isinstance(holder, list) else holder[part]
        key: Any = int(last) if isinstance(holder, list) else last
        if drop:
            del holder[key]
        else:
            holder[key] = RAW if raw is not None else value
    text = json.dumps(obj, ensure_ascii=False).encode("utf-8", "surrogatepass")
    return text.replace(f'"{RAW}"'.encode(), raw) if raw is not None else text


def field_name(path: str) -> str:
    """How an error names the field at ``path``: ``sources.0.url`` is ``sources[0].url``."""
    return re.sub(r"\.(\d+)", r"[\1]", path)


# --- assertions ----------------------------------------------------------------------------


def error_line(result: Result) -> str:
    """The one error line of a refused command (no traceback, nothing on stdout)."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"an exception instead of an error line: {result.exception!r}")
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, f"expected one error line, got {result.stderr!r}"
    assert lines[0].startswith("error: "), lines
    assert result.stdout == "", result.stdout
    return lines[0]


def refused(result: Result, db: str, before: int, *, code: int = 2, line_no: int | None = None,
            field: str | None = None, says: str | None = None) -> str:
    """Assert ``result`` is a refusal with exit ``code``, naming ``line_no`` and ``field``,
    and that the ledger still holds ``before`` events."""
    assert result.exit_code == code, (result.exit_code, result.output)
    message = error_line(result)
    if line_no is not None:
        assert re.match(rf"error: line {line_no}\b", message), message
    if field is not None and line_no is not None:
        assert f"field {field!r}" in message, message
    elif field is not None:  # the command line's words: the option, not the field
        from commands.words import flag_of

        assert flag_of(field) in message, message
    if says is not None:
        assert says in message, message
    assert count(db) == before, "a refused input wrote something"
    return message


def imported(result: Result, db: str, before: int, n: int | None = None) -> int:
    """Assert ``result`` is a clean import (exit 0, nothing on stderr) of ``n`` new events."""
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    assert result.exit_code == 0, result.output
    assert result.stderr == "", result.stderr
    got = int(re.match(r"imported (\d+) events", result.stdout).group(1))
    assert n is None or got == n, result.stdout
    assert count(db) == before + got
    return got


# --- the corpus ------------------------------------------------------------------------------

BIG = b"9" * 25  # 2**83-ish: beyond 64 bits, orjson reads it as a float
CASES: list[Any] = []


def case(id: str, data: bytes, *, code: int = 2, line_no: int | None = 1,
         field: str | None = None, says: str | None = None, accept: int | None = None) -> None:
    """One corpus entry: ``data`` is imported after a valid line, so the hostile one is line
    ``line_no + 1`` (and the valid line must not be written either). ``accept`` is the number
    of events an input that is actually fine imports."""
    CASES.append(pytest.param(data, code, line_no, field, says, accept, id=id))


VALID = line(EMAIL)

# Invalid UTF-8, anywhere in a line.
case("utf8-ff-in-string", line(EMAIL, "data.sender", "K\udcffominfo"), says="not valid UTF-8")
case("utf8-truncated-sequence", VALID.replace(b"Kominfo", b"Kom\xc3info"),
     says="not valid UTF-8")
case("utf8-overlong-slash", VALID.replace(b"Kominfo", b"Kom\xc0\xafinfo"),
     says="not valid UTF-8")
case("utf8-encoded-surrogate", VALID.replace(b"Kominfo", b"Kom\xed\xa0\x80info"),
     says="not valid UTF-8")
case("utf8-latin1-line", "{\"note\": \"café\"}".encode("latin-1"), says="not valid UTF-8")
case("utf8-outside-strings", b"\xfe" + VALID, says="not valid UTF-8")

# NUL, escaped and raw.
for path in ("data.sender", "data.summary", "note", "subject", "sources.0.title", "id"):
    case(f"nul-escaped-{path}", line(EMAIL, path, "a\u0000b"), field=field_name(path))
case("nul-raw-in-string", VALID.replace(b"Kominfo", b"Kom\x00info"),
     says="not valid JSON: unexpected control character")
case("nul-raw-after-object", VALID + b"\x00", says="not valid JSON")
case("nul-only-line", b"\x00", says="not valid JSON")

# Size: a 10 MB line is refused unparsed; a text, a list and an event have limits too.
case("line-10mb", line(EMAIL, "note", "n" * 10_000_000), says="longer than 1 MB")
case("line-10mb-garbage", b"x" * 10_000_000, says="longer than 1 MB")
case("text-over-10000", line(EMAIL, "data.summary", "s" * (MAX_TEXT + 1)),
     field="data.summary", says="longer than 10,000 characters")
case("list-over-1000", line(BLOCKED, "data.targets", [f"t{i}.example" for i in range(1001)]),
     field="data.targets", says="more than 1,000 items")
case("sources-over-1000", line(EMAIL, "sources", [{"title": f"s{i}"} for i in range(1001)]),
     field="sources", says="more than 1,000")
case("event-over-990kb", line(BLOCKED, "data.reasons",
                              [f"{i:04}" + "t" * 9_000 for i in range(110)]),
     says="bytes of JSON, more than 990,000")

# Deep nesting.
case("nested-100000-lists", b"[" * 100_000 + b"]" * 100_000, says="nested deeper than 1024")
case("nested-100000-objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
     says="nested deeper than 1024")
case("nested-1000-in-text", line(EMAIL, "data.sender", raw=b"[" * 1000 + b"]" * 1000),
     field="data.sender", says="got a list")
case("nested-1000-in-ignored-hash", line(EMAIL, "hash", raw=b"[" * 1000 + b"]" * 1000),
     field="hash")
case("nested-1000-in-set", line(CORRECTION, "data.set.name", raw=b"[" * 1000 + b"]" * 1000),
     field="data.set.name[0]")

# Huge numbers, and numbers (floats or not) where text is expected.
case("number-1e400", line(EMAIL, "data.sender", raw=b"1e400"), says="a number too large")
case("number-minus-1e400", line(EMAIL, "note", raw=b"-1e400"), says="a number too large")
case("number-nan-literal", line(EMAIL, "note", raw=b"NaN"), says="not valid JSON")
case("number-infinity-literal", line(EMAIL, "note", raw=b"Infinity"), says="not valid JSON")
case("number-2**70-id", line(EMAIL, "id", raw=str(2**70).encode()), field="id",
     says="got a number")
case("number-minus-2**70-summary", line(EMAIL, "data.summary", raw=str(-(2**70)).encode()),
     field="data.summary", says="got a number")
case("number-huge-subject", line(EMAIL, "subject", raw=BIG), field="subject")
case("number-position-2**70", line(EMAIL, "position", raw=str(2**70).encode()),
     field="position")
case("number-position-negative", line(EMAIL, "position", -1), field="position")
case("number-position-float", line(EMAIL, "position", 1.5), field="position")
case("number-position-bool", line(EMAIL, "position", True), field="position")
case("float-sender", line(EMAIL, "data.sender", 1.5), field="data.sender")
case("float-note", line(EMAIL, "note", 3.14), field="note")
case("float-occurred-at", line(EMAIL, "occurred_at", 2017.0301), field="occurred_at")
case("float-source", line(EMAIL, "sources.0", 0.5), field="sources[0]")
case("float-target-item", line(BLOCKED, "data.targets.0", 1e-300), field="data.targets[0]")
case("float-in-set", line(CORRECTION, "data.set.name", 1.0), field="data.set.name")
case("int-note-in-set", line(CORRECTION, "data.set", {"note": 2017}), field="data.set.note")

# Control characters, line breaks and bidi overrides where they must not be.
HOSTILE_CHARS = {"esc": "\x1b[31m", "bel": "\x07", "del": "\x7f", "c1-nel": "\x85",
                 "c1-csi": "\x9b", "cr": "\r", "rlo": "\u202e", "lre": "\u202a",
                 "pdf": "\u202c", "lri": "\u2066", "fsi": "\u2068", "pdi": "\u2069",
                 "surrogate": "\udcff"}
for (name, char), path in itertools.product(HOSTILE_CHARS.items(), (
        "data.sender", "data.summary", "note", "sources.0.title", "sources.0.quote")):
    if char == "\udcff":  # a lone surrogate never gets past UTF-8
        continue
    case(f"char-{name}-{path}", line(EMAIL, path, f"Kom{char}info"), field=field_name(path))
for name, char in HOSTILE_CHARS.items():
    if char != "\udcff":
        case(f"char-{name}-platform-name",
             line(REGISTERED, "data.name", f"Tele{char}gram", ), field="data.name")
        case(f"char-{name}-target-item", line(BLOCKED, "data.targets.0", f"t{char}.me"),
             field="data.targets[0]")
        case(f"char-{name}-url", line(EMAIL, "sources.0.url", f"https://a{char}.example"),
             field="sources[0].url")
        case(f"char-{name}-attendee", line(MEETING, "data.attendees.0", f"P{char}D"),
             field="data.attendees[0]")
        case(f"char-{name}-in-set", line(CORRECTION, "data.set.name", f"T{char}x"),
             field="data.set.name")
for name, char in {"lf": "\n", "tab": "\t", "ls": "\u2028", "ps": "\u2029"}.items():
    # A line break or a tab in a one-line field (a name, a sender, a title, a list item).
    case(f"one-line-{name}-sender", line(EMAIL, "data.sender", f"Kom{char}info"),
         field="data.sender", says="one line")
    case(f"one-line-{name}-title", line(EMAIL, "sources.0.title", f"A{char}B"),
         field="sources[0].title", says="one line")
    case(f"one-line-{name}-reason-item", line(BLOCKED, "data.reasons.0", f"a{char}b"),
         field="data.reasons[0]", says="one line")
# Look-alike targets: invisible characters and mixed scripts, wherever a target is given.
LOOK_ALIKES = {"zwsp": "t.me\u200b", "zwj": "t\u200d.me", "bom": "\ufefft.me", "lrm": "t.me\u200e",
               "word-joiner": "t.\u2060me", "soft-hyphen": "tele\u00adgram.org",
               "cyrillic-e": "telegram.m\u0435", "greek-omicron": "telegram.\u03bfrg",
               "fullwidth": "\uff54.me", "ideographic-dot": "t\u3002me",
               "nbsp": "t.me\u00a0x", "a-label-mixed": "telegram.xn--m-jtb"}
for name, target in LOOK_ALIKES.items():
    case(f"look-alike-{name}-target-item", line(BLOCKED, "data.targets.0", target),
         field="data.targets[0]")
    case(f"look-alike-{name}-observed", line(OBSERVED, "data.target", target),
         field="data.target")
    case(f"look-alike-{name}-in-set", line(CORRECTION, "data.set.targets", [target]),
         field="data.set.targets[0]")
case("sql-target", line(BLOCKED, "data.targets.0", "t.me\"; --"), field="data.targets[0]",
     says="is not a domain name")
case("bidi-in-subject", line(EMAIL, "subject", "tele\u202egram"), field="subject")
case("bidi-in-id", line(EMAIL, "id", EMAIL["id"] + "\u202e"), field="id")
case("bidi-in-occurred-at", line(EMAIL, "occurred_at", "2017-03-01\u202e"),
     field="occurred_at")
case("bidi-in-type", line(EMAIL, "type", "email-sent\u202e"), field="type")

# SQL fragments: refused where a reference is expected (they are not slugs); stored as text
# elsewhere (test_sql_fragments_are_only_text below) since the store binds every value.
SQL = "'; DROP TABLE stored_events; --"
case("sql-subject", line(EMAIL, "subject", SQL), field="subject", says="is not a reference")
case("sql-type", line(EMAIL, "type", SQL), field="type", says="unknown event type")
case("sql-id", line(EMAIL, "id", SQL), field="id", says="is not a UUID")
case("sql-platform-ref", line(BLOCKED, "data.platform", SQL), field="data.platform")
case("sql-field-name", line(EMAIL, f"data.{SQL}", "x"), field="data")
case("sql-in-set-key", line(CORRECTION, "data.set", {SQL: "x"}), field="data.set")

# Duplicate keys, at every level, even with the same value, even spelt with an escape.
email = VALID.decode()
case("duplicate-type", ('{"type": "blocked", ' + email[1:]).encode(), field="type",
     says="given twice")
case("duplicate-type-same-value", ('{"type": "email-sent", ' + email[1:]).encode(),
     field="type", says="given twice")
case("duplicate-type-escaped", ('{"\\u0074ype": "blocked", ' + email[1:]).encode(),
     field="type", says="given twice")
case("duplicate-data-field", email.replace('"sender": "Kominfo"',
                                           '"sender": "Kominfo", "sender": "Telegram"').encode(),
     field="sender", says="given twice")
case("duplicate-source-field", email.replace('"url": "https://example.org/a"',
                                             '"url": "x", "url": "https://example.org/a"'
                                             ).encode(), field="url", says="given twice")
case("duplicate-with-colon-in-text", line(EMAIL, "note", 'he said "no": twice').replace(
    b'{"id"', b'{"id": "x", "id"'), field="id", says="given twice")
case("duplicate-key-no-space", VALID.replace(b'"subject": "telegram"',
                                             b'"subject":"kominfo","subject" :"telegram"'),
     field="subject", says="given twice")

# Unknown fields at every level.
case("unknown-envelope-field", line(EMAIL, "evil", 1), field="evil", says="unknown field")
case("unknown-envelope-empty-key", line(EMAIL, "", 1), field='""', says="unknown field")
case("unknown-envelope-long-key", line(EMAIL, "k" * 100_000, 1), field="k" * 57 + "...")
case("unknown-envelope-bidi-key", line(EMAIL, "n\u202eote", "x"), says="unknown field")
case("unknown-data-field", line(EMAIL, "data.evil", "x"), field="data", says="no field 'evil'")
case("unknown-source-field", line(EMAIL, "sources.0.evil", "x"), field="sources[0]",
     says="unknown source field 'evil'")
case("unknown-set-key", line(CORRECTION, "data.set", {"Not A Field": "x"}),
     field="data.set", says="is not a field name")

# Wrong types at every field: each field given every JSON kind it does not take.
KINDS: dict[str, Any] = {"list": ["x"], "object": {"k": "v"}, "true": True, "false": False,
                         "int": 12, "float": 1.5, "bigint": 2**70, "text": "x"}
TAKES = {  # base, path, the kinds it takes
    "id": (EMAIL, "id", {"text"}), "type": (EMAIL, "type", {"text"}),
    "subject": (EMAIL, "subject", {"text"}), "occurred_at": (EMAIL, "occurred_at", {"text"}),
    "note": (EMAIL, "note", {"text"}), "sources": (EMAIL, "sources", {"list"}),
    "source": (EMAIL, "sources.0", {"text", "object"}),
    "source-url": (EMAIL, "sources.0.url", {"text"}),
    "source-title": (EMAIL, "sources.0.title", {"text"}),
    "source-sha256": (EMAIL, "sources.0.sha256", {"text"}),
    "source-quote": (EMAIL, "sources.0.quote", {"text"}),
    "data": (EMAIL, "data", {"object"}), "text": (EMAIL, "data.sender", {"text"}),
    "free-text": (EMAIL, "data.summary", {"text"}), "time": (EMAIL, "data.deadline", {"text"}),
    "slug": (BLOCKED, "data.platform", {"text"}), "texts": (BLOCKED, "data.targets", {"list"}),
    "texts-item": (BLOCKED, "data.reasons.0", {"text"}),
    "choice": (MEETING, "data.kind", {"text"}), "bool": (OBSERVED, "data.accessible",
                                                         {"true", "false"}),
    "event": (NO_RESPONSE, "data.regarding", {"text"}), "fields": (CORRECTION, "data.set",
                                                                   {"object"}),
    "fields-value": (CORRECTION, "data.set.name", {"text", "true", "false", "list"}),
    "fields-value-item": (CORRECTION, "data.set.targets", {"list", "text"}),
}
for (label, (base, path, takes)), (kind, value) in itertools.product(TAKES.items(),
                                                                     KINDS.items()):
    if kind in takes:
        continue
    if path == "data.set.targets":  # a list of what is not text
        value, at = [value], path + ".0"
    else:
        at = path
    raw = str(value).encode() if kind == "bigint" else None
    if raw and at != path:
        raw = b"[" + raw + b"]"
    case(f"type-{kind}-for-{label}", line(base, path, value, raw=raw), field=field_name(at))
# A choice and a flag take text and true/false, but only their own values.
case("bool-as-text", line(OBSERVED, "data.accessible", "false"), field="data.accessible")
case("choice-unknown", line(MEETING, "data.kind", "ceo\u202e"), field="data.kind")

# Required fields missing or null; empty values.
for base, path in ((EMAIL, "data.sender"), (EMAIL, "sources"), (EMAIL, "subject"),
                   (EMAIL, "occurred_at"), (EMAIL, "type"), (BLOCKED, "data.targets")):
    case(f"missing-{path}", line(base, path, drop=True), field=field_name(path))
    case(f"null-{path}", line(base, path, None), field=field_name(path))
case("empty-sources", line(EMAIL, "sources", []), field="sources")
case("empty-source-object", line(EMAIL, "sources.0", {}), field="sources[0]")
case("empty-sender", line(EMAIL, "data.sender", "   "), field="data.sender")
case("empty-targets", line(BLOCKED, "data.targets", []), field="data.targets")
case("empty-set", line(CORRECTION, "data.set", {}), field="data.set")
case("bad-sha256", line(EMAIL, "sources.0.sha256", "AB" * 32), field="sources[0].sha256")
case("bad-date", line(EMAIL, "occurred_at", "2017-02-30"), field="occurred_at")
case("date-no-offset", line(EMAIL, "occurred_at", "2017-03-01T10:00:00"),
     field="occurred_at")
case("date-before-year-1-in-utc", line(EMAIL, "occurred_at", "0001-01-01T00:00:00+01:00"),
     field="occurred_at", says="out of range")
case("date-long-text", line(EMAIL, "occurred_at", "2" * 100_000), field="occurred_at")

# Not an object; not JSON; truncated.
for label, data in {"array": b"[" + VALID + b"]", "null": b"null", "true": b"true",
                    "number": b"12", "string": b'"an event"', "empty-array": b"[]"}.items():
    case(f"not-an-object-{label}", data, says="expected a JSON object")
case("empty-object", b"{}", field="type", says="unknown event type")
for n in (1, 2, 10, len(VALID) // 2, len(VALID) - 1):
    case(f"truncated-at-{n}", VALID[:n], says="not valid JSON")
case("unterminated-string", b'{"type": "email-sent', says="not valid JSON")
case("trailing-comma", VALID[:-1] + b",}", says="not valid JSON")
case("single-quotes", VALID.replace(b'"', b"'"), says="not valid JSON")
case("comment", b"// a comment", says="not valid JSON")
case("two-objects-on-a-line", VALID + b" " + VALID, says="not valid JSON")
case("lone-cr-separates-two-events", VALID + b"\r" + VALID, says="not valid JSON")
case("lone-surrogate-escape", line(EMAIL, "note", raw=b'"\\ud800"'), says="not valid JSON")

# BOM, CRLF and blank lines: fine where a user expects them to be, refused elsewhere.
BOM = b"\xef\xbb\xbf"
case("bom-at-start", BOM + line(EMAIL, "id", str(uuid.uuid4())), code=0, line_no=None,
     accept=1)
case("bom-on-a-later-line", VALID + b"\n" + BOM + line(OBSERVED), line_no=2,
     says="byte order mark")
case("bom-after-the-first-line", BOM + VALID, says="byte order mark")
case("crlf-line-endings", b"\r\n".join(line(EMAIL, "id", str(uuid.uuid4())) for _ in "ab"),
     code=0, line_no=None, accept=2)
case("crlf-bad-line-numbered", VALID + b"\r\n\r\n" + line(EMAIL, "note", 1) + b"\r\n",
     line_no=3, field="note")
case("blank-lines-only", b"\n\n   \n\t\n \r\n", code=0, line_no=None, accept=0)
case("empty-file", b"", code=0, line_no=None, accept=0)
case("blank-lines-counted", b"\n\n" + line(EMAIL, "note", 1), line_no=3, field="note")
case("form-feed-only-line", b"\x0c", code=0, line_no=None, accept=0)


_SEEDED: dict[str, str] = {}


@pytest.fixture
def seeded(runner: CliRunner, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One ledger for the whole corpus (created once), holding the platform ``telegram``."""
    if "db" not in _SEEDED:
        db = str(tmp_path_factory.mktemp("hostile") / "corpus.db")
        assert run(runner, db, "init").exit_code == 0
        assert run(runner, db, "import", "-", input=json.dumps(REGISTERED)).exit_code == 0
        _SEEDED["db"] = db
    return _SEEDED["db"]


@pytest.mark.parametrize("data, code, line_no, field, says, accept", CASES)
def test_hostile_import_line(runner, seeded, data, code, line_no, field, says, accept):
    """Each corpus input, after a valid line: one error line naming its line and field, or,
    for an input that is actually fine, a clean import."""
    before = count(seeded)
    if accept is not None:  # fine on its own: imported as the whole file
        imported(run(runner, seeded, "import", "-", input=data), seeded, before, accept)
        return
    valid = line(EMAIL, "id", str(uuid.uuid4()))  # would be new: must not be written either
    result = run(runner, seeded, "import", "-", input=valid + b"\n" + data + b"\n")
    refused(result, seeded, before, code=code,
            line_no=None if line_no is None else line_no + 1, field=field, says=says)


def test_the_corpus_is_large():
    assert len(CASES) >= 300


def test_a_long_line_is_refused_unparsed(runner, sqlite_path, monkeypatch):
    """The 10 MB line is never handed to the JSON parser (nor held whole)."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    parsed: list[int] = []
    loads = interchange.orjson.loads
    monkeypatch.setattr(interchange.orjson, "loads", lambda raw: parsed.append(len(raw))
                        or loads(raw))
    data = line(REGISTERED) + b"\n" + b'{"note": "' + b"n" * 10_000_000 + b'"}\n'
    refused(run(runner, sqlite_path, "import", "-", input=data), sqlite_path, 0, line_no=2,
            says="longer than 1 MB")
    assert parsed and max(parsed) < interchange.MAX_LINE


def test_limits_fit_together():
    """An export line (an event plus its recording) always fits an import line."""
    assert MAX_EVENT + 10_000 <= interchange.MAX_LINE


def test_sql_fragments_are_only_text(runner, sqlite_path):
    """SQL in texts is stored and exported as the text it is, and the ledger still works.
    (A target is no text: SQL there is refused as no domain name, tested below.)"""
    assert run(runner, sqlite_path, "init").exit_code == 0
    event = copy.deepcopy(REGISTERED)
    event["subject"] = "sql"
    event["data"] = {"name": SQL, "company": "x'); DELETE FROM stored_events; --",
                     "targets": ["t.me"]}
    event["note"] = "Robert'); DROP TABLE students;--\n" + SQL
    imported(run(runner, sqlite_path, "import", "-", input=json.dumps(event)), sqlite_path, 0, 1)
    result = run(runner, sqlite_path, "record", "email-sent", "sql", "--at", "2014-01-01",
                 "--source", SQL, "--sender", SQL, "--recipient", "x", "--summary", SQL)
    assert result.exit_code == 0, result.output
    assert count(sqlite_path) == 2
    exported = run(runner, sqlite_path, "export").stdout
    assert exported.count(json.dumps(SQL)[1:-1]) >= 5
    assert run(runner, sqlite_path, "verify").exit_code == 0
    assert run(runner, sqlite_path, "status", "sql", "--json").exit_code == 0


def test_free_text_keeps_tabs_and_line_breaks(runner, sqlite_path):
    """A summary quoting a letter keeps its line breaks and tabs; a name may not have one."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    assert run(runner, sqlite_path, "import", "-", input=json.dumps(REGISTERED)).exit_code == 0
    letter = "Dear Telegram,\n\tplease remove:\n- channel A\n- channel B"
    imported(run(runner, sqlite_path, "import", "-",
                 input=line(EMAIL, "data.summary", letter)), sqlite_path, 1, 1)
    assert json.dumps(letter) in run(runner, sqlite_path, "export").stdout


@pytest.mark.parametrize("value, field, ok", [
    ("a\tb\nc", "data.summary", True), ("a\tb", "data.sender", False),
    ("a\nb", "note", True), ("a\r\nb", "note", False), ("a\u2028b", "note", True),
    ("a\u2028b", "sources[0].title", False), ("\u202eabc", "note", False),
    ("abc\u2069", "data.summary", False), ("\u200fabc", "data.name", True),  # RLM is a mark
    ("  padded\r\n", "data.name", True),  # surrounding whitespace (CR too) is stripped
])
def test_which_text_holds_what(value, field, ok):
    if ok:
        assert check_text(value, field) == value.strip()
    else:
        with pytest.raises(BadInput) as caught:
            check_text(value, field)
        assert caught.value.field == field and "\n" not in str(caught.value)


# --- record: nasty options -------------------------------------------------------------------

REGISTER = ("record", "platform-registered")


def record_args(subject: str, *, at: str = "2017-01-01", sources: tuple[str, ...] = ("s",),
                name: str = "N", targets: tuple[str, ...] = ("t.me",),
                extra: tuple[str, ...] = ()) -> list[str]:
    """``record platform-registered`` with every value given as ``--opt=VALUE`` and the subject
    after ``--``, so that a value starting with '-' is still a value, never an option."""
    return [*REGISTER, f"--at={at}", *(f"--source={s}" for s in sources), f"--name={name}",
            *(f"--target={t}" for t in targets), *extra, "--", subject]


RECORD_CASES = [
    ("subject-sql", record_args(SQL), "subject"),
    ("subject-bidi", record_args("tele\u202egram"), "subject"),
    ("subject-empty", record_args(""), "subject"),
    ("subject-surrogate", record_args("tele\udcffgram"), "subject"),
    ("at-empty", record_args("a1", at=""), "occurred_at"),
    ("at-nul", record_args("a2", at="2017-01-01\x00"), "occurred_at"),
    ("at-bidi", record_args("a3", at="2017-01-01\u202e"), "occurred_at"),
    ("at-overflow", record_args("a4", at="0001-01-01T00:00:00+05:00"), "occurred_at"),
    ("at-no-offset", record_args("a5", at="2017-01-01T10:00"), "occurred_at"),
    ("at-huge", record_args("a6", at="9" * 100_000), "occurred_at"),
    ("source-empty", record_args("s1", sources=("",)), "sources[0]"),
    ("source-blank", record_args("s2", sources=("ok", " \t ")), "sources[1]"),
    ("source-nul", record_args("s3", sources=("a\x00b",)), "sources[0]"),
    ("source-bidi", record_args("s4", sources=("https://e.org/\u202egnp.exe",)),
     "sources[0]"),
    ("source-escape", record_args("s5", sources=("\x1b]0;pwned\x07",)), "sources[0]"),
    ("source-too-long", record_args("s6", sources=("s" * (MAX_TEXT + 1),)), "sources[0]"),
    ("source-surrogate", record_args("s7", sources=("\udcff",)), "sources[0]"),
    ("name-bidi", record_args("n1", name="Tele\u2066gram"), "data.name"),
    ("name-newline", record_args("n2", name="Tele\ngram"), "data.name"),
    ("name-c1", record_args("n3", name="Tele\x9bgram"), "data.name"),
    ("target-empty", record_args("t1", targets=("",)), "data.targets[0]"),
    ("target-newline", record_args("t2", targets=("t.me", "a\nb")), "data.targets[1]"),
    ("targets-1001", record_args("t3", targets=tuple(f"t{i}" for i in range(1001))),
     "data.targets"),
    ("note-bidi", record_args("o1", extra=("--note=a\u202eb",)), "note"),
    ("id-not-uuid", record_args("i1", extra=(f"--id={SQL}",)), "id"),
    ("id-bidi", record_args("i2", extra=(f"--id={uuid.uuid4()}\u202e",)), "id"),
    ("data-not-object", record_args("d1", extra=("--data=[1]",)), "data"),
    ("data-deep", record_args("d2", extra=("--data=" + "[" * 100_000 + "]" * 100_000,)),
     "data"),
    ("data-number-name", record_args("d3", extra=('--data={"name": 1e400}',)), "data"),
    ("data-unknown-field", record_args("d4", extra=('--data={"evil": 1}',)), "data"),
    ("data-float-name", ["record", "platform-registered", "--at=2017-01-01", "--source=s",
                         '--data={"name": 1.5, "targets": ["t"]}', "--", "d5"], "data.name"),
]


@pytest.mark.parametrize("args, field", [pytest.param(a, f, id=i) for i, a, f in RECORD_CASES])
def test_hostile_record_options(runner, seeded, args, field):
    before = count(seeded)
    refused(run(runner, seeded, *args), seeded, before, field=field)


def test_hostile_operator(runner, seeded):
    before = count(seeded)
    for name in ("a\u202eb", "a\nb", "a\x00b", "\udcff", "x" * 201):
        result = run(runner, seeded, "--operator", name, *record_args("op1"))
        refused(result, seeded, before, field="operator")


# --- property tests --------------------------------------------------------------------------

#: Characters a hostile input favours, mixed into every generated text.
NASTY = ["\x00", "\x1b", "\x7f", "\x85", "\x9b", "\r", "\n", "\t", "\u2028", "\u202a",
         "\u202e", "\u2066", "\u2069", "\ufeff", "\ud800", "\udcff", "'", '"', "\\", ";",
         "-", "é", "\U0001f600"]
texts = st.text(st.one_of(st.characters(), st.sampled_from(NASTY)), max_size=30)
#: Unusual but acceptable text, so that odd values also get recorded and shown.
plain = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12)
FUZZ = settings(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def to_bytes(value: Any, ascii_only: bool) -> bytes:
    """A JSON value as one line, as a careless writer might: NaN as NaN, surrogates as they
    are (invalid UTF-8) unless escaped."""
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def import_answers_cleanly(runner: CliRunner, db: str, data: bytes, codes=(0, 2)) -> Result:
    """Import ``data``: a clean import, or one error line and nothing written."""
    before = count(db)
    result = run(runner, db, "import", "-", input=data)
    event(f"exit {result.exit_code}")
    assert result.exit_code in codes, (result.exit_code, result.output)
    if result.exit_code == 0:
        imported(result, db, before)
    else:
        refused(result, db, before, code=result.exit_code)
        assert re.match(r"error: line \d+", result.stderr), result.stderr
    return result


def test_arbitrary_json_lines(runner, sqlite_path):
    assert run(runner, sqlite_path, "init").exit_code == 0

    @settings(FUZZ, max_examples=300)
    @given(st.lists(st.tuples(json_values, st.booleans()), min_size=1, max_size=3))
    def check(values):
        data = b"\n".join(to_bytes(v, a) for v, a in values)
        import_answers_cleanly(runner, sqlite_path, data)

    check()


def test_arbitrary_bytes_lines(runner, sqlite_path):
    assert run(runner, sqlite_path, "init").exit_code == 0

    @settings(FUZZ, max_examples=300)
    @given(st.lists(st.binary(max_size=60), min_size=1, max_size=4))
    def check(chunks):
        import_answers_cleanly(runner, sqlite_path, b"\n".join(chunks))

    check()


def test_valid_line_with_bytes_spliced_in(runner, sqlite_path):
    """A valid line with arbitrary bytes put in anywhere. Exit 1 is allowed (with one line and
    nothing written): bytes put inside a text give another valid platform-registered for a
    platform that exists."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    valid = line(REGISTERED)

    @settings(FUZZ, max_examples=300)
    @given(st.integers(0, len(valid)), st.binary(min_size=1, max_size=8),
           st.integers(0, 8))
    def check(at, spliced, cut):
        data = valid[:at] + spliced + valid[at + cut:]
        import_answers_cleanly(runner, sqlite_path, data, codes=(0, 1, 2))

    check()


BASES = [EMAIL, BLOCKED, OBSERVED, MEETING, NO_RESPONSE, CORRECTION]


def paths(value: Any, prefix: str = "") -> list[str]:
    """Every path in a JSON value (``data.targets.0``), and a new key in every object."""
    out = []
    if isinstance(value, dict):
        out.append(f"{prefix}new" if not prefix else f"{prefix}.new")
        for key, inner in value.items():
            path = f"{prefix}.{key}" if prefix else key
            out.append(path)
            out.extend(paths(inner, path))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            out.extend([f"{prefix}.{i}", *paths(inner, f"{prefix}.{i}")])
    return out


fresh = itertools.count()


def test_valid_events_with_one_field_replaced(runner, sqlite_path):
    """Any field of a valid event replaced by any value: a clean import or a clean refusal.

    Exit 1 is allowed too, with the same one line and nothing written: a replaced value may be
    valid and break a rule (a subject that does not exist, a date in the future)."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    assert run(runner, sqlite_path, "import", "-", input=json.dumps(REGISTERED)).exit_code == 0
    choices = [(base, path) for base in [REGISTERED, *BASES] for path in paths(base)]

    @settings(FUZZ, max_examples=400)
    @given(st.sampled_from(choices), st.one_of(json_values, texts, plain), st.booleans())
    def check(where, value, ascii_only):
        base, path = where
        base = copy.deepcopy(base)
        base.pop("id", None)
        if base["type"] == "platform-registered":
            base["subject"] = f"fuzz-{next(fresh)}"  # a creating event: a new subject
        obj = json.loads(line(base))
        *parents, last = path.split(".")
        holder: Any = obj
        for part in parents:
            holder = holder[int(part)] if isinstance(holder, list) else holder[part]
        holder[int(last) if isinstance(holder, list) else last] = value
        import_answers_cleanly(runner, sqlite_path, to_bytes(obj, ascii_only), codes=(0, 1, 2))

    check()


def record_answers_cleanly(runner: CliRunner, db: str, args: list[str]) -> None:
    """``record``: a clean recording of one event, or one error line and nothing written."""
    before = count(db)
    result = run(runner, db, *args)
    event(f"exit {result.exit_code}")
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output)
    if result.exit_code == 0:
        assert result.stderr == "" and result.stdout.startswith("recorded "), result.output
        assert count(db) == before + 1
    else:
        refused(result, db, before, code=result.exit_code)


def test_record_with_arbitrary_options(runner, sqlite_path):
    """Arbitrary text for the subject, --at, --source, --name, --note, --target: exit 0, or
    one error line and nothing written (exit 1 only for a rule: a date in the future)."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    option_texts = texts | plain | st.sampled_from([
        "2017-01-01", "2017-07-14T11:00:00+07:00", "t.me", "https://example.org/x",
        "9999-12-31"])

    @settings(FUZZ, max_examples=250)
    @given(st.one_of(texts, st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True)),
           st.fixed_dictionaries({
               "at": option_texts, "sources": st.lists(option_texts, max_size=3),
               "name": option_texts, "targets": st.lists(option_texts, max_size=3),
               "note": st.none() | option_texts}),
           st.sampled_from(["subject", "at", "sources", "name", "targets", "note", "all"]))
    def check(subject, values, hostile):
        # Everything valid but the option fuzzed ("all": every option fuzzed at once).
        fuzzed = {k: v for k, v in values.items() if hostile in (k, "all")}
        kwargs = {"at": "2017-01-01", "sources": ("s",), "name": "N", "targets": ("t.me",),
                  **{k: tuple(v) if isinstance(v, list) else v for k, v in fuzzed.items()
                     if k != "note"}}
        note = fuzzed.get("note")
        args = record_args(subject if hostile in ("subject", "all") else f"rec-{next(fresh)}",
                           **kwargs, extra=() if note is None else (f"--note={note}",))
        record_answers_cleanly(runner, sqlite_path, args)

    check()


def test_record_data_and_set_with_arbitrary_json(runner, sqlite_path):
    """--data and a correction's --set with arbitrary JSON: the same clean answers."""
    assert run(runner, sqlite_path, "init").exit_code == 0
    assert run(runner, sqlite_path, "import", "-", input=json.dumps(REGISTERED)).exit_code == 0

    @settings(FUZZ, max_examples=200)
    @given(json_values, st.sampled_from(["name", "targets", "company", "note", "occurred_at",
                                         "data"]))
    def check(value, name):
        text = orjson.dumps(value).decode() if _dumpable(value) else str(value)
        if name == "data":
            args = [*REGISTER, "--at=2017-01-01", "--source=s", f"--data={text}", "--",
                    f"data-{next(fresh)}"]
        else:
            args = ["record", "correction", "--at=2014-01-01", "--source=s",
                    f"--target={REGISTERED_ID}", f"--set={name}={text}", "--reason=r", "--",
                    "telegram"]
        record_answers_cleanly(runner, sqlite_path, args)

    check()


def _dumpable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except (TypeError, orjson.JSONEncodeError):
        return False
    return True


# Fact.from_json measures an event by its line (``size``) and dumps it again only past
# MAX_EVENT: sound only if compact JSON of an accepted event is never longer than its text.
@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=40), st.sampled_from(["data.summary", "data.sender",
                                                          "note", "sources.0.quote"]),
       st.booleans(), st.sampled_from(["", " ", "\n  "]))
def test_an_accepted_event_dumps_no_longer_than_its_line(text: str, path: str,
                                                         ascii_only: bool, space: str) -> None:
    obj = json.loads(line(EMAIL, path, text))
    raw = json.dumps(obj, ensure_ascii=ascii_only, indent=None,
                     separators=(f",{space}", f":{space}")).encode()
    try:
        fact = Fact.from_json(orjson.loads(raw), size=len(raw))
    except BadInput:
        return  # refused either way: nothing was measured
    assert len(orjson.dumps(orjson.loads(raw))) <= len(raw)
    assert fact == Fact.from_json(orjson.loads(raw))  # the same fact, measured or not
