"""A fact as the ledger holds it (``Entry``: with its position), and how one is read back
from its stored bytes (``load_fact``).

Apart from ``ledger.application`` and ``ledger.mapper``, which re-export both, so that a
reader of the kept views (``ledger.kept``, ``projections.views``) folds entries without
importing the eventsourcing application or the aggregates.
"""

from __future__ import annotations

from typing import Any

import orjson
from attrs import frozen

from domain.errors import IntegrityFailure
from domain.fact import Fact
from domain.stored import read


@frozen
class Entry:
    """A fact as the ledger holds it: with its position in the ledger's global order."""

    position: int
    fact: Fact


def load_fact(plain: bytes, where: str) -> tuple[Fact, dict[str, Any]]:
    """The fact, and its object, of an event's canonical JSON bytes; ``IntegrityFailure``
    naming ``where`` (e.g. "the event at position 12") if they are not a well-formed stored
    event (``domain.stored.read``)."""
    try:
        read(plain)  # (the checks; the object is read as it always was)
        obj = orjson.loads(plain)
        return Fact.from_stored(obj), obj
    except Exception as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise IntegrityFailure(f"{where} is damaged and cannot be read ({reason[:200]}); "
                               "run 'blockledger verify'") from None
