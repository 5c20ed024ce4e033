"""How a library event is stored: as the canonical JSON of the event as exported.

The stored state of every ledger event is the RFC 8785 canonical JSON of its export object
without ``position`` (which the database assigns). So the event hash, which also covers the
position, is computed from the stored bytes by splicing the position in
(``canonical.hash_stored``), with no decoding: recording and verifying hash at close to
raw SHA-256 speed. Reading back needs one ``orjson.loads`` and no re-validation.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic

from domain.errors import IntegrityFailure
from domain.fact import Fact
from domain.subjects import AGGREGATES
from domain.values import aggregate_id
from ledger.canonical import canonical
from ledger.entry import load_fact

#: The aggregate topic each creating event class must name, for ``Aggregate.Created``.
_ORIGINATOR_TOPIC = {aggregate.Opened: get_topic(aggregate) for aggregate in AGGREGATES.values()}
#: The only topics a stored event may name: the ledger's own event classes, with their
#: subject kind and whether they create their subject. A topic is never resolved from
#: what the database says (``resolve_topic`` would import any module named there).
TOPICS: dict[str, tuple[str, type, bool]] = {}
for _kind, _aggregate in AGGREGATES.items():
    TOPICS[get_topic(_aggregate.Opened)] = (_kind, _aggregate.Opened, True)
    TOPICS[get_topic(_aggregate.Recorded)] = (_kind, _aggregate.Recorded, False)


@lru_cache(maxsize=1024)
def _subject_id(kind: str, ref: str) -> UUID:
    return aggregate_id(kind, ref)


def _where(stored_event: StoredEvent) -> str:
    position = getattr(stored_event, "id", None)  # a Notification's position
    if position is not None:
        return f"the event at position {position}"
    return (f"an event of aggregate {stored_event.originator_id} "
            f"(version {stored_event.originator_version})")


def stored_as_implied(fact: Fact, topic: str, originator: Any) -> bool:
    """Whether an event's unhashed columns are those its hashed content implies: the topic
    is one of the ledger's own classes, creating exactly when its type creates, of the
    subject kind of its type (of its target's subject, for an amendment), and the
    originator is that subject's id. (Versions need the subject's other events: the
    library checks them on every load, ``verify`` over the whole log.)"""
    known = TOPICS.get(topic)
    if known is None:
        return False
    kind, _, creates = known
    if not isinstance(originator, UUID):
        originator = UUID(str(originator))
    return (fact.kind.creates == creates
            and (kind in fact.kind.subjects or fact.kind.subject == "any")
            and originator == _subject_id(kind, fact.subject))


class FactMapper(Mapper):
    """Stores ``Subject`` events as canonical export JSON (then compressed or encrypted,
    when the library is configured to)."""

    def canonical(self, domain_event: Any) -> bytes:
        """The canonical JSON of the event as exported, without its position."""
        exported = domain_event.fact.to_json()
        exported["recorded_at"] = domain_event.timestamp.isoformat()
        return canonical(exported)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        state = self.canonical(domain_event)
        if self.compressor:
            state = self.compressor.compress(state)
        if self.cipher:
            state = self.cipher.encrypt(state)
        return StoredEvent(originator_id=domain_event.originator_id,
                           originator_version=domain_event.originator_version,
                           topic=get_topic(type(domain_event)), state=state)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        """The library event of a stored one, after checking that the columns outside the
        hash (topic, originator_id) are the ones its hashed content implies; an event that
        does not decode, or whose columns were altered, is ``IntegrityFailure``."""
        where = _where(stored_event)
        known = TOPICS.get(stored_event.topic)
        if known is None:
            raise IntegrityFailure(f"{where} names the topic {stored_event.topic[:80]!r}, "
                                   "which is not one of the ledger's event classes (altered)")
        kind, cls, creates = known
        fact, _ = load_fact(self.decode_state(stored_event.state), where)
        if (not stored_as_implied(fact, stored_event.topic, stored_event.originator_id)
                or (creates and stored_event.originator_version != 1)):
            raise IntegrityFailure(f"{where} is stored under another subject, type or version "
                                   f"than its hashed content says ({fact.type} of {kind} "
                                   f"{fact.subject}): its unhashed columns were altered")
        state: dict[str, Any] = {
            "originator_id": stored_event.originator_id,
            "originator_version": stored_event.originator_version,
            "timestamp": fact.recorded_at,
            "fact": fact,
        }
        if creates:
            state["originator_topic"] = _ORIGINATOR_TOPIC[cls]
            state["ref"] = fact.subject
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def decode_state(self, state: bytes) -> bytes:
        """The canonical JSON bytes of a stored state (decrypted, decompressed)."""
        if self.cipher:
            state = self.cipher.decrypt(state)
        if self.compressor:
            state = self.compressor.decompress(state)
        return state
