"""Operators: who may record, with which key, and since when.

An operator is a subject of its own kind, ``operator``, addressed by its name; its facts
(``operator-added``, ``operator-revoked``) are ledger events like any other, so a change of
who may record is itself recorded, sourced, hash-chained and signed. The rules: a name is
added once, with an Ed25519 public key; a revoked operator stays revoked (add a new name to
give someone a new key). Which events an operator's key may sign follows from the order of
these events in the ledger (``ledger.signatures``).
"""

from __future__ import annotations

import base64
import hashlib

from domain.errors import BadInput
from domain.fact import Fact
from domain.timeline import SAME_INSTANT_RANK, STATES, Broken, SubjectState

ROLES = ("recorder", "auditor")
#: Raw Ed25519 public keys are 32 bytes.
KEY_BYTES = 32


def key_bytes(text: str, field: str = "public_key") -> bytes:
    """The raw 32 bytes of an Ed25519 public key written as base64."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise BadInput("is not base64", field=field) from None
    if len(raw) != KEY_BYTES:
        raise BadInput(f"is {len(raw)} bytes, not the {KEY_BYTES} of an Ed25519 public key",
                       field=field)
    return raw


def key_id(raw: bytes) -> str:
    """A public key's id: the first 16 bytes of its SHA-256, in hex."""
    return hashlib.sha256(raw).hexdigest()[:32]


class OperatorState(SubjectState):
    """An operator: its public key and role, and whether it was revoked."""

    kind = "operator"

    def __init__(self, ref: str):
        super().__init__(ref)
        self.public_key = ""
        self.role = "recorder"
        self.revoked: Fact | None = None

    @property
    def key_id(self) -> str:
        return key_id(key_bytes(self.public_key)) if self.public_key else ""

    def _check(self, fact: Fact) -> None:
        if fact.type == "operator-added":
            try:
                key_bytes(fact.data.public_key)
            except BadInput as error:
                raise Broken(fact, f"public_key {error.message}") from None
        elif self.revoked is not None:
            raise Broken(fact, f"operator {self.ref} was revoked by {self.revoked.label()}")

    def _apply(self, fact: Fact) -> None:
        if fact.type == "operator-added":
            self.public_key = fact.data.public_key
            self.role = fact.data.role or "recorder"
        elif fact.type == "operator-revoked":
            self.revoked = fact


STATES["operator"] = OperatorState
SAME_INSTANT_RANK.update({"operator-added": 0, "operator-revoked": 4})
