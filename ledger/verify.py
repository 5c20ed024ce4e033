"""Verify: recompute every event hash and the chain, and find the first position that breaks.

Walks the events (in notification order) and the chain rows (in seq order) side by side:
an event without a chain row was inserted, a chain row without its event was deleted, an
event whose recomputed hash differs was altered or moved, a chain value that does not
follow from the one before shows the chain itself was edited. With a checkpoint, also
proves (RFC 9162 consistency) that the ledger still extends it, which catches a truncated
tail and a whole chain rewritten consistently.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from attrs import frozen

from domain.errors import Refused
from ledger.canonical import hash_stored
from ledger.chain import GENESIS, ChainRow, chain_next
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


def _events(ledger: Any) -> Iterator[Any]:
    position = 0
    while True:
        batch = ledger.recorder.select_notifications(position, BATCH, inclusive_of_start=False)
        yield from batch
        if len(batch) < BATCH:
            return
        position = batch[-1].id


def _chain(ledger: Any) -> Iterator[ChainRow]:
    seq = 0
    while True:
        batch = ledger.recorder.select_chain(seq, BATCH)
        yield from batch
        if len(batch) < BATCH:
            return
        seq = batch[-1].seq


def walk(ledger: Any, *, on_leaf: Callable[[int, bytes], None] | None = None,
         progress: Callable[[int], None] | None = None) -> int:
    """Check every event against its chain row; return how many events there are.

    Raises ``Broken`` at the first position that does not hold. ``on_leaf`` receives each
    event's position and recomputed hash in chain order (the Merkle leaves).
    """
    decode = ledger.mapper.decode_state
    events, chain = _events(ledger), _chain(ledger)
    event, row = next(events, None), next(chain, None)
    prev, seq, count, last = GENESIS, 0, 0, 0
    while event is not None or row is not None:
        if row is None or (event is not None and event.id < row.position):
            raise Broken(event.id, f"event at position {event.id} has no chain entry "
                                   "(inserted outside the ledger)")
        if row.seq != seq + 1:
            # The event and its link are both gone: name the first position after the
            # last good one (positions have no gaps but for rolled-back PostgreSQL inserts).
            raise Broken(last + 1, f"the event after position {last} and its chain entry "
                                   f"{seq + 1} are missing (deleted)")
        if event is None or event.id > row.position:
            raise Broken(row.position, f"event at position {row.position} is missing "
                                       "(deleted)")
        try:
            hashed = hash_stored(decode(event.state), event.id)
        except Exception as error:
            raise Broken(event.id, f"event at position {event.id} cannot be read "
                                   f"(altered): {error}") from None
        if hashed != row.event_hash:
            raise Broken(event.id, f"event at position {event.id} does not match its "
                                   "recorded hash (altered or moved)")
        if chain_next(prev, hashed) != row.chain:
            raise Broken(event.id, f"the chain breaks at position {event.id} (the chain "
                                   "itself was edited)")
        prev, seq, count, last = row.chain, row.seq, count + 1, row.position
        if on_leaf is not None:
            on_leaf(event.id, hashed)
        if progress is not None:
            progress(count)
        event, row = next(events, None), next(chain, None)
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
                    progress: Callable[[int], None] | None = None) -> str:
    """Verify the ledger and write a checkpoint of it: root, size, chain head, time.

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
    ledger.recorder.insert_checkpoint(len(leaves), note)
    return note
