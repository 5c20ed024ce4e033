"""Records for machines: JSON, JSON Lines and CSV, written as they come.

CSV has one row per record and stable columns, named by each command's column list
(``HISTORY_COLUMNS``, ``STATUS_COLUMNS``, ...; documented in the README): times as ISO
8601, lists joined with ``;``, objects as JSON, booleans ``true``/``false``, nothing as
an empty cell. A history or export row carries an event's values as corrected, not the
raw event.

Every CSV goes through ``write_csv``, which keeps each cell from being run as a formula
when the file is opened in a spreadsheet (``spreadsheet_safe``): what events say is
hostile input, and ``=HYPERLINK(...)`` in a note or an authority's name must stay text.
JSON and JSON Lines keep the values exactly.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import IO, Any

import orjson

FORMATS = ("table", "json", "jsonl", "csv")

Columns = Sequence[tuple[str, Callable[[dict[str, Any]], Any]]]


def cell(value: Any) -> str:
    """One CSV cell: lists joined with ``;``, objects as JSON, booleans in lower case."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ";".join(cell(item) if not isinstance(item, dict)
                        else orjson.dumps(item).decode() for item in value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode() if value else ""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FIRST = frozenset(FORMULA_STARTS)
#: A plain number (-5, +3.25, -1e3): a spreadsheet reads it as that number, not a formula.
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def spreadsheet_safe(value: Any) -> Any:
    """``value``, with a text that a spreadsheet would run as a formula (``=HYPERLINK(...)``,
    ``@SUM(...)``, ``-1+cmd|...``, or a tab or carriage return before one) given a leading
    apostrophe, which spreadsheets show as text and a program reading the file sees (and
    may strip); other values as they are.

    The same holds after every ``;`` in the text: a spreadsheet set to a locale whose list
    separator is ``;`` (Indonesia's, Turkey's, Brazil's, Germany's) splits an unquoted cell
    there, so ``Kominfo;=WEBSERVICE(...)`` would be two cells, the second a formula; it is
    written ``Kominfo;'=WEBSERVICE(...)``. (Lists are joined with ``;`` too: each item is
    guarded so.)

    What legitimate values become: a plain number, negative ones included (``-5``,
    ``+3.25``, ``-1e3``), is left as it is (a spreadsheet reads it as that number); ISO 8601
    times and dates start with a digit and are never touched; an apostrophe already there
    is kept, and nothing is added before it (so guarding twice changes nothing). Any other
    text starting with ``= + - @``, a tab or a carriage return (or with one after a ``;``)
    gains the apostrophe: for example a summary or note that starts with a dash."""
    if not isinstance(value, str):
        return value
    if ";" in value:
        return ";".join(map(_guarded, value.split(";")))
    return _guarded(value)


def _guarded(text: str) -> str:
    """``text`` with the apostrophe ``spreadsheet_safe`` gives a formula's start."""
    if text[:1] in _FIRST and not (text[0] in "+-" and _NUMBER.fullmatch(text)):
        return "'" + text
    return text


def write_json(value: Any, out: IO[bytes]) -> None:
    """One JSON document, indented."""
    out.write(orjson.dumps(value, option=orjson.OPT_INDENT_2))
    out.write(b"\n")


def write_jsonl(records: Iterable[dict[str, Any] | bytes], out: IO[bytes]) -> int:
    """One JSON object a line, each as it comes (a record given as bytes is its line
    already, as ``projections.history.ledger_lines`` gives them; ``rows`` lines given in
    one piece, as ``ledger_lines(joined=True)`` does, count as those); return how many."""
    n = 0
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    for record in records:
        if record.__class__ is bytes:
            out.write(record)  # type: ignore[arg-type]
            n += 1
        elif isinstance(record, bytes):  # (history_stream.Lines)
            out.write(record)
            n += record.rows  # type: ignore[attr-defined]
        else:
            out.write(dumps(record, option=newline))
            n += 1
    return n


def write_json_list(records: Iterable[dict[str, Any]], out: IO[bytes], *,
                    head: dict[str, Any] | None = None, key: str = "events") -> int:
    """A JSON list written item by item (so memory stays flat); with ``head``, the object
    ``head`` with the list under ``key`` last. Return how many items."""
    if head is not None:
        opening = orjson.dumps({**head, key: []}, option=orjson.OPT_INDENT_2)
        out.write(opening[:opening.rindex(b"[")] + b"[")
    else:
        out.write(b"[")
    n = 0
    for record in records:
        out.write(b",\n" if n else b"\n")
        out.write(orjson.dumps(record, option=orjson.OPT_INDENT_2))
        n += 1
    out.write(b"\n]" + (b"\n}\n" if head is not None else b"\n"))
    return n


def write_csv(records: Iterable[dict[str, Any]], columns: Columns, out: IO[bytes]) -> int:
    """A header, then one row per record (UTF-8, CRLF as RFC 4180), each cell
    ``spreadsheet_safe``; return how many. Every ``--format csv`` is written here."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([spreadsheet_safe(name) for name, _ in columns])
    n = 0
    safe = spreadsheet_safe
    for record in records:
        writer.writerow([safe(cell(get(record))) for _, get in columns])
        n += 1
        if buffer.tell() > 1 << 16:
            out.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    out.write(buffer.getvalue().encode("utf-8"))
    return n


def columns_of(records: Sequence[dict[str, Any]]) -> Columns:
    """CSV columns for flat records: their keys, in first-seen order."""
    names = list(dict.fromkeys(key for record in records for key in record))
    return [(name, _getter(name)) for name in names]


def _getter(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda record: record.get(name)


def _sources(row: dict[str, Any]) -> list[str]:
    return [s.get("url") or s.get("title") or "" for s in row.get("sources", [])]


#: history and export --format csv: one row per event, as corrected.
HISTORY_COLUMNS: Columns = [
    ("position", lambda r: r.get("position")),
    ("id", lambda r: r["id"]),
    ("type", lambda r: r["type"]),
    ("subject", lambda r: r["subject"]),
    ("occurred_at", lambda r: r["occurred_at"]),
    ("summary", lambda r: r.get("summary")),
    ("recorded_at", lambda r: r.get("recorded_at")),
    ("recorded_by", lambda r: r.get("recorded_by")),
    ("sources", _sources),
    ("note", lambda r: r.get("note")),
    ("corrected_by", lambda r: r.get("corrected_by")),
    ("retracted_by", lambda r: r.get("retracted_by")),
    ("disputed_by", lambda r: r.get("disputed_by")),
    ("original", lambda r: r.get("original")),
    ("data", lambda r: r.get("data")),
]


#: The states of an order in effect: not lifted, nor set aside by a court (suspended or
#: overturned by a ruling, until reinstated); a temporary lift ends by itself, so an order
#: lifted for a while still is. (Before, only "lifted" was left out, and an overturned
#: order counted as in effect.)
IN_EFFECT = frozenset({"in-effect", "partially-lifted", "temporarily-lifted"})


def any_disputed(status: dict[str, Any]) -> bool:
    """Whether anything of a platform's status is disputed: the platform, an order or a
    request (the summary table's flag and the CSV's column both say this)."""
    return bool(status["disputed"] or any(
        o.get("disputed") for o in [*status["orders"], *status["normalizations"]]))


def _in_effect(status: dict[str, Any]) -> list[str]:
    return [o["ref"] for o in status["orders"] if o["state"] in IN_EFFECT]


#: status --format csv: one row per platform.
STATUS_COLUMNS: Columns = [
    ("platform", lambda s: s["platform"]),
    ("name", lambda s: s["name"]),
    ("state", lambda s: s["state"]),
    ("since", lambda s: s.get("since")),
    ("blocked_targets", lambda s: s["blocked_targets"]),
    ("registered_targets", lambda s: s.get("targets")),
    ("orders_in_effect", _in_effect),
    ("authorities", lambda s: sorted({o["authority"] for o in s["orders"]})),
    ("orders", lambda s: [f"{o['ref']}:{o['state']}" for o in s["orders"]]),
    ("normalizations", lambda s: [f"{r['ref']}:{r['state']}" for r in s["normalizations"]]),
    ("divergent", lambda s: s["divergent"]),
    ("divergence", lambda s: [f"{t}:{k}" for t, k in s.get("divergence", {}).items()]),
    ("disputed", lambda s: any_disputed(s)),
    ("as_of", lambda s: s["as_of"]),
    ("as_known_at", lambda s: s["as_known_at"]),
    ("penalties", lambda s: [f"{p.get('authority')}:{p.get('amount')} {p.get('currency')}/"
                             f"{p.get('per')}:{p.get('state')}:{p.get('accrued')}"
                             for p in s.get("penalties") or []]),
]


def streamed(records: Iterable[dict[str, Any]], fmt: str, out: IO[bytes], *,
             columns: Columns, head: dict[str, Any] | None = None,
             key: str = "events") -> int:
    """``records`` written in ``fmt`` (json, jsonl or csv); return how many."""
    if fmt == "jsonl":
        return write_jsonl(records, out)
    if fmt == "csv":
        return write_csv(records, columns, out)
    return write_json_list(records, out, head=head, key=key)


def counted(records: Iterable[Any], advance: Callable[[int], None]) -> Iterator[Any]:
    """``records`` as they come, calling ``advance`` with each one's index."""
    for i, record in enumerate(records):
        advance(i)
        yield record
