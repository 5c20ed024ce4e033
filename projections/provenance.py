"""The provenance report of a subject: its events with their sources, hashes and proofs.

Each event carries its export form (so anyone can recompute its hash), its position, an
RFC 9162 inclusion proof against the checkpoint the report cites, and, where an operator
signed it, the operator's name, public key and Ed25519 signature of its hash, so that a
third party can check the report without access to the ledger (``blockledger
verify-proof``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.checkpoint import Checkpoint, encode_hash, encode_proof
from ledger.merkle import MerkleTree
from ledger.signatures import PREFIX, signature_of
from ledger.verify import Broken, Verdict, extends, walk
from projections.book import Book
from projections.history import Line, lines

#: The fields of an event that its hash covers (its export form, less the hash).
HASHED_FIELDS = ("id", "type", "subject", "occurred_at", "sources", "note", "data",
                 "recorded_at", "recorded_by", "position")


def provenance(ledger: Any, subject: str, *, as_of: Any = None, as_known_at: Any = None,
               checkpoint_note: str | None = None) -> dict[str, Any]:
    """The report of ``subject`` as a JSON-ready dict (see ``report_render`` for its forms).

    The checkpoint is ``checkpoint_note``, else the latest kept in the ledger; without one
    the report carries no proofs and says so.
    """
    positions: list[int] = []
    leaves: list[bytes] = []

    def leaf(position: int, hashed: bytes) -> None:
        positions.append(position)
        leaves.append(hashed)

    try:
        walk(ledger, on_leaf=leaf)
        verdict = Verdict(ok=True, events=len(leaves))
    except Broken as broken:
        verdict = Verdict(ok=False, events=ledger.count(), first_bad_position=broken.position,
                          reason=broken.reason)
    if checkpoint_note is None:
        kept = ledger.recorder.select_checkpoints()
        checkpoint_note = kept[-1] if kept else None
    checkpoint, signers = (Checkpoint.parse(checkpoint_note) if checkpoint_note
                           else (None, []))
    if checkpoint is not None and verdict.ok:
        problem = extends(ledger, leaves, checkpoint)
        if problem is not None:
            verdict = Verdict(ok=False, events=len(leaves), first_bad_position=problem[0],
                              reason=problem[1])
    book = Book(ledger.entries(), as_known_at=as_known_at.instant if as_known_at else None)
    covered = checkpoint.tree_size if checkpoint is not None and verdict.ok else 0
    tree = MerkleTree(leaves[:covered]) if covered else None
    index_of = {position: i for i, position in enumerate(positions)}
    events = [_event(book, line, index_of, leaves, tree)
              for line in lines(book, subject, as_of=as_of)]
    signed = signature_of(ledger, [ev["position"] for ev in events if ev["position"]])
    for ev in events:
        ev["signature"] = signed.get(ev["position"])
    return {
        "report": "provenance",
        "subject": subject,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "as_of": as_of.text if as_of else None,
        "as_known_at": as_known_at.text if as_known_at else None,
        "ledger": {"origin": str(ledger.target), "events": verdict.events},
        "verification": verdict.to_json(),
        "checkpoint": None if checkpoint is None else {
            "origin": checkpoint.origin,
            "tree_size": checkpoint.tree_size,
            "root_hash": encode_hash(checkpoint.root_hash),
            "chain_head": checkpoint.chain_head.hex(),
            "time": checkpoint.time,
            "signers": [s.key_name for s in signers],
            "note": checkpoint_note,
        },
        "signatures": {"message": f"{PREFIX.decode().strip()!r}, a newline, then the "
                       "32 bytes of the event hash; Ed25519",
                       "signed": sum(ev["signature"] is not None for ev in events)},
        "events": events,
    }


def _event(book: Book, line: Line, index_of: dict[int, int], leaves: list[bytes],
           tree: MerkleTree | None) -> dict[str, Any]:
    position = book.position(line.original)
    out = line.original.to_json()
    out["position"] = position
    index = index_of.get(position)
    out["hash"] = leaves[index].hex() if index is not None else None
    out["summary"] = line.current.describe()
    out.update(line.amendments.links(line.original.id))
    if line.corrected:
        current = line.current.to_json()
        out["current"] = {k: current[k] for k in ("occurred_at", "note", "data") if k in current}
    out["leaf_index"] = index
    covered = tree is not None and index is not None and index < tree.size
    out["proof"] = encode_proof(tree.inclusion_proof(index)) if covered else None
    return out
