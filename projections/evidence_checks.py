"""The checks of a provenance report's evidence (``projections.proof``, ``verify-proof``):
each record's shape, hash and inclusion proof against the checkpoint it cites; the platform
index proofs, whose positions must be exactly the records' (an event left out, repeated or
added fails, naming its position); each kept checkpoint's consistency with the cited one
(and its signature, given the key); every record's signature by the rules ``verify``
applies to the ledger; the jurisdiction a report answers for, which only an index of
version 3 can back; and the report's own signature. Each raises ``ReportFailure`` (exit 3)
naming what fails, or ``BadInput`` (exit 2) on evidence of the wrong shape.
"""

from __future__ import annotations

import base64
from itertools import pairwise
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.errors import BadInput, IntegrityFailure, Refused
from domain.operators import key_id
from domain.values import SLUG
from ledger.canonical import event_hash
from ledger.checkpoint import Checkpoint, decode_proof, verify_signature
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.platform_index import OPERATORS, check_range, report_names
from ledger.signatures import check, raw_public_key
from projections.provenance import HASHED_FIELDS, Carried, exported, signed_bytes

RECORD_FIELDS = frozenset(HASHED_FIELDS) | {"leaf_index", "proof", "signature"}


class ReportFailure(IntegrityFailure, Refused):
    """A report that does not verify: exit 3 (an ``IntegrityFailure``), and a refusal."""


def check_report_signature(report: dict[str, Any], key: Any) -> str:
    """``"unsigned"``, ``"signed"`` (by the key it names) or ``"signed by the key"``
    (``key``); fails if it says it is signed and the signature does not verify with the
    key it names, or when ``key`` is given and did not sign it. A report without the
    block is unsigned: saying so is all an attacker could do anyway."""
    block = report.get("report_signature", {"signed": False})
    if not block["signed"]:
        if set(block) != {"signed"}:
            raise ReportFailure("the report says it is unsigned but carries a signature")
        if key is not None:
            raise ReportFailure("the report is not signed, so --report-key cannot check it")
        return "unsigned"
    try:
        named = Ed25519PublicKey.from_public_bytes(base64.b64decode(block["public_key"],
                                                                    validate=True))
        named.verify(base64.b64decode(block["signature"], validate=True),
                     signed_bytes(report))
        if block["key_id"] != key_id(raw_public_key(named)) or set(block) != {
                "signed", "key_id", "public_key", "signature"}:
            raise InvalidSignature
    except (InvalidSignature, ValueError, TypeError, KeyError):
        raise ReportFailure("the report's signature does not verify (the report was "
                            "altered after it was signed)") from None
    if key is None:
        return "signed"
    if raw_public_key(key) != raw_public_key(named):
        raise ReportFailure("the report is signed by another key than --report-key")
    return "signed by the key"


def check_record(record: Any, number: int, size: int, root: bytes) -> str:
    """The hash of one record, after checking its shape and its inclusion proof."""
    if not isinstance(record, dict) or not record.keys() <= RECORD_FIELDS:
        raise BadInput(f"evidence record {number}: expected an event's fields, leaf_index, "
                       "proof and signature")
    position, index, signed = (record.get("position"), record.get("leaf_index"),
                               record.get("signature"))
    well_signed = signed is None or (
        isinstance(signed, dict) and set(signed) == {"key_id", "signature"}
        and all(isinstance(v, str) for v in signed.values()))
    if type(position) is not int or type(index) is not int or not well_signed:
        raise BadInput(f"evidence record {number}: position, leaf_index or signature is "
                       "malformed")
    try:
        hashed = event_hash(exported(record))
    except (TypeError, orjson.JSONEncodeError):
        raise BadInput(f"evidence record {number}: not JSON an event can hold") from None
    proof = decode_proof(record.get("proof"))
    if not verify_inclusion(bytes.fromhex(hashed), index, size, proof, root):
        raise ReportFailure(f"the event at position {position}: its fields and proof do not "
                            f"lead to the checkpoint's root (altered, or not in the ledger)")
    return hashed


def check_jurisdiction(value: Any, checkpoint: Checkpoint) -> str | None:
    """The jurisdiction a report answers for (None: all), which only an index of version
    3 can back: it proves the ledger's settings, whose default the answer rests on."""
    if value is None:
        return None
    from domain.declaration import JURISDICTION

    # The code's shape only: whether it is in ISO 3166 is for the producer (the table of
    # codes changes between releases of pycountry, and a verifier's may be older).
    shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
    if not isinstance(value, str) or not JURISDICTION.fullmatch(value):
        raise ReportFailure(f"the report's jurisdiction {shown} is not a jurisdiction code "
                            "(altered)")
    code = value
    version = checkpoint.index_version or 1
    if version < 3:
        raise ReportFailure(f"the report answers for {code} but its checkpoint's index "
                            f"(version {version}) cannot prove the ledger's default "
                            "jurisdiction complete (altered, or not proven when made)")
    return code


def check_complete(subject: Any, records: list[dict], index: dict, checkpoint: Checkpoint, *,
              settings: bool = False) -> None:
    """The records are exactly the events the index holds for the names it proves: from
    index version 2, exactly the subject's as a platform, an order and a request, and the
    operators' (and the ledger's settings in a report for one jurisdiction: ``settings``);
    in version 1, those of the subject and the operators, and any platforms (an order's)
    besides."""
    if not isinstance(subject, str) or not subject:
        raise BadInput("subject: expected the reference of the report's subject")
    version = checkpoint.index_version or 1
    if version >= 2 and not SLUG.fullmatch(subject):
        raise ReportFailure(f"the report's subject {subject[:40]!r} is not a reference "
                            "(altered)")
    needed = (report_names(subject, version, settings=settings) if version >= 2
              else [subject, OPERATORS])
    proven: dict[int, str] = {}
    for name, proof in index.items():
        for position in check_range(name, proof, checkpoint.index_size,
                                    checkpoint.index_root):
            proven.setdefault(position, name)
    for name in needed:
        if name not in index:
            raise ReportFailure(f"the report does not prove which events concern {name} "
                                "(its index proof is missing)")
    if version >= 2:  # exactly the subject's names: any other run's events are foreign
        for name in sorted(index):
            if name not in needed:
                raise ReportFailure(f"the report proves the events of {name}, which are not "
                                    f"{subject}'s (foreign events were added)")
    positions = [r["position"] for r in records]
    for earlier, later in pairwise(positions):
        if later <= earlier:
            raise ReportFailure(f"the event at position {later} is repeated or out of order")
    for position in positions:
        if position not in proven:
            raise ReportFailure(f"the event at position {position} concerns none of "
                                f"{', '.join(sorted(index))} (a foreign event was added)")
    carried = set(positions)
    for position, name in sorted(proven.items()):
        if position not in carried:
            raise ReportFailure(f"the event at position {position}, which concerns {name}, "
                                "is missing from the report (an event was left out)")


def check_kept(other: Any, number: int, cited: Checkpoint, public_key: Any) -> None:
    if not isinstance(other, dict) or set(other) != {"note", "consistency"}:
        raise BadInput(f"evidence checkpoint {number}: expected its note and consistency")
    parsed = Checkpoint.parse(other["note"] if isinstance(other["note"], str) else b"")
    cp = parsed[0]
    if not 0 < cp.tree_size <= cited.tree_size or not verify_consistency(
            cp.tree_size, cited.tree_size, cp.root_hash, cited.root_hash,
            decode_proof(other["consistency"])):
        raise ReportFailure(f"the checkpoint of {cp.tree_size} events at {cp.time} is not "
                            "an earlier state of the cited one (consistency fails)")
    if public_key is not None and not verify_signature(parsed, public_key):
        raise ReportFailure(f"the checkpoint of {cp.tree_size} events at {cp.time}: its "
                            "signature does not verify with the given key")


def check_signatures(records: list[dict], hashes: list[str]) -> None:
    """Every record's signature, by the rules ``verify`` applies to the ledger."""
    found = check(Carried(records, hashes))
    for name, positions in found.problems.items():
        if positions:
            raise ReportFailure(f"the event at position {positions[0]}: "
                                f"{name.replace('_', ' ')} (signatures are checked against "
                                "the operator events the report carries)")
