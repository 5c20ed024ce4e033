"""The interchange format: JSON Lines of events, read for import and written by export."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

import orjson

from domain.errors import BadInput
from domain.fact import Fact
from ledger.application import Entry
from ledger.canonical import event_hash


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

    Blank lines are skipped. A bad line raises ``BadInput`` naming the line and the field.
    """
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError as error:
            raise BadInput(f"not valid JSON ({error})", line=number) from None
        try:
            yield number, Fact.from_json(obj)
        except BadInput as error:
            raise error.at_line(number) from None
