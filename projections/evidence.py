"""The evidence of a provenance report, gathered from the ledger against a checkpoint:
the proven Merkle tree of the events, the platform index and its completeness proofs, the
events the report rests on (each checked against its hash), and the kept checkpoints that
bound their record times. ``projections.provenance`` explains the report it makes.

The trees come from ``projections.proven_trees``: the index is the kept copy beside the
latest checkpoint when the checkpoint is signed by an operator (or given by the caller) and
the copy gives its signed root, and then only the chain's hashes, the operator events and
the events the report proves are read; otherwise it is folded from the whole log. The
reports of many subjects against one checkpoint (a publication's) share the trees, the
index's proofs and one read of their events (``gather``'s ``shared``, ``prepare``).

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
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson
from attrs import Factory, define, frozen

from domain.errors import IntegrityFailure
from domain.values import When
from ledger import platform_index
from ledger.checkpoint import Checkpoint, encode_proof
from ledger.merkle import MerkleTree
from projections.proven_trees import Trees, checked_trees, holds, named_platforms


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

@define
class Batch:
    """What the reports of many subjects against one checkpoint share (``gather``'s
    ``shared``, from an index of version 2 on): the checked trees, each name's
    completeness proof, each event read and checked once (with its inclusion proof and
    signature), and the kept checkpoints found to bound record times. Each report made
    from it is the one ``gather`` makes alone: the same checks, done once."""

    trees: Trees
    proofs: dict[str, dict[str, Any]] = Factory(dict)
    records: dict[int, dict[str, Any]] = Factory(dict)
    bounds: dict[tuple[str, ...], dict[str, Checkpoint]] = Factory(dict)


def gather(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, kept: list[str],
           as_of: When | None, as_known_at: When | None, *,
           given: bool = False, jurisdiction: str | None = None,
           shared: dict[Any, Batch] | None = None) -> Evidence:
    """The evidence of ``subject``'s report against ``checkpoint`` (see the module);
    ``given``: the caller chose the checkpoint (``--checkpoint FILE``) rather than taking
    the one kept in the ledger; ``jurisdiction``: the report answers for that one, and
    proves the ledger's settings complete too (an index of version 3: the caller checks).
    ``shared``: a dict the caller keeps across the reports of many subjects against the
    same checkpoint (a publication's platforms, orders and requests): the trees are then
    read and checked once, and each event once (against an index of version 2 or later; a
    version 1 index's depend on the subject), and each report is the one it would be
    alone. ``prepare`` reads the events of many subjects' reports into it in one pass."""
    version = checkpoint.index_version or 1
    batch, named = _batch(ledger, subject, checkpoint, note, given, shared)
    trees = batch.trees
    if version >= 2:
        names = platform_index.report_names(subject, version,
                                            settings=jurisdiction is not None)
    else:
        if named is None:  # the index was the kept copy: the fold named nothing
            named = named_platforms(ledger, subject, trees)
        names = sorted({subject, platform_index.OPERATORS, *named})
    proofs = {name: _proof(batch, name) for name in names}
    wanted = sorted({p for proof in proofs.values() for p in proof["positions"]})
    _read(ledger, batch, wanted)
    # A copy of each record: a report's records are its own, whoever shares the batch.
    records = [dict(batch.records[position]) for position in wanted]
    return Evidence(subject, as_of, as_known_at, note, records, proofs,
                    _bounding(batch, kept, checkpoint, note,
                              [r["leaf_index"] for r in records]),
                    trees.index_from, jurisdiction)


def prepare(ledger: Any, subjects: Iterable[str], checkpoint: Checkpoint, note: str, *,
            given: bool = False, shared: dict[Any, Batch]) -> None:
    """Read and check, in one pass over the log, the events that the reports of
    ``subjects`` against ``checkpoint`` rest on, into ``shared`` (see ``gather``), so that
    each report then reads none of its own. Nothing to do against a checkpoint without an
    index of version 2 or later (whose reports read their own, or are not proven)."""
    if checkpoint.index_root is None or (checkpoint.index_version or 1) < 2:
        return
    subjects = list(subjects)
    if not subjects:
        return
    batch = _batch(ledger, subjects[0], checkpoint, note, given, shared)[0]
    names = {name for subject in subjects
             for name in platform_index.report_names(subject, checkpoint.index_version)}
    _read(ledger, batch, sorted({p for name in names for p in _proof(batch, name)["positions"]}))


def _batch(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, given: bool,
           shared: dict[Any, Batch] | None) -> tuple[Batch, set[str] | None]:
    """The batch of reports against ``note`` in ``shared`` (made and kept there when the
    index is of version 2 or later), else a batch of one; and the platforms a fold of the
    log found ``subject`` to concern (see ``proven_trees.checked_trees``)."""
    key = (note, given)
    batch = shared.get(key) if shared is not None else None
    if batch is not None:
        return batch, None
    trees, named = checked_trees(ledger, subject, checkpoint, note, given)
    batch = Batch(trees)
    if shared is not None and (checkpoint.index_version or 1) >= 2:
        shared[key] = batch
    return batch, named


def _proof(batch: Batch, name: str) -> dict[str, Any]:
    """The completeness proof of ``name``'s run in the batch's index (made once)."""
    proof = batch.proofs.get(name)
    if proof is None:
        proof = batch.proofs[name] = platform_index.prove_range(
            batch.trees.index_tree, batch.trees.leaves, name)
    return proof


def _read(ledger: Any, batch: Batch, wanted: list[int]) -> None:
    """The events at ``wanted`` (positions, rising) not yet in the batch, read in one
    pass, each checked against its hash in the proven tree, with its inclusion proof
    and operator signature."""
    missing = [p for p in wanted if p not in batch.records]
    if not missing:
        return
    trees = batch.trees
    signed = ledger.recorder.signatures_at(missing)
    for position, state in sorted(ledger.states_at(missing).items()):
        seq = trees.seq_of(position)
        if seq is None or not holds(state, position, trees.hashes[seq]):
            raise IntegrityFailure(f"the event at position {position} does not match its "
                                   "recorded hash (altered)")
        record = orjson.loads(state)
        record["position"] = position
        record["leaf_index"] = seq
        record["proof"] = encode_proof(trees.tree.inclusion_proof(seq))
        kid_sig = signed.get(position)
        record["signature"] = kid_sig and {"key_id": kid_sig[0],
                                           "signature": _b64(kid_sig[1])}
        batch.records[position] = record


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _bounding(batch: Batch, kept: list[str], checkpoint: Checkpoint, cited: str,
              leaf_indices: list[int]) -> list[dict[str, Any]]:
    """The kept checkpoints that bound the record time of an event at ``leaf_indices``
    tighter than the cited one (``cited``, parsed: ``checkpoint``, as ``gather`` was given
    it, not parsed again for each report), each with its consistency proof to the cited
    one. When the cited checkpoint is signed, only those signed by one of its keys (by name
    and key ID) count: ``verify-proof --public-key`` checks each one's signature; the
    kept notes are parsed once per batch (``_extended``)."""
    found = batch.bounds.get(tuple(kept))
    if found is None:
        found = batch.bounds[tuple(kept)] = _extended(kept, cited, batch.trees.tree)
    candidates = [checkpoint, *found.values()]
    used = set()
    for leaf in set(leaf_indices):
        bounds = record_time(candidates, leaf)
        used.update((b["tree_size"], b["time"]) for b in bounds.values() if b is not None)
    tree = batch.trees.tree
    return [{"note": note, "consistency": encode_proof(tree.consistency_proof(cp.tree_size))}
            for note, cp in found.items() if (cp.tree_size, cp.time) in used
            and (cp.tree_size, cp.time) != (checkpoint.tree_size, checkpoint.time)]


def _extended(kept: list[str], cited: str, tree: MerkleTree) -> dict[str, Checkpoint]:
    """The kept notes that ``cited``'s tree extends (signed by one of its keys, when it is
    signed), each parsed: the candidates of ``_bounding``."""
    checkpoint, signatures = Checkpoint.parse(cited)
    keys = {(s.key_name, s.key_id) for s in signatures}
    found: dict[str, Checkpoint] = {}
    for note in kept:
        try:  # the cited note itself, kept in the ledger, is read once
            cp, theirs = (checkpoint, signatures) if note == cited else Checkpoint.parse(note)
        except Exception:  # a kept note we cannot read bounds nothing
            continue
        if keys and not keys & {(s.key_name, s.key_id) for s in theirs}:
            continue
        if (0 < cp.tree_size <= checkpoint.tree_size
                and tree.root(cp.tree_size) == cp.root_hash):
            found.setdefault(note, cp)
    return found
