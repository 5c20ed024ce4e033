"""What ``verify`` checks of the checkpoints kept in the ledger (``ledger.consistency``
runs it after its pass over the log, on what that pass gathered):

- each kept note parses, its signature lines by a registered operator's key verify (else
  its text was edited: ``ledger.note_signers``), and the notes are kept in rising size;
- each note's tree is a prefix of the ledger (its root is the root of the first
  ``tree_size`` event hashes, its chain head the chain there), and its time bounds the
  record times on both sides: no event it covers was recorded after it, none after it was
  recorded before it (to within the writers' clock tolerance,
  ``ledger.record_time.CLOCK_TOLERANCE``, since writers stamp with their own clocks);
- notes of one size and index version commit to one index, and those of the largest size
  to the index the log gives, of their version (``ledger.platform_index``);
- the index kept beside the latest one (``ledger.index_cache``) gives its signed root.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from domain.errors import LedgerError
from ledger.checkpoint import Checkpoint
from ledger.merkle import MerkleTree
from ledger.note_signers import signers
from ledger.record_time import CLOCK_TOLERANCE


def kept(ledger: Any, log: Any) -> dict[int, Checkpoint]:
    """The kept checkpoints, by number; a note that does not parse, or whose signature by
    a registered operator's key does not verify (its text was edited), is a problem."""
    out = {}
    keys = _operator_keys(ledger)
    for number, note in enumerate(ledger.recorder.select_checkpoints(), start=1):
        try:
            checkpoint, signatures = Checkpoint.parse(note)
        except LedgerError as error:
            log.note(None, "checkpoint", f"kept checkpoint {number} does not parse ({error})")
            continue
        for name in signers(checkpoint, signatures, keys).invalid:
            log.note(None, "checkpoint", f"kept checkpoint {number}'s signature by operator "
                                         f"{name}'s key does not verify: the note was edited")
        previous = max(out.values(), key=lambda cp: cp.tree_size, default=None)
        if previous is not None and checkpoint.tree_size < previous.tree_size:
            log.note(None, "checkpoint", (
                f"kept checkpoint {number} covers {checkpoint.tree_size} events, fewer than "
                f"one kept before it ({previous.tree_size}): the kept notes were reordered "
                "or an old one put back"))
        out[number] = checkpoint
    return out


def _operator_keys(ledger: Any) -> list[tuple[str, Any]]:
    """Every registered operator's public key (auditors' sign checkpoints)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from domain.operators import key_bytes
    from ledger.signatures import operators

    try:
        found = operators(ledger)
    except Exception:  # damaged operator events: named by the log pass
        return []
    return [(op.name, Ed25519PublicKey.from_public_bytes(key_bytes(op.public_key)))
            for op in found.values()]


def check(log: Any, notes: dict[int, Checkpoint]) -> None:
    """Flag (``log.flag``) every kept note that the log (as ``log`` gathered it) does not
    bear out, and a kept index that is not a kept note's."""
    from ledger import index_cache

    cached = index_cache.problem(log.ledger, list(notes.values()))
    if cached is not None:
        log.flag(None, "checkpoint", cached)
    if not notes:
        return
    _check_index_roots(log, notes)
    leaves = log.leaves or []
    tree = MerkleTree(leaves) if leaves else None
    for number, cp in notes.items():
        name = f"kept checkpoint {number} (tree size {cp.tree_size}, {cp.time})"
        if cp.tree_size > len(leaves):
            log.flag(None, "checkpoint", f"{name} covers more events than the ledger holds "
                                         f"({len(leaves)}): events were deleted")
            continue
        if cp.tree_size and (tree is None or tree.root(cp.tree_size) != cp.root_hash):
            log.flag(None, "checkpoint", f"{name}: the ledger's first {cp.tree_size} events "
                                         "do not have its root: they were altered")
            continue
        if cp.tree_size:
            [row] = log.ledger.recorder.select_chain(cp.tree_size - 1, 1)
            if row.chain != cp.chain_head:
                log.flag(row.position, "checkpoint", f"{name}: the chain head differs")
                continue
        at = datetime.fromisoformat(cp.time.replace("Z", "+00:00"))
        before, after = log.times.get(cp.tree_size), log.times.get(cp.tree_size + 1)
        # A note's time is never before the record time of the last event it covers
        # (``ledger.checkpointing``; the note keeps whole seconds, rounded up), so that
        # bound is exact. Writers stamp their events with their own clocks, which may
        # differ from the checkpointer's (by CLOCK_TOLERANCE at most, on PostgreSQL), or
        # with the last record time where theirs is behind it (``ledger.record_time.stamp``): the
        # events after a note are bound to within that tolerance.
        if before is not None and before >= at + timedelta(seconds=1):
            log.flag(log.positions[cp.tree_size - 1], "record-time",
                     f"recorded at {before.isoformat()}, after {name} that covers it")
        if after is not None and after < at - CLOCK_TOLERANCE:
            log.flag(log.positions[cp.tree_size], "record-time",
                     f"recorded at {after.isoformat()}, before {name} that does not cover "
                     "it: its record time was forged")


def _check_index_roots(log: Any, notes: dict[int, Checkpoint]) -> None:
    """Kept notes of one tree size and index version commit to one tree and one index;
    and the notes of the largest size (those a report cites by default, and whose index is
    kept beside them: ``ledger.index_cache``) commit to the index the log gives, of their
    version (platform leaves; from version 2, orders' and requests' leaves too; from version
    3, the ledger's settings). A note
    added to the table with a forged index root, signed or not, would otherwise let a
    report prove an index that leaves out a platform's or an order's events."""
    by_size: dict[tuple[int, int | None], tuple[int, Checkpoint]] = {}
    for number, cp in notes.items():
        seen = by_size.setdefault((cp.tree_size, cp.index_version), (number, cp))
        if (seen[1].index_root is not None and cp.index_root is not None
                and (seen[1].index_size, seen[1].index_root) != (cp.index_size, cp.index_root)):
            log.flag(None, "checkpoint", f"kept checkpoints {seen[0]} and {number} both cover "
                                         f"{cp.tree_size} events but commit to different "
                                         "platform indexes: one was forged")
    for number, cp in notes.items():
        given = log.index.get(cp.index_version) if cp.index_version is not None else None
        if cp.tree_size == log.index_size and given is not None and (
                cp.index_size, cp.index_root) != given:
            log.flag(None, "checkpoint", f"kept checkpoint {number} (tree size "
                                         f"{cp.tree_size}) commits to a platform index "
                                         f"(version {cp.index_version}) the log does not "
                                         "give: which events concern which platform, order "
                                         "or request, or which set the ledger's default "
                                         "jurisdiction, was forged")
