"""Small immutable values: references, texts, identifiers, valid times and source citations."""

from __future__ import annotations

import re
import reprlib
import unicodedata
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from attrs import frozen

from domain.errors import BadInput

SLUG = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
SHA256 = re.compile(r"[0-9a-f]{64}")
URL = re.compile(r"https?://\S+", re.IGNORECASE)

#: Size limits, so that one hostile line cannot fill the store: a text (any text field, list
#: item or source part) holds at most MAX_TEXT characters, a list at most MAX_ITEMS items, and
#: a whole event, as JSON, at most MAX_EVENT bytes (an import line is at most 1 MB: an export
#: line is the event plus its recording, well under 10 kB more, so every export re-imports).
MAX_TEXT = 10_000
MAX_ITEMS = 1_000
MAX_EVENT = 990_000

#: Free-text fields: a tab or a line break may appear in them (a summary may quote a letter).
#: Every other text (names, senders, authorities, list items, source titles and URLs, ids,
#: references) is one line. Decided by the last part of the field's path (``data.summary``).
FREE_TEXT = frozenset({"summary", "reason", "claim", "detail", "note", "quote"})

# Characters refused in text, in any field: C0 and C1 control characters (and DEL), lone
# surrogates (invalid Unicode, e.g. a command-line argument that was not UTF-8), and the
# bidirectional embedding, override and isolate characters U+202A-U+202E and U+2066-U+2069,
# which make a text display as something else than it is ("Tele\u202emarg" shows as
# "Telegram"). Free text may hold a tab and a line break (\n); one-line text may not, nor
# U+2028/U+2029 (line and paragraph separators).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_REFUSED_FREE = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff]")
_REFUSED_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")

#: Identifiers: texts that name someone or something and are compared as they are written, so
#: that two which look alike must be equal (see ``check_identifier``). ``check_text`` applies
#: the identifier rules to the fields named here (the operator who records). Targets follow
#: the same rules and their own grammar (``domain.identifiers``); references are ASCII slugs.
IDENTIFIERS = frozenset({"operator"})
#: The longest identifier (an operator's name).
MAX_NAME = 200

# Refused in an identifier, beyond what ``check_text`` refuses in any one-line text: the
# general categories format (Cf: zero-width space and joiners, bidi marks, the BOM, soft
# hyphen, tags), control (Cc), surrogate (Cs), private use (Co: it shows as whatever a font
# draws) and unassigned (Cn: it may become anything), line and paragraph separators (Zl, Zp),
# every space but U+0020 (a no-break space makes "a b" a different name), and the
# default-ignorable characters of other categories, which display as nothing: the combining
# grapheme joiner, the Hangul fillers, the Khmer inherent vowels, the variation selectors;
# and the braille blank, which displays as a space.
_REFUSED_CATEGORIES = frozenset({"Cf", "Cc", "Cs", "Co", "Cn", "Zl", "Zp"})
_INVISIBLE = re.compile("[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u2800\u3164"
                        "\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]")
#: Scripts that may mix in one identifier (Unicode TS 39's "highly restrictive" profile:
#: Japanese, Chinese and Korean writing mix Han with their own scripts, and with Latin).
_SCRIPT_MIXES = (frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
                 frozenset({"Latin", "Han", "Bopomofo"}),
                 frozenset({"Latin", "Han", "Hangul"}))
# A letter's script is the first word of its Unicode name ("CYRILLIC SMALL LETTER IE"),
# except for these, whose name starts otherwise.
_SCRIPT_OF_WORD = {"CJK": "Han", "HALFWIDTH": "Katakana"}

_SHOWN = reprlib.Repr()
_SHOWN.maxstring = 60
_SHOWN.maxother = 60
_SHOWN.maxlevel = 2
_SHOWN.maxlist = _SHOWN.maxdict = _SHOWN.maxtuple = 4


def shown(value: object) -> str:
    """A value as an error message may quote it: escaped, at most about 60 characters, and
    safe on any input (a 10 MB text, a list nested 1000 deep)."""
    return _SHOWN.repr(value)


def json_kind(value: object) -> str:
    """What a JSON value is, in words: "text", "a number", "a list", "an object", "null"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _describe_char(char: str, multiline: bool) -> str:
    code = ord(char)
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return (f"the bidirectional control character U+{code:04X}, which makes a text display "
                "as something else than it is")
    if 0xD800 <= code <= 0xDFFF:
        return f"the lone surrogate U+{code:04X}: it is not valid Unicode (was the input UTF-8?)"
    if char == "\x00":
        return "a NUL character"
    if char == "\r" and multiline:
        return "a carriage return (U+000D): break lines with \\n alone"
    if char in "\t\n\r\u2028\u2029":
        return f"a line break or tab (U+{code:04X}): this field is one line"
    return f"the control character U+{code:04X}"

# Fixed forever: aggregate ids are uuid5(NAMESPACE, "<kind>:<reference>").
NAMESPACE = uuid.UUID("6f1b6a3e-4c1d-5b8e-9a57-0d3c2b1e7f42")


def check_slug(value: object, field: str) -> str:
    """Return ``value`` if it is a reference slug, else raise ``BadInput`` naming ``field``."""
    if not isinstance(value, str) or not SLUG.fullmatch(value):
        what = shown(value) if isinstance(value, str) else json_kind(value)
        raise BadInput(
            f"{what} is not a reference: use text of lower-case letters, digits, '.', '_' or "
            "'-' (at most 100, starting with a letter or digit)",
            field=field,
        )
    return value


def is_free_text(field: str) -> bool:
    """Whether the field at path ``field`` is free text (see ``FREE_TEXT``)."""
    return field.rpartition(".")[2] in FREE_TEXT


def clean_text(value: object, multiline: bool, limit: int = MAX_TEXT) -> str | None:
    """``value`` stripped if it is acceptable text (``check_text``'s rules), else None.

    The test itself, without the error: ``check_text`` runs it first and explains a refusal
    only then, and hot paths (a bulk import's many texts) call it directly, so as not to
    build a field's name for an error that does not happen."""
    if value.__class__ is not str:
        return None
    text = value.strip()  # type: ignore[attr-defined]
    if not text or len(text) > limit or (_REFUSED_FREE if multiline
                                         else _REFUSED_LINE).search(text):
        return None
    return text


def check_text(value: object, field: str, *, limit: int = MAX_TEXT,
               multiline: bool | None = None) -> str:
    """Return ``value`` stripped if it is non-empty text within ``limit`` characters.

    It must not hold a control character (free text may hold a tab and a line break; by
    default a field is free text when its name is in ``FREE_TEXT``), a bidirectional
    override or isolate, or a lone surrogate. Any script may be used, and invisible marks
    (a zero-width joiner in Persian or Hindi, a right-to-left mark) are kept: the text is
    shown as text. A field named in ``IDENTIFIERS`` is an identifier (``check_identifier``).
    """
    if field in IDENTIFIERS:
        return check_identifier(value, field, limit=limit)
    if multiline is None:
        multiline = is_free_text(field)
    text = clean_text(value, multiline, limit)
    return _explain_text(value, field, limit, multiline) if text is None else text


def _explain_text(value: object, field: str, limit: int, multiline: bool) -> str:
    """``check_text`` once ``clean_text`` refused ``value``: the ``BadInput`` saying why (or
    the stripped text, for a subclass of str that ``clean_text`` does not take)."""
    if not isinstance(value, str):
        raise BadInput(f"expected text, got {json_kind(value)}", field=field)
    value = value.strip()
    if not value:
        raise BadInput("must not be empty", field=field)
    if len(value) > limit:
        raise BadInput(f"is longer than {limit:,} characters", field=field)
    bad = (_REFUSED_FREE if multiline else _REFUSED_LINE).search(value)
    if bad:
        raise BadInput(f"character {bad.start() + 1} is {_describe_char(bad.group(), multiline)}",
                       field=field)
    return value


def check_identifier(value: object, field: str, *, limit: int = MAX_NAME) -> str:
    """Return ``value`` stripped, in Unicode NFC, if it is an identifier: one line of text
    (``check_text``) that cannot pass for another.

    Refused: invisible characters (a zero-width space, a joiner, a bidi mark, a variation
    selector; see ``_REFUSED_CATEGORIES``), spaces other than U+0020, compatibility
    look-alikes (a full-width or mathematical letter: whatever NFKC changes), and letters of
    two scripts that do not mix (Latin with Cyrillic or Greek: "telegram.m\u0435" with a
    Cyrillic e). One script, any script, is fine, as are the mixes of Japanese, Chinese and
    Korean writing (with Latin). ASCII text passes these checks by construction.
    """
    text = clean_text(value, False, limit)
    if text is None:
        text = _explain_text(value, field, limit, False)
    problem = identifier_problem(text)
    if problem:
        raise BadInput(f"{shown(text)} {problem}", field=field)
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def identifier_problem(text: str) -> str | None:
    """Why a one-line ``text`` is no identifier (see ``check_identifier``), or None."""
    return character_problem(text) or script_problem(text)


def character_problem(text: str) -> str | None:
    """Why ``text`` holds a character no identifier may hold (invisible, a space but U+0020,
    a compatibility look-alike), or None."""
    if text.isascii():
        return None
    for i, char in enumerate(text):
        category = unicodedata.category(char)
        if category == "Co" or category == "Cn":
            what = "a private-use character" if category == "Co" else "an unassigned code point"
            return (f"holds {what} (U+{ord(char):04X}) at character {i + 1}: it displays as "
                    "whatever a font draws, and an identifier may not hold one")
        if (category in _REFUSED_CATEGORIES or _INVISIBLE.match(char)
                or (category == "Zs" and char != " ")):
            return (f"holds {_char_name(char)} at character {i + 1}, which displays as "
                    "nothing or as a plain space: an identifier may not")
        if unicodedata.normalize("NFKC", char) != unicodedata.normalize("NFC", char):
            return (f"holds {_char_name(char)} at character {i + 1}, a look-alike of "
                    f"{unicodedata.normalize('NFKC', char)!r}: write that instead")
    return None


def script_problem(text: str) -> str | None:
    """Why ``text`` mixes the letters of scripts that do not mix, or None."""
    if text.isascii():
        return None
    scripts: set[str] = set()
    for i, char in enumerate(text):
        script = _script(char)
        if script is None or script in scripts:
            continue
        if scripts and not any(scripts | {script} <= mix for mix in _SCRIPT_MIXES):
            return (f"mixes {', '.join(sorted(scripts))} and {script} letters (character "
                    f"{i + 1} is {_char_name(char)}): letters of one script look like "
                    "another's, so write an identifier in one script")
        scripts.add(script)
    return None


def _char_name(char: str) -> str:
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed')}"


def _script(char: str) -> str | None:
    """The script of a letter or of a script's own mark (``Cyrillic``), else None: digits,
    punctuation, symbols, modifier letters and combining marks belong to every script."""
    category = unicodedata.category(char)
    if (category[0] == "L" and category != "Lm") or category in ("Mn", "Mc"):
        word = unicodedata.name(char, "").partition(" ")[0]
        if word and word != "COMBINING":
            return _SCRIPT_OF_WORD.get(word) or word.capitalize()
    return None


@lru_cache(maxsize=65536)
def aggregate_id(kind: str, reference: str) -> uuid.UUID:
    """The deterministic id of the aggregate of ``kind`` addressed by ``reference``."""
    return uuid.uuid5(NAMESPACE, f"{kind}:{reference}")


@frozen(order=False)
class When:
    """A point in valid time, as an operator wrote it.

    ``text`` keeps what was given (a bare date keeps day precision for display);
    ``instant`` is the UTC instant it orders at: a bare date orders as the start of that day.
    """

    text: str
    instant: datetime
    day: bool

    @classmethod
    def parse(cls, value: object, field: str = "occurred_at", *, end_of_day: bool = False) -> When:
        """Parse an ISO 8601 date, or date-time with an offset.

        A bare date means the start of that day (UTC), or its end with ``end_of_day``
        (``--as-of 2017-07-14`` includes everything that happened on 14 July).
        """
        if not isinstance(value, str):
            raise BadInput(f"expected an ISO 8601 date or date-time, got {json_kind(value)}",
                           field=field)
        text = value.strip()
        if len(text) == 10:
            try:
                day = date.fromisoformat(text)
            except ValueError:
                raise BadInput(f"{shown(value)} is not an ISO 8601 date", field=field) from None
            start = datetime.combine(day, time(0), tzinfo=UTC)
            instant = start + timedelta(days=1, microseconds=-1) if end_of_day else start
            # The text kept is the plain date (2017-W28-5 is kept as 2017-07-14).
            return cls(text=day.isoformat(), instant=instant, day=True)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{shown(value)} is not an ISO 8601 date or date-time",
                           field=field) from None
        if moment.tzinfo is None:
            raise BadInput(
                f"{shown(value)} has no UTC offset: add one (e.g. +07:00 or Z) or give a bare "
                "date",
                field=field,
            )
        try:
            instant = moment.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the year 1 in UTC
            raise BadInput(f"{shown(value)} is out of range (years 1 to 9999 in UTC)",
                           field=field) from None
        return cls(text=moment.isoformat(), instant=instant, day=False)

    @classmethod
    def of(cls, moment: datetime) -> When:
        """The ``When`` of an aware datetime."""
        return cls(text=moment.isoformat(), instant=moment.astimezone(UTC), day=False)

    def __str__(self) -> str:
        return self.text


_SOURCE_FIELDS = frozenset(("url", "title", "sha256", "quote"))


@lru_cache(maxsize=65536)
def stored_when(text: str) -> When:
    """The ``When`` of a valid time this ledger stored itself (already validated). Times
    repeat (bare dates, above all) and ``When`` is immutable, so one object serves every
    event that has the same text."""
    return When.parse(text)


@frozen
class Source:
    """A citation backing an event: a URL, a title, a digest of the document, a quote."""

    url: str | None = None
    title: str | None = None
    sha256: str | None = None
    quote: str | None = None

    @classmethod
    def parse(cls, value: object, field: str = "sources") -> Source:
        """A source from the command line (a URL or a text) or from a JSON object."""
        if isinstance(value, str):
            text = check_text(value, field)
            return cls(url=text) if URL.fullmatch(text) else cls(title=text)
        if not isinstance(value, dict):
            raise BadInput("a source is a URL, a text or an object {url, title, sha256, quote}",
                           field=field)
        if not value.keys() <= _SOURCE_FIELDS:
            unknown = [k for k in value if k not in _SOURCE_FIELDS]
            raise BadInput(f"unknown source field {shown(unknown[0])} (a source has url, "
                           "title, sha256, quote)", field=field)
        parts = {}
        for k, v in value.items():
            if v is not None:
                text = clean_text(v, k in FREE_TEXT)  # the quote is free text
                parts[k] = check_text(v, f"{field}.{k}") if text is None else text
        if not parts.get("url") and not parts.get("title"):
            raise BadInput("a source needs a url or a title", field=field)
        if "sha256" in parts and not SHA256.fullmatch(parts["sha256"]):
            raise BadInput("sha256 must be 64 lower-case hex digits", field=f"{field}.sha256")
        return cls(**parts)

    def to_json(self) -> dict[str, str]:
        """The source as a JSON object, without empty fields."""
        out = {}
        if self.url:
            out["url"] = self.url
        if self.title:
            out["title"] = self.title
        if self.sha256:
            out["sha256"] = self.sha256
        if self.quote:
            out["quote"] = self.quote
        return out

    def label(self) -> str:
        """A short human label: the title, else the URL."""
        return self.title or self.url or ""
