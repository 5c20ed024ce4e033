"""The provenance report of a subject, from the verified log: its events with their
sources, hashes, inclusion proofs, signatures, record-time bounds, and the proof that no
event concerning it was left out (``projections.proof`` describes the report).

With a checkpoint that carries a platform index (the cited one, else the latest kept), the
report is **proven**. The Merkle tree is built from the chain table's 32-byte hashes, and
must give the checkpoint's root (and the chain its chain head); the platform index is
folded again from the log and must give the checkpoint's index root; then only the events
the report needs are read (the subject's platforms' and the operators'), each checked
against its hash in the proven tree. The report is then ``proof.assemble`` of that
evidence: the very function ``verify-proof`` runs on it.

Without such a checkpoint the report says it is not proven (``"proven": false``): the same
events from a full replay of the verified log, hashes but no proofs; ``verify-proof``
refuses it.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from domain.errors import IntegrityFailure
from domain.values import When, check_slug
from ledger import platform_index
from ledger.canonical import hash_stored
from ledger.checkpoint import Checkpoint, encode_hash, encode_proof
from ledger.merkle import MerkleTree
from ledger.signatures import PREFIX, signature_of
from ledger.verify import Broken, Verdict, walk
from projections.book import Book
from projections.history import lines
from projections.proof import FORMAT, Evidence, assemble, record_time


def provenance(ledger: Any, subject: str, *, as_of: When | None = None,
               as_known_at: When | None = None,
               checkpoint_note: str | None = None) -> dict[str, Any]:
    """The report of ``subject`` as a JSON-ready dict, without its ``report_signature``
    (``proof.sign_report`` adds it). The checkpoint is ``checkpoint_note``, else the latest
    kept in the ledger. Raises ``IntegrityFailure`` when the ledger does not give the
    checkpoint's roots."""
    check_slug(subject, "subject")
    kept = ledger.recorder.select_checkpoints()
    note = checkpoint_note if checkpoint_note is not None else (kept[-1] if kept else None)
    checkpoint = Checkpoint.parse(note)[0] if note is not None else None
    if checkpoint is None or checkpoint.index_root is None:
        why = ("no checkpoint is kept in the ledger or given" if checkpoint is None else
               "the checkpoint has no platform index (written by an older version)")
        return _unproven(ledger, subject, as_of, as_known_at, note, why)
    evidence = gather(ledger, subject, checkpoint, note, kept, as_of, as_known_at)
    report = assemble(evidence)
    size = checkpoint.tree_size
    return {**report, "generated_at": _now(),
            "ledger": {"origin": str(ledger.target), "events": ledger.count()},
            "verification": {"ok": True, "events": size, "first_bad_position": None,
                             "reason": None, "checked": (
                                 f"the chain's hashes of the first {size} events give the "
                                 "checkpoint's root and chain head, the log gives its "
                                 "platform index, and each event in the report hashes to "
                                 "its entry")}}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def gather(ledger: Any, subject: str, checkpoint: Checkpoint, note: str, kept: list[str],
           as_of: When | None, as_known_at: When | None) -> Evidence:
    """The evidence of ``subject``'s report against ``checkpoint`` (see the module)."""
    size = checkpoint.tree_size
    chain: list[tuple[int, bytes, bytes]] = []

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        for position, hashed, link, obj in platform_index.scan(ledger, size):
            chain.append((position, hashed, link))
            yield position, obj

    leaves, platforms = platform_index.fold(events())
    if len(chain) < size:
        raise IntegrityFailure(f"the ledger has {len(chain)} chained events but the "
                               f"checkpoint covers {size}: its tail was truncated")
    tree = MerkleTree([hashed for _, hashed, _ in chain])
    if tree.root() != checkpoint.root_hash or (size and chain[-1][2]
                                               != checkpoint.chain_head):
        raise IntegrityFailure(f"the ledger does not give the checkpoint's root of {size} "
                               "events: its history was rewritten (run 'blockledger verify "
                               "--against' the checkpoint)")
    # The platforms that subjects named ``subject`` concern: an order's report needs its
    # platforms' index proofs.
    named = {p for (_, ref), found in platforms.items() if ref == subject for p in found}
    index_tree = MerkleTree(leaves)
    if len(leaves) != checkpoint.index_size or index_tree.root() != checkpoint.index_root:
        raise IntegrityFailure("the log does not give the checkpoint's platform index: an "
                               "event's subject or platform was altered")
    names = sorted({subject, platform_index.OPERATORS, *named})
    index = {name: platform_index.prove_range(index_tree, leaves, name) for name in names}
    wanted = sorted({p for proof in index.values() for p in proof["positions"]})
    seq_of = {position: seq for seq, (position, _, _) in enumerate(chain)}
    signed = ledger.recorder.signatures_at(wanted)
    records = []
    for position, state in _states(ledger, wanted):
        seq = seq_of[position]
        if hash_stored(state, position) != chain[seq][1]:
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
    return Evidence(subject, as_of, as_known_at, note, records, index,
                    _bounding(kept, note, tree, [r["leaf_index"] for r in records]))


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _states(ledger: Any, positions: list[int]) -> list[tuple[int, bytes]]:
    """``(position, canonical JSON)`` of the events at ``positions`` (rising), read in runs
    of consecutive positions."""
    out: list[tuple[int, bytes]] = []
    decode, i = ledger.mapper.decode_state, 0
    while i < len(positions):
        j = i
        while j + 1 < len(positions) and positions[j + 1] == positions[j] + 1:
            j += 1
        found = ledger.recorder.select_notifications(positions[i], j - i + 1,
                                                     stop=positions[j])
        got = {n.id: decode(n.state) for n in found}
        for position in positions[i:j + 1]:
            if position not in got:
                raise IntegrityFailure(f"the event at position {position} is missing "
                                       "(deleted)")
            out.append((position, got[position]))
        i = j + 1
    return out


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


def _unproven(ledger: Any, subject: str, as_of: When | None, as_known_at: When | None,
              note: str | None, why: str) -> dict[str, Any]:
    """The report from a full replay of the verified log, without proofs."""
    hashes: dict[int, tuple[int, bytes]] = {}

    def leaf(position: int, hashed: bytes) -> None:
        hashes[position] = (len(hashes), hashed)

    try:
        walk(ledger, on_leaf=leaf)
        verdict = Verdict(ok=True, events=len(hashes))
    except Broken as broken:
        verdict = Verdict(ok=False, events=ledger.count(), first_bad_position=broken.position,
                          reason=broken.reason)
    book = Book(ledger.entries(), as_known_at=as_known_at.instant if as_known_at else None)
    events = []
    for line in lines(book, subject, as_of=as_of):
        position = book.position(line.original)
        out = line.original.to_json()
        out["position"] = position
        index, hashed = hashes.get(position, (None, None))
        out["hash"] = hashed.hex() if hashed is not None else None
        out["summary"] = line.current.describe()
        out.update(line.amendments.links(line.original.id))
        if line.corrected:
            current = line.current.to_json()
            out["current"] = {k: current[k] for k in ("occurred_at", "note", "data")
                              if k in current}
        out["leaf_index"], out["proof"] = index, None
        events.append(out)
    signed = signature_of(ledger, [ev["position"] for ev in events])
    for ev in events:
        ev["signature"] = signed.get(ev["position"])
    checkpoint = Checkpoint.parse(note)[0] if note is not None else None
    return {
        "report": "provenance", "format": FORMAT, "subject": subject,
        "as_of": as_of.text if as_of else None,
        "as_known_at": as_known_at.text if as_known_at else None,
        "proven": False, "unproven_because": why,
        "checkpoint": None if checkpoint is None else {
            "origin": checkpoint.origin, "tree_size": checkpoint.tree_size,
            "root_hash": encode_hash(checkpoint.root_hash),
            "chain_head": checkpoint.chain_head.hex(), "time": checkpoint.time,
            "platform_index": None, "signers": [], "note": note},
        "signatures": {"message": f"{PREFIX.decode().strip()!r}, a newline, then the "
                       "32 bytes of the event hash; Ed25519",
                       "signed": sum(ev["signature"] is not None for ev in events)},
        "events": events, "evidence": None,
        "generated_at": _now(),
        "ledger": {"origin": str(ledger.target), "events": verdict.events},
        "verification": verdict.to_json(),
    }
