"""A registry's names and the ids of its imports' events (``sources.registry``).

A registry is named by its jurisdiction and authority (``ru-roskomnadzor``), the prefix of
its orders' references. The id of each event an import writes is a uuid5 of the registry
(its state and authority exactly), the snapshot's SHA-256, the kind of event and its
subject (a backfill's corrective event: its subject and its time as first recorded), so
that re-running an import adds nothing, and ``Registry.wrote`` knows the registry's events
by their shape.

Those ids are computed from the public dump, so anyone can record an event under one
before the honest import writes it, and an id, once stored, is taken for ever (a retracted
event keeps it: issue 15, attack H2). An import whose id is held by an event retracted, or
not the registry's (``sources.registry_taken``), derives it again with a further component,
``again-N``, the least N free or its own, and says N in the event's note (``again_note``):
the same ledger gives the same N on every run, and ``Registry.wrote`` reads N back from
the note, so the shape stays recognisable whatever N is (unbounded: each id squatted costs
the squatter an event).
"""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any

from attrs import frozen

from domain.fact import Fact

#: Event ids of registry imports: uuid5 in this namespace of the registry, the snapshot's
#: digest, the kind of event and its subject (and ``again-N``, an id derived again).
NAMESPACE = uuid.UUID("0d5b6f1e-54a8-4a37-9a5e-3c1f8f0b7d21")
_NAMESPACE_BYTES = NAMESPACE.bytes
_RUNS = re.compile(r"[a-z0-9]+")
#: The note of an event whose id was derived again: its N first.
_AGAIN = re.compile(r"id again (\d{1,9}): ")
#: An order reference derived again: ``<-at- or -list- reference>-again-N``.
_AGAIN_REF = re.compile(r"(.+-(?:at|list)-\d{14})-again-([1-9]\d{0,8})")


def again_note(again: int) -> str:
    """The note of an event whose id is derived again, ``again`` times."""
    return (f"id again {again}: the registry's ids for this event before it are held by "
            "events retracted, or not its import's")


def free_ref(ref: str, taken: set[str] | frozenset[str]) -> str:
    """Order reference ``ref``, or (taken: a hand-made order, retracted or not, holds it
    for ever) the same derived again, ``<ref>-again-N``, the least N free: the same ledger
    gives the same N on every run, and ``Held.base`` reads the decision back from it."""
    if ref not in taken:
        return ref
    again = 1
    while f"{ref}-again-{again}" in taken:
        again += 1
    return f"{ref}-again-{again}"


def again_before(ref: str) -> str | None:
    """The reference whose being taken made order ``ref`` derived again (``free_ref``):
    ``<ref>`` for ``<ref>-again-1``, ``<ref>-again-1`` for ``<ref>-again-2``; None for a
    reference never derived again."""
    found = _AGAIN_REF.fullmatch(ref) if "-again-" in ref else None
    if found is None:
        return None
    again = int(found.group(2))
    return found.group(1) if again == 1 else f"{found.group(1)}-again-{again - 1}"


def again_of(note: str | None) -> int:
    """How many times the id of an event with ``note`` was derived again (0: never)."""
    found = _AGAIN.match(note) if note else None
    return int(found.group(1)) if found else 0


@lru_cache(maxsize=64)
def registry_name(jurisdiction: str, authority: str) -> str:
    """``ru-roskomnadzor``: the prefix of a registry's order references."""
    words = "-".join(_RUNS.findall(authority.casefold()))[:40].strip("-")
    if not words:
        words = hashlib.sha256(authority.encode()).hexdigest()[:8]
    return f"{jurisdiction.casefold()}-{words}"


def decision_ref(registry: str, decision: str) -> str:
    """The reference of the order for ``decision`` in ``registry``: its ASCII runs and a
    digest of the whole number (Cyrillic letters, slashes and all)."""
    digest = hashlib.sha256(decision.encode()).hexdigest()[:8]
    runs = "-".join(_RUNS.findall(decision.casefold()))[:60].strip("-")
    return f"{registry}-{runs}-{digest}" if runs else f"{registry}-{digest}"


def stamp(at: datetime) -> str:
    return at.strftime("%Y%m%d%H%M%S")


@frozen
class Registry:
    """A registry: its state and keeper, exactly as given, and the name its orders'
    references start with."""

    jurisdiction: str
    authority: str

    @property
    def name(self) -> str:
        return registry_name(self.jurisdiction, self.authority)

    def _parts(self, digest: str, kind: str, subject: str, again: int) -> str:
        parts = (self.jurisdiction, self.authority, digest, kind, subject)
        return "|".join((*parts, f"again-{again}") if again else parts)

    def event_id(self, digest: str, kind: str, subject: str, again: int = 0) -> uuid.UUID:
        """The id of the ``kind`` event about ``subject`` made from the snapshot of SHA-256
        ``digest`` (``again``: derived again that many times, its first ids taken)."""
        return uuid.uuid5(NAMESPACE, self._parts(digest, kind, subject, again))

    def check_subject(self, digest: str, updated: datetime) -> str:
        """The subject of the ``registry-checked`` of the snapshot of ``digest`` updated at
        ``updated``: the registry's name, the snapshot's time and the start of its digest."""
        return f"{self.name}-{stamp(updated)}-{digest[:8]}"

    @staticmethod
    def check_subject_again(subject: str, again: int) -> str:
        """The subject of a check whose own (``subject``) was taken, derived ``again``
        times: a snapshot's subject is fixed, and one created is taken, retracted or not."""
        return f"{subject}-again-{again}" if again else subject

    def is_check_subject(self, obj: dict[str, Any], digest: str, updated: datetime) -> bool:
        """Whether stored check ``obj`` is under the subject the registry's import gives
        the snapshot of ``digest`` at ``updated`` (derived again as its note says)."""
        return obj["subject"] == self.check_subject_again(
            self.check_subject(digest, updated), again_of(obj.get("note")))

    def id_text(self, digest: str, kind: str, subject: str, again: int = 0) -> str:
        """``event_id`` as text, without building a ``UUID`` (asked once per event read)."""
        raw = bytearray(hashlib.sha1(_NAMESPACE_BYTES + self._parts(
            digest, kind, subject, again).encode()).digest()[:16])
        raw[6] = (raw[6] & 0x0F) | 0x50  # version 5
        raw[8] = (raw[8] & 0x3F) | 0x80  # the RFC 4122 variant
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def wrote_stored(self, obj: dict[str, Any]) -> str | None:
        """``wrote`` of a stored event object (as the history view gives it)."""
        again = again_of(obj.get("note"))
        for source in obj["sources"]:
            digest = source.get("sha256")
            if digest and (obj["id"] == self.id_text(digest, obj["type"], obj["subject"], again)
                           or obj["id"] == self.id_text(digest, obj["type"], (
                               f"{obj['subject']}|{obj['occurred_at']}"), again)):
                return digest
        return None

    def wrote(self, fact: Fact) -> str | None:
        """The digest of the snapshot whose import of this registry made ``fact``, or None
        (a hand-made event, another registry's). Its id is the registry's for it: of its
        subject, or (a backfill's corrective event, one of several of a subject) of its
        subject and its time as first recorded; derived again as many times as its note
        says (``again_note``)."""
        again = again_of(fact.note)
        for source in fact.sources:
            digest = getattr(source, "sha256", None)
            if digest and (fact.id == self.event_id(digest, fact.type, fact.subject, again)
                           or fact.id == self.event_id(digest, fact.type, (
                               f"{fact.subject}|{fact.occurred_at.text}"), again)):
                return digest
        return None
