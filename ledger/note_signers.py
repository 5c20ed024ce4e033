"""Which operators signed a checkpoint note: the one loop over its signature lines and the
operators' keys that ``verify`` (``ledger.kept_checkpoints``: a registered key's line that
does not verify means the note was edited) and the reports (``projections.evidence``: only
a note an operator signed has its kept index taken on trust) both run.

A line is an operator's when its key ID is the one that operator's key gives under the
line's key name (signed-note: lines of other keys are ignored); it then verifies over the
note's text, or it does not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from attrs import frozen

from ledger.checkpoint import Checkpoint, Signature, key_id, verify_signature


@frozen
class Signers:
    """The operators whose key signed a note (``valid``), and those whose key a line
    names but does not verify with (``invalid``), by name, in the order of the lines."""

    valid: tuple[str, ...]
    invalid: tuple[str, ...]


def signers(checkpoint: Checkpoint, signatures: Sequence[Signature],
            keys: Iterable[tuple[str, Any]]) -> Signers:
    """Who of ``keys`` (``(operator name, Ed25519 public key)``) signed the note
    ``(checkpoint, signatures)`` that ``Checkpoint.parse`` gave."""
    keys = list(keys)
    valid: list[str] = []
    invalid: list[str] = []
    for signature in signatures:
        for name, key in keys:
            if key_id(signature.key_name, key) != signature.key_id:
                continue
            if verify_signature((checkpoint, [signature]), key, signature.key_name):
                valid.append(name)
            else:
                invalid.append(name)
    return Signers(tuple(valid), tuple(invalid))
