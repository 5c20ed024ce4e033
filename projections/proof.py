"""Check a provenance report on its own, as a third party does (``verify-proof``): prove
its evidence, derive the report from it again (``projections.provenance.assemble``) and
compare, field by field.

Proving the evidence (``projections.evidence_checks``): each record's hash and inclusion
proof against the checkpoint it cites (and that checkpoint's signature, given the key); the
platform index proofs of the subject, the operators and the platforms the records concern
(and, in a report for one jurisdiction, of the ledger's settings, which only an index of
version 3 holds), whose positions must be exactly the records' (an event left out, repeated
or added fails, naming its position); each other checkpoint's consistency with the cited
one; and every record's signature by the rules ``verify`` applies to the ledger
(``ledger.signatures.check``, run on the records).
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

import re
from datetime import UTC, datetime
from typing import Any

from attrs import frozen

from domain.errors import BadInput, LedgerError, SubjectNotFound
from domain.values import When
from ledger.checkpoint import Checkpoint, verify_signature
from projections.evidence_checks import (
    ReportFailure,
    check_complete,
    check_jurisdiction,
    check_kept,
    check_record,
    check_report_signature,
    check_signatures,
)
from projections.provenance import FORMAT, Evidence, assemble, known_after
from projections.report_superseded import CURRENT, SUPERSEDED, UNTIL, Earlier

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: What the producer says and nothing proves; the report's signature covers them.
STATEMENTS = ("generated_at", "ledger", "verification", "report_signature", "produced_by")


# -- checking ----------------------------------------------------------------------------------


def _when(value: Any, name: str) -> When | None:
    if value is None:
        return None
    when = When.parse(value, name, end_of_day=True)
    if when.text != value:
        raise BadInput(f"{name}: {value!r} is not in the form a report writes")
    return when


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
    code = check_jurisdiction(report.get("jurisdiction"), checkpoint)
    hashes = [check_record(r, n, checkpoint.tree_size, checkpoint.root_hash)
              for n, r in enumerate(records, start=1)]
    check_complete(report.get("subject"), records, index, checkpoint, settings=code is not None)
    for n, other in enumerate(kept, start=1):
        check_kept(other, n, checkpoint, public_key)
    check_signatures(records, hashes)
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
    report_signed = check_report_signature(report, report_key)
    return Proven(len(expected["events"]), checkpoint.tree_size, public_key is not None,
                  report_signed)


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


def check_page(page: str, report: dict[str, Any], template_dir: str | None = None
               ) -> Earlier | None:
    """Raise ``ReportFailure`` unless ``page`` is exactly what the (proven) ``report``
    renders to, in the zone and on the paper the page names: by the current rules (None),
    or by a rule an earlier version drew its summary by (``report_superseded``), which is
    then returned with what it draws otherwise: an honest page made before a rule changed
    is not "altered". The earlier rule is taken only for a report for all whose signature
    covers a ``generated_at`` (and a checkpoint) before the rule was replaced (``UNTIL``),
    and only when it draws a summary (one it could not fold says nothing a reader can
    check)."""
    from html import unescape

    from projections.report_html import LAYOUTS, render_html
    from projections.report_summary import summarise
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
    # The layouts, the current first (an earlier honest version's page is not "altered":
    # ``report_html.LAYOUTS``), with the bundled templates or one's own (which read the
    # layout's number as the bundled ones do). An earlier layout is taken only for a
    # report made before it was replaced (``_layout_refused``).
    layouts = LAYOUTS
    expected, refused = "", ""
    for layout in layouts:  # (each drawn only if the one before is not the page)
        try:
            drawn = render_html(report, clock=Clock(zone), paper=head.group(2),
                                template_dir=template_dir, layout=layout)
        except Exception as error:  # a template of one's own that fails, say: one line
            raise ReportFailure(f"the proven report could not be rendered again to compare "
                                f"the page ({type(error).__name__}: {str(error)[:120]}): "
                                "only its embedded JSON is proven") from None
        expected = expected or drawn
        if drawn == page:
            refused = _layout_refused(report, layout)
            if refused:
                break
            return None if layout is LAYOUTS[0] else Earlier(CURRENT, None, (),
                                                                layout=layout.number)
    now = None
    for rule in SUPERSEDED if report.get("jurisdiction") is None and not refused else ():
        earlier = summarise(report, rule=rule)
        now = now or summarise(report)
        # (the rule feeds the summary alone: one that draws the current summary renders
        # ``expected`` again, which the page is not)
        if earlier.problem is not None or earlier == now:
            continue
        layout = next((layout for layout in layouts if render_html(
            report, clock=Clock(zone), paper=head.group(2), template_dir=template_dir,
            rule=rule, layout=layout) == page), None)
        if layout is None:
            continue
        refused = _layout_refused(report, layout)
        if refused:
            break
        made, why = _made_before(report, UNTIL[rule])
        if made is None:
            refused = (f"; it is what the earlier rule {rule} draws, taken only for a report "
                       "signed as made before that rule was replaced "
                       f"({UNTIL[rule].strftime('%Y-%m-%dT%H:%M:%SZ')}), and {why}")
            break
        return Earlier(rule, made, _differences(earlier, now),
                       layout=None if layout is LAYOUTS[0] else layout.number)
    line = next((n for n, (a, b) in enumerate(zip(expected.splitlines(),
                                                  page.splitlines(), strict=False), 1)
                 if a != b), min(expected.count("\n"), page.count("\n")) + 1)
    raise ReportFailure(
        f"the page differs from what its proven report renders to (from line {line}): "
        "what it shows was altered, or it was made with other templates (pass "
        "--template DIR) or another version of blockledger; only its embedded JSON is "
        f"proven (--embedded-only checks that alone){refused}")


def _layout_refused(report: dict[str, Any], layout: Any) -> str:
    """Why a page drawn in ``layout`` cannot be an earlier version's (what ``check_page``
    adds to its refusal), or "" when it can: the current layout, or an earlier one when the
    report says it was made before that layout was replaced, and cites a checkpoint made
    before. (A report's signature covers ``generated_at`` and a checkpoint's its time; an
    unsigned one's could be written back, but an earlier layout draws the same proven
    report with less, never otherwise, so this is taken as the bound.)"""
    replaced = layout.replaced
    if replaced is None:
        return ""
    times, latest = _report_times(report), _latest_recorded(report)
    if isinstance(times, str) or latest is None:
        why = times if isinstance(times, str) else "its events' record times cannot be read"
    elif not times[1] <= times[0] < replaced:
        why = _said_made(times)
    elif latest.replace(microsecond=0) > times[1]:  # (no checkpoint is dated before an
        # event it covers; its time is to the second)
        why = (f"its checkpoint's time ({times[1].strftime('%Y-%m-%dT%H:%M:%SZ')}) is "
               f"before an event it covers was recorded ({latest.isoformat()}): a time "
               "written back")
    else:
        return ""
    return (f"; it is what layout {layout.number} draws, taken only for a report made "
            f"before that layout was replaced ({replaced.strftime('%Y-%m-%dT%H:%M:%SZ')}), "
            f"and {why}")


def _report_times(report: dict[str, Any]) -> tuple[datetime, datetime, str] | str:
    """When the report says it was made (``generated_at``), the time of the checkpoint it
    cites, and ``generated_at`` as written; or why they cannot be read."""
    text = report.get("generated_at")
    try:
        made = datetime.fromisoformat(text) if isinstance(text, str) else None
        cited = datetime.fromisoformat(Checkpoint.parse(report["checkpoint"]["note"])[0].time)
    except (LedgerError, ValueError, TypeError, KeyError):
        return "the report's generated_at or its checkpoint's time cannot be read"
    if made is None or made.tzinfo is None:
        return f"its generated_at {str(text)[:40]!r} is not a time with an offset"
    return made, cited, str(text)


def _said_made(times: tuple[datetime, datetime, str]) -> str:
    return (f"it says it was made at {times[2]} (its checkpoint at "
            f"{times[1].strftime('%Y-%m-%dT%H:%M:%SZ')})")


def _latest_recorded(report: dict[str, Any]) -> datetime | None:
    """The latest record time among the report's events (proven: each is hashed into the
    checkpoint's tree), or None if one cannot be read."""
    try:
        return max((datetime.fromisoformat(ev["recorded_at"]) for ev in report["events"]),
                   default=datetime.min.replace(tzinfo=UTC))
    except (KeyError, TypeError, ValueError):
        return None


def _made_before(report: dict[str, Any], until: datetime) -> tuple[str | None, str]:
    """The report's ``generated_at`` if its signature covers it and it, and the time of
    the checkpoint it cites, are before ``until``; else None and why not. The signature
    is checked here again, so that no caller can skip it."""
    block = report.get("report_signature")
    if not isinstance(block, dict) or block.get("signed") is not True:
        return None, "the report is not signed"
    try:
        check_report_signature(report, None)
    except ReportFailure:
        return None, "the report's signature does not verify"
    times = _report_times(report)
    if isinstance(times, str):
        return None, times
    if not times[1] <= times[0] < until:
        return None, _said_made(times)
    return times[2], ""


def _drawn(summary: Any) -> dict[str, str]:
    """Each target's divergences as a summary draws them (the platform's and the marks on
    its orders' lanes), in words."""
    words: dict[str, set[str]] = {}
    for target, (how, _network, _at) in summary.divergent.items():
        words.setdefault(target, set()).add(how)
    for order in summary.orders:
        for mark in order.marks:
            if mark.divergent and mark.target:
                words.setdefault(mark.target, set()).add(mark.divergent)
    return {target: " and ".join(sorted(w)) for target, w in words.items()}


def _differences(earlier: Any, current: Any) -> tuple[tuple[str, str, str], ...]:
    """Per target whose divergences the two summaries draw otherwise: (target, the
    earlier rule's, the current rules'), in the platform's order of targets."""
    page, now = _drawn(earlier), _drawn(current)
    targets = set(page) | set(now)
    order = [t for t in earlier.targets if t in targets] + sorted(
        targets - set(earlier.targets))
    return tuple((t, page.get(t, "none"), now.get(t, "none")) for t in order
                 if page.get(t) != now.get(t))
