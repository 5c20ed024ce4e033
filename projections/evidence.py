"""The evidence of a provenance report, gathered from the ledger against a checkpoint:
the proven Merkle tree of the events, the platform index and its completeness proofs, the
events the report rests on (each checked against its hash), and the kept checkpoints that
bound their record times. ``projections.provenance`` explains the report it makes.

The index comes from the kept copy beside the latest checkpoint (``ledger.index_cache``)
when the checkpoint is signed by an operator (or given by the caller) and the copy gives its
signed root: then only the chain's hashes, the operator events and the events the report
proves are read. Otherwise (no copy, an unsigned or older checkpoint) it is folded from the
whole log.

Which names the report proves depends on the index's version
(``ledger.platform_index``). From version 2: the subject's name as a platform, as an order
and as a request (``order/REF``, ``request/REF``), and the operators; an order's report
then carries its own events and its amendments, not its platforms'. Against a version 1
index an order or request has no leaves of its own: its report proves the platforms it
concerns, which only a fold of the log names, and a platform's report proves the
platforms that an order or request sharing its reference concerns. A report for one
jurisdiction proves the ledger's settings (``ledger/ledger``, version 3) besides.
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
    #: Where the platform index came from: folded from the log, or the copy kept beside
    #: a checkpoint signed by an operator (or given by the caller).
    index_from: str = "log"
    #: The one jurisdiction the report answers for (``report provenance --jurisdiction``),
    #: whose evidence then holds the ledger's settings too (index version 3); None for all.
    jurisdiction: str | None = None


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


def gather(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, kept: list[str],
           as_of: When | None, as_known_at: When | None, *,
           given: bool = False, jurisdiction: str | None = None,
           shared: dict[Any, Trees] | None = None) -> Evidence:
    """The evidence of ``subject``'s report against ``checkpoint`` (see the module);
    ``given``: the caller chose the checkpoint (``--checkpoint FILE``) rather than taking
    the one kept in the ledger; ``jurisdiction``: the report answers for that one, and
    proves the ledger's settings complete too (an index of version 3: the caller checks).
    ``shared``: a dict the caller keeps across the reports of many subjects against the
    same checkpoint (a publication's platforms): the trees are then read and checked once
    (against an index of version 2 or later; a version 1 index's depend on the subject),
    and each report is the one it would be alone."""
    version = checkpoint.index_version or 1
    key = (note, given)
    trees = shared.get(key) if shared is not None else None
    named: set[str] | None = None
    if trees is None:
        trees, named = _trees(ledger, subject, checkpoint, note, given)
        if shared is not None and version >= 2:
            shared[key] = trees
    positions, hashes, tree = trees.positions, trees.hashes, trees.tree
    leaves, index_tree = trees.leaves, trees.index_tree

    def seq_of(position: int) -> int | None:
        seq = bisect_left(positions, position)
        return seq if seq < len(positions) and positions[seq] == position else None

    if version >= 2:
        names = platform_index.report_names(subject, version,
                                            settings=jurisdiction is not None)
    else:
        if named is None:  # the index was the kept copy: the fold named nothing
            named = _named(ledger, subject, leaves, hashes, seq_of)
        names = sorted({subject, platform_index.OPERATORS, *named})
    proofs = {name: platform_index.prove_range(index_tree, leaves, name) for name in names}
    wanted = sorted({p for proof in proofs.values() for p in proof["positions"]})
    signed = ledger.recorder.signatures_at(wanted)
    records = []
    for position, state in sorted(ledger.states_at(wanted).items()):
        seq = seq_of(position)
        if seq is None or not _holds(state, position, hashes[seq]):
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
                    _bounding(kept, note, tree, [r["leaf_index"] for r in records]),
                    trees.index_from, jurisdiction)


def _trees(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, given: bool
           ) -> tuple[Trees, set[str] | None]:
    """The trees of ``gather``, checked against the checkpoint, and the platforms the
    subjects named ``subject`` concern when the index was folded from the log (None when
    it was the kept copy)."""
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
        if not _holds(state, position, hashes[seq]):
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


def _named(ledger: Any, subject: str, leaves: list[bytes], hashes: list[bytes],
           seq_of: Callable[[int], int | None]) -> set[str]:
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
        seq = seq_of(position)
        if seq is None:
            continue  # recorded after the checkpoint
        if not _holds(found[event_id], position, hashes[seq]):
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


def _holds(state: Any, position: int, expected: bytes) -> bool:
    """Whether the stored ``state`` at ``position`` hashes to ``expected``; a state that
    is not a stored event at all (edited outside the ledger, or emptied) does not."""
    if not isinstance(state, bytes | bytearray | memoryview | str):
        return False
    try:
        return hash_stored(state, position) == expected
    except (ValueError, TypeError, AttributeError):
        return False


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
