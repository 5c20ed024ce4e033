"""All subjects of a ledger, grouped from its entries, as known at a record time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from domain.fact import Fact
from domain.timeline import SubjectState, fold
from ledger.application import Entry


class Book:
    """The ledger's facts grouped by subject, keeping each fact's position.

    With ``as_known_at``, only facts recorded by then count: the book is what the ledger
    said at that moment.
    """

    def __init__(self, entries: Iterable[Entry], *, as_known_at: datetime | None = None):
        self.positions: dict[object, int] = {}
        self.subjects: dict[tuple[str, str], list[Fact]] = {}
        for entry in entries:
            fact = entry.fact
            if as_known_at is not None and fact.recorded_at > as_known_at:
                continue
            self.positions[fact.id] = entry.position
            self.subjects.setdefault((fact.kind.subject, fact.subject), []).append(fact)

    def refs(self, kind: str) -> list[str]:
        """References of every subject of ``kind``, sorted."""
        return sorted(ref for k, ref in self.subjects if k == kind)

    def has(self, kind: str, ref: str) -> bool:
        return (kind, ref) in self.subjects

    def facts(self, kind: str, ref: str) -> list[Fact]:
        """The facts of one subject, in recording order."""
        return self.subjects.get((kind, ref), [])

    def state(self, kind: str, ref: str, as_of: datetime | None = None) -> SubjectState | None:
        """The subject's state at valid time ``as_of``; None if it did not exist yet."""
        state = fold(kind, ref, self.facts(kind, ref), until=as_of)
        return state if state.created is not None else None

    def related(self, platform: str, kind: str) -> list[str]:
        """Orders or requests (``kind``) concerning ``platform``."""
        return [ref for ref in self.refs(kind)
                if self.facts(kind, ref)[0].data.platform == platform]

    def position(self, fact: Fact) -> int:
        return self.positions[fact.id]
