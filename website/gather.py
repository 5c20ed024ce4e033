"""What a publication shows, gathered from the ledger: a signed checkpoint of the whole
ledger, each platform's proven provenance report against it (``projections.provenance``),
its status now and at every change point (``projections.status``, ``website.snapshots``),
and the orders and requests with the events that concern them.

Nothing here decides a state: every status comes from the project's folds; this module only
collects them and the exact bytes each event was hashed from.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

from attrs import frozen
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import IntegrityFailure
from domain.timeline import OrderState, RequestState
from ledger.canonical import canonical
from ledger.checkpoint import Checkpoint, key_id
from ledger.checkpointing import checkpoint_note
from ledger.merkle import MerkleTree
from ledger.platform_index import subject_name
from ledger.signatures import raw_public_key
from ledger.verify import Broken, walk
from projections.book import Book
from projections.evidence import prepare
from projections.provenance import exported, provenance
from projections.status import platform_status, status_detail
from website.snapshots import snapshots


@frozen
class Signer:
    """The key a reader's browser checks the checkpoint against."""

    name: str
    public_key: str  # base64 of the 32 raw bytes
    key_id: str  # hex of the signed-note key ID

    @classmethod
    def of(cls, key: Ed25519PrivateKey, name: str) -> Signer:
        public = key.public_key()
        return cls(name, base64.b64encode(raw_public_key(public)).decode("ascii"),
                   key_id(name, public).hex())


@frozen
class Publication:
    """Everything the pages are rendered from."""

    note: str
    checkpoint: Checkpoint
    signer: Signer
    leaves: list[bytes]  # the tree the note signs, for consistency proofs to older notes
    now: datetime  # the checkpoint's time: what the pages call now
    platforms: dict[str, dict[str, Any]]
    subjects: dict[str, dict[str, Any]]  # orders and requests, by reference
    jurisdiction: str | None = None  # the site's own: what its pages show first


def shipped(event: dict[str, Any]) -> dict[str, Any]:
    """An event as a page ships it: the exact canonical bytes that were hashed (as text:
    they are UTF-8), its leaf index and inclusion proof; nothing else about it."""
    return {"canonical": canonical(exported(event)).decode("utf-8"),
            "leaf_index": event["leaf_index"], "proof": event["proof"]}


def _tree(ledger: Any, origin: str, key: Ed25519PrivateKey, key_name: str, keep: bool
          ) -> tuple[str, Checkpoint, list[bytes], set[int]]:
    """A fresh signed checkpoint of the ledger and the leaves it covers; kept in the ledger
    with its platform index (``keep``), the reports then read only their own events."""
    note = checkpoint_note(ledger, origin=origin, private_key=key, key_name=key_name,
                           keep=keep)
    checkpoint = Checkpoint.parse(note)[0]
    leaves: list[bytes] = []
    positions: list[int] = []
    try:
        walk(ledger, leaves=leaves, on_leaf=lambda position, _: positions.append(position))
    except Broken as broken:
        raise IntegrityFailure(f"the ledger does not verify at position {broken.position}: "
                               f"{broken.reason}") from None
    leaves = leaves[: checkpoint.tree_size]
    if MerkleTree(leaves).root() != checkpoint.root_hash:
        raise IntegrityFailure("the ledger changed while it was published: publish again")
    return note, checkpoint, leaves, set(positions[: checkpoint.tree_size])


def _platform(ledger: Any, book: Book, ref: str, note: str, now: datetime,
              jurisdiction: str | None, shared: dict[Any, Any]) -> dict[str, Any]:
    report = provenance(ledger, ref, checkpoint_note=note, shared=shared)
    if not report.get("proven"):
        raise IntegrityFailure(f"the report of {ref} is not proven: "
                               f"{report.get('unproven_because')}")
    status = platform_status(book, ref, now=now)
    codes = sorted({*status["jurisdictions"], *([jurisdiction] if jurisdiction else [])})
    return {"ref": ref, "report": report, "status": status,
            "detail": status_detail(book, ref, now=now, full=False),
            "answers": {code: _answer(book, ref, now, status, code) for code in codes},
            "snapshots": snapshots(book, ref, now, tuple(codes))}


def _answer(book: Book, ref: str, now: datetime, status: dict[str, Any], code: str
            ) -> dict[str, Any]:
    """Platform ``ref``'s status now in jurisdiction ``code``, as the fold answers it (from
    the status's ``jurisdictions``, else asked for that one), and since when it has held
    its blocked targets there."""
    there = status["jurisdictions"].get(code) or platform_status(book, ref, now=now,
                                                                 jurisdiction=code)
    return {"status": there, "detail": status_detail(book, ref, now=now, full=False,
                                                      jurisdiction=code)}


def _run(ledger: Any, kind: str, ref: str, note: str, checkpoint: Checkpoint,
         shared: dict[Any, Any]) -> dict[str, Any] | None:
    """Subject ``(kind, ref)``'s own run of the checkpoint's platform index
    (``order/REF``, ``request/REF``, from index version 2) and the report that proves it
    (what ``report provenance REF`` writes against this checkpoint: its evidence holds
    the run's completeness proof, its events and the operators); None before version 2,
    whose index names platforms only."""
    if (checkpoint.index_version or 1) < 2:
        return None
    report = provenance(ledger, ref, checkpoint_note=note, shared=shared)
    if not report.get("proven"):
        raise IntegrityFailure(f"the report of {kind} {ref} is not proven: "
                               f"{report.get('unproven_because')}")
    return {"name": subject_name(kind, ref), "report": report}


def _linked(book: Book, platforms: dict[str, dict[str, Any]]
            ) -> dict[str, dict[str, list[str]]]:
    """By kind (``order``, ``request``) and reference, the platforms a subject is linked
    with: those whose status names it among their orders or requests, or that the book
    relates to it; sorted."""
    found: dict[str, dict[str, set[str]]] = {"order": {}, "request": {}}
    for p, page in platforms.items():
        named = ({o["ref"] for o in page["status"]["orders"]}
                 | {r["ref"] for r in page["status"]["normalizations"]})
        for kind, refs in found.items():
            for ref in named | set(book.related(p, kind)):
                refs.setdefault(ref, set()).add(p)
    return {kind: {ref: sorted(ps) for ref, ps in refs.items()}
            for kind, refs in found.items()}


def _subject(book: Book, kind: str, ref: str, now: datetime,
             platforms: dict[str, dict[str, Any]], linked: list[str],
             run: dict[str, Any] | None = None) -> dict[str, Any]:
    state = book.state(kind, ref, now)
    events: list[dict[str, Any]] = []
    for p in linked:
        events = [ev for ev in platforms[p]["report"]["events"] if ev["subject"] == ref]
        if events:
            break
    out: dict[str, Any] = {"kind": kind, "ref": ref, "platforms": linked, "events": events,
                           "state": getattr(state, "state", None), "run": run}
    if isinstance(state, OrderState):
        out["authority"] = state.authority
    if isinstance(state, RequestState):
        out["conditions"] = dict(state.conditions)
    return out


def gather(ledger: Any, *, origin: str, key: Ed25519PrivateKey,
           key_name: str | None = None, keep: bool = False,
           jurisdiction: str | None = None) -> Publication:
    """The publication of ``ledger`` now, its checkpoint signed with ``key`` as
    ``key_name`` (default: the origin), and kept in the ledger with ``keep``. Each
    platform's answers are per jurisdiction it has one in, and in ``jurisdiction`` (the
    site's own) besides."""
    name = key_name or origin
    note, checkpoint, leaves, covered = _tree(ledger, origin, key, name, keep)
    # "Now" is the signed checkpoint's time, never the publisher's clock a moment later:
    # the browser knows only the note's time (signed), so the status it shows as "now" must
    # be the one at that instant, and no unsigned date may choose it.
    now = datetime.strptime(checkpoint.time[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    # Only the events the checkpoint covers: a write landing while this runs must not
    # slip into statuses signed as the checkpoint's.
    book = Book(entry for entry in ledger.entries() if entry.position in covered)
    refs = [ref for ref in book.refs("platform") if book.state("platform", ref, now) is not None]
    kinds = ("order", "request")
    # One reading of the chain, one event tree and one read of the events for every
    # report (``shared``): each is the one 'report provenance' writes alone against this
    # checkpoint.
    shared: dict[Any, Any] = {}
    prepare(ledger, [*refs, *(ref for kind in kinds for ref in book.refs(kind))],
            checkpoint, note, given=True, shared=shared)
    platforms = {ref: _platform(ledger, book, ref, note, now, jurisdiction, shared)
                 for ref in refs}
    linked = _linked(book, platforms)
    subjects = {ref: _subject(book, kind, ref, now, platforms, linked[kind].get(ref, []),
                              _run(ledger, kind, ref, note, checkpoint, shared))
                for kind in kinds for ref in book.refs(kind)}
    return Publication(note, checkpoint, Signer.of(key, name), leaves, now, platforms,
                       subjects, jurisdiction)


def unattributed(ledger: Any) -> list[str]:
    """The orders that bind no jurisdiction: they name none and the ledger has no default
    (``domain.jurisdictions``), so they count in no jurisdiction's answer."""
    book = Book(ledger.entries())
    if book.default_jurisdiction() is not None:
        return []
    return [ref for ref in book.refs("order")
            if isinstance(state := book.state("order", ref), OrderState)
            and book.jurisdiction_of(state) is None]
