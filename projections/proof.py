"""Check a provenance report on its own: hashes, inclusion proofs, checkpoint signature.

Needs nothing but the report (and the public key): this is what a third party runs.
"""

from __future__ import annotations

from typing import Any

from domain.errors import BadInput, Refused
from ledger.canonical import event_hash
from ledger.checkpoint import Checkpoint, decode_proof, verify_signature
from ledger.merkle import verify_inclusion
from ledger.signatures import verify_event_signature
from projections.provenance import HASHED_FIELDS


def check_report(report: Any, public_key: Any = None) -> int:
    """Return how many events were proven; raise ``Refused`` naming the first that fails.

    With ``public_key`` the checkpoint's signature must verify with it. An event that
    carries an operator's signature must verify with the public key it names (whether that
    key belongs to who it says is for the reader to check against the ledger's operators).
    """
    if not isinstance(report, dict) or not isinstance(report.get("events"), list):
        raise BadInput("not a provenance report: expected an object with 'events'")
    cited = report.get("checkpoint")
    if not isinstance(cited, dict) or not isinstance(cited.get("note"), str):
        raise Refused("refused: the report cites no checkpoint, so nothing can be proven "
                      "(run 'blockledger checkpoint' before the report)")
    checkpoint, _ = Checkpoint.parse(cited["note"])
    if public_key is not None and not verify_signature(cited["note"], public_key):
        raise Refused("refused: the checkpoint's signature does not verify with the given key")
    for number, event in enumerate(report["events"], start=1):
        if not isinstance(event, dict):
            raise BadInput(f"event {number} is not an object")
        name = f"event {number} ({event.get('id')})"
        exported = {k: event[k] for k in HASHED_FIELDS if k in event}
        recomputed = event_hash(exported)
        if recomputed != event.get("hash"):
            raise Refused(f"refused: {name}: its fields do not hash to its recorded hash "
                          "(the report was altered)")
        signature = event.get("signature")
        if signature is not None and not verify_event_signature(recomputed, signature):
            raise Refused(f"refused: {name}: its signature does not verify with the public "
                          "key it names")
        proof, index = event.get("proof"), event.get("leaf_index")
        if proof is None or not isinstance(index, int):
            raise Refused(f"refused: {name} is not covered by the checkpoint")
        if not verify_inclusion(bytes.fromhex(recomputed), index, checkpoint.tree_size,
                                decode_proof(proof), checkpoint.root_hash):
            raise Refused(f"refused: {name}: its inclusion proof does not lead to the "
                          "checkpoint's root")
    return len(report["events"])
