"""The evidence of a provenance report, gathered from the ledger against a checkpoint:
the proven Merkle tree of the events, the platform index and its completeness proofs, the
events the report rests on (each checked against its hash), and the kept checkpoints that
bound their record times. ``projections.provenance`` explains the report it makes.

The platform index comes from the kept copy beside the latest checkpoint
(``ledger.index_cache``) when it gives the checkpoint's signed root and the subject is a
platform: then only the chain's hashes and the subject's own events are read. Otherwise
(no copy, an older checkpoint, an order or request) it is folded from the whole log.
"""

from __future__ import annotations

import base64
from bisect import bisect_left
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson
from attrs import frozen

from domain.errors import IntegrityFailure
from domain.subjects import AGGREGATES
from domain.values import When, aggregate_id
from ledger import index_cache, platform_index
from ledger.canonical import hash_stored
from ledger.checkpoint import Checkpoint, encode_proof
from ledger.merkle import MerkleTree

#: Links read per query when the report reads the chain's hashes.
LINKS_BATCH = 20_000


@frozen
class Evidence:
    subject: str
    as_of: When | None
    as_known_at: When | None
    note: str
    records: list[dict[str, Any]]
    index: dict[str, Any]
    checkpoints: list[dict[str, Any]]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _bound(cp: Checkpoint | None) -> dict[str, Any] | None:
    return None if cp is None else {"tree_size": cp.tree_size, "time": cp.time}


def record_time(checkpoints: list[Checkpoint], leaf_index: int) -> dict[str, Any]:
    """The checkpoints that bound an event's record time: the latest taken without it
    (``not_before``: it was recorded after that time) and the earliest taken with it
    (``not_after``)."""
    without = [c for c in checkpoints if c.tree_size <= leaf_index]
    with_it = [c for c in checkpoints if c.tree_size > leaf_index]
    return {"not_before": _bound(max(without, key=lambda c: (_time(c.time), c.tree_size),
                                     default=None)),
            "not_after": _bound(min(with_it, key=lambda c: (_time(c.time), c.tree_size),
                                    default=None))}


def gather(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, kept: list[str],
           as_of: When | None, as_known_at: When | None) -> Evidence:
    """The evidence of ``subject``'s report against ``checkpoint`` (see the module)."""
    size = checkpoint.tree_size
    index = _kept_index(ledger, checkpoint, subject)
    if index is None:
        positions, hashes, head, leaves, named = _folded(ledger, subject, size)
        index_tree = MerkleTree(leaves)
    else:
        leaves, index_tree = index
        positions, hashes, head = _links(ledger, size)
    if len(hashes) < size:
        raise IntegrityFailure(f"the ledger has {len(hashes)} chained events but the "
                               f"checkpoint covers {size}: its tail was truncated")
    tree = MerkleTree(hashes)
    if tree.root() != checkpoint.root_hash or (size and head != checkpoint.chain_head):
        raise IntegrityFailure(f"the ledger does not give the checkpoint's root of {size} "
                               "events: its history was rewritten (run 'blockledger verify "
                               "--against' the checkpoint)")

    def seq_of(position: int) -> int | None:
        seq = bisect_left(positions, position)
        return seq if seq < len(positions) and positions[seq] == position else None

    if index is not None:
        named = _named(ledger, subject, leaves, hashes, seq_of)
    if len(leaves) != checkpoint.index_size or index_tree.root() != checkpoint.index_root:
        raise IntegrityFailure("the log does not give the checkpoint's platform index: an "
                               "event's subject or platform was altered")
    names = sorted({subject, platform_index.OPERATORS, *named})
    proofs = {name: platform_index.prove_range(index_tree, leaves, name) for name in names}
    wanted = sorted({p for proof in proofs.values() for p in proof["positions"]})
    signed = ledger.recorder.signatures_at(wanted)
    records = []
    for position, state in sorted(ledger.states_at(wanted).items()):
        seq = seq_of(position)
        if seq is None or hash_stored(state, position) != hashes[seq]:
            raise IntegrityFailure(f"the event at position {position} does not match its "
                                   "recorded hash (altered)")
        record = orjson.loads(state)
        record["position"] = position
        record["leaf_index"] = seq
        record["proof"] = encode_proof(tree.inclusion_proof(seq))
        kid_sig = signed.get(position)
        record["signature"] = kid_sig and {"key_id": kid_sig[0],
                                           "signature": _b64(kid_sig[1])}
        records.append(record)
    return Evidence(subject, as_of, as_known_at, note, records, proofs,
                    _bounding(kept, note, tree, [r["leaf_index"] for r in records]))


def _kept_index(ledger: Any, checkpoint: Checkpoint,
                subject: str) -> tuple[list[bytes], MerkleTree] | None:
    """The kept copy of ``checkpoint``'s platform index and its tree, when it gives the
    signed root and ``subject`` is a platform in it; else None."""
    leaves = index_cache.load(ledger, checkpoint)
    if leaves is None:
        return None
    first, end = platform_index.run_of(leaves, subject)
    if first == end:
        # Not a platform: which platforms an order or request concerns is known only by
        # folding the log, which reads every event and so finds any altered one.
        return None
    tree = MerkleTree(leaves)
    if tree.root() != checkpoint.index_root:
        return None  # altered: not used (verify names it)
    return leaves, tree


def _folded(ledger: Any, subject: str, size: int) -> tuple[list[int], list[bytes], bytes,
                                                         list[bytes], set[str]]:
    """The positions and event hashes of the first ``size`` links and the last one's chain
    value, the platform index folded from their events, and the platforms the subjects
    named ``subject`` concern (an order's report needs its platforms' index proofs): the
    whole log is read."""
    positions: list[int] = []
    hashes: list[bytes] = []
    head = [b""]

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        for position, hashed, link, obj in platform_index.scan(ledger, size):
            positions.append(position)
            hashes.append(hashed)
            head[0] = link
            yield position, obj

    leaves, platforms = platform_index.fold(events())
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


def _named(ledger: Any, subject: str, leaves: list[bytes], hashes: list[bytes],
           seq_of: Callable[[int], int | None]) -> set[str]:
    """The platforms the subjects named ``subject`` concern (the platform itself, and an
    order or request sharing its reference), from a proven index: those with a leaf at a
    position of one of their events (each event of a subject has a leaf under every
    platform it concerns). Each event read must be the one its link's hash names."""
    decode, found = ledger.mapper.decode_state, {}
    for kind in AGGREGATES:
        for stored in ledger.recorder.select_events(aggregate_id(kind, subject)):
            state = decode(stored.state)
            found[str(orjson.loads(state).get("id"))] = state
    tails = set()
    for event_id, position in ledger.recorder.positions_of(found).items():
        seq = seq_of(position)
        if seq is None:
            continue  # recorded after the checkpoint
        if hash_stored(found[event_id], position) != hashes[seq]:
            raise IntegrityFailure(f"the event at position {position} does not match its "
                                   "recorded hash (altered)")
        tails.add(position.to_bytes(8, "big"))
    named = {subject}
    for data in leaves:
        if data[-8:] in tails:
            name = platform_index.parse_leaf(data)[0]
            if name != platform_index.OPERATORS:
                named.add(name)
    return named


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _bounding(kept: list[str], cited: str, tree: MerkleTree,
              leaf_indices: list[int]) -> list[dict[str, Any]]:
    """The kept checkpoints that bound the record time of an event at ``leaf_indices``
    tighter than the cited one, each with its consistency proof to the cited one. When the
    cited checkpoint is signed, only those signed by one of its keys (by name and key ID)
    count: ``verify-proof --public-key`` checks each one's signature."""
    checkpoint, signatures = Checkpoint.parse(cited)
    keys = {(s.key_name, s.key_id) for s in signatures}
    found: dict[str, Checkpoint] = {}
    for note in kept:
        try:
            cp, theirs = Checkpoint.parse(note)
        except Exception:  # a kept note we cannot read bounds nothing
            continue
        if keys and not keys & {(s.key_name, s.key_id) for s in theirs}:
            continue
        if (0 < cp.tree_size <= checkpoint.tree_size
                and tree.root(cp.tree_size) == cp.root_hash):
            found.setdefault(note, cp)
    candidates = [checkpoint, *found.values()]
    used = set()
    for leaf in set(leaf_indices):
        bounds = record_time(candidates, leaf)
        used.update((b["tree_size"], b["time"]) for b in bounds.values() if b is not None)
    return [{"note": note, "consistency": encode_proof(tree.consistency_proof(cp.tree_size))}
            for note, cp in found.items() if (cp.tree_size, cp.time) in used
            and (cp.tree_size, cp.time) != (checkpoint.tree_size, checkpoint.time)]
