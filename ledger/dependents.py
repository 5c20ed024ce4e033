"""The writers' half of ``domain.dependents``: a write's changed subjects checked against
the facts of other subjects that name them, found through the history view.

Both writers (``Ledger.record`` and the bulk import) call ``check_write`` once a write is
checked: the record path before it saves, the import after its last batch (with
``--batch-commit``, after each batch) is written and added to the views, before it
commits. What stood before the write is told by position: the events at or before
``head`` (the ledger's last position when the write began) were there; the write's own
come after it, or are not stored yet.

Two writers at once on two different subjects are each checked against what the other
had not yet written, as for ``check_references`` (the record path checks before it takes
the write lock).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable
from typing import Any

import orjson

from domain.amendments import CHANGING
from domain.checked import Timeline
from domain.dependents import CREATING, check_dependents, named
from domain.stored import type_of
from domain.values import aggregate_id


def check_write(ledger: Any, changed: dict[tuple[str, str], list[Any]], find: Callable[[str, str],
                Any], *, head: int, made: Callable[[str], Iterable[str]] = lambda kind: (),
                held: Callable[[str, str], list[Any] | None] = lambda kind, ref: None
                ) -> None:
    """Refuse (``RuleBroken``) the write whose changes are ``changed`` (``(kind, ref)`` ->
    its facts that changed that subject, in order), if they leave a fact of another subject
    against the rules between subjects. ``find(kind, ref)``: a subject as the write
    leaves it; ``head``: the ledger's last position before the write; ``made(kind)``: the
    references of subjects of ``kind`` the write holds that the history view may not have
    yet (the record path's, not stored until it saves); ``held(kind, ref)``: the facts
    of a subject the write holds not stored yet (None: read from the store, ``Naming``).
    The views must stand at the log's head, the write's stored events included."""
    recorder = ledger.recorder

    def stood(facts: list[Any]) -> list[bool]:
        known = recorder.positions_of(str(f.id) for f in facts)
        return [known.get(str(f.id), head + 1) <= head for f in facts]

    def before(kind: str, ref: str) -> list[Any] | None:
        subject = find(kind, ref)
        if subject is None:
            return None
        facts = subject.facts
        kept = [f for f, there in zip(facts, stood(facts), strict=True) if there]
        return kept or None

    naming = Naming(ledger, made)

    def facts_of(kind: str, ref: str, types: frozenset[str]) -> list[Any] | None:
        facts = held(kind, ref)
        return naming.facts_of(kind, ref, types) if facts is None else facts

    check_dependents(changed, before=before, after=find, candidates=naming.candidates,
                     untouched=lambda facts: all(stood(facts)), facts_of=facts_of)


#: How many times a write's check through the views is made again, the views emptied
#: meanwhile, before it gives up (``HeadMoved``: ``Ledger.record`` then tries once more
#: under the lock, which an emptying waits for).
VIEWS_EMPTIED_TRIES = 5


def check_record(ledger: Any, changed: dict[tuple[str, str], list[Any]],
                 cache: dict[Any, Any], head: int) -> None:
    """``check_write`` of a ``Ledger.record`` call: ``cache`` the subjects it holds, made
    or read (aggregate id -> subject or None), which the history view does not have yet;
    the view is brought to the log's head first if it is behind.

    The candidates are found through the history view. Emptied meanwhile (the first step
    of ``projections rebuild``, in another process), it found none of them, and a change
    that leaves a fact naming it against the rules was let through (a review, 2026-12-08):
    the count of emptyings is read before and after, and the check made again if it moved.
    """
    from ledger.write_guard import HeadMoved
    from projections.views import Views  # (the views are the projections')

    store = ledger.view_store()
    if not store.exists():
        Views(ledger).catch_up()

    def held(kind: str, ref: str) -> list[Any] | None:
        subject = cache.get(aggregate_id(kind, ref))  # (what this call holds, its own
        return None if subject is None else subject.facts  # facts not stored yet)

    def find(kind: str, ref: str) -> Any:
        return ledger._subject(kind, ref, cache)

    def made(kind: str) -> list[str]:
        return [s.ref for s in cache.values() if s is not None and s.kind == kind]

    for _ in range(VIEWS_EMPTIED_TRIES):
        emptied = store.emptied()
        if store.position("history") < head:
            Views(ledger).catch_up()
        check_write(ledger, changed, find, head=head, made=made, held=held)
        if store.emptied() == emptied:
            return
    raise HeadMoved("the views were emptied again and again while this write was checked")


def naming_facts(ledger: Any, key: Any, types: frozenset[str]) -> list[Any]:
    """Of the stored facts of the subject whose aggregate id is ``key``, in order, those
    of ``types`` and the amendments of them (and of those amendments): enough for
    ``effective`` to give them as they count (what ``domain.dependents`` reads)."""
    return _naming(ledger, ledger.recorder.select_events(key), types)


def _naming(ledger: Any, stored: Iterable[Any], types: frozenset[str]) -> list[Any]:
    """``naming_facts`` of a subject's ``stored`` events. Each body's type is read where
    canonical JSON puts it; the body is decoded only where it is of ``types`` or an
    amendment, and a fact built only for those kept (a platform's thousands of events:
    well under 1 us each instead of 40). Of ``types``, only a fact that names something
    as stored (``domain.dependents.named``), or that an amendment targets (it may name
    something as it counts): one that names nothing breaks no rule between subjects, and
    an order's observations without a jurisdiction were 72,908 of the 106,000 facts
    ``verify``'s rules part built at 200,000 events."""
    mapper = ledger.mapper
    read, targeted = [], set()
    for event in stored:
        plain = mapper.decode_state(event.state)
        kind = type_of(plain)  # (the rest decoded only for what may be kept)
        if kind in types or kind in CHANGING or kind is None:
            obj = orjson.loads(plain)
            if obj["type"] in CHANGING:
                targeted.add(obj["data"]["target"])
            read.append((event, obj))
    kept, ids = [], set()
    for event, obj in read:
        if (obj["type"] in types and (obj["id"] in targeted or named(_AsStored(obj)))) \
                or (obj["type"] in CHANGING and obj["data"]["target"] in ids):
            kept.append(event)
            ids.add(obj["id"])
    return [mapper.to_domain_event(event).fact for event in kept]


class _Fields(dict):
    """A stored event's ``data`` as ``named`` reads a fact's: a field by its name, None
    where it is absent (as a payload's optional field)."""

    __getattr__ = dict.get


class _AsStored:
    """A stored event's decoded object as ``domain.dependents.named`` reads a fact (its
    type, subject and data): the one rule of what a fact names, asked before a fact is
    built."""

    __slots__ = ("data", "subject", "type")

    def __init__(self, obj: dict[str, Any]):
        self.type, self.subject, self.data = obj["type"], obj["subject"], _Fields(obj["data"])


class Naming:
    """``check_dependents``'s ``candidates`` and ``facts_of`` together: the candidates found
    (``finder``), then their stored events read ``READ_AT_ONCE`` subjects a query, in the
    order ``check_dependents`` asks for them (sorted), where one query a subject was most
    of the check on a write that changes many (a ``targets-removed`` on a platform of
    thousands of orders; an import correcting thousands; ``verify``'s rules part)."""

    #: (Their events held at once: 500 subjects raised the peak of a 20,000-line import's
    #: check by 5 MB, ``tests/test_bulk_import.py``; one a query paid a round trip each.)
    READ_AT_ONCE = 50

    def __init__(self, ledger: Any, made: Callable[[str], Iterable[str]] = lambda kind: ()):
        self.ledger = ledger
        self._find = finder(ledger, made)
        self._pending: set[tuple[str, str]] = set()
        self._order: list[tuple[str, str]] | None = None  # (the pending, sorted)
        #: The stored events of the last chunk of subjects read (held until the next).
        self._read: dict[tuple[str, str], list[Any]] = {}

    def candidates(self, kind: str, platforms: set[str] | None) -> set[tuple[str, str]]:
        return self.expect(self._find(kind, platforms))

    def expect(self, keys: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
        """Read ``keys`` with the candidates, many a query, when their facts are asked."""
        keys = set(keys)
        self._pending |= keys
        self._order = None
        return keys

    def facts_of(self, kind: str, ref: str, types: frozenset[str]) -> list[Any]:
        return _naming(self.ledger, self._stored(kind, ref), types)

    def order(self, ref: str) -> Timeline | None:
        """Order ``ref`` as the rules between subjects read it (``domain.references``:
        its state's ``created``, ``platforms`` and ``jurisdiction``, all of its creating
        event as amended): a ``Timeline`` of that event and its amendments alone, from
        the events read with the candidates where they are. ``ledger.subject`` built each
        order whole, every observation a domain event: 12 of the 23 s ``verify``'s rules
        part spent on 110,000 events with a default jurisdiction (cProfile)."""
        facts = _naming(self.ledger, self._stored("order", ref), CREATING)
        return Timeline.of("order", ref, facts) if facts else None

    def _stored(self, kind: str, ref: str) -> list[Any]:
        """The stored events of a subject: of the chunk read last, or of the chunk of
        pending subjects it begins, or else read alone."""
        key = (kind, ref)
        if key not in self._read and key in self._pending:
            if self._order is None:
                self._order = sorted(self._pending)
            at = bisect_left(self._order, key)
            chunk = [k for k in self._order[at:at + 4 * self.READ_AT_ONCE]
                     if k in self._pending][:self.READ_AT_ONCE]
            self._pending.difference_update(chunk)
            ids = {aggregate_id(*k): k for k in chunk}
            stored = self.ledger.recorder.events_of(ids)
            self._read = {k: stored.get(i, []) for i, k in ids.items()}
        stored = self._read.get(key)
        if stored is None:
            return list(self.ledger.recorder.select_events(aggregate_id(kind, ref)))
        return stored


def finder(ledger: Any, made: Callable[[str], Iterable[str]] = lambda kind: ()
           ) -> Callable[[str, set[str] | None], set[tuple[str, str]]]:
    """``check_dependents``'s ``candidates``: the subjects of a kind that concern one of some
    platforms (orders with None: those that may rest on the ledger's default), found
    through the history view (blinded names on an encrypted ledger), and ``made(kind)``,
    those a write holds that the view may not have yet."""
    from ledger.blinding import ledger_blinder

    store, blind = ledger.view_store(), ledger_blinder(ledger)

    def candidates(kind: str, platforms: set[str] | None) -> set[tuple[str, str]]:
        if kind == "platform":
            return {(kind, name) for name in platforms or ()}
        if platforms is None and kind == "order":
            return observed_orders() | {(kind, ref) for ref in made(kind)}
        keys = None if platforms is None else [blind(name) for name in platforms]
        positions = store.subject_positions_on(keys, blind(kind))
        bodies = ledger.states_at(positions) if positions else {}
        return {(kind, orjson.loads(body)["subject"]) for body in bodies.values()} | {
            (kind, ref) for ref in made(kind)}

    def observed_orders() -> set[tuple[str, str]]:
        """The orders that may rest on the ledger's default (what a change to it may leave
        against the rules): those with an observation that names a jurisdiction, or a
        correction that sets one, read in one pass over the orders' events in the
        history view (each order's events read as objects only where one is found)."""
        found, after, decode = set(), 0, ledger.mapper.decode_state
        while rows := store.kind_rows(blind("order"), after=after):
            for _, body in rows:
                obj = orjson.loads(decode(body))
                data = obj.get("data") or {}
                if (obj["type"] == "access-observed" and data.get("jurisdiction")) or (
                        obj["type"] == "correction" and "jurisdiction" in (data.get("set")
                                                                           or {})):
                    found.add(("order", obj["subject"]))
            after = rows[-1][0]
        return found

    return candidates

