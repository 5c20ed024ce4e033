"""The provenance report rendered for people (Markdown in ``report_markdown``, HTML in
``report_html``) and for machines (PROV-JSON, in ``report_prov``).

Each renderer is a pure function of the report dict (the JSON form of ``report
provenance``) and returns text; this module holds what they share (an event's details, the
header, the verdict, the words of the summary) and re-exports the three renderers. Every
string in the report is treated as untrusted: user text is escaped for Markdown (it cannot
open links, HTML, headings or list items) and for HTML (``markupsafe.escape``, then
Jinja2's autoescaping); the HTML loads nothing from the network (a Content-Security-Policy
forbids it too) and links a source only when its URL is http(s). Times are shown in a
``report_times.Clock``'s zone; the summary comes from ``report_summary``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NamedTuple

from projections.report_summary import Summary
from projections.report_times import Clock

UTC_CLOCK = Clock()

#: The timeline's kinds: kind -> (legend, colour, event types); print- and colour-blind-safe.
KINDS = {
    "notice": ("notices and correspondence", "#0072b2",
               "email-sent response-received no-response statement-issued"),
    "block": ("blocks", "#c62828", "blocked"),
    "lift": ("lifts", "#2e7d32", "unblocked"),
    "negotiation": ("negotiation", "#e69f00", "normalization-requested condition-set "
                    "meeting-held commitment-made sop-agreed condition-met condition-waived"),
    "decision": ("decisions", "#8e24aa", "normalization-granted normalization-denied"),
    "observation": ("observations", "#56b4e9", "access-observed"),
    "amendment": ("amendments", "#757575", "correction retraction dispute"),
    "other": ("registration and other", "#37474f", ""),
}
TYPE_KIND = {t: kind for kind, (_, _, types) in KINDS.items() for t in types.split()}
_MARKS = (("corrected_by", "corrected"), ("retracted_by", "retracted"),
          ("disputed_by", "disputed"))


# --- shared: what the report says, independent of the output format ----------------------


def _colour(ev: dict[str, Any]) -> str:
    return KINDS[TYPE_KIND.get(str(ev.get("type")), "other")][1]


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _valid(ev: dict[str, Any]) -> str:
    """The valid time the event counts at now (a correction may have moved it)."""
    return str((ev.get("current") or {}).get("occurred_at") or ev.get("occurred_at") or "")


def _changes(ev: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """(field, as recorded, as it counts now) for each field a correction changed."""
    now = ev.get("current") or {}
    was, new = ev.get("data") or {}, now.get("data", ev.get("data")) or {}
    when = (ev.get("occurred_at"), now.get("occurred_at", ev.get("occurred_at")))
    out = [("occurred_at", *when)] if when[0] != when[1] else []
    return out + [(f"data.{k}", was.get(k), new.get(k)) for k in sorted(set(was) | set(new))
                  if was.get(k) != new.get(k)]


def _verdict(report: dict[str, Any]) -> tuple[bool, str]:
    v = report.get("verification") or {}
    if v.get("ok"):
        return True, f"verified: {v.get('events')} events, every hash and chain link holds"
    return False, (f"FAILED at position {v.get('first_bad_position')}: "
                   f"{v.get('reason') or 'no reason given'}")


def _http(url: Any) -> bool:
    return isinstance(url, str) and url.lower().startswith(("http://", "https://"))


class _Format(NamedTuple):
    """How one output format writes user text, code, a source link, a list, an event ref."""

    text: Callable[[Any], str]
    code: Callable[[Any], str]
    link: Callable[[str, str | None], str]
    items: Callable[[list[str], bool], str]
    ref: Callable[[Any, int | None], str]


def _rows(ev: dict[str, Any], where: dict[str, int], f: _Format,
          clock: Clock = UTC_CLOCK) -> list[tuple[str, str]]:
    """An event's details as (label, formatted value): the same in Markdown and HTML; times
    in ``clock``'s zone, to the minute."""
    t = f.text
    rows = [("occurred", t(clock.text(ev.get("occurred_at")))),
            ("recorded", f"{t(clock.text(ev.get('recorded_at')))} by "
                         f"{t(ev.get('recorded_by') or '?')}")]
    rows += [(f"{word} by", ", ".join(f.ref(i, where.get(str(i))) for i in ev[key]))
             for key, word in _MARKS if ev.get(key)]
    if _changes(ev):
        rows.append(("corrected", f.items([f"{t(k)}: recorded {t(a)} → counts now as {t(b)}"
                                           for k, a, b in _changes(ev)], True)))
    sources = []
    for src in ev.get("sources") or []:
        url, title = src.get("url"), t(src["title"]) if src.get("title") else None
        item = f.link(url, title) if url else (title or "untitled")
        if src.get("sha256"):
            item += f" — SHA-256 {f.code(src['sha256'])}"
        if src.get("quote"):
            item += f" — quote: “{t(src['quote'])}”"
        sources.append(item)
    if sources:
        rows.append(("sources", f.items(sources, True)))
    if ev.get("note"):
        rows.append(("note", t(ev["note"])))
    if ev.get("data"):
        rows.append(("data", f.items([f"{t(k)}: {t(v)}" for k, v in ev["data"].items()], False)))
    rows += [("id", f.code(ev.get("id"))), ("position", t(ev.get("position"))),
             ("hash", f.code(ev.get("hash")))]
    signed = ev.get("signature")
    rows.append(("signed by", "unsigned" if not signed else
                 f"{t(signed.get('operator') or 'an unknown key')}, key "
                 f"{f.code(signed.get('key_id'))}, signature {f.code(signed.get('signature'))}"))
    place = where_words(ev)
    if place is not None:
        rows.append(("jurisdiction", t(place)))
    bounds = ev.get("record_time")
    if isinstance(bounds, dict):
        after, before = bounds.get("not_before"), bounds.get("not_after")
        rows.append(("recorded between", (
            f"{t(clock.text(after['time'])) if after else 'the start'} (checkpoint of "
            f"{t(after['tree_size']) if after else 0} events) and "
            + (f"{t(clock.text(before['time']))} (checkpoint of {t(before['tree_size'])} "
               "events)"
               if before else "no checkpoint yet"))))
    if ev.get("proof") is None:
        return [*rows, ("inclusion proof", "none (the checkpoint does not cover it)")]
    return [*rows, ("inclusion proof", f"leaf index {t(ev.get('leaf_index'))}, "
                    f"{len(ev['proof'])} hashes" + f.items([f.code(p) for p in ev["proof"]], True))]


def where_words(ev: dict[str, Any]) -> str | None:
    """Where an event of a report for one jurisdiction counts, in words; None in a report
    for all (``projections.report_jurisdiction``)."""
    mark = ev.get("jurisdiction")
    if not isinstance(mark, dict):
        return None
    where, counts = mark.get("where"), mark.get("counts") is True
    if where == "all":
        return "every jurisdiction: part of this report's answer"
    if where == "untied":
        return "not tied to a jurisdiction: listed, part of no jurisdiction's answer"
    if where is None:
        return ("no jurisdiction (none given and the ledger has no default as known then): "
                "not part of this report's answer, which it leaves undetermined")
    if mark.get("note"):
        return f"{_plain(where)}: {_plain(mark['note'])}"
    return f"{_plain(where)}: " + ("part of this report's answer" if counts else
                                   "ELSEWHERE, not part of this report's answer")


def blocked_words(summary: Summary) -> str:
    """The blocked targets, each that only regional orders block with its regions
    (``telegram.org (in IN-JK only: a regional order)``)."""
    return ", ".join(
        t + (f" (in {', '.join(summary.regional[t])} only: a regional order)"
             if t in summary.regional else "") for t in summary.blocked)


def unplaced_words(summary: Summary) -> str:
    """Why an answer for one jurisdiction is undetermined: orders that bind none."""
    count = len(summary.unplaced)
    return (f"{count} order{'s' if count > 1 else ''} ({', '.join(summary.unplaced)}) "
            f"bind{'' if count > 1 else 's'} no jurisdiction (none given, and the ledger "
            f"had no default as known then), so whether {'they bind' if count > 1 else 'it binds'} "
            f"{summary.jurisdiction} is not known")


def former_words(summary: Summary) -> str:
    """A note on the former countries (ISO 3166-3) among the report's jurisdictions."""
    codes = ", ".join(summary.former)
    return (f"{codes}: a former country (ISO 3166-3). Its orders bind it alone: they count "
            "in no successor state's answer (ask for the former country's own code to see "
            "them answered).")


def elsewhere(ev: dict[str, Any]) -> str | None:
    """The mark of an event that is not part of the answer: ``elsewhere: BR``; ``no
    jurisdiction`` (nothing says where it binds); ``in no answer`` (an observation made
    outside its order's country); None for the others (a notice, tied to no state, too)."""
    mark = ev.get("jurisdiction")
    if not isinstance(mark, dict) or mark.get("counts") is not False:
        return None
    where = mark.get("where")
    if where == "untied":
        return None
    if where is None:
        return "no jurisdiction"
    if mark.get("note"):
        return "in no answer"
    return f"elsewhere: {_plain(where)}"


def _kinds(events: list[Any]) -> tuple[int, int]:
    """How many events count elsewhere, and how many bind no jurisdiction."""
    marks = [elsewhere(ev) for ev in events if isinstance(ev, dict)]
    away = sum(1 for m in marks if m and m != "no jurisdiction")
    return away, sum(1 for m in marks if m == "no jurisdiction")


def jurisdiction_words(report: dict[str, Any]) -> str | None:
    """What a report for one jurisdiction answers, and how it lists the others' events."""
    code = report.get("jurisdiction")
    if not isinstance(code, str):
        return None
    answer = report.get("answer") if isinstance(report.get("answer"), dict) else {}
    default = answer.get("default_jurisdiction")
    events = report.get("events") or []
    away, unplaced = _kinds(events)
    return (f"{code}: the summary, the timeline and the answer are {code}'s alone, as "
            f"'status --jurisdiction {code}' gives them (the orders that bind {code} by "
            "their own jurisdiction or, naming none, by the ledger's default, "
            f"{_plain(default) if default else 'none set'}; the observations made there). "
            f"Every event is listed; {away} of the {len(events)} count elsewhere, marked "
            "ELSEWHERE, and are not part of this answer"
            + (f"; {unplaced} bind no jurisdiction, marked NO JURISDICTION" if unplaced
               else ""))


def produced_by(report: dict[str, Any]) -> str:
    """The program that made the report, as it names itself."""
    made = report.get("produced_by")
    if not isinstance(made, dict):
        return "not named (made by a version before 0.1.0's report format named itself)"
    return f"{_plain(made.get('name'))} {_plain(made.get('version'))}"


def _header(report: dict[str, Any], f: _Format,
            clock: Clock = UTC_CLOCK) -> list[tuple[str, str]]:
    ledger, cp = report.get("ledger") or {}, report.get("checkpoint")
    rows = [("generated at", f.text(clock.text(report.get("generated_at")))),
            ("produced by", f.text(produced_by(report))),
            ("times shown in", f.text(clock.name)),
            ("verification", f.text(_verdict(report)[1]))]
    rows += [(label, f.text(f"{clock.text(report[key])} ({_plain(report[key])})"))
             for key, label in (("as_of", "as of (valid time)"),
                                ("as_known_at", "as known at")) if report.get(key)]
    answers = jurisdiction_words(report)
    if answers is not None:
        rows.append(("jurisdiction", f.text(answers)))
    rows.append(("ledger", f"{f.code(ledger.get('origin'))}, {f.text(ledger.get('events'))} "
                           "events"))
    if report.get("proven") is False:
        rows.append(("proven", "NOT PROVEN: " + f.text(report.get("unproven_because"))
                     + "; verify-proof refuses this report"))
    elif report.get("proven"):
        index = (report.get("evidence") or {}).get("index") or {}
        rows.append(("complete", "proven: this report rests on every event the "
                     "checkpoint's platform index holds for " + ", ".join(
                         f.text(n) for n in sorted(index))))
    signature = report.get("report_signature") or {}
    rows.append(("report signed by", f"key {f.code(signature.get('key_id'))}"
                 if signature.get("signed") else "nobody (unsigned report)"))
    if not cp:
        return [*rows, ("checkpoint", "none: this report carries no inclusion proofs")]
    rows += [(f"checkpoint {k.replace('_', ' ')}", f.code(cp.get(k)))
             for k in ("origin", "tree_size", "root_hash", "chain_head")]
    rows.append(("checkpoint time", f"{f.text(clock.text(cp.get('time')))} "
                                    f"({f.code(cp.get('time'))})"))
    signers = ", ".join(f.text(s) for s in cp.get("signers") or [])
    return [*rows, ("signed by", signers or "nobody (unsigned)")]


HOW_TO_CHECK = [
    "Get the ledger's public key (`key.pub`) from its operator through a channel you trust, "
    "not from this report.",
    "Run `blockledger verify-proof report.json --public-key key.pub` on the JSON form of "
    "this report, or on its HTML form, which embeds the JSON (and `--report-key` with the "
    "producer's key). It "
    "checks the checkpoints' signatures, recomputes each event's hash and checks its "
    "inclusion proof, its operator's signature, the proof from the checkpoint's platform "
    "index that no event was left out or added, and that every other field is what those "
    "events give; no access to the ledger is needed.",
    "By hand (RFC 9162): the leaf hash is SHA-256(0x00 ‖ event hash); combine it with each "
    "proof hash in turn as SHA-256(0x01 ‖ left ‖ right), on the side the leaf index gives; "
    "the result must equal the root hash.",
    "Compare the checkpoint with the copies auditors keep: `blockledger verify --against "
    "FILE` proves the ledger still extends one, so a rewritten ledger is caught.",
]


def first_line(report: dict[str, Any]) -> str | None:
    """The line a report that fails verification opens with; None when it verifies."""
    ok, verdict = _verdict(report)
    return None if ok else f"FAILED: the ledger does not verify ({verdict})"


from projections.report_prov import render_prov  # noqa: E402  (re-exported)


def __getattr__(name: str) -> object:
    # render_html and render_markdown live in report_html and report_markdown, which
    # import this module's helpers: re-exported lazily, so that either module may be
    # imported first.
    if name == "render_html":
        from projections.report_html import render_html

        return render_html
    if name == "render_markdown":
        from projections.report_markdown import render_markdown

        return render_markdown
    raise AttributeError(name)

__all__ = ["render_html", "render_markdown", "render_prov"]  # noqa: F822 (the first two: lazily)
