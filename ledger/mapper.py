"""How a library event is stored: as the canonical JSON of the event as exported.

The stored state of every ledger event is the RFC 8785 canonical JSON of its export object
without ``position`` (which the database assigns). So the event hash, which also covers the
position, is computed from the stored bytes by splicing the position in
(``canonical.hash_stored``), with no decoding: recording and verifying hash at close to
raw SHA-256 speed. Reading back needs one ``orjson.loads`` and no re-validation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.fact import Fact
from domain.subjects import AGGREGATES, Subject
from ledger.canonical import canonical

#: The aggregate topic each creating event class must name, for ``Aggregate.Created``.
_ORIGINATOR_TOPIC = {aggregate.Opened: get_topic(aggregate) for aggregate in AGGREGATES.values()}


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
        cls = resolve_topic(stored_event.topic)
        obj = orjson.loads(self.decode_state(stored_event.state))
        fact = Fact.from_stored(obj)
        state: dict[str, Any] = {
            "originator_id": stored_event.originator_id,
            "originator_version": stored_event.originator_version,
            "timestamp": datetime.fromisoformat(obj["recorded_at"]),
            "fact": fact,
        }
        if issubclass(cls, Subject.Opened):
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
