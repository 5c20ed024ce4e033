"""Signed attribution: who may write, signing with which key, and checking every signature.

Operators are ledger events (``domain.operators``). Once the first operator is registered,
every event written after it must be signed by a registered recorder: the ledger refuses an
unsigned write in the insert transaction (``ledger.signed``), and ``attribute`` refuses,
before anything is written, an operator who is not a registered recorder, has been
revoked, or holds the wrong key. The first ``operator add`` of a ledger is the trust
anchor: nobody is registered yet, so it is written as it comes (signed if a key is given).

A signature is Ed25519 over ``message(event_hash)``: the ASCII line
``blockledger event signature v1`` and a newline, then the event's 32-byte hash (the one in
the chain, which covers the event's canonical export and its position). Anyone with the
export line and the operator's public key can check it.

``check`` walks the chain and reports, for events after the first operator: unsigned ones,
signatures by a key no operator had at that position (unknown key), by a revoked operator
(revoked key), by an auditor, signatures that do not verify, and events whose
``recorded_by`` is not the operator whose key signed them.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from attrs import field, frozen
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from domain.errors import BadInput, Refused
from domain.operators import key_bytes, key_id

PREFIX = b"blockledger event signature v1\n"
BATCH = 5000
#: How many positions of each problem a report lists (the counts are complete).
LISTED = 20


def message(event_hash: bytes) -> bytes:
    """The bytes an operator signs for an event."""
    return PREFIX + event_hash


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_text(key: Ed25519PublicKey) -> str:
    """How an operator's public key is written in its ``operator-added`` event."""
    return base64.b64encode(raw_public_key(key)).decode("ascii")


@frozen
class Signer:
    """An operator's private key, as the recorders use it (``ledger.signed.Signer``)."""

    operator: str
    key: Ed25519PrivateKey = field(repr=False)
    key_id: str

    @classmethod
    def of(cls, operator: str, key: Ed25519PrivateKey) -> Signer:
        return cls(operator, key, key_id(raw_public_key(key.public_key())))

    def sign(self, event_hash: bytes) -> bytes:
        return self.key.sign(message(event_hash))


@frozen
class Operator:
    """A registered operator, as the ledger's operator events say."""

    name: str
    public_key: str
    key_id: str
    role: str
    added_at: int  # the position of its operator-added event
    revoked_at: int | None = None
    revoked_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role, "key_id": self.key_id,
                "public_key": self.public_key, "added_at": self.added_at,
                "revoked_at": self.revoked_at, "revoked_reason": self.revoked_reason}


def operators(ledger: Any) -> dict[str, Operator]:
    """Every operator ever registered, by name, from the ledger's operator events."""
    decode = ledger.mapper.decode_state
    found: dict[str, Operator] = {}
    for position, state in ledger.recorder.operator_events():
        obj = orjson.loads(decode(state))
        name, data = obj["subject"], obj["data"]
        if obj["type"] == "operator-added":
            found[name] = Operator(name=name, public_key=data["public_key"],
                                   key_id=key_id(key_bytes(data["public_key"])),
                                   role=data.get("role") or "recorder", added_at=position)
        elif obj["type"] == "operator-revoked" and name in found:
            old = found[name]
            found[name] = Operator(old.name, old.public_key, old.key_id, old.role,
                                   old.added_at, position, data.get("reason"))
    return found


def attribute(ledger: Any, operator: str, key: Ed25519PrivateKey | None) -> Signer | None:
    """The signer for ``operator``'s writes, after checking it may write; set it on the
    ledger's recorder. Raises ``BadInput`` or ``Refused`` (nothing is written)."""
    registered = operators(ledger)
    signer = Signer.of(operator, key) if key is not None else None
    if registered:
        known = registered.get(operator)
        if known is None:
            raise Refused(f"refused: operator {operator!r} is not registered in this ledger "
                          "(blockledger operator list)")
        if known.revoked_at is not None:
            raise Refused(f"refused: operator {operator!r} was revoked (position "
                          f"{known.revoked_at})")
        if known.role != "recorder":
            raise Refused(f"refused: operator {operator!r} is an {known.role}; only "
                          "recorders write events")
        if signer is None:
            raise BadInput(f"operator {operator!r} must sign: give --key FILE or set "
                           "BLOCKLEDGER_SIGNING_KEY", field="key")
        if signer.key_id != known.key_id:
            raise BadInput(f"the key is not the registered key of operator {operator!r} "
                           f"(key id {signer.key_id}, registered {known.key_id})",
                           field="key")
    ledger.recorder.signer = signer
    return signer


def attach(ledger: Any, operator: str, key: Ed25519PrivateKey | None) -> Signer | None:
    """``attribute``, but a refusal waits for the first event written: commands that write
    no events (a checkpoint, a rebuild) go on, and an event write is refused in its
    transaction with the reason (``ledger.signed``)."""
    try:
        return attribute(ledger, operator, key)
    except (BadInput, Refused) as error:
        ledger.recorder.signer = None
        ledger.recorder.unsigned_error = error
        return None


# --- checking -------------------------------------------------------------------------------

PROBLEMS = ("unsigned", "unknown_key", "revoked_key", "not_a_recorder", "bad_signature",
            "wrong_operator")


@frozen
class Report:
    """What ``check`` found: counts, and the first positions of each problem."""

    events: int
    signed: int
    unsigned_before_operators: int
    problems: dict[str, list[int]]
    counts: dict[str, int]

    @property
    def ok(self) -> bool:
        return not any(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events, "signed": self.signed,
                "unsigned_before_operators": self.unsigned_before_operators,
                "problems": {name: {"count": self.counts[name],
                                    "positions": self.problems[name]}
                             for name in PROBLEMS if self.counts[name]}}

    def summary(self) -> str:
        if self.ok:
            return (f"signatures: {self.signed} signed events verified"
                    + (f", {self.unsigned_before_operators} unsigned before the first "
                       "operator" if self.unsigned_before_operators else ""))
        parts = [f"{self.counts[name]} {name.replace('_', ' ')} (first at position "
                 f"{self.problems[name][0]})" for name in PROBLEMS if self.counts[name]]
        return "signatures: " + "; ".join(parts)


def check(ledger: Any, progress: Callable[[int], None] | None = None) -> Report:
    """Check every event's signature against the operators registered at its position."""
    registered = operators(ledger)
    by_key = {op.key_id: op for op in registered.values()}
    first = min((op.added_at for op in registered.values()), default=None)
    decode = ledger.mapper.decode_state
    problems: dict[str, list[int]] = {name: [] for name in PROBLEMS}
    counts = dict.fromkeys(PROBLEMS, 0)
    events = signed = before = 0

    def flag(name: str, position: int) -> None:
        counts[name] += 1
        if len(problems[name]) < LISTED:
            problems[name].append(position)

    for _, position, event_hash, kid, signature, state in _rows(ledger):
        events += 1
        if progress is not None:
            progress(events)
        if kid is None:
            if first is None or position <= first:  # the anchor may be unsigned
                before += 1
            else:
                flag("unsigned", position)
            continue
        signed += 1
        op = by_key.get(kid)
        if op is None or position < op.added_at:
            flag("unknown_key", position)
            continue
        if not signature_holds(op.public_key, signature, event_hash):
            flag("bad_signature", position)
            continue
        if op.revoked_at is not None and position > op.revoked_at:
            flag("revoked_key", position)
        elif op.role != "recorder":
            flag("not_a_recorder", position)
        elif state is not None and orjson.loads(decode(state)).get("recorded_by") != op.name:
            flag("wrong_operator", position)
    return Report(events, signed, before, problems, counts)


def _rows(ledger: Any) -> Iterator[tuple]:
    seq = 0
    while rows := ledger.recorder.signature_rows(seq, BATCH):
        yield from rows
        seq = rows[-1][0]


def verify_event_signature(event_hash_hex: str, signature: Any) -> bool:
    """Whether a report's ``signature`` object (public_key, signature: base64) verifies
    over the event hash given in hex. Malformed objects do not verify."""
    try:
        return signature_holds(signature["public_key"],
                               base64.b64decode(signature["signature"], validate=True),
                               bytes.fromhex(event_hash_hex))
    except (ValueError, TypeError, KeyError):
        return False


def signature_holds(public_key: str, signature: bytes, event_hash: bytes) -> bool:
    """Whether ``signature`` is the Ed25519 signature, by the operator's ``public_key``
    (base64, as its ``operator-added`` event holds it), of the event with ``event_hash``."""
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes(public_key)).verify(
            signature, message(event_hash))
    except (InvalidSignature, BadInput, ValueError, TypeError):
        return False
    return True


def signature_of(ledger: Any, positions: list[int]) -> dict[int, dict[str, str | None]]:
    """``position -> {operator, key_id, public_key, signature}`` for the signed events among
    ``positions`` (for reports)."""
    found = ledger.recorder.signatures_at(sorted(set(positions)))
    if not found:
        return {}
    by_key = {op.key_id: op for op in operators(ledger).values()}
    out = {}
    for position, (kid, signature) in found.items():
        op = by_key.get(kid)
        out[position] = {"operator": op.name if op else None, "key_id": kid,
                         "public_key": op.public_key if op else None,
                         "signature": base64.b64encode(signature).decode("ascii")}
    return out
