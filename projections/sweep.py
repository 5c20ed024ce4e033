"""A book whose folds are kept as they go, for asking one platform's status at instant
after instant in valid-time order (the site's slider snapshots, a report summary's
course).

``Book.state`` folds a subject from its first fact for every instant it is asked (and
keeps each answer): asking it at each of a platform's change points was quadratic, 2,000
change points of a 2,000-event platform about 4 million facts applied. ``Sweep`` answers
the same question with the same fold, ``domain.timeline``'s state classes fed the same
facts in the same order (``in_valid_order``) and advanced to each instant asked; only it
keeps one state per subject and moves it forward, as ``projections.report_summary`` does
for an order's periods. ``projections.status.platform_status`` runs on it unchanged: no
rule is written here.

A fold at ``until`` applies every fact that occurred by then (each ``apply`` first
advancing to the fact's own instant) and then advances to ``until``; moving a state from
one instant to a later one applies the facts in between the same way, and ``advance`` is
time passing (``advance(a)`` then ``advance(b)`` is ``advance(b)``), so the state reached
is the fold's. ``tests/test_site_sweep.py`` holds every status to ``Book``'s.

Asked for an earlier instant than its state has reached (``platform_status`` asks for the
orders as they stood when each observation was made, to tell divergences), it answers
from a copy it took when passing that instant, for the instants named ``stops``; for any
other, from ``Book``'s own full fold.
"""

from __future__ import annotations

import copy
from bisect import bisect_right
from datetime import datetime

from domain.fact import Fact
from domain.timeline import STATES, OrderState, RequestState, SubjectState, in_valid_order
from projections.book import Book

#: States whose attributes are immutable values or one level of containers of them (facts
#: are frozen): a copy of each container is a state no later fact can change.
_COPIED = (OrderState, RequestState)


class _Running:
    """One subject's fold, at ``at``."""

    __slots__ = ("applied", "at", "facts", "instants", "kept", "state")

    def __init__(self, kind: str, ref: str, facts: list[Fact]):
        self.facts = facts
        self.instants = [f.occurred_at.instant for f in facts]
        self.applied = 0
        self.state: SubjectState = STATES.get(kind, SubjectState)(ref)
        self.at: datetime | None = None
        self.kept: dict[datetime, SubjectState | None] = {}

    def move(self, until: datetime) -> None:
        end = bisect_right(self.instants, until, lo=self.applied)
        for fact in self.facts[self.applied:end]:
            self.state.apply(fact)
        self.applied = end
        self.state.advance(until)
        self.at = until

    def answer(self) -> SubjectState | None:
        return self.state if self.state.created is not None else None


def _frozen(state: SubjectState) -> SubjectState:
    out = copy.copy(state)
    for name, value in vars(out).items():
        if isinstance(value, (list, dict, set)):
            setattr(out, name, copy.copy(value))
    return out


class Sweep(Book):
    """``book``'s facts, folded forward: ``state`` asked at instants that do not go back
    (but for ``stops``, see the module) costs each fact once."""

    def __init__(self, book: Book, stops: set[datetime] = frozenset()):
        # The same facts, positions and kept folds as ``book`` (nothing is re-read).
        self.__dict__.update(vars(book))
        self._stops = sorted(stops)
        self._running: dict[tuple[str, str], _Running] = {}
        self._earliest: dict[tuple[str, str, str], datetime | None] = {}

    def state(self, kind: str, ref: str, as_of: datetime | None = None) -> SubjectState | None:
        """The subject's state at ``as_of``, as ``Book.state`` gives it. The answer for the
        latest instant asked is the running state itself: read it before asking for a
        later one."""
        if as_of is None:
            return super().state(kind, ref, as_of)
        key = (kind, ref)
        running = self._running.get(key)
        if running is None:
            running = self._running[key] = _Running(
                kind, ref, in_valid_order(self.effective(kind, ref).facts))
        if running.at is not None and as_of < running.at:
            if as_of in running.kept:
                return running.kept[as_of]
            return super().state(kind, ref, as_of)
        if isinstance(running.state, _COPIED):
            start = 0 if running.at is None else bisect_right(self._stops, running.at)
            for stop in self._stops[start: bisect_right(self._stops, as_of)]:
                running.move(stop)
                found = running.answer()
                running.kept[stop] = _frozen(found) if found is not None else None
        running.move(as_of)
        return running.answer()

    def is_disputed(self, kind: str, ref: str, as_of: datetime | None = None) -> bool:
        """``Book.is_disputed``: whether an event of the subject that occurred by ``as_of``
        is disputed, i.e. whether the earliest disputed one did (kept per subject: the
        book's answer reads all the subject's facts at every instant asked)."""
        if as_of is None:
            return super().is_disputed(kind, ref, as_of)
        key = ("sweep-disputed", kind, ref)
        if key not in self._earliest:
            eff = self.effective(kind, ref)
            self._earliest[key] = min((f.occurred_at.instant for f in eff.facts
                                       if f.id in eff.disputed_by), default=None)
        earliest = self._earliest[key]
        return earliest is not None and earliest <= as_of
