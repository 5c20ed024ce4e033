"""Verify: recompute every event hash and the chain, and find the first position that breaks.

Walks the events (in notification order) and the chain rows (in seq order) side by side:
an event without a chain row was inserted, a chain row without its event was deleted, an
event whose recomputed hash differs was altered or moved, a chain value that does not
follow from the one before shows the chain itself was edited. With a checkpoint, also
proves (RFC 9162 consistency) that the ledger still extends it, which catches a truncated
tail and a whole chain rewritten consistently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from attrs import frozen

from domain.errors import Refused
from ledger.canonical import hash_stored
from ledger.chain import GENESIS
from ledger.checkpoint import Checkpoint, utc_now, verify_signature
from ledger.merkle import MerkleTree, root, verify_consistency

BATCH = 5000


@frozen
class Verdict:
    """The result of a verification."""

    ok: bool
    events: int
    first_bad_position: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "events": self.events,
                "first_bad_position": self.first_bad_position, "reason": self.reason}


class Broken(Exception):
    def __init__(self, position: int, reason: str):
        self.position = position
        self.reason = reason


def _rows(ledger: Any) -> Iterator[tuple]:
    seq = 0
    while True:
        batch = ledger.recorder.verification_rows(seq, BATCH)
        yield from batch
        if len(batch) < BATCH:
            return
        seq = batch[-1][0]


def walk(ledger: Any, *, on_leaf: Callable[[int, bytes], None] | None = None,
         progress: Callable[[int], None] | None = None) -> int:
    """Check every chain link against its event; return how many events there are.

    Raises ``Broken`` at the first position that does not hold. ``on_leaf`` receives each
    event's position and recomputed hash in chain order (the Merkle leaves). One pass over
    the chain joined to the events, plus one query for events with no link at all: this is
    the hot loop that must stay close to raw SHA-256 speed.
    """
    mapper = ledger.mapper
    decode = mapper.decode_state if (mapper.cipher or mapper.compressor) else None
    unchained = ledger.recorder.first_unchained_position()
    sha256 = hashlib.sha256
    prev, seq, count, last = GENESIS, 0, 0, 0
    for link_seq, position, recorded_hash, chain, state in _rows(ledger):
        if unchained is not None and unchained < position:
            break
        if link_seq != seq + 1:
            # The event and its link are both gone: name the first position after the
            # last good one (positions have no gaps but for rolled-back PostgreSQL inserts).
            raise Broken(last + 1, f"the event after position {last} and its chain entry "
                                   f"{seq + 1} are missing (deleted)")
        if position <= last:
            raise Broken(position, f"chain entry {link_seq} is out of order (reordered)")
        if state is None:
            raise Broken(position, f"event at position {position} is missing (deleted)")
        try:
            hashed = hash_stored(decode(state) if decode else state, position)
        except Exception as error:
            raise Broken(position, f"event at position {position} cannot be read "
                                   f"(altered): {error}") from None
        if hashed != recorded_hash:
            raise Broken(position, f"event at position {position} does not match its "
                                   "recorded hash (altered or moved)")
        prev = sha256(prev + hashed).digest()
        if prev != chain:
            raise Broken(position, f"the chain breaks at position {position} (the chain "
                                   "itself was edited)")
        seq, count, last = link_seq, count + 1, position
        if on_leaf is not None:
            on_leaf(position, hashed)
        if progress is not None and not count % 1000:
            progress(count)
    if unchained is not None:
        raise Broken(unchained, f"event at position {unchained} has no chain entry "
                                "(inserted outside the ledger)")
    return count


def verify(ledger: Any, *, against: str | None = None, public_key: Any = None,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Verify the whole ledger, and with ``against`` (a checkpoint note) that it extends it.

    With ``public_key``, the checkpoint must also carry a valid signature by that key.
    """
    checkpoint = None
    if against is not None:
        checkpoint, _ = Checkpoint.parse(against)
        if public_key is not None and not verify_signature(against, public_key):
            return Verdict(ok=False, events=0, reason="the checkpoint's signature does not "
                                                      "verify with the given public key")
    leaves: list[bytes] = []
    try:
        count = walk(ledger, on_leaf=(lambda _, h: leaves.append(h)) if checkpoint else None,
                     progress=progress)
    except Broken as broken:
        return Verdict(ok=False, events=ledger.count(), first_bad_position=broken.position,
                       reason=broken.reason)
    if checkpoint is not None:
        problem = extends(ledger, leaves, checkpoint)
        if problem is not None:
            return Verdict(ok=False, events=count, first_bad_position=problem[0],
                           reason=problem[1])
    return Verdict(ok=True, events=count)


def extends(ledger: Any, leaves: list[bytes], checkpoint: Checkpoint) -> tuple[int | None,
                                                                               str] | None:
    """Why the ledger (its recomputed ``leaves``) does not extend ``checkpoint``, or None.

    RFC 9162 consistency: the tree of the first ``tree_size`` leaves must have the
    checkpoint's root, proven by a consistency proof to the current root; the chain value
    at that size must be the checkpoint's chain head.
    """
    size = checkpoint.tree_size
    if size > len(leaves):
        return None, (f"the ledger has {len(leaves)} events but the checkpoint covers "
                      f"{size}: its tail was truncated")
    tree = MerkleTree(leaves)
    proof = tree.consistency_proof(size)
    if not verify_consistency(size, tree.size, checkpoint.root_hash, tree.root(), proof):
        return None, (f"the ledger does not extend the checkpoint of {size} events "
                       "(RFC 9162 consistency fails): its history was rewritten")
    if size:
        [row] = ledger.recorder.select_chain(size - 1, 1)
        if row.chain != checkpoint.chain_head:
            return row.position, "the chain head differs from the checkpoint's"
    return None


def checkpoint_note(ledger: Any, *, origin: str, private_key: Any = None,
                    key_name: str | None = None,
                    progress: Callable[[int], None] | None = None, keep: bool = True) -> str:
    """Verify the ledger and write a checkpoint of it: root, size, chain head, time; with
    ``keep``, a copy goes into the ledger (a read-only auditor passes ``keep=False``).

    Refuses (``Refused``) a ledger that does not verify: a checkpoint vouches for history.
    """
    leaves: list[bytes] = []
    try:
        walk(ledger, on_leaf=lambda _, h: leaves.append(h), progress=progress)
    except Broken as broken:
        raise Refused(f"refused: the ledger does not verify at position {broken.position}: "
                      f"{broken.reason}") from None
    head = ledger.recorder.chain_head()
    checkpoint = Checkpoint(origin=origin, tree_size=len(leaves), root_hash=root(leaves),
                            chain_head=head[2] if head else GENESIS, time=utc_now())
    note = checkpoint.to_note(private_key, key_name)
    if keep:
        ledger.recorder.insert_checkpoint(len(leaves), note)
    return note
