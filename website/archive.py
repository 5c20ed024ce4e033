"""Append-only over time: every earlier publication's checkpoint is kept under
``archive/``, and the new checkpoint must extend each of them (RFC 9162 consistency).

Publishing again into a directory reads the last published ``checkpoint.txt`` and the
archived ones; each must be signed by the publishing key and of the same log, and the
ledger's tree must give its root at its size. Otherwise the publication is refused
(``IntegrityFailure``, exit 3) before anything is written: a ledger that was rewritten, or
truncated, cannot be published over what readers have already seen.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import IntegrityFailure, LedgerError
from ledger.checkpoint import Checkpoint, encode_proof, verify_signature
from ledger.merkle import MerkleTree

CURRENT = "checkpoint.txt"
ARCHIVE = "archive"


def archived_name(checkpoint: Checkpoint) -> str:
    """Where a checkpoint is kept: ``archive/checkpoint-<size>-<time>.txt``."""
    stamp = "".join(c for c in checkpoint.time if c.isdigit())
    return f"{ARCHIVE}/checkpoint-{checkpoint.tree_size}-{stamp}.txt"


def _read(path: Path) -> tuple[str, Checkpoint]:
    try:
        note = path.read_text(encoding="utf-8")
        return note, Checkpoint.parse(note)[0]
    except (OSError, UnicodeDecodeError, LedgerError) as error:
        raise IntegrityFailure(f"{path} is not a readable checkpoint ({error}): refused, "
                               "nothing written") from None


def earlier(directory: Path) -> list[tuple[str, str, Checkpoint]]:
    """The publications already in ``directory``: ``(file, note, checkpoint)`` for each
    archived checkpoint and the current one (which the new publication archives), oldest
    first."""
    found: dict[str, tuple[str, str, Checkpoint]] = {}
    folder = directory / ARCHIVE
    if folder.is_dir():
        for path in sorted(folder.glob("checkpoint-*.txt")):
            note, cp = _read(path)
            found[note] = (f"{ARCHIVE}/{path.name}", note, cp)
    current = directory / CURRENT
    if current.is_file():
        note, cp = _read(current)
        found.setdefault(note, (archived_name(cp), note, cp))
    return sorted(found.values(), key=lambda item: (item[2].tree_size, item[2].time))


def proofs(previous: list[tuple[str, str, Checkpoint]], checkpoint: Checkpoint,
           leaves: list[bytes], key: Ed25519PrivateKey,
           key_name: str) -> list[dict[str, Any]]:
    """For each earlier checkpoint, its consistency proof to ``checkpoint`` (whose tree is
    ``leaves``); refuses (exit 3) one the new checkpoint does not extend."""
    tree = MerkleTree(leaves)
    out = []
    for file, note, old in previous:
        if not verify_signature(note, key.public_key(), key_name):
            raise IntegrityFailure(f"{file}: not signed by the publishing key as {key_name}: "
                                   "refused, nothing written")
        if old.origin != checkpoint.origin:
            raise IntegrityFailure(f"{file} is of another log ({old.origin!r}, not "
                                   f"{checkpoint.origin!r}): refused, nothing written")
        if old.tree_size > checkpoint.tree_size or tree.root(old.tree_size) != old.root_hash:
            raise IntegrityFailure(
                f"the ledger does not extend the published checkpoint {file} "
                f"({old.tree_size} events, {old.time}): its history was rewritten or "
                "truncated since; refused, nothing written")
        out.append({"file": file, "note": note, "size": old.tree_size, "time": old.time,
                    "proof": encode_proof(tree.consistency_proof(old.tree_size))})
    return out
