"""The trees every provenance report against a checkpoint rests on, whatever its subject,
each found to give the checkpoint's roots: the chain's positions and event hashes, the
event tree, and the platform index with its tree (``projections.evidence`` gathers a
report's evidence from them).

The index comes from the kept copy beside the latest checkpoint (``ledger.index_cache``)
when the checkpoint is signed by an operator (or given by the caller) and the copy gives its
signed root: then only the chain's hashes are read. Otherwise (no copy, an unsigned or
older checkpoint) it is folded from the whole log.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from typing import Any

import orjson
from attrs import frozen

from domain.errors import IntegrityFailure
from domain.subjects import AGGREGATES
from domain.values import aggregate_id
from ledger import index_cache, platform_index
from ledger.canonical import hash_stored
from ledger.checkpoint import Checkpoint
from ledger.merkle import MerkleTree

#: Links read per query when the report reads the chain's hashes.
LINKS_BATCH = 20_000


@frozen
class Trees:
    """What every report against one checkpoint rests on, whatever its subject: the
    chain's positions and event hashes, the event tree, and the platform index with its
    tree, each found to give the checkpoint's roots."""

    positions: list[int]
    hashes: list[bytes]
    tree: MerkleTree
    leaves: list[bytes]
    index_tree: MerkleTree
    index_from: str

    def seq_of(self, position: int) -> int | None:
        """The leaf index of the event at ``position``, None when the tree has none."""
        seq = bisect_left(self.positions, position)
        return seq if seq < len(self.positions) and self.positions[seq] == position else None


def checked_trees(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, given: bool
                  ) -> tuple[Trees, set[str] | None]:
    """The trees of a report on ``subject``, checked against the checkpoint, and the
    platforms the subjects named ``subject`` concern when the index was folded from the
    log (None when it was the kept copy)."""
    size = checkpoint.tree_size
    version = checkpoint.index_version or 1
    index = links = named = None
    # The kept index is taken on trust only for a note given by the caller or signed by
    # an operator; an unsigned kept note goes straight to the fold, without reading the
    # chain's hashes twice.
    if index_cache.kept_size(ledger) == size and (given or Checkpoint.parse(note)[1]):
        links = _links(ledger, size)
        if given or _signed_by_an_operator(ledger, note, *links[:2]):
            index = _kept_index(ledger, checkpoint, subject)
    if index is None:
        positions, hashes, head, leaves, named = _folded(ledger, subject, size, version)
        index_tree = MerkleTree(leaves)
    else:
        leaves, index_tree = index
        positions, hashes, head = links  # type: ignore[misc]
    if len(hashes) < size:
        raise IntegrityFailure(f"the ledger has {len(hashes)} chained events but the "
                               f"checkpoint covers {size}: its tail was truncated")
    tree = MerkleTree(hashes)
    if tree.root() != checkpoint.root_hash or (size and head != checkpoint.chain_head):
        raise IntegrityFailure(f"the ledger does not give the checkpoint's root of {size} "
                               "events: its history was rewritten (run 'blockledger verify "
                               "--against' the checkpoint)")
    if len(leaves) != checkpoint.index_size or index_tree.root() != checkpoint.index_root:
        raise IntegrityFailure("the log does not give the checkpoint's platform index: an "
                               "event's subject or platform was altered")
    return Trees(positions, hashes, tree, leaves, index_tree,
                 "log" if index is None else "kept"), named


def _signed_by_an_operator(ledger: Any, note: str, positions: list[int],
                           hashes: list[bytes]) -> bool:
    """Whether ``note`` carries a signature by an operator registered (and not revoked)
    among the events it covers, each of those events the one its link's hash names. Only
    such a note's platform index is taken on trust from the copy kept beside it: anyone
    with the database can add an unsigned note with a forged index root, and a report
    must then fold the log (which gives the real root, and so fails), not prove the
    forgery (``ledger.consistency`` names such a note too)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from domain.operators import key_bytes
    from ledger.note_signers import signers

    checkpoint, signatures = Checkpoint.parse(note)
    if not signatures:
        return False
    keys: dict[str, Any] = {}
    decode = ledger.mapper.decode_state
    for position, stored in ledger.recorder.operator_events():
        seq = bisect_left(positions, position)
        if seq >= len(positions) or positions[seq] != position:
            continue  # after the checkpoint, or not in the chain
        state = decode(stored)
        if not holds(state, position, hashes[seq]):
            return False  # altered: the fold names it
        obj = orjson.loads(state)
        if obj.get("type") == "operator-added":
            keys[obj["subject"]] = Ed25519PublicKey.from_public_bytes(
                key_bytes(obj["data"]["public_key"]))
        elif obj.get("type") == "operator-revoked":
            keys.pop(obj["subject"], None)
    return bool(signers(checkpoint, signatures, keys.items()).valid)


def _kept_index(ledger: Any, checkpoint: Checkpoint,
                subject: str) -> tuple[list[bytes], MerkleTree] | None:
    """The kept copy of ``checkpoint``'s index and its tree, when it gives the signed root
    and (in a version 1 index) ``subject`` is a platform in it; else None."""
    leaves = index_cache.load(ledger, checkpoint)
    if leaves is None:
        return None
    first, end = platform_index.run_of(leaves, subject)
    if first == end and (checkpoint.index_version or 1) < 2:
        # Not a platform, in an index without subject leaves: which platforms an order
        # or request concerns is known only by folding the log, which reads every event
        # and so finds any altered one.
        return None
    tree = MerkleTree(leaves)
    if tree.root() != checkpoint.index_root:
        return None  # altered: not used (verify names it)
    return leaves, tree


def _folded(ledger: Any, subject: str, size: int, version: int
            ) -> tuple[list[int], list[bytes], bytes, list[bytes], set[str]]:
    """The positions and event hashes of the first ``size`` links and the last one's chain
    value, the index of ``version`` folded from their events, and the platforms the
    subjects named ``subject`` concern (against a version 1 index, an order's report needs
    its platforms' index proofs): the whole log is read."""
    positions: list[int] = []
    hashes: list[bytes] = []
    head = [b""]

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        for position, hashed, link, obj in platform_index.scan(ledger, size):
            positions.append(position)
            hashes.append(hashed)
            head[0] = link
            yield position, obj

    leaves, platforms = platform_index.fold(events(), version)
    named = {p for (_, ref), found in platforms.items() if ref == subject for p in found}
    return positions, hashes, head[0], leaves, named


def _links(ledger: Any, size: int) -> tuple[list[int], list[bytes], bytes]:
    """The positions and event hashes of the first ``size`` links, and the last one's
    chain value."""
    positions: list[int] = []
    hashes: list[bytes] = []
    while len(hashes) < size:
        rows = ledger.recorder.chain_hashes(len(hashes), min(LINKS_BATCH, size - len(hashes)))
        if not rows:
            break
        found, hashed = zip(*rows, strict=True)
        positions += found
        hashes += hashed
    head = b""
    if hashes:
        [row] = ledger.recorder.select_chain(len(hashes) - 1, 1)
        head = bytes(row.chain)
    return positions, hashes, head


def named_platforms(ledger: Any, subject: str, trees: Trees) -> set[str]:
    """The platforms the subjects named ``subject`` concern (the platform itself, and an
    order or request sharing its reference), from a proven index: those with a leaf at a
    position of one of their events (each event of a subject has a leaf under every
    platform it concerns). Each event read must be the one its link's hash names, and
    every event found must be in the chain.

    The platform's own events are proven complete by the signed index whatever this
    finds. An order or request of *another* platform that shares the reference is found
    by its aggregate id, a column no hash covers: someone with the database who edits it
    leaves that order out of this report (``verify`` names the edit); the fold would
    have found it. Only for a version 1 index, which names platforms only: from version
    2 the order and request of that name have leaves of their own."""
    decode, found = ledger.mapper.decode_state, {}
    for kind in AGGREGATES:
        for stored in ledger.recorder.select_events(aggregate_id(kind, subject)):
            try:
                state = decode(stored.state)
                found[str(orjson.loads(state)["id"])] = state
            except (ValueError, TypeError, KeyError, AttributeError):
                raise IntegrityFailure(f"an event of {kind} {subject} does not decode "
                                       "(altered or damaged): run 'blockledger verify'"
                                       ) from None
    tails = set()
    chained = ledger.recorder.positions_of(found)
    lost = next((event_id for event_id in found if event_id not in chained), None)
    if lost is not None:  # fail closed: its platforms could not be named
        raise IntegrityFailure(f"the event {lost} of a subject named {subject} is not in the "
                               "hash chain under its id (altered): run 'blockledger verify'")
    for event_id, position in chained.items():
        seq = trees.seq_of(position)
        if seq is None:
            continue  # recorded after the checkpoint
        if not holds(found[event_id], position, trees.hashes[seq]):
            raise IntegrityFailure(f"the event at position {position} does not match its "
                                   "recorded hash (altered)")
        tails.add(position.to_bytes(8, "big"))
    named = {subject}
    for data in trees.leaves:
        if data[-8:] in tails:
            name = platform_index.parse_leaf(data)[0]
            if name != platform_index.OPERATORS:
                named.add(name)
    return named


def holds(state: Any, position: int, expected: bytes) -> bool:
    """Whether the stored ``state`` at ``position`` hashes to ``expected``; a state that
    is not a stored event at all (edited outside the ledger, or emptied) does not."""
    if not isinstance(state, bytes | bytearray | memoryview | str):
        return False
    try:
        return hash_stored(state, position) == expected
    except (ValueError, TypeError, AttributeError):
        return False
