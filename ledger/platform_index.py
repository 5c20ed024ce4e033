"""The platform index: which positions of the ledger concern which platform, and (from
version 2) which are which order's and request's, committed in each checkpoint, so that a
report can prove it left no event out.

**Leaves.** One leaf per (platform, position) pair, for every event among the first
``tree_size`` leaves of the ledger's Merkle tree: the UTF-8 bytes of the platform's
reference, a 0x00 byte, then the event's position as 8 bytes big-endian::

    leaf = platform UTF-8 || 0x00 || position (uint64, big-endian)

Which platforms an event concerns is ``domain.concerns`` (the one rule): the log is folded
whole first, so each subject's *final* platform set is known, and every event of a subject
gets a leaf under each platform of that set (an order moved by a correction concerns both
platforms, earlier events included). Operator events get leaves under the reserved name
``#operators`` (no reference can start with ``#``), so that a report can prove it carries
every operator event, and so which events had to be signed. Other events of subjects that
concern no platform get no leaf.

**Versions** (the checkpoint's index line says which: ``ledger.checkpoint``). Version 1
holds the leaves above. Version 2 adds, for each order and request, a leaf per event of
that subject under the name ``order/REF`` or ``request/REF`` (amendments count with their
target's subject, as ``domain.concerns`` attributes them), so that an order's or a
request's report proves its own events complete without carrying its platforms' events.
Version 3 adds the ledger's settings (``ledger/ledger``: its ``jurisdiction-default`` and
the corrections of it), so that a report that answers for one jurisdiction proves it
carries every event that sets the default it rests on (``report provenance
--jurisdiction``): without them a report could leave out a correction of the default and
move orders that name no jurisdiction to another state. A reference holds no ``/``, so
those names are no platform's; the kinds with such leaves are fixed per version
(``subject_kinds``), so that a kind added later cannot change what an index of an earlier
version holds.

**Tree.** The leaves sorted bytewise, hashed as an RFC 9162 Merkle tree
(``ledger.merkle``). References hold no 0x00 byte, so the bytewise order is the order of
(platform bytes, position), and one platform's leaves are one contiguous run. The
checkpoint's ``platforms <size> <root>`` line commits to the tree.

**Completeness proof** of platform ``P`` in an index of ``N`` leaves: ``first``, the index
of its first leaf (where it would be when it has none), ``positions`` (rising), an
inclusion proof of each leaf ``first + i`` = ``leaf(P, positions[i])``, and the two
neighbours: the leaf at ``first - 1`` (unless ``first == 0``), of a platform sorting before
``P``, and the leaf at ``first + len(positions)`` (unless that is ``N``), of a platform
sorting after ``P``, each with its platform, position and inclusion proof. The signer of a
checkpoint builds the tree sorted and without duplicates (``build``), so the leaves between
two leaves of other platforms that are proven adjacent to the run are all there is: a
position left out, added, repeated, or of another platform cannot pass ``check_range``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from itertools import pairwise
from typing import Any

import orjson

from domain.concerns import Concerns, Subject
from domain.errors import BadInput, IntegrityFailure
from domain.jurisdictions import LEDGER
from ledger.canonical import hash_stored
from ledger.checkpoint import decode_proof, encode_proof
from ledger.merkle import MerkleTree, verify_inclusion

#: The reserved index name of operator events (a reference cannot start with ``#``).
OPERATORS = "#operators"
#: The index version checkpoints are written with (``ledger.checkpoint.INDEX_VERSIONS``).
VERSION = 3
#: The subject kinds with leaves of their own in version 2.
SUBJECT_KINDS = ("order", "request")
#: The kind of the ledger's settings, with leaves of its own from version 3.
SETTINGS_KIND = "ledger"
#: The index name of the ledger's settings (``domain.jurisdictions.LEDGER``), version 3.
SETTINGS = f"{SETTINGS_KIND}/{LEDGER}"
#: Links (with their events) read a query when folding the log.
READ_BATCH = 2000


def leaf(platform: str, position: int) -> bytes:
    """The canonical leaf of ``(platform, position)`` (see the module's docstring)."""
    name = platform.encode("utf-8")
    if b"\x00" in name or not name:
        raise ValueError(f"not an index name: {platform!r}")
    return name + b"\x00" + position.to_bytes(8, "big")


def subject_name(kind: str, ref: str) -> str:
    """The index name of the leaves of subject ``(kind, ref)`` (version 2): ``order/REF``."""
    return f"{kind}/{ref}"


def subject_kinds(version: int) -> tuple[str, ...]:
    """The subject kinds with leaves of their own in an index of ``version``."""
    if version < 2:
        return ()
    return SUBJECT_KINDS if version == 2 else (*SUBJECT_KINDS, SETTINGS_KIND)


def report_names(subject: str, version: int, *, settings: bool = False) -> list[str]:
    """The names a report on ``subject`` proves complete against an index of ``version``
    2 or later: the platform of that name, the order and the request of that name, and the
    operators (each run may be empty: its neighbours prove it so); with ``settings`` (a
    report for one jurisdiction, from version 3) the ledger's settings too. Version 1
    names no order or request: a report then proves the platforms they concern
    (``projections.evidence``)."""
    if version < 2:
        raise ValueError("a version 1 index has no subject leaves")
    if settings and version < 3:
        raise ValueError("an index before version 3 has no leaves of the ledger's settings")
    return sorted({subject, *(subject_name(kind, subject) for kind in SUBJECT_KINDS),
                   OPERATORS, *((SETTINGS,) if settings else ())})


def parse_leaf(data: bytes) -> tuple[str, int]:
    """The ``(platform, position)`` of a leaf."""
    if len(data) < 10 or data[-9] != 0:
        raise ValueError("not an index leaf")
    name, position = data[:-9], data[-8:]
    return name.decode("utf-8"), int.from_bytes(position, "big")


def scan(ledger: Any, size: int) -> Iterator[tuple[int, bytes, bytes, dict[str, Any]]]:
    """``(position, event hash, chain value, exported object)`` of the first ``size``
    links of the chain, in order, each with its event decoded from the stored bytes
    (decrypted where the ledger is encrypted). Every event must hash to its link's hash
    (``IntegrityFailure`` otherwise), so what is folded from them is what the hashes say;
    the caller proves the hashes (a verified walk, or a checkpoint's root)."""
    decode, recorder, seq, count = ledger.mapper.decode_state, ledger.recorder, 0, 0
    while count < size:
        rows = recorder.verification_rows(seq, min(READ_BATCH, size - count))
        if not rows:
            return
        for _, position, hashed, chain, state in rows:
            if state is None:
                raise IntegrityFailure(f"the event at position {position} is missing "
                                       "(deleted)")
            try:
                state = decode(bytes(state))
                holds = hash_stored(state, position) == bytes(hashed)
            except (ValueError, TypeError):
                holds = False  # not a stored event at all (edited outside the ledger)
            if not holds:
                raise IntegrityFailure(f"the event at position {position} does not match "
                                       "its recorded hash (altered)")
            yield position, bytes(hashed), bytes(chain), orjson.loads(state)
        count += len(rows)
        seq = rows[-1][0]


def fold(events: Iterable[tuple[int, dict[str, Any]]], version: int = VERSION
         ) -> tuple[list[bytes], dict[Subject, set[str]]]:
    """The sorted index leaves (of ``version``) of ``(position, exported object)`` pairs
    in log order, and the platforms each subject concerns (``domain.concerns``, folded over
    them all first)."""
    concerns = Concerns()
    by_subject: dict[Subject, list[int]] = {}
    for position, obj in events:
        by_subject.setdefault(concerns.add(obj)[0], []).append(position)
    return leaves_of(concerns, by_subject, version), concerns.platforms


def leaves_of(concerns: Concerns, by_subject: dict[Subject, list[int]],
              version: int = VERSION) -> list[bytes]:
    """The sorted index leaves (of ``version``) of the events folded into ``concerns`` so
    far, given each subject's positions (``fold``; ``ledger.consistency`` builds it at a
    kept checkpoint's size during its pass over the log)."""
    out = []
    for subject, held in by_subject.items():
        kind = subject[0]
        names = {OPERATORS} if kind == "operator" else set(concerns.platforms[subject])
        if kind in subject_kinds(version):
            names.add(subject_name(*subject))
        out.extend(leaf(name, position) for name in names for position in held)
    out.sort()
    return out


def build(ledger: Any, positions: Sequence[int], version: int = VERSION) -> list[bytes]:
    """The sorted index leaves (of ``version``) of the events at ``positions``: the
    positions of the verified walk's leaves, which the first links of the chain must
    still hold."""
    scanned: list[int] = []

    def events() -> Iterator[tuple[int, dict[str, Any]]]:
        for position, _, _, obj in scan(ledger, len(positions)):
            scanned.append(position)
            yield position, obj

    leaves = fold(events(), version)[0]
    if scanned != list(positions):
        raise IntegrityFailure("the platform index cannot be built: the chain changed "
                               "under the verified walk")
    return leaves


def run_of(leaves: Sequence[bytes], platform: str) -> tuple[int, int]:
    """``(first, end)``: the indices of ``platform``'s run in the sorted ``leaves``."""
    prefix = platform.encode("utf-8") + b"\x00"
    first = bisect_left(leaves, prefix)
    end = bisect_left(leaves, prefix[:-1] + b"\x01", first)
    return first, end


def prove_range(tree: MerkleTree, leaves: Sequence[bytes], platform: str) -> dict[str, Any]:
    """The completeness proof of ``platform`` (JSON-ready; see the module's docstring)."""
    first, end = run_of(leaves, platform)

    def neighbour(index: int) -> dict[str, Any] | None:
        if not 0 <= index < len(leaves):
            return None
        name, position = parse_leaf(leaves[index])
        return {"platform": name, "position": position,
                "proof": encode_proof(tree.inclusion_proof(index))}

    return {"first": first,
            "positions": [parse_leaf(leaves[i])[1] for i in range(first, end)],
            "proofs": [encode_proof(tree.inclusion_proof(i)) for i in range(first, end)],
            "before": neighbour(first - 1), "after": neighbour(end)}


def check_range(platform: str, proof: Any, size: int, root: bytes) -> list[int]:
    """The positions ``platform`` has in the index of ``size`` leaves and ``root``, proven
    complete by ``proof``; ``IntegrityFailure`` naming what fails, ``BadInput`` on a
    malformed proof."""
    def fail(why: str) -> IntegrityFailure:
        return IntegrityFailure(f"the index proof of {platform}: {why}")

    def bad(why: str) -> BadInput:
        return BadInput(f"the index proof of {platform}: {why}")

    if not isinstance(proof, dict) or set(proof) != {"first", "positions", "proofs",
                                                     "before", "after"}:
        raise bad("expected an object with first, positions, proofs, before and after")
    first, positions, proofs = proof["first"], proof["positions"], proof["proofs"]
    if (type(first) is not int or not isinstance(positions, list)
            or not isinstance(proofs, list) or len(proofs) != len(positions)
            or not all(type(p) is int and 0 <= p < 2**64 for p in positions)):
        raise bad("first, positions and proofs are not whole numbers and one proof each")
    for earlier, later in pairwise(positions):
        if later <= earlier:
            raise fail(f"position {later} is repeated or out of order")
    end = first + len(positions)
    if not 0 <= first <= end <= size:
        raise fail(f"leaves {first} to {end} are not in an index of {size}")
    for offset, (position, path) in enumerate(zip(positions, proofs, strict=True)):
        if not verify_inclusion(leaf(platform, position), first + offset, size,
                                decode_proof(path), root):
            raise fail(f"position {position} is not in the checkpoint's index at leaf "
                       f"{first + offset}")
    name = platform.encode("utf-8")
    for side, index, needed in (("before", first - 1, first > 0),
                                ("after", end, end < size)):
        other = proof[side]
        if not needed:
            if other is not None:
                raise fail(f"a neighbour {side} the index's edge")
            continue
        if (not isinstance(other, dict) or set(other) != {"platform", "position", "proof"}
                or not isinstance(other["platform"], str) or not other["platform"]
                or "\x00" in other["platform"] or type(other["position"]) is not int
                or not 0 <= other["position"] < 2**64):
            raise fail(f"the neighbour {side} its leaves is missing or malformed "
                       "(an event may have been left out)")
        theirs = other["platform"].encode("utf-8")
        if (theirs >= name) if side == "before" else (theirs <= name):
            raise fail(f"the neighbour {side} its leaves is of {other['platform']}, which "
                       f"does not sort {side} it")
        if not verify_inclusion(leaf(other["platform"], other["position"]), index, size,
                                decode_proof(other["proof"]), root):
            raise fail(f"the neighbour {side} its leaves is not at leaf {index} of the "
                       "checkpoint's index (an event may have been left out)")
    return positions
