"""A fact: one event of the vocabulary with its envelope (id, subject, valid time, sources)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import attrs
import orjson
from attrs import frozen

import domain.vocabulary  # noqa: F401  (registers the event types)
from domain.declaration import EventType, event_type
from domain.errors import BadInput
from domain.values import (
    MAX_EVENT,
    MAX_ITEMS,
    NAMESPACE,
    Source,
    When,
    check_slug,
    check_text,
    json_kind,
    shown,
    stored_when,
)

ENVELOPE = ("id", "type", "subject", "occurred_at", "sources", "note", "data")
#: Set by the ledger; accepted (and ignored) on import so that an export re-imports as is.
LEDGER_FIELDS = ("recorded_at", "recorded_by", "position", "hash")
NO_ID = uuid.UUID(int=0)
_KNOWN_FIELDS = frozenset(ENVELOPE + LEDGER_FIELDS)
_SOURCE_PATHS = tuple(f"sources[{i}]" for i in range(MAX_ITEMS))


@frozen
class Fact:
    """One immutable event: what happened (``data``), to what, when, and on what evidence.

    ``recorded_at`` and ``recorded_by`` are set by the ledger, never by hand.
    """

    id: uuid.UUID
    type: str
    subject: str
    occurred_at: When
    sources: tuple[Source, ...]
    data: Any
    note: str | None = None
    recorded_by: str | None = None
    recorded_at: datetime | None = None

    @property
    def kind(self) -> EventType:
        """The declared event type."""
        return event_type(self.type)

    @classmethod
    def from_json(cls, obj: Any, size: int | None = None) -> Fact:
        """Validate one interchange object and build the fact, naming the bad field.

        Without an ``id`` the fact gets one derived from its content (uuid5), so that a
        file without ids can still be re-imported without adding anything.

        ``size`` is the length in bytes of the JSON text ``obj`` was parsed from, when
        known: an event that passes every other check holds no number but a position (an
        integer), and no key twice, so compact JSON of it is never longer than its text,
        and it is dumped again to measure it only when that text is over ``MAX_EVENT``.
        """
        if not isinstance(obj, dict):
            raise BadInput(f"expected a JSON object (an event), got {json_kind(obj)}")
        if not obj.keys() <= _KNOWN_FIELDS:
            unknown = [k for k in obj if k not in _KNOWN_FIELDS]
            name = unknown[0] if len(unknown[0]) <= 60 else unknown[0][:57] + "..."
            name = name or '""'
            raise BadInput(f"unknown field (an event has {', '.join(ENVELOPE)})", field=name)
        kind = event_type(obj.get("type"))
        raw_id = obj.get("id")
        if raw_id is None:
            fact_id = NO_ID
        else:
            try:
                fact_id = uuid.UUID(check_text(raw_id, "id", multiline=False))
            except ValueError:
                raise BadInput(f"{shown(raw_id)} is not a UUID", field="id") from None
        subject = check_slug(obj.get("subject"), "subject")
        occurred_at = When.parse(obj.get("occurred_at"), "occurred_at")
        sources = obj.get("sources")
        if sources is None or sources == []:
            raise BadInput("an event needs at least one source", field="sources")
        if not isinstance(sources, list):
            raise BadInput(f"expected a list of sources, got {json_kind(sources)}",
                           field="sources")
        if len(sources) > MAX_ITEMS:
            raise BadInput(f"lists more than {MAX_ITEMS:,} sources", field="sources")
        _check_ledger_fields(obj)
        note = obj.get("note")
        fact = cls(
            id=fact_id,
            type=kind.name,
            subject=subject,
            occurred_at=occurred_at,
            sources=tuple([Source.parse(s, _SOURCE_PATHS[i]) for i, s in enumerate(sources)]),
            data=kind.parse(obj.get("data")),
            note=None if note is None else check_text(note, "note", multiline=True),
        )
        if size is None or size > MAX_EVENT:
            try:
                size = len(orjson.dumps(obj))
            except (TypeError, orjson.JSONEncodeError):
                raise BadInput("cannot be written as JSON") from None
        if size > MAX_EVENT:
            raise BadInput(f"the event is {size:,} bytes of JSON, more than {MAX_EVENT:,}")
        if fact_id is NO_ID:
            # No id given: derive one from the content, so re-importing the file adds nothing.
            content = fact.to_json()
            del content["id"]
            fact = fact.evolve(id=uuid.uuid5(NAMESPACE, orjson.dumps(
                content, option=orjson.OPT_SORT_KEYS).decode()))
        return fact

    @classmethod
    def from_stored(cls, obj: dict[str, Any]) -> Fact:
        """A fact this ledger stored itself, without validating it again."""
        kind = event_type(obj["type"])
        recorded_at = obj.get("recorded_at")
        return cls(
            uuid.UUID(obj["id"]),
            kind.name,
            obj["subject"],
            stored_when(obj["occurred_at"]),
            tuple([Source(**s) for s in obj["sources"]]),
            kind.load(obj["data"]),
            obj.get("note"),
            obj.get("recorded_by"),
            None if recorded_at is None else datetime.fromisoformat(recorded_at),
        )

    def to_json(self) -> dict[str, Any]:
        """The interchange object: the envelope and ``data`` (and who recorded it, if known)."""
        out: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "subject": self.subject,
            "occurred_at": self.occurred_at.text,
            "sources": [s.to_json() for s in self.sources],
        }
        if self.note:
            out["note"] = self.note
        out["data"] = self.kind.to_json(self.data)
        if self.recorded_at is not None:
            out["recorded_at"] = self.recorded_at.isoformat()
        if self.recorded_by is not None:
            out["recorded_by"] = self.recorded_by
        return out

    def describe(self) -> str:
        """One line saying what happened, in the domain's words."""
        return self.kind.describe(self.data)

    def label(self) -> str:
        """How a refusal names this event: type, valid time and id."""
        return f"{self.type} of {self.occurred_at} ({self.id})"

    def recorded(self, by: str, at: datetime) -> Fact:
        """This fact as the ledger records it: by operator ``by``, at ``at``. (A plain
        constructor call: ``evolve`` costs more per event than checking its rules.)"""
        return Fact(self.id, self.type, self.subject, self.occurred_at, self.sources,
                    self.data, self.note, by, at)

    def evolve(self, **changes: Any) -> Fact:
        """A copy with ``changes``: ``attrs.evolve``, as a constructor call (replaying a
        correction evolves its target; ``attrs.evolve`` costs four times as much)."""
        if not changes.keys() <= _FACT_FIELDS:
            return attrs.evolve(self, **changes)  # (its TypeError names the unknown field)
        get = changes.get
        return Fact(get("id", self.id), get("type", self.type), get("subject", self.subject),
                    get("occurred_at", self.occurred_at), get("sources", self.sources),
                    get("data", self.data), get("note", self.note),
                    get("recorded_by", self.recorded_by), get("recorded_at", self.recorded_at))


def interchange(obj: dict[str, Any]) -> dict[str, Any]:
    """``Fact.from_stored(obj).to_json()`` of an object that is, or is laid out from,
    ``Fact.to_json`` of a fact this ledger stored (the stored canonical JSON has its keys
    sorted), without building the fact: the same keys, in ``to_json``'s order (data fields
    in declaration order), empty ones left out. Values are kept as they are: each is
    already the JSON form of its own domain value (a test holds the two equal)."""
    data = obj["data"]
    out: dict[str, Any] = {
        "id": obj["id"],
        "type": obj["type"],
        "subject": obj["subject"],
        "occurred_at": obj["occurred_at"],
        "sources": [{k: s[k] for k in _SOURCE_KEYS if s.get(k)} for s in obj["sources"]],
    }
    note = obj.get("note")
    if note:
        out["note"] = note
    out["data"] = {k: data[k] for k in _DATA_ORDER[obj["type"]] if k in data
                   and data[k] is not None and data[k] != []}
    recorded_at = obj.get("recorded_at")
    if recorded_at is not None:
        out["recorded_at"] = recorded_at
    recorded_by = obj.get("recorded_by")
    if recorded_by is not None:
        out["recorded_by"] = recorded_by
    return out


class _DataOrder(dict):
    """Per type name: its data fields in declaration order (``Source.to_json``'s order for
    sources), worked out when a type is first asked for."""

    def __missing__(self, name: str) -> tuple[str, ...]:
        order = self[name] = tuple(n for n, _ in event_type(name).fields())
        return order


_DATA_ORDER = _DataOrder()
_SOURCE_KEYS = tuple(a.name for a in attrs.fields(Source))


def _check_ledger_fields(obj: dict[str, Any]) -> None:
    """The fields the ledger sets are ignored on import, but they must still be what an export
    writes (texts, and a position): a value of another shape is a sign of a wrong file."""
    for name in ("recorded_at", "recorded_by", "hash"):
        value = obj.get(name)
        if value is not None:
            check_text(value, name, limit=1_000)
    position = obj.get("position")
    if position is not None and (
            isinstance(position, bool) or not isinstance(position, int)
            or not 0 <= position < 2**53):
        raise BadInput(f"expected a position (a whole number from 0), got {shown(position)}",
                       field="position")


_FACT_FIELDS = frozenset(a.name for a in attrs.fields(Fact))
