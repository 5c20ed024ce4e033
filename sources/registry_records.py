"""A plan's records (``sources.registry.Plan``): what it holds of each order and each platform
it registers, between its diff and its writing, as one bytes object of UTF-8 fields joined
by control characters.

Why: a first snapshot is 500,000 entries, and a plan holds one order a decision and up to
one platform an entry until each event is written. As tuples of a ``Listing``, tuples and
strings that was ten objects an order, 479 bytes an entry; as one record, 315
(``tests/test_registry_memory.py``; benchmarks/README.md). A record is read back
(``unpacked``, ``ranked``) only as its event is made, in the order ``Walk`` takes the
plan's dicts.

A record is only as sound as its separators are absent from its fields: ``packed`` counts
them and raises ``ValueError`` where a field held one. The plan's own fields never do (see
``FIELD``), but a platform reference read back from the ledger is the holder's text: the
plan checks such a reference where a record would refuse it (``Plan._order``), so that a
tampered ledger is refused in one line naming the field, not with a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sources.snapshots import Entry, Listing

#: The separators of a plan's records (``packed``): control characters, which no field
#: of one holds (a decision number and a deciding body with one are refused,
#: ``snapshots._text_problem``; a date is YYYY-MM-DD; targets and platform references are
#: in the ledger's spelling), and ``packed`` counts them to be sure.
FIELD, ITEM = "\x1f", "\x1e"
_FIELD = FIELD.encode()


def packed(fields: tuple[str, ...], separators: int, items: int = 0) -> bytes:
    """``fields`` as one record: one bytes object (UTF-8) where a tuple of a ``Listing``,
    two tuples and their strings were ten objects: a plan held 479 bytes an entry, now
    315 (``tests/test_registry_memory.py``; 74 -> 55 MB traced after the diff of 100,000
    entries, 19 of them the domain caches). ``separators`` and
    ``items``: how many of each separator the record holds, or a field held one."""
    text = FIELD.join(fields)
    if text.count(FIELD) != separators or text.count(ITEM) != items:
        raise ValueError(f"a plan's record holds a separator: {text!r}")
    return text.encode()


def listed(entry: Entry) -> bytes:
    """The record of the entry an order's data come from (``Plan._diff``, as it reads the
    entries: a new decision's, held till its order is made, as the start of its order's
    record): its line, decision, date and deciding body."""
    return packed((str(entry.line), entry.decision or "", entry.decided or "",
                   entry.organisation or ""), 3)


def line_of(listing: bytes) -> int:
    """The file line of the entry recorded by ``listed`` (a record's first field)."""
    return int(listing.partition(_FIELD)[0])


def separators(record: bytes) -> int:
    """How many fields a record holds after its first."""
    return record.count(_FIELD)


def registration(record: bytes) -> tuple[int, str, list[str]]:
    """A platform's record (``Plan._register``): its line, its home ("" where it is the
    platform's own name) and its targets."""
    line, home, *targets = record.decode().split(FIELD)
    return int(line), home, targets


def ranked(listing: bytes) -> tuple[str, str]:
    """``Entry.rank`` of the entry recorded by ``listed``."""
    _, _, decided, organisation = listing.decode().split(FIELD)
    return decided, organisation


def unpacked(record: bytes | None) -> tuple[Listing, tuple[str, ...], tuple[str, ...]]:
    """An order's record (``Plan._order``): its entry, platforms and targets."""
    if record is None:
        raise ValueError("an order let go: written already")
    line, decision, decided, organisation, platforms, targets = \
        record.decode().split(FIELD)
    return (Listing(int(line), decision or None, decided or None, organisation or None),
            tuple(platforms.split(ITEM)), tuple(targets.split(ITEM)))


class Walk:
    """The items of a dict in their order, taken by key only when the key is the next."""

    def __init__(self, items: dict[str, Any]):
        self._items = iter(items.items())
        self._next = next(self._items, None)

    def take(self, key: str) -> list[tuple[str, Any]]:
        """The next item, if its key is ``key`` (then the one after is next), else none."""
        if self._next is None or self._next[0] != key:
            return []
        item, self._next = self._next, next(self._items, None)
        return [item]

    def rest(self) -> Iterator[tuple[str, Any]]:
        """The items not taken."""
        while self._next is not None:
            item, self._next = self._next, next(self._items, None)
            yield item
