"""One jurisdiction's answer in a provenance report (``report provenance SUBJECT
--jurisdiction CC``): where each event counts, and the answer for CC, from the report's
own events by the rules ``status --jurisdiction`` applies (``projections.status``,
``domain.jurisdictions``).

**What the report lists.** Every event of the subject, as an unfiltered report does, each
marked with where it counts (``jurisdiction: {where, counts}``): events of other
jurisdictions are listed and marked, never left out, so that a reader sees that an order
existed elsewhere and that it is not part of this answer, rather than a history that
looks complete and is not. The ledger's settings (its ``jurisdiction-default`` and the
corrections of it) are listed too, whatever the report's as-of (the default applies at
every valid time): an order or observation that names no jurisdiction counts where they
say.

``where`` is a jurisdiction code; ``all`` for the events every answer rests on (a
platform's registration and targets, the ledger's settings); ``untied`` for a platform's
notices and statements (emails, responses, silences, statements), which name no state:
listed, part of no jurisdiction's answer; for a request, the codes of the orders it names
(comma-separated); None where nothing says (no jurisdiction given and no default as known
then): such an event counts in no jurisdiction's answer, and an order of that kind in
existence at the answer's time leaves it undetermined (``answer.unplaced``).
``counts`` is whether it is part of CC's answer (``domain.jurisdictions.binds``):

- an order's events: where the order binds (its own jurisdiction, else the default);
  an observation recorded on it, where it was made (its own, else the order's), and only
  if the order binds CC too (as the status counts it); one made in another country than
  its order binds (the default corrected after it was recorded) counts nowhere, and its
  mark carries a ``note`` saying why;
- a request's: where any order it names binds;
- a platform's observation: where it was made (its own, else the default); a penalty and
  its payment or lift (retracted or not): where its order binds, else the default
  (``projections.status.penalty_place``, the status's own rule);
- an amendment: with the event it amends.

**The answer** (``answer``): the jurisdiction, the time it answers at (the report's as-of,
else its checkpoint's time: the moment up to which the report proves the ledger), the
default as known then, each order the report carries with where it binds (an order whose
creation was retracted is none), ``unplaced``: those in existence then that bind no
jurisdiction (the answer is undetermined while there are any), and for a
platform its status for CC, exactly as ``status PLATFORM --jurisdiction CC --as-of`` that
time gives it. ``verify-proof`` derives all of this again from the events it proves and
refuses a report whose marks or answer differ.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson

from domain.errors import BadInput, SubjectNotFound
from domain.fact import Fact
from domain.jurisdictions import LEDGER, binds, country
from domain.timeline import OrderState, valid_key
from domain.values import When
from projections.book import Book
from projections.history import Line, lines, subject_keys
from projections.status import order_place, penalty_place, platform_status

#: ``where`` of the events every jurisdiction's answer rests on.
ALL = "all"
#: ``where`` of a platform's notices and statements: they name no state, so they are
#: listed in every report and part of no jurisdiction's answer.
UNTIED = "untied"
NOTICES = frozenset({"email-sent", "response-received", "no-response", "statement-issued"})
#: The ledger's settings, as a subject key of a book.
SETTINGS = ("ledger", LEDGER)

Key = tuple[str, str]


def report_keys(book: Book, keys: list[Key]) -> list[Key]:
    """The subjects a jurisdiction's report lists: the subject's (``keys``) and the
    ledger's settings. A request alone is refused: the orders it names, which decide
    where it counts, are not in its report."""
    if keys and all(kind == "request" for kind, _ in keys):
        raise BadInput(f"a request's report cannot answer for one jurisdiction: the orders "
                       f"it names are not in it (ask for the report of its platform or of "
                       f"its orders: {', '.join(_orders_named(book, keys)) or 'none'})",
                       field="jurisdiction")
    return list(dict.fromkeys([*keys, *([SETTINGS] if book.has(*SETTINGS) else [])]))


def report_lines(book: Book, subject: str, as_of: When | None) -> list[Line]:
    """The history lines a jurisdiction's report lists: the subject's, by ``as_of``, and
    the ledger's settings at every valid time (the default applies to every event that
    names none, before or after it was set: ``domain.jurisdictions``), in history order."""
    keys = report_keys(book, subject_keys(book, subject))
    found = lines(book, subject, as_of=as_of, subjects=[k for k in keys if k != SETTINGS])
    if SETTINGS in keys:
        found += lines(book, subjects=[SETTINGS])
    found.sort(key=lambda line: (valid_key(line.current), book.position(line.original)))
    return found


def _orders_named(book: Book, keys: list[Key]) -> list[str]:
    return sorted({ref for key in keys for f in book.facts(*key)
                   for ref in getattr(f.data, "orders", None) or ()})


def order_code(book: Book, ref: str) -> str | None:
    """Where order ``ref`` binds (``projections.status.order_place``)."""
    return order_place(book, ref)


class Marks:
    """Where each event of a book counts, for one jurisdiction (see the module)."""

    def __init__(self, book: Book, code: str, at: When):
        self.book, self.code, self.at = book, code, at
        self.key_of: dict[UUID, Key] = {f.id: key for key, facts in book.subjects.items()
                                        for f in facts}
        self._orders: dict[str, str | None] = {}

    def of(self, line: Line) -> dict[str, Any]:
        """``{where, counts}`` of a history line's event (and ``note``, for an observation
        made outside the country its order binds: see ``_off_order``)."""
        where = self._where(line.original)
        if where == ALL:
            return {"where": ALL, "counts": True}
        if where == UNTIED:
            return {"where": UNTIED, "counts": False}
        codes = [c for c in (where or "").split(", ") if c]
        counts = any(binds(c, self.code) for c in codes)
        kind, ref = self.key_of[line.original.id]
        current = self._deciding(kind, ref, line.original) if kind == "order" else None
        if current is None or current.type != "access-observed":
            return {"where": where, "counts": counts}
        # An observation recorded on an order counts with its order only, as the status
        # counts it (``projections.status``): where it was made and where the order binds.
        binding = self._order(ref)
        own = current.data.jurisdiction
        if own and binding is not None and country(own) != country(binding):
            # Made in another country than its order binds (the default corrected after
            # it was recorded): part of no answer, and its mark says why.
            return {"where": where, "counts": False, "note": (
                f"made in {own}, recorded on order {ref}, which binds {binding}: part of no "
                "jurisdiction's answer")}
        return {"where": where, "counts": counts and binds(binding, self.code)}

    def _order(self, ref: str) -> str | None:
        if ref not in self._orders:
            self._orders[ref] = order_code(self.book, ref)
        return self._orders[ref]

    def _where(self, fact: Fact) -> str | None:
        kind, ref = self.key_of[fact.id]
        if kind == SETTINGS[0]:
            return ALL
        if kind == "request":
            codes = {self._order(o) for o in self._named_orders(ref)
                     if self.book.has("order", o)}
            return ", ".join(sorted(c for c in codes if c)) or None
        current = self._deciding(kind, ref, fact)
        if kind == "order":
            own = getattr(current.data, "jurisdiction", None)
            return (own or self._order(ref)) if current.type == "access-observed" \
                else self._order(ref)
        if kind != "platform":
            return ALL
        if current.type in NOTICES:
            return UNTIED
        default = self.book.default_jurisdiction()
        if current.type == "access-observed":
            return current.data.jurisdiction or default
        if current.type in ("penalty-paid", "penalty-lifted"):  # where its penalty counts,
            penalty = current.data.penalty  # even when that was retracted as well
            current = self._current(kind, ref).get(penalty) or next(
                (f for f in self.book.facts(kind, ref) if f.id == penalty), current)
        if current.type == "penalty-imposed":
            return penalty_place(self.book, current)  # as the status counts it
        return ALL

    def _named_orders(self, ref: str) -> set[str]:
        return {o for f in self.book.effective("request", ref).facts
                for o in getattr(f.data, "orders", None) or ()} | {
            o for f in self.book.facts("request", ref)
            for o in getattr(f.data, "orders", None) or ()}

    def _current(self, kind: str, ref: str) -> dict[UUID, Fact]:
        return {f.id: f for f in self.book.effective(kind, ref).facts}

    def _deciding(self, kind: str, ref: str, fact: Fact) -> Fact:
        """The fact whose place decides where ``fact`` counts: itself as it counts now, or
        for an amendment the event it amends (as it counts now)."""
        current = self._current(kind, ref)
        if fact.kind.subject == "any":
            target = fact.data.target
            found = current.get(target) or next(
                (f for f in self.book.facts(kind, ref) if f.id == target), fact)
            return found
        return current.get(fact.id, fact)


def answer(book: Book, subject: str, code: str, at: When) -> dict[str, Any]:
    """The answer for jurisdiction ``code`` at ``at`` (see the module), JSON-ready."""
    status = None
    if book.has("platform", subject):
        try:
            status = platform_status(book, subject, as_of=at, jurisdiction=code)
        except SubjectNotFound:
            status = None  # not registered at that time: nothing to answer
    # The orders that exist (an order whose creation was retracted binds nowhere), and of
    # those in existence at ``at``, the ones whose place nothing says: the answer cannot
    # say whether they bind ``code``, and says so (``unplaced``).
    orders, unplaced = {}, []
    for ref in book.refs("order"):
        if not isinstance(book.state("order", ref), OrderState):
            continue
        where = order_code(book, ref)
        orders[ref] = {"jurisdiction": where, "binds": binds(where, code)}
        if where is None and isinstance(book.state("order", ref, at.instant), OrderState):
            unplaced.append(ref)
    out = {"jurisdiction": code, "as_of": at.text,
           "default_jurisdiction": book.default_jurisdiction(), "orders": orders,
           "unplaced": sorted(unplaced), "status": status}
    return orjson.loads(orjson.dumps(out))  # as a JSON reader sees it: lists, not tuples
