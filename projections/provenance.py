"""The provenance report of a subject: what it is, and how it is made from the verified
log.

A JSON provenance report (``format`` 2) is two things: its **evidence**, what the ledger
proved, and everything **derived** from the evidence. ``assemble`` derives the report from
the evidence, with the project's own fold code (``projections.book``, ``projections.history``,
``ledger.signatures``); ``provenance`` gathers the evidence from the ledger and calls it, and
``projections.proof.check_report`` proves the evidence and calls it again, then compares:
any field of the report that is not what the evidence gives fails, whichever it is.

The evidence (``report["evidence"]``):

- ``records``: the events the report rests on, by rising position, each its export form
  (the fields its hash covers, position included), ``leaf_index`` and RFC 9162 inclusion
  ``proof`` against the checkpoint the report cites, and its operator ``signature``
  (``{key_id, signature}``) or null;
- ``index``: completeness proofs against the checkpoint's index
  (``ledger.platform_index``) of the subject's name as a platform, as an order
  (``order/REF``) and as a request (``request/REF``), and of the operators
  (``#operators``): exactly these four when the index is of version 2; the records are
  exactly the union of those positions, so no event can be left out, repeated or added,
  and every event after the first operator is known to need a signature by a key the
  operator events in the report registered. Against a version 1 index (platform leaves
  only) they are the proofs of the subject's name, of every platform the subject concerns
  and of the operators (one limit there: were an order and a request to share a
  reference and concern different platforms, a verifier could not tell that one of them
  was left out with its platforms' proofs; the producer always includes them);
- ``checkpoints``: other checkpoints kept in the ledger, each with a consistency proof to
  the cited one, which bound each event's record time (``record_time``).

A report for one jurisdiction (``--jurisdiction CC``: ``projections.report_jurisdiction``)
adds ``jurisdiction``, ``answer`` (CC's answer at the as-of, else at the checkpoint's time)
and, on each event, where it counts; it lists the ledger's settings among its events, and
its evidence also proves the index's ``ledger/ledger`` run, so that no event setting or
correcting the default can be left out. Only an index of version 3 has that run: against
an older one (or none) such a report is made unproven, from a full replay, and says why.
All of it is derived here, so ``verify-proof`` derives it again and compares.

What no report can prove: that an event which needs no signature (before the first
operator, or the first operator's own registration) was signed, since nothing signed
commits to signatures, only to event hashes; a stripped optional signature is caught only
by the report's own signature. And a checkpoint's time is only as good as its signature:
verify with ``--public-key``.

Outside evidence and derivation are only the producer's statements, which nothing in the
report proves: ``generated_at``, ``ledger`` (its size when the report was made),
``verification`` (what the producer checked), and the report's own signature
(``report_signature``: Ed25519 by the producer's key over ``REPORT_PREFIX`` and the
canonical JSON of the report without that block), which covers them.

With a checkpoint that carries a platform index (the cited one, else the latest kept), the
report is **proven**. The Merkle tree is built from the chain table's 32-byte hashes, and
must give the checkpoint's root (and the chain its chain head); the index (the copy kept
beside the latest checkpoint when that one is signed by an operator, else folded again
from the log: ``projections.evidence``) must give the checkpoint's index root; then only
the events the report needs are read (the subject's and the operators'), each checked
against its hash in the proven tree. The report is then ``assemble`` of that evidence:
the very function ``verify-proof`` runs on it.

Without such a checkpoint the report says it is not proven (``"proven": false``): the same
events from a full replay of the verified log, hashes but no proofs; ``verify-proof``
refuses it.
"""


from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import LedgerError
from domain.fact import Fact
from domain.operators import key_id
from domain.values import When, check_slug
from ledger.application import Entry
from ledger.canonical import canonical, event_hash
from ledger.checkpoint import Checkpoint, encode_hash
from ledger.signatures import PREFIX, operators, raw_public_key, signature_of
from ledger.verify import Broken, Verdict, walk
from projections.book import Book
from projections.evidence import Evidence, gather, record_time
from projections.history import Line, lines
from projections.report_jurisdiction import Marks, answer, report_lines

FORMAT = 2
#: The fields of an event that its hash covers (its export form, less the hash).
HASHED_FIELDS = ("id", "type", "subject", "occurred_at", "sources", "note", "data",
                 "recorded_at", "recorded_by", "position")
REPORT_PREFIX = b"blockledger report signature v1\n"


def exported(record: dict[str, Any]) -> dict[str, Any]:
    """The export form of a record: the fields its hash covers."""
    return {k: record[k] for k in HASHED_FIELDS if k in record}


class Carried:
    """The records, looking like a ledger to ``ledger.signatures`` (``operators``,
    ``check``): so that the report's signatures are read and checked by the same code as
    the ledger's, on the operator events the report carries."""

    def __init__(self, records: list[dict[str, Any]], hashes: list[str]):
        self.recorder, self.mapper = self, self
        self._records, self._hashes = records, hashes

    def decode_state(self, state: bytes) -> bytes:
        return state

    def operator_events(self) -> list[tuple[int, bytes]]:
        return [(r["position"], canonical(exported(r))) for r in self._records
                if str(r.get("type", "")).startswith("operator-")]

    def signature_rows(self, after_seq: int, limit: int) -> list[tuple]:
        rows = []
        for seq in range(after_seq + 1, min(after_seq + limit, len(self._records)) + 1):
            record, signed = self._records[seq - 1], self._records[seq - 1]["signature"]
            rows.append((seq, record["position"], bytes.fromhex(self._hashes[seq - 1]),
                         *((signed["key_id"], base64.b64decode(signed["signature"]),
                            canonical(exported(record))) if signed else (None,) * 3)))
        return rows


def _derived(line: Line) -> dict[str, Any]:
    """What a history line says of its event: its summary, what amends it, and what it
    counts as now when corrected."""
    out: dict[str, Any] = {"summary": line.current.describe(),
                           **line.amendments.links(line.original.id)}
    if line.corrected:
        current = line.current.to_json()
        out["current"] = {k: current[k] for k in ("occurred_at", "note", "data")
                          if k in current}
    return out


def _checkpoint(note: str | None) -> dict[str, Any] | None:
    if note is None:
        return None
    checkpoint, signers = Checkpoint.parse(note)
    return {"origin": checkpoint.origin, "tree_size": checkpoint.tree_size,
            "root_hash": encode_hash(checkpoint.root_hash),
            "chain_head": checkpoint.chain_head.hex(), "time": checkpoint.time,
            "platform_index": _index(checkpoint),
            "signers": [s.key_name for s in signers], "note": note}


def _index(checkpoint: Checkpoint) -> dict[str, Any] | None:
    """The checkpoint's index as a report shows it: its size and root, and its version
    from 2 on (a report made against a version 1 index says what it always said, so that
    it still verifies)."""
    if checkpoint.index_root is None:
        return None
    shown: dict[str, Any] = {"size": checkpoint.index_size,
                             "root": encode_hash(checkpoint.index_root)}
    if (checkpoint.index_version or 1) >= 2:
        shown["version"] = checkpoint.index_version
    return shown


def _signatures(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {"message": f"{PREFIX.decode().strip()!r}, a newline, then the 32 bytes of the "
            "event hash; Ed25519", "signed": sum(ev["signature"] is not None for ev in events)}


def assemble(evidence: Evidence) -> dict[str, Any]:
    """The report that ``evidence`` gives, but for the producer's statements."""
    checkpoint = Checkpoint.parse(evidence.note)[0]
    bounds = [checkpoint, *(Checkpoint.parse(c["note"])[0] for c in evidence.checkpoints)]
    records = evidence.records
    hashes = [event_hash(exported(r)) for r in records]
    by_key = {op.key_id: op for op in operators(Carried(records, hashes)).values()}
    by_position = {r["position"]: (r, h) for r, h in zip(records, hashes, strict=True)}
    entries = [Entry(r["position"], Fact.from_stored(exported(r))) for r in records]
    book = Book(entries, as_known_at=evidence.as_known_at.instant
                if evidence.as_known_at else None)
    code = evidence.jurisdiction
    marks = None
    if code is not None:
        marks = Marks(book, code, evidence.as_of or When.parse(checkpoint.time))
    events = []
    for line in _lines(book, evidence.subject, evidence.as_of, code):
        record, hashed = by_position[book.position(line.original)]
        out = exported(record)
        out["hash"] = hashed
        out.update(_derived(line))
        out["leaf_index"], out["proof"] = record["leaf_index"], record["proof"]
        signed = record["signature"]
        op = by_key.get(signed["key_id"]) if signed else None
        out["signature"] = signed and {
            "operator": op.name if op else None, "key_id": signed["key_id"],
            "public_key": op.public_key if op else None, "signature": signed["signature"]}
        out["record_time"] = record_time(bounds, record["leaf_index"])
        if marks is not None:
            out["jurisdiction"] = marks.of(line)
        events.append(out)
    return {
        "report": "provenance", "format": FORMAT, "subject": evidence.subject,
        "as_of": evidence.as_of.text if evidence.as_of else None,
        "as_known_at": evidence.as_known_at.text if evidence.as_known_at else None,
        **_answered(book, evidence.subject, code, marks),
        "proven": True, "checkpoint": _checkpoint(evidence.note),
        "signatures": _signatures(events), "events": events,
        "evidence": {"records": records, "index": evidence.index,
                     "checkpoints": evidence.checkpoints},
    }


def _lines(book: Book, subject: str, as_of: When | None, code: str | None) -> list[Line]:
    """The lines a report lists: the subject's; for one jurisdiction, with the ledger's
    settings (``report_jurisdiction.report_lines``)."""
    if code is None:
        return lines(book, subject, as_of=as_of)
    return report_lines(book, subject, as_of)


def _answered(book: Book, subject: str, code: str | None,
              marks: Marks | None) -> dict[str, Any]:
    """A report for one jurisdiction says which, and its answer there
    (``projections.report_jurisdiction``); a report for all adds nothing, so that reports
    made before jurisdictions read as they always did."""
    if code is None or marks is None:
        return {}
    return {"jurisdiction": code, "answer": answer(book, subject, code, marks.at)}


# -- the report's own signature ----------------------------------------------------------------


def signed_bytes(report: dict[str, Any]) -> bytes:
    """What the report's signature covers: ``REPORT_PREFIX`` and the canonical JSON (RFC
    8785) of the report without its ``report_signature``."""
    return REPORT_PREFIX + canonical({k: v for k, v in report.items()
                                      if k != "report_signature"})


def sign_report(report: dict[str, Any], key: Ed25519PrivateKey | None) -> dict[str, Any]:
    """``report`` with its ``report_signature``: by ``key``, or ``{"signed": false}``."""
    if key is None:
        return {**report, "report_signature": {"signed": False}}
    raw = raw_public_key(key.public_key())
    return {**report, "report_signature": {
        "signed": True, "key_id": key_id(raw),
        "public_key": base64.b64encode(raw).decode("ascii"),
        "signature": base64.b64encode(key.sign(signed_bytes(report))).decode("ascii")}}


# -- from the ledger ------------------------------------------------------------------------


def provenance(ledger: Any, subject: str, *, as_of: When | None = None,
               as_known_at: When | None = None,
               checkpoint_note: str | None = None,
               jurisdiction: str | None = None,
               shared: dict[Any, Any] | None = None) -> dict[str, Any]:
    """The report of ``subject`` as a JSON-ready dict, without its ``report_signature``
    (``proof.sign_report`` adds it). The checkpoint is ``checkpoint_note``, else the latest
    kept in the ledger. With ``jurisdiction`` (a checked code) the report answers for
    that one (``projections.report_jurisdiction``), and is proven only against an index
    of version 3, which proves the ledger's settings complete. Raises
    ``IntegrityFailure`` when the ledger does not give the checkpoint's roots.
    ``shared``: see ``projections.evidence.gather`` (many subjects' reports against one
    checkpoint)."""
    check_slug(subject, "subject")
    kept = ledger.recorder.select_checkpoints()
    note = checkpoint_note if checkpoint_note is not None else _latest(kept)
    checkpoint = Checkpoint.parse(note)[0] if note is not None else None
    if checkpoint is None or checkpoint.index_root is None:
        why = ("no checkpoint is kept in the ledger or given" if checkpoint is None else
               "the checkpoint has no platform index (written by an older version)")
        return _unproven(ledger, subject, as_of, as_known_at, note, why, jurisdiction)
    late = known_after(as_known_at, checkpoint)
    if late is not None:
        return _unproven(ledger, subject, as_of, as_known_at, note, late, jurisdiction)
    version = checkpoint.index_version or 1
    if jurisdiction is not None and version < 3:
        return _unproven(ledger, subject, as_of, as_known_at, note, (
            f"the checkpoint's index (version {version}) does not hold the ledger's "
            "settings, so it cannot prove that the report carries every event setting the "
            "default jurisdiction its answer rests on (write a new checkpoint: 'blockledger "
            "checkpoint')"), jurisdiction)
    evidence = gather(ledger, subject, checkpoint, note, kept, as_of, as_known_at,
                      given=checkpoint_note is not None, jurisdiction=jurisdiction,
                      shared=shared)
    report = assemble(evidence)
    size = checkpoint.tree_size
    return {**report, "generated_at": _now(),
            "ledger": {"origin": str(ledger.target), "events": ledger.count()},
            "verification": {"ok": True, "events": size, "first_bad_position": None,
                             "reason": None, "checked": (
                                 f"the chain's hashes of the first {size} events give the "
                                 "checkpoint's root and chain head, " + (
                                     "the log gives its platform index"
                                     if evidence.index_from == "log" else
                                     "the platform index kept beside it gives its index "
                                     "root (the checkpoint signed by an operator, or "
                                     "given)") + ", and each event in the report hashes "
                                 "to its entry" + _settings_checked(jurisdiction,
                                                                   evidence.index_from))}}


def known_after(as_known_at: When | None, checkpoint: Checkpoint) -> str | None:
    """Why a report as known at ``as_known_at`` cannot be proven by ``checkpoint``: a time
    after the checkpoint's, when events recorded between (a correction of the default, a
    lift) would be missing from a report that claims to say what the ledger said then.
    None when it can (no such time, or at or before the checkpoint's)."""
    if as_known_at is None or as_known_at.instant <= When.parse(checkpoint.time).instant:
        return None
    return (f"it is as known at {as_known_at}, after its checkpoint's time "
            f"({checkpoint.time}), which cannot prove what was recorded between (write a "
            "new checkpoint: 'blockledger checkpoint', or ask as known at the checkpoint's "
            "time or before)")


def _settings_checked(jurisdiction: str | None, index_from: str) -> str:
    """What a report for one jurisdiction proves of the default it rests on."""
    if jurisdiction is None:
        return ""
    return ("; the index proves that the report carries every event of the ledger's "
            "settings (its default jurisdiction) up to the checkpoint" + (
                ", the index folded from every event of the log since the checkpoint is "
                "not signed by an operator: that completeness is as good as the "
                "checkpoint, so compare it with an auditor's copy or verify-proof "
                "--public-key" if index_from == "log" else ""))


def _latest(kept: list[str]) -> str | None:
    """The kept checkpoint of the largest tree (the last kept, among equals): not merely
    the last row, which someone with the database could make an older note."""
    best, size = None, -1
    for note in kept:
        try:
            tree_size = Checkpoint.parse(note)[0].tree_size
        except LedgerError:
            continue  # verify names a kept note that does not parse
        if tree_size >= size:
            best, size = note, tree_size
    return best


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _unproven(ledger: Any, subject: str, as_of: When | None, as_known_at: When | None,
              note: str | None, why: str, jurisdiction: str | None = None) -> dict[str, Any]:
    """The report from a full replay of the verified log, without proofs; for one
    jurisdiction, answered at its as-of, else at the time it is made."""
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
    generated = _now()
    marks = None
    if jurisdiction is not None:
        marks = Marks(book, jurisdiction, as_of or When.parse(generated))
    events = []
    for line in _lines(book, subject, as_of, jurisdiction):
        position = book.position(line.original)
        out = line.original.to_json()
        out["position"] = position
        index, hashed = hashes.get(position, (None, None))
        out["hash"] = hashed.hex() if hashed is not None else None
        out.update(_derived(line))
        out["leaf_index"], out["proof"] = index, None
        if marks is not None:
            out["jurisdiction"] = marks.of(line)
        events.append(out)
    signed = signature_of(ledger, [ev["position"] for ev in events])
    for ev in events:
        ev["signature"] = signed.get(ev["position"])
    return {
        "report": "provenance", "format": FORMAT, "subject": subject,
        "as_of": as_of.text if as_of else None,
        "as_known_at": as_known_at.text if as_known_at else None,
        **_answered(book, subject, jurisdiction, marks),
        "proven": False, "unproven_because": why, "checkpoint": _checkpoint(note),
        "signatures": _signatures(events), "events": events, "evidence": None,
        "generated_at": generated,
        "ledger": {"origin": str(ledger.target), "events": verdict.events},
        "verification": verdict.to_json(),
    }
