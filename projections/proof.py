"""Check a provenance report on its own, as a third party does (``verify-proof``): prove
its evidence, derive the report from it again (``projections.provenance.assemble``) and
compare, field by field.

Proving the evidence: each record's hash and inclusion proof against the checkpoint it
cites (and that checkpoint's signature, given the key); the platform index proofs of the
subject, the operators and the platforms the records concern (and, in a report for one
jurisdiction, of the ledger's settings, which only an index of version 3 holds), whose
positions must be exactly the records' (an event left out, repeated or added fails,
naming its position);
each other checkpoint's consistency with the cited one; and every record's signature by the
rules ``verify`` applies to the ledger (``ledger.signatures.check``, run on the records).
A report of the wrong shape is ``BadInput`` (exit 2); one that does not verify is
``ReportFailure`` (exit 3), naming the first thing that fails.

An HTML report embeds its JSON report (``report_html.EMBED_OPEN``): ``embedded_report``
takes it out exactly, and it is proven as a JSON report is. What a reader sees of the page
is another thing, which an attacker may edit while leaving the JSON intact: ``check_page``
renders the proven report again (in the zone and on the paper the page names, with the
bundled templates or the ones given) and the page must be exactly that, byte for byte;
otherwise only its embedded JSON is proven, and ``verify-proof`` says so and fails unless
asked to prove the JSON alone.
"""

from __future__ import annotations

import base64
import re
from itertools import pairwise
from typing import Any

import orjson
from attrs import frozen
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from domain.errors import BadInput, IntegrityFailure, LedgerError, Refused, SubjectNotFound
from domain.operators import key_id
from domain.values import SLUG, When
from ledger.canonical import event_hash
from ledger.checkpoint import Checkpoint, decode_proof, verify_signature
from ledger.merkle import verify_consistency, verify_inclusion
from ledger.platform_index import OPERATORS, check_range, report_names
from ledger.signatures import check, raw_public_key
from projections.provenance import (
    FORMAT,
    HASHED_FIELDS,
    Carried,
    Evidence,
    assemble,
    exported,
    known_after,
    signed_bytes,
)

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
RECORD_FIELDS = frozenset(HASHED_FIELDS) | {"leaf_index", "proof", "signature"}
#: What the producer says and nothing proves; the report's signature covers them.
STATEMENTS = ("generated_at", "ledger", "verification", "report_signature", "produced_by")


class ReportFailure(IntegrityFailure, Refused):
    """A report that does not verify: exit 3 (an ``IntegrityFailure``), and a refusal."""


def _check_report_signature(report: dict[str, Any], key: Any) -> str:
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


# -- checking ----------------------------------------------------------------------------------


def _when(value: Any, name: str) -> When | None:
    if value is None:
        return None
    when = When.parse(value, name, end_of_day=True)
    if when.text != value:
        raise BadInput(f"{name}: {value!r} is not in the form a report writes")
    return when


def _record(record: Any, number: int, size: int, root: bytes) -> str:
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


@frozen
class Proven:
    events: int
    tree_size: int
    checkpoint_signed: bool
    #: ``unsigned``, ``signed`` (by the key it names), ``signed by the key`` given.
    report_signed: str


def check_report(report: Any, public_key: Any = None, report_key: Any = None) -> int:
    """How many events ``prove_report`` proves in ``report``."""
    return prove_report(report, public_key, report_key).events


def prove_report(report: Any, public_key: Any = None, report_key: Any = None) -> Proven:
    """Prove a report's evidence and that the report is what it gives; raise
    ``ReportFailure`` (exit 3) naming the first thing that fails, ``BadInput`` (exit 2) on
    a report of the wrong shape. With ``public_key`` every checkpoint the report rests on
    must be signed by it; with ``report_key`` the report itself."""
    try:
        return _check(report, public_key, report_key)
    except LedgerError as error:
        # Messages quote the report's own text (its keys, its subject): keep them one
        # line of printable text.
        text = _CONTROL.sub("?", str(error))
        if text == str(error) and len(text) <= 500:
            raise
        cls = BadInput if isinstance(error, BadInput) else ReportFailure
        raise cls(text[:500]) from None
    except Exception as error:  # any shape not foreseen is still one line, exit 2
        raise BadInput(f"not a provenance report: {type(error).__name__} "
                       f"{str(error)[:80]!r}") from None


def _check(report: Any, public_key: Any, report_key: Any) -> Proven:
    if not isinstance(report, dict) or report.get("report") != "provenance":
        raise BadInput("not a provenance report: expected an object with \"report\": "
                       "\"provenance\"")
    if report.get("format") != FORMAT:
        raise BadInput(f"not a provenance report of format {FORMAT} (made by another "
                       "version: make it again)")
    block = report.get("report_signature", {"signed": False})
    if not isinstance(block, dict) or not isinstance(block.get("signed"), bool):
        raise BadInput("report_signature: expected an object saying whether it is signed")
    cited, evidence = report.get("checkpoint"), report.get("evidence")
    for name, value in (("checkpoint", cited), ("evidence", evidence)):
        if value is not None and not isinstance(value, dict):
            raise BadInput(f"{name}: expected an object or null")
    if not isinstance(cited, dict):
        raise ReportFailure("the report cites no checkpoint, so nothing in it is proven "
                            "(run 'blockledger checkpoint' before the report)")
    if report.get("proven") is False and isinstance(report.get("unproven_because"), str):
        raise ReportFailure("the report says it is not proven (it carries no evidence): "
                            f"{report['unproven_because'][:300]}")
    if not isinstance(evidence, dict):
        raise ReportFailure("the report carries no evidence, so nothing in it is proven "
                            "(its checkpoint has no platform index? write a new checkpoint "
                            "and make the report again)")
    note = cited.get("note")
    checkpoint, signatures = Checkpoint.parse(note if isinstance(note, str) else b"")
    if checkpoint.index_root is None:
        raise ReportFailure("the checkpoint has no platform index (written by an older "
                            "version), so the report cannot prove it is complete")
    if public_key is not None and not verify_signature((checkpoint, signatures), public_key):
        raise ReportFailure("the checkpoint's signature does not verify with the given key")
    records, index, kept = (evidence.get(k) for k in ("records", "index", "checkpoints"))
    if not (isinstance(records, list) and isinstance(index, dict) and isinstance(kept, list)):
        raise BadInput("evidence: expected records, index and checkpoints")
    known = _when(report.get("as_known_at"), "as_known_at")
    if known_after(known, checkpoint) is not None:
        raise ReportFailure(f"the report says what the ledger said at {known}, after its "
                            f"checkpoint's time ({checkpoint.time}): the checkpoint cannot "
                            "prove what was recorded between (altered, or not proven when "
                            "made)")
    code = _jurisdiction(report.get("jurisdiction"), checkpoint)
    hashes = [_record(r, n, checkpoint.tree_size, checkpoint.root_hash)
              for n, r in enumerate(records, start=1)]
    _complete(report.get("subject"), records, index, checkpoint, settings=code is not None)
    for n, other in enumerate(kept, start=1):
        _kept(other, n, checkpoint, public_key)
    _signatures(records, hashes)
    evidence_ = Evidence(report["subject"], _when(report.get("as_of"), "as_of"), known,
                         note, records, index, kept, jurisdiction=code)
    try:
        expected = assemble(evidence_)
    except SubjectNotFound:
        raise ReportFailure(f"the subject {report['subject']} has no event among those "
                            "the report proves") from None
    except BadInput as error:  # a request's report for one jurisdiction: never made
        raise ReportFailure(f"{error} (altered)") from None
    actual = {k: v for k, v in report.items() if k not in STATEMENTS}
    _compare(expected, actual)
    report_signed = _check_report_signature(report, report_key)
    return Proven(len(expected["events"]), checkpoint.tree_size, public_key is not None,
                  report_signed)


def _jurisdiction(value: Any, checkpoint: Checkpoint) -> str | None:
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


def _complete(subject: Any, records: list[dict], index: dict, checkpoint: Checkpoint, *,
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


def _kept(other: Any, number: int, cited: Checkpoint, public_key: Any) -> None:
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


def _signatures(records: list[dict], hashes: list[str]) -> None:
    """Every record's signature, by the rules ``verify`` applies to the ledger."""
    found = check(Carried(records, hashes))
    for name, positions in found.problems.items():
        if positions:
            raise ReportFailure(f"the event at position {positions[0]}: "
                                f"{name.replace('_', ' ')} (signatures are checked against "
                                "the operator events the report carries)")


def _compare_events(expected: list[dict[str, Any]], actual: Any) -> None:
    """Name an event left out of, added to or repeated in the report's list by position."""
    if not isinstance(actual, list):
        return
    shown = [ev.get("position") if isinstance(ev, dict) else None for ev in actual]
    proven = [ev["position"] for ev in expected]
    for ev in expected:
        if ev["position"] not in shown:
            raise ReportFailure(f"the event at position {ev['position']} ({ev['id']}) is "
                                "missing from the report's events (it was left out)")
    for position in shown:
        if position not in proven:
            raise ReportFailure(f"the event at position {position} in the report's events is "
                                "not one of the subject's proven events (it was added)")
        if shown.count(position) > 1:
            raise ReportFailure(f"the event at position {position} is repeated in the "
                                "report's events")


def _difference(expected: Any, actual: Any, path: str) -> str | None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in [*expected, *(k for k in actual if k not in expected)]:
            if key not in expected or key not in actual:
                return f"{path}.{key}".lstrip(".")
            found = _difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for i, (a, b) in enumerate(zip(expected, actual, strict=False)):
            found = _difference(a, b, f"{path}[{i}]")
            if found:
                return found
        if len(expected) == len(actual):
            return None
        return f"{path}[{min(len(expected), len(actual))}]".lstrip(".")
    same = expected == actual and type(expected) is type(actual)
    return None if same else path.lstrip(".") or "(the report)"


def _compare(expected: dict[str, Any], actual: dict[str, Any]) -> None:
    _compare_events(expected["events"], actual.get("events"))
    path = _difference(expected, actual, "")
    if path is None:
        return
    if path.startswith("events["):
        number = int(path[7:path.index("]")])
        field = path[path.index("]") + 1:].lstrip(".") or "place"
        shown = expected["events"][number] if number < len(expected["events"]) else {}
        name = f"event {number + 1} ({shown.get('id', 'not in the proven events')})"
        if field.startswith("signature"):
            raise ReportFailure(f"{name}: its signature does not verify against the proven "
                                "record (the report was altered)")
        raise ReportFailure(f"{name}: its {field} is not what the proven events give (the "
                            "report was altered)")
    raise ReportFailure(f"the report's {path} is not what the proven events and signed "
                        "checkpoint give (the report was altered)")


# -- an HTML report --------------------------------------------------------------------------

_PAGE_HEAD = re.compile(r'<!DOCTYPE html>\n<html lang="en" data-tz="([^"<>]*)"'
                        r'(?: data-paper="(a4|letter)")?>')


def embedded_report(page: str) -> str:
    """The JSON text of the report an HTML report embeds, exactly as embedded. The JSON
    holds no ``<`` (the page writes it as ``\\u003c``), so it ends at the first
    ``</script>``; a page with no embedded report, or two, is refused."""
    from projections.report_html import EMBED_OPEN

    found = page.count(EMBED_OPEN)
    if found == 0:
        raise BadInput("an HTML file without an embedded report (blockledger's HTML reports "
                       "embed theirs; give the JSON report instead)")
    if found > 1:
        raise ReportFailure(f"the page embeds {found} reports: which one a reader sees is "
                            "unclear (altered)")
    start = page.index(EMBED_OPEN) + len(EMBED_OPEN)
    end = page.find("</script>", start)
    if end < 0:
        raise BadInput("the page's embedded report never ends (truncated?)")
    return page[start:end]


def check_page(page: str, report: dict[str, Any], template_dir: str | None = None) -> None:
    """Raise ``ReportFailure`` unless ``page`` is exactly what the (proven) ``report``
    renders to, in the zone and on the paper the page names."""
    from html import unescape

    from projections.report_html import render_html
    from projections.report_times import Clock, parse_zone

    head = _PAGE_HEAD.match(page)
    try:
        zone = parse_zone(unescape(head.group(1))) if head else None
    except BadInput:
        zone = None
    if head is None or zone is None:
        raise ReportFailure("the page does not open as blockledger's HTML reports do (its "
                            "zone or paper is not one it writes): only its embedded JSON "
                            "is proven")
    try:
        expected = render_html(report, clock=Clock(zone), paper=head.group(2),
                               template_dir=template_dir)
    except Exception as error:  # a template of one's own that fails, say: one line
        raise ReportFailure(f"the proven report could not be rendered again to compare the "
                            f"page ({type(error).__name__}: {str(error)[:120]}): only its "
                            "embedded JSON is proven") from None
    if expected != page:
        line = next((n for n, (a, b) in enumerate(zip(expected.splitlines(),
                                                      page.splitlines(), strict=False), 1)
                     if a != b), min(expected.count("\n"), page.count("\n")) + 1)
        raise ReportFailure(
            f"the page differs from what its proven report renders to (from line {line}): "
            "what it shows was altered, or it was made with other templates (pass "
            "--template DIR) or another version of blockledger; only its embedded JSON is "
            "proven (--embedded-only checks that alone)")
