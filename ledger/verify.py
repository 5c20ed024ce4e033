"""Verify: recompute every event hash and the chain, and find the first position that breaks.

Walks the events (in notification order) and the chain rows (in seq order) side by side:
an event without a chain row was inserted, a chain row without its event was deleted, an
event whose recomputed hash differs was altered or moved, a chain value that does not
follow from the one before shows the chain itself was edited. With a checkpoint, also
proves (RFC 9162 consistency) that the ledger still extends it, which catches a truncated
tail and a whole chain rewritten consistently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256
from itertools import islice
from operator import lt
from typing import Any

from attrs import frozen

from ledger.canonical import hash_stored, hash_stored_many
from ledger.chain import GENESIS
from ledger.checkpoint import Checkpoint, verify_signature
from ledger.merkle import MerkleTree, root, verify_consistency

#: Chain rows a query. Smaller batches measured faster than 5,000 (the rows and the
#: objects made from them stay in the CPU's caches; 500 beat 250, 750 and 1,000); a
#: query costs about 30 microseconds.
BATCH = 500


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


def _unchained(position: int) -> Broken:
    return Broken(position, f"event at position {position} has no chain entry "
                            "(inserted outside the ledger)")


def walk(ledger: Any, *, on_leaf: Callable[[int, bytes], None] | None = None,
         progress: Callable[[int], None] | None = None,
         leaves: list[bytes] | None = None) -> int:
    """Check every chain link against its event; return how many events there are.

    Raises ``Broken`` at the first position that does not hold. ``on_leaf`` receives each
    event's position and recomputed hash in chain order (the Merkle leaves); ``leaves``,
    if given, is extended with those hashes (the same, without a call per event).

    One pass over the chain joined to the events, a batch at a time. Each batch is first
    checked whole, on columns (``_hashes_hold``: every hash recomputed and compared, the
    links recomputed on from the last verified one and compared). Where the recorder can
    (``verification_run``), a batch whose positions run on from the last one's, as they do
    but for rolled-back inserts, comes without its seqs and positions, known from the
    query. A batch that does not hold is walked again row by row (``_rows_hold``), which
    names the first bad position and why.

    Events without a chain entry: the walked links each join a distinct event (positions
    rise), so the events number more than the links exactly when one has no link; only
    then, or when a link breaks (to name whichever comes first), is that event looked for.
    """
    recorder = ledger.recorder
    mapper = ledger.mapper
    decode = mapper.decode_state if (mapper.cipher or mapper.compressor) else None
    row_leaf = on_leaf
    if leaves is not None:
        def row_leaf(position: int, hashed: bytes) -> None:
            leaves.append(hashed)
            if on_leaf is not None:
                on_leaf(position, hashed)
    run = getattr(recorder, "verification_run", None)
    end = 0
    if run is not None:
        head = recorder.chain_head()
        end = head[0] if head else 0
    prev, seq, last, count = GENESIS, 0, 0, 0
    try:
        while True:
            held = None
            size = min(BATCH, end - seq)
            if size > 0:
                # Positions seq + offset, as the last batch ended (offset 0 from genesis).
                offset = last - seq
                rows = run(seq, size, offset)
                if rows is not None:
                    recorded, chains, states = zip(*rows, strict=True)
                    positions = range(seq + 1 + offset, seq + size + 1 + offset)
                    held = _hashes_hold(states, positions, recorded, chains, prev, decode)
            if held is None:
                rows = recorder.verification_rows(seq, BATCH)
                if not rows:
                    break
                held = _batch_holds(rows, prev, seq, last, decode)
                if held is None:
                    prev, seq, last, count = _rows_hold(rows, prev, seq, last, count,
                                                        decode, row_leaf, progress)
            if held is not None:
                positions, hashed, links = held
                prev, seq, last = links[-1], seq + len(rows), positions[-1]
                if leaves is not None:
                    leaves.extend(hashed)
                if on_leaf is not None:
                    for leaf in zip(positions, hashed, strict=True):
                        on_leaf(*leaf)
                if progress is not None:
                    for done in range(count - count % 1000 + 1000, count + len(rows) + 1,
                                      1000):
                        progress(done)
                count += len(rows)
            if seq >= end and len(rows) < BATCH:
                break
    except _RowBroken as broken:
        # The walk used to stop at the first unchained event before reaching this row.
        unchained = recorder.first_unchained_position()
        if unchained is not None and unchained < broken.row_position:
            raise _unchained(unchained) from None
        raise Broken(broken.position, broken.reason) from None
    if recorder.count_events() != count:
        unchained = recorder.first_unchained_position()
        if unchained is not None:
            raise _unchained(unchained)
    return count


class _RowBroken(Broken):
    """``Broken`` at a chain row, with that row's position (the one named can differ)."""

    def __init__(self, row_position: int, position: int, reason: str):
        super().__init__(position, reason)
        self.row_position = row_position


def _batch_holds(rows: list[tuple], prev: bytes, seq: int, last: int,
                 decode: Callable[[bytes], bytes] | None) -> tuple[Sequence, ...] | None:
    """``(positions, hashes, links)`` of ``verification_rows`` that verify whole, else
    None: seqs follow on from ``seq`` one by one, positions rise from ``last``, every
    event is there, and ``_hashes_hold``."""
    try:
        seqs, positions, recorded, chains, states = zip(*rows, strict=True)
        if (seqs != tuple(range(seq + 1, seq + len(seqs) + 1)) or positions[0] <= last
                or not all(map(lt, positions, islice(positions, 1, None)))):
            return None
    except Exception:  # the row-by-row walk names what is wrong
        return None
    return _hashes_hold(states, positions, recorded, chains, prev, decode)


def _hashes_hold(states: Sequence, positions: Sequence[int], recorded: Sequence,
                 chains: Sequence, prev: bytes,
                 decode: Callable[[bytes], bytes] | None) -> tuple[Sequence, ...] | None:
    """``(positions, hashes, links)`` if, on whole columns, every event is there, every
    hash recomputed from its stored bytes equals the recorded one, and every link equals
    the chain recomputed from ``prev`` (the last verified link); else None (also for
    anything unexpected: a value of the wrong type, a state that does not decode), and the
    caller walks the rows one by one."""
    try:
        if None in states:
            return None
        if decode is not None:
            states = tuple(map(decode, states))
        hashed = hash_stored_many(states, positions)
        if hashed is None or hashed != tuple(recorded):
            return None
        # Chained from the verified ``prev`` as the row walk does; a comprehension
        # measured faster here than map() over (stored link before, hash) pairs.
        links = tuple([prev := sha256(prev + hashed_one).digest() for hashed_one in hashed])
        if links != tuple(chains):
            return None
    except Exception:  # the row-by-row walk names what is wrong
        return None
    return positions, hashed, links


def _rows_hold(rows: list[tuple], prev: bytes, seq: int, last: int, count: int,
               decode: Callable[[bytes], bytes] | None,
               on_leaf: Callable[[int, bytes], None] | None,
               progress: Callable[[int], None] | None) -> tuple[bytes, int, int, int]:
    """Walk a batch row by row; raise ``_RowBroken`` at the first row that breaks, or
    return the new ``(prev, seq, last, count)``."""
    for link_seq, position, recorded_hash, chain, state in rows:
        if link_seq != seq + 1:
            # The event and its link are both gone: name the first position after the
            # last good one (positions have no gaps but for rolled-back PostgreSQL inserts).
            raise _RowBroken(position, last + 1,
                             f"the event after position {last} and its chain entry "
                             f"{seq + 1} are missing (deleted)")
        if position <= last:
            raise _RowBroken(position, position,
                             f"chain entry {link_seq} is out of order (reordered)")
        if state is None:
            raise _RowBroken(position, position,
                             f"event at position {position} is missing (deleted)")
        try:
            hashed = hash_stored(decode(state) if decode else state, position)
        except Exception as error:
            raise _RowBroken(position, position,
                             f"event at position {position} cannot be read "
                             f"(altered): {error}") from None
        if hashed != recorded_hash:
            raise _RowBroken(position, position,
                             f"event at position {position} does not match its "
                             "recorded hash (altered or moved)")
        prev = sha256(prev + hashed).digest()
        if prev != chain:
            raise _RowBroken(position, position,
                             f"the chain breaks at position {position} (the chain "
                             "itself was edited)")
        seq, count, last = link_seq, count + 1, position
        if on_leaf is not None:
            on_leaf(position, hashed)
        if progress is not None and not count % 1000:
            progress(count)
    return prev, seq, last, count


def verify(ledger: Any, *, against: str | None = None, public_key: Any = None,
           progress: Callable[[int], None] | None = None,
           leaves: list[bytes] | None = None) -> Verdict:
    """Verify the whole ledger, and with ``against`` (a checkpoint note) that it extends it.

    With ``public_key``, the checkpoint must also carry a valid signature by that key.
    ``leaves``, if given, receives every event hash (for ``ledger.consistency``).
    """
    checkpoint = None
    if against is not None:
        checkpoint, _ = Checkpoint.parse(against)
        if public_key is not None and not verify_signature(against, public_key):
            return Verdict(ok=False, events=0, reason="the checkpoint's signature does not "
                                                      "verify with the given public key")
    wanted = leaves is not None or checkpoint is not None
    leaves = leaves if leaves is not None else []
    try:
        count = walk(ledger, leaves=leaves if wanted else None, progress=progress)
    except Broken as broken:
        return Verdict(ok=False, events=ledger.count(), first_bad_position=broken.position,
                       reason=broken.reason)
    if checkpoint is not None:
        problem = extends(ledger, leaves, checkpoint)
        if problem is None and checkpoint.index_root is not None:
            problem = index_differs(ledger, checkpoint)
        if problem is not None:
            return Verdict(ok=False, events=count, first_bad_position=problem[0],
                           reason=problem[1])
    return Verdict(ok=True, events=count)


def index_differs(ledger: Any, checkpoint: Checkpoint) -> tuple[None, str] | None:
    """Why the platform index rebuilt from the ledger's first ``tree_size`` events is not
    the one ``checkpoint`` commits to, or None."""
    from ledger import platform_index

    positions = [row.position for row in ledger.recorder.select_chain(0, checkpoint.tree_size)]
    leaves = platform_index.build(ledger, positions, checkpoint.index_version or 1)
    if len(leaves) != checkpoint.index_size or root(leaves) != checkpoint.index_root:
        return None, (f"the platform index of the ledger's first {checkpoint.tree_size} "
                      "events differs from the checkpoint's: which events concern which "
                      "platform was altered")
    return None


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
