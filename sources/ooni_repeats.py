"""Measurements met again: the same ``report_id`` and ``input`` later in one import, or
already observed in the ledger by an earlier import.

An observation's id is the uuid5 of its measurement's ``report_id`` and ``input``
(``sources.ooni.observation_id``), and ledgers hold those ids already: they never change.
So a measurement met again is never written twice, and never refuses the import either:

- the same observation again (a file read twice, a re-run after ``--batch-commit``) is
  counted as already present, as ``import`` counts an id the ledger holds;
- an observation the ledger holds that differs only by where its host was matched
  (``subject`` and ``data.target``: the platforms' targets changed since, say a
  ``targets-added`` of the subdomain measured) is the same measurement, matched again:
  counted as already present too (``rematched``); the ledger keeps the first match;
- the same ``report_id`` and ``input`` with other content (another time, another result)
  is a repeated measurement: the first kept, the later one skipped and counted
  (``repeated-measurement``), each named with both places (``Repeated``).

Within one import the first of each id is remembered by a digest of its id, where it was
read and a hash of what was read of it (137 bytes a measurement by tracemalloc: 14 MB for
100,000); what earlier imports wrote is asked of the ledger, a chunk of ids a query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import orjson

#: A lookup of ids (text) in the ledger: id -> (position, the stored event as exported).
Lookup = Callable[[Sequence[str]], dict[str, tuple[int, dict[str, Any]]]]
#: How many repeats with other content are named (the rest only counted).
NAMED = 20
_LINE_BITS = 40
_HASH = (1 << 64) - 1


class Repeated(NamedTuple):
    """A measurement skipped as a repeat: where it was read, where the first was (a
    place, or the ledger's position of the observation imported before), and its keys."""

    place: str
    first: str
    report_id: str
    input: str


def in_ledger(ledger: Any) -> Lookup:
    """The ``Lookup`` of ``ledger``: the positions of the ids it holds, and those events'
    stored content (read only for ids found)."""

    def lookup(ids: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]:
        known = ledger.recorder.positions_of(ids)
        if not known:
            return {}
        states = ledger.states_at(list(known.values()))
        return {id_: (position, orjson.loads(states[position]))
                for id_, position in known.items()}

    return lookup


def nowhere(ids: Sequence[str]) -> dict[str, tuple[int, dict[str, Any]]]:
    """The ``Lookup`` of an empty ledger."""
    return {}


class Repeats:
    """What was met before: in this import (by id digest) or in the ledger (``lookup``).

    ``fact`` makes the observation of an item (``(place, measurement, held, id digest,
    id text)``), to compare it with what the ledger holds."""

    def __init__(self, fact: Callable[[Any, Any, str], Any], lookup: Lookup = nowhere):
        self.fact = fact
        self.lookup = lookup
        self.already = 0
        self.rematched = 0
        self.repeated = 0
        self.named: list[Repeated] = []
        #: id digest -> (file index << 40 | line) << 64 | 64-bit hash of what was read
        self._first: dict[bytes, int] = {}
        self._files: dict[str, int] = {}
        self._names: list[str] = []

    def fresh(self, items: Sequence[tuple[Any, Any, Any, bytes, str]],
              ) -> list[tuple[Any, Any, Any, bytes, str]]:
        """Those of ``items`` met for the first time, in order; the others counted."""
        asked = [item[4] for item in items if item[3] not in self._first]
        held = self.lookup(asked) if asked else {}
        out = []
        for item in items:
            place, m, found, digest, text = item
            first = self._first.get(digest)
            if first is not None:
                if first & _HASH == hash(m) & _HASH:
                    self.already += 1
                else:
                    self._repeat(place, self._place(first), m)
                continue
            stored = held.get(text)
            if stored is not None:
                self._held(place, stored, m, self.fact(m, found, text).to_json())
                continue
            self._first[digest] = self._code(place, hash(m) & _HASH)
            out.append(item)
        return out

    def _held(self, place: Any, found: tuple[int, dict[str, Any]], m: Any,
              given: dict[str, Any]) -> None:
        from ledger.idempotence import difference

        position, stored = found
        target = stored.get("data", {}).get("target")
        # Where the host was matched may have changed since (the platforms' targets did):
        # the same measurement all the same.
        if difference(stored, {**given, "subject": stored.get("subject"),
                               "data": {**given["data"], "target": target}}) is not None:
            self._repeat(place, f"position {position} of the ledger (imported before)", m)
            return
        self.already += 1
        if (given["subject"], given["data"]["target"]) != (stored.get("subject"), target):
            self.rematched += 1

    def _repeat(self, place: Any, first: str, m: Any) -> None:
        self.repeated += 1
        if len(self.named) < NAMED:
            self.named.append(Repeated(f"line {place}", first, m.report_id, m.input))

    def _code(self, place: Any, content: int) -> int:
        index = self._files.get(place.file)
        if index is None:
            index = self._files[place.file] = len(self._names)
            self._names.append(place.file)
        return ((index << _LINE_BITS | place.line) << 64) | content

    def _place(self, code: int) -> str:
        where = code >> 64
        return f"line {where & ((1 << _LINE_BITS) - 1)} of {self._names[where >> _LINE_BITS]}"
