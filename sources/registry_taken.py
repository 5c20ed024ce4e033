"""An import's event ids that other events took first (issue 15, attack H2).

The ids of a registry import's events are computed from the public dump
(``sources.registry_ids``), so anyone can record an event under one before the honest
import writes it; an id, once stored, is taken for ever, retracted or not. The import
refused its snapshot for ever ("in the ledger already, with other content"), even after the
squatting event was retracted. Now, as an import writes (a batch at a time, under the
write lock), each id the ledger holds already is its own only where the event holding it
is:

- of its shape (the same type, subject and snapshot: ``Registry.wrote_stored``), and
- not retracted, and
- the registry's: proven by a check of its snapshot by its own recorder (``Held.proven``),
  or an import cut short that this operator is finishing (its own events, which
  ``check_order`` let through).

Such an event is this import's own (re-running adds nothing; the ledger compares the two).
Any other holder (retracted, of another shape, or of the registry's shape unproven) leaves
the id to it: the event is derived again (``again-N``, the least N whose id is free or its
own, named in its note) and is still the registry's to ``Registry.wrote``. An unretracted
event of the registry's shape that no check proves is named by ``check_order`` first (an
import cut short, or made by hand): it stops the registry until retracted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any
from uuid import UUID

import orjson

from domain.amendments import effective
from domain.fact import Fact
from domain.subjects import AGGREGATES
from domain.values import stored_when
from sources.registry_checks import CHECK
from sources.registry_held import Held
from sources.registry_ids import again_note, again_of


def untaken(ledger: Any, held: Held, operator: str, facts: Iterable[tuple[int, Fact]],
            size: int, checked: dict[str, str] | None = None) -> Iterator[tuple[int, Fact]]:
    """``facts`` (an import's, ``(line, fact)``), each whose id another event took derived
    again; looked up ``size`` at a time (an import's batch: one query each). ``checked``
    is given the subject the check is written under (``subject``)."""
    taken = _Taken(ledger, held, operator)
    chunk: list[tuple[int, Fact]] = []
    for item in facts:
        chunk.append(item)
        if len(chunk) >= size:
            yield from _said(taken.free(chunk), checked)
            chunk = []
    yield from _said(taken.free(chunk), checked)


def _said(chunk: list[tuple[int, Fact]], checked: dict[str, str] | None,
          ) -> list[tuple[int, Fact]]:
    if checked is not None:
        for _, fact in chunk:
            if fact.type == CHECK:
                checked["subject"] = fact.subject
    return chunk


class _Taken:
    """The ledger's holders of an import's ids, and what the import writes instead."""

    def __init__(self, ledger: Any, held: Held, operator: str):
        self.ledger, self.held, self.operator = ledger, held, operator
        self.registry = held.registry

    def free(self, chunk: list[tuple[int, Fact]]) -> list[tuple[int, Fact]]:
        if not chunk:
            return chunk
        known = self.ledger.recorder.positions_of(str(fact.id) for _, fact in chunk)
        if not known and not any(fact.type == CHECK for _, fact in chunk):
            return chunk  # (a check's subject may be taken, its id free)
        return [(line, self._free(fact, known.get(str(fact.id)))) for line, fact in chunk]

    def _free(self, fact: Fact, position: int | None) -> Fact:
        """``fact``, or the same event derived again until its id is free or its own (and,
        a check, its subject free: its subject is fixed, where an order's moves on)."""
        if position is None and fact.type != CHECK:
            return fact
        digest = next((s.sha256 for s in fact.sources if s.sha256), None)
        key = self._key(fact, digest)
        if key is None:  # not an id of the registry's (no such event is made)
            return fact
        again = 0
        while True:
            if position is not None:
                state = self.ledger.states_at([position])[position]
                if self._own(fact, orjson.loads(state), digest, again):
                    return fact
            elif fact.type != CHECK or self.ledger.subject("snapshot", fact.subject) is None:
                return fact
            again += 1
            fact = self._again(fact, digest, key, again)
            position = self.ledger.recorder.positions_of([str(fact.id)]).get(str(fact.id))

    def _again(self, fact: Fact, digest: Any, key: str, again: int) -> Fact:
        """``fact`` derived ``again`` times: its id, and a check's subject too."""
        if fact.type == CHECK:
            subject = self.registry.check_subject_again(key, again)
            return fact.evolve(id=self.registry.event_id(digest, CHECK, subject, again),
                               subject=subject, note=again_note(again))
        return fact.evolve(id=self.registry.event_id(digest, fact.type, key, again),
                           note=again_note(again))

    def _key(self, fact: Fact, digest: str | None) -> str | None:
        """What the id of ``fact`` was derived from after its type: its subject, or (a
        backfill's) its subject and its time, or its subject and the event it amends."""
        if digest is None:
            return None
        target = getattr(fact.data, "target", None)
        for key in (fact.subject, f"{fact.subject}|{fact.occurred_at.text}",
                    f"{fact.subject}|{target}"):
            if fact.id == self.registry.event_id(digest, fact.type, key):
                return key
        return None

    def _own(self, fact: Fact, holder: dict[str, Any], digest: str, again: int) -> bool:
        """Whether the event ``holder``, holding the id of ``fact`` (derived ``again``
        times), is this import's own."""
        if ((holder["type"], holder["subject"]) != (fact.type, fact.subject)
                or again_of(holder.get("note")) != again
                or digest not in {s.get("sha256") for s in holder["sources"]}):
            return False  # another event under its id: not the registry's
        by, when = holder.get("recorded_by"), stored_when(holder["occurred_at"]).instant
        order = holder["subject"] if holder["type"] == "blocked" else None
        if not self.held.proven(digest, by, when, order):
            found = self.held.unfinished.get((digest, when))
            if by != self.operator or found is None or found.recorders != {by}:
                return False  # the registry's shape, proven by no check of its recorder's
        return not self._retracted(holder)

    def _retracted(self, holder: dict[str, Any]) -> bool:
        event = UUID(holder["id"])
        for kind in AGGREGATES:
            subject = self.ledger.subject(kind, holder["subject"])
            if subject is not None and event in subject.fact_ids:
                return bool(effective(subject.facts).retracted_by.get(event))
        return False
