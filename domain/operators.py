"""Operators: who may record, with which key, and since when.

An operator is a subject of its own kind, ``operator``, addressed by its name; its facts
(``operator-added``, ``operator-revoked``) are ledger events like any other, so a change of
who may record is itself recorded, sourced, hash-chained and signed. The rules: a name is
added once, with an Ed25519 public key; a revoked operator stays revoked (add a new name to
give someone a new key). Which events an operator's key may sign follows from the order of
these events in the ledger (``ledger.signatures``).
"""

from __future__ import annotations

from domain.errors import BadInput, Refused
from domain.fact import Fact
from domain.timeline import SAME_INSTANT_RANK, STATES, Broken, SubjectState

ROLES = ("recorder", "auditor")
#: Raw Ed25519 public keys are 32 bytes.
KEY_BYTES = 32


def key_bytes(text: str, field: str = "public_key") -> bytes:
    """The raw 32 bytes of an Ed25519 public key written as base64."""
    import base64  # (imported where used: a status never reads a key)

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
    import hashlib

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


class Roster:
    """Who may write, folded over every operator event in ledger order, and the rules that
    span operators: a public key (so a key id) belongs to one operator only, ever; the
    ledger always keeps at least one recorder that is not revoked.

    ``ledger.signed`` folds it inside each insert transaction, under the store's write
    lock, and checks every new event's signer against it at that event's position: an
    operator revoked while an import runs stops it at its next batch, and of two first
    ``operator add`` racing, the second finds the first in place.
    """

    def __init__(self) -> None:
        #: name -> (public key, key id, role, revoked position or None)
        self.operators: dict[str, list] = {}
        self.names_by_key: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self.operators)

    def active_recorders(self) -> list[str]:
        return [name for name, (_, _, role, revoked) in self.operators.items()
                if role == "recorder" and revoked is None]

    def apply(self, position: int, fact: Fact, *, check: bool) -> None:
        """Fold in an operator event at ``position``; with ``check`` (a new event), raise
        ``Refused`` where it breaks a rule that spans operators."""
        name = fact.subject
        if fact.type == "operator-added":
            public_key = fact.data.public_key
            kid = key_id(key_bytes(public_key))
            holder = self.names_by_key.get(kid)
            if check and holder is not None:
                raise Refused(f"refused: that public key (key id {kid}) is already "
                              f"registered to operator {holder!r}; each operator has a key "
                              "of its own (operator keygen)")
            role = fact.data.role or "recorder"
            if check and not self.operators and role != "recorder":
                raise Refused(f"refused: the first operator of a ledger is its trust anchor "
                              f"and must be a recorder, not an {role}: with none, nobody "
                              "could ever write or register anyone again")
            self.operators[name] = [public_key, kid, role, None]
            self.names_by_key.setdefault(kid, name)
        elif fact.type == "operator-revoked" and name in self.operators:
            entry = self.operators[name]
            if check and entry[3] is None and entry[2] == "recorder" \
                    and self.active_recorders() == [name]:
                raise Refused(f"refused: {name!r} is the last recorder of this ledger; "
                              "add another recorder before revoking it, or the ledger "
                              "could never be written again")
            entry[3] = position

    def standing(self, key: str, operator: str, position: int) -> str | None:
        """Why the holder of key id ``key``, writing as ``operator``, may not write at
        ``position``, or None when it may."""
        name = self.names_by_key.get(key)
        if name is None:
            return (f"operator {operator!r} is not registered in this ledger with that key "
                    f"(key id {key}; blockledger operator list)")
        _, _, role, revoked = self.operators[name]
        if revoked is not None:
            return f"operator {name!r} was revoked (position {revoked})"
        if role != "recorder":
            return f"operator {name!r} is an {role}; only recorders write events"
        if name != operator:
            return (f"the key is operator {name!r}'s, but the events are recorded as "
                    f"{operator!r}")
        return None
