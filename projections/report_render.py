"""The provenance report rendered for people (Markdown, HTML) and for machines (PROV-JSON).

Each renderer is a pure function of the report dict (the JSON form of ``report
provenance``) and returns text. Every string in the report is treated as untrusted: user
text is escaped for Markdown (it cannot open links, HTML, headings or list items) and passed
through ``html.escape`` for HTML; the HTML loads nothing from the network (a
Content-Security-Policy forbids it too) and links a source only when its URL is http(s).
The PROV-JSON mapping is described in ``report_prov``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from html import escape
from itertools import pairwise
from typing import Any, NamedTuple

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


def _rows(ev: dict[str, Any], where: dict[str, int], f: _Format) -> list[tuple[str, str]]:
    """An event's details as (label, formatted value): the same in Markdown and HTML."""
    t = f.text
    rows = [("occurred", t(ev.get("occurred_at"))),
            ("recorded", f"{t(ev.get('recorded_at'))} by {t(ev.get('recorded_by') or '?')}")]
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
    bounds = ev.get("record_time")
    if isinstance(bounds, dict):
        after, before = bounds.get("not_before"), bounds.get("not_after")
        rows.append(("recorded between", (
            f"{t(after['time']) if after else 'the start'} (checkpoint of "
            f"{t(after['tree_size']) if after else 0} events) and "
            + (f"{t(before['time'])} (checkpoint of {t(before['tree_size'])} events)"
               if before else "no checkpoint yet"))))
    if ev.get("proof") is None:
        return [*rows, ("inclusion proof", "none (the checkpoint does not cover it)")]
    return [*rows, ("inclusion proof", f"leaf index {t(ev.get('leaf_index'))}, "
                    f"{len(ev['proof'])} hashes" + f.items([f.code(p) for p in ev["proof"]], True))]


def _header(report: dict[str, Any], f: _Format) -> list[tuple[str, str]]:
    ledger, cp = report.get("ledger") or {}, report.get("checkpoint")
    rows = [("generated at", f.text(report.get("generated_at"))),
            ("verification", f.text(_verdict(report)[1]))]
    rows += [(label, f.text(report[key])) for key, label in
             (("as_of", "as of (valid time)"), ("as_known_at", "as known at")) if report.get(key)]
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
             for k in ("origin", "tree_size", "root_hash", "chain_head", "time")]
    signers = ", ".join(f.text(s) for s in cp.get("signers") or [])
    return [*rows, ("signed by", signers or "nobody (unsigned)")]


HOW_TO_CHECK = [
    "Get the ledger's public key (`key.pub`) from its operator through a channel you trust, "
    "not from this report.",
    "Save the JSON form of this report as `report.json` and run `blockledger verify-proof "
    "report.json --public-key key.pub` (and `--report-key` with the producer's key). It "
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


# --- Markdown -----------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&])")


def _md(text: Any) -> str:
    """User text for Markdown: one line, inert (no links, HTML, headings or list items)."""
    s = _MD_SPECIAL.sub(r"\\\1", " ".join(_plain(text).split()))
    s = re.sub(r"://", r"\\://", re.sub(r"(?i)\b(www)\.", r"\1\\.", s))  # GFM autolinks
    s = re.sub(r"^(\d+)([.)])", r"\1\\\2", s)
    return "\\" + s if s[:1] in ("-", "+", "=") else s


def _fence(text: str, least: int = 1) -> str:
    return "`" * max(least, max((len(r) for r in re.findall(r"`+", text)), default=0) + 1)


def _code(text: Any) -> str:
    s = " ".join(_plain(text).split())
    pad = " " if s.startswith("`") or s.endswith("`") else ""
    return f"{_fence(s)}{pad}{s}{pad}{_fence(s)}"


def _md_link(url: str, title: str | None) -> str:
    linkable = _http(url) and not re.search(r"[\s<>\\`]", url)
    return f"{title + ' — ' if title else ''}{f'<{url}>' if linkable else _md(url)}"


MARKDOWN = _Format(
    text=_md, code=_code, link=_md_link,
    items=lambda xs, num: "".join(f"\n  {f'{i}.' if num else '-'} {x}"
                                  for i, x in enumerate(xs, 1)),
    ref=lambda i, n: _code(i) + (f" (event {n})" if n else ""))


def render_markdown(report: dict[str, Any]) -> str:
    """The report as Markdown for a lawyer: header, checkpoint, events with their proofs."""
    where = {str(ev.get("id")): n for n, ev in enumerate(report["events"], 1)}
    out = [f"# Provenance report: {_md(report.get('subject'))}", ""]
    out += [f"- **{k}:** {v}".replace(" \n", "\n") for k, v in _header(report, MARKDOWN)]
    note = str((report.get("checkpoint") or {}).get("note") or "")
    if note:
        fence = _fence(note, 3)
        out += ["", "The signed checkpoint note:", "", fence + "text", note.rstrip("\n"), fence]
    out += ["", f"## Events ({len(report['events'])}, in valid-time order)"]
    for n, ev in enumerate(report["events"], 1):
        strike = "~~" if ev.get("retracted_by") else ""
        marks = "".join(f" **[{w.upper()}]**" for k, w in _MARKS if ev.get(k))
        out += ["", f"### {n}. {_md(_valid(ev))} · {_md(ev.get('type'))} · "
                    f"{_md(ev.get('subject'))}", "",
                f"{strike}{_md(ev.get('summary'))}{strike}{marks}", ""]
        out += [f"- **{k}:** {v}".replace(" \n", "\n") for k, v in _rows(ev, where, MARKDOWN)]
    out += ["", "## How to check", ""]
    return "\n".join([*out, *(f"{i}. {s}" for i, s in enumerate(HOW_TO_CHECK, 1)), ""])


# --- HTML ---------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.5 system-ui,sans-serif;color:#222;max-width:1100px;margin:1.5em auto;
padding:0 1em}h1{margin:.2em 0}code,.mono{font-family:ui-monospace,monospace;font-size:.85em;
word-break:break-all}.meta{color:#555}.ok{color:#1b5e20;font-weight:600}
.bad{color:#b71c1c;font-weight:700}.legend span{display:inline-block;margin-right:1.1em}
.sw{display:inline-block;width:.9em;height:.9em;border-radius:50%;vertical-align:-.1em;
margin-right:.3em}svg text{font:12px system-ui,sans-serif;fill:#333}svg .num{font-size:10px;
font-weight:700;fill:#fff}svg .gap{fill:#777;font-style:italic}
ol.events{list-style:none;padding:0}li.event{border-left:6px solid #999;padding:.4em .9em;
margin:1em 0;background:#fafafa}li.event h3{margin:.1em 0;font-size:1.05em}
.retracted .summary{text-decoration:line-through;color:#777}.summary{font-size:1.1em}
.mark{font-size:.75em;padding:.05em .45em;border-radius:.6em;color:#fff;margin-left:.3em}
.m-corrected{background:#e69f00}.m-retracted{background:#b71c1c}.m-disputed{background:#6a1b9a}
dl{display:grid;grid-template-columns:12em 1fr;gap:.15em .8em;margin:.4em 0}dt{color:#555}
dd{margin:0}dd ol,dd ul{margin:.1em 0;padding-left:1.6em}
pre{background:#f1f1f1;padding:.6em;white-space:pre-wrap;word-break:break-all}
"""
_CODE_TICKS = re.compile(r"`([^`]*)`")
_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def _h(value: Any) -> str:
    return escape(_plain(value), quote=True)


def _html_link(url: str, title: str | None) -> str:
    if not _http(url):
        return f'{title + " " if title else ""}<span class="mono">{_h(url)}</span>'
    link = f'<a href="{_h(url)}" rel="noreferrer">{title or _h(url)}</a>'
    return link + (f' <span class="mono">{_h(url)}</span>' if title else "")


HTML = _Format(
    text=_h, code=lambda s: f"<code>{_h(s)}</code>", link=_html_link,
    items=lambda xs, num: ("<ol>" if num else "<ul>") + "".join(f"<li>{x}</li>" for x in xs)
    + ("</ol>" if num else "</ul>"),
    ref=lambda i, n: f'<a href="#ev-{n}">{_h(i)}</a>' if n else f"<code>{_h(i)}</code>")


def _dl(rows: list[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def render_html(report: dict[str, Any]) -> str:
    """The report as one self-contained HTML5 page, with a timeline of the subject on top."""
    ok, verdict = _verdict(report)
    where = {str(ev.get("id")): n for n, ev in enumerate(report["events"], 1)}
    subject = _h(report.get("subject"))
    legend = "".join(f'<span><i class="sw" style="background:{c}"></i>{_h(label)}</span>'
                     for label, c, _ in KINDS.values())
    note = (report.get("checkpoint") or {}).get("note")
    how = "".join("<li>" + _CODE_TICKS.sub(r"<code>\1</code>", escape(s)) + "</li>"
                  for s in HOW_TO_CHECK)
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>Provenance report: {subject}</title><style>{_CSS}</style></head><body>",
           f"<h1>Provenance report: {subject}</h1>",
           f'<p class="meta {"ok" if ok else "bad"}">{_h(verdict)}</p>',
           '<section aria-label="Timeline"><h2>Timeline</h2>',
           f'<p class="legend">{legend}<span>struck through: retracted</span>'
           '<span>dashed ring: disputed</span></p>', _timeline_svg(report), "</section>",
           "<h2>Ledger and checkpoint</h2>", _dl(_header(report, HTML)),
           f"<details><summary>The signed checkpoint note</summary><pre>{_h(note)}</pre>"
           "</details>" if note else "",
           f"<h2>Events ({len(report['events'])}, in valid-time order)</h2>"
           '<ol class="events">']
    for n, ev in enumerate(report["events"], 1):
        marks = "".join(f'<span class="mark m-{w}">{w}</span>' for k, w in _MARKS if ev.get(k))
        out.append(f'<li id="ev-{n}" class="event{" retracted" if ev.get("retracted_by") else ""}"'
                   f' style="border-color:{_colour(ev)}"><h3>{n}. {_h(_valid(ev))} · '
                   f"{_h(ev.get('type'))} · {_h(ev.get('subject'))}{marks}</h3>"
                   f'<p class="summary">{_h(ev.get("summary"))}</p>'
                   f"{_dl(_rows(ev, where, HTML))}</li>")
    out += ["</ol>", f"<h2>How to check</h2><ol>{how}</ol>", "</body></html>", ""]
    return "\n".join(out)


# --- the timeline: one column of marks per day, long quiet gaps cut out of the axis ------

_R, _STEP, _CAP, _GAP_DAYS, _BREAK_W, _PAD, _MIN_DX = 10, 23, 16, 31, 70, 16, 24


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def _gap(days: int) -> str:
    return (f"{days / 365.25:.1f} years" if days >= 365 else
            f"{round(days / 30.44)} months" if days >= 60 else f"{days} days")


def _timeline_svg(report: dict[str, Any]) -> str:
    cols: dict[date, list[tuple[int, dict[str, Any]]]] = {}
    for n, ev in enumerate(report["events"], 1):
        if (d := _day(_valid(ev))) is not None:
            cols.setdefault(d, []).append((n, ev))
    if not cols:
        return "<p>No dated events.</p>"
    days = sorted(cols)
    segs = [[days[0]]]
    for a, b in pairwise(days):
        if (b - a).days > _GAP_DAYS:
            segs.append([b])
        else:
            segs[-1].append(b)
    spans = [(s[-1] - s[0]).days for s in segs]
    total, xs = sum(spans), {}
    avail = max(0, 1100 - 110 - _BREAK_W * (len(segs) - 1) - 2 * _PAD * len(segs))
    lines, breaks, cursor = [], [], 80.0
    for i, (seg, span) in enumerate(zip(segs, spans, strict=True)):
        width = 2 * _PAD + (avail * span / total if total else avail / len(segs))
        prev = None
        for d in seg:
            x = cursor + _PAD + ((d - seg[0]).days / span if span else 0.5) * (width - 2 * _PAD)
            xs[d] = prev = x if prev is None else max(x, prev + _MIN_DX)
        end = max(cursor + width, prev + _PAD)
        lines.append((cursor, end))
        if i + 1 < len(segs):
            breaks.append((end, (segs[i + 1][0] - seg[-1]).days))
        cursor = end + _BREAK_W
    width = max(1100.0, cursor - _BREAK_W + 30)
    tallest = min(_CAP, max(len(c) for c in cols.values()))
    axis = 24 + tallest * _STEP
    svg = [f'<svg viewBox="0 0 {width:.0f} {axis + 86}" '
           f'width="100%" role="img" aria-label="Timeline of {_h(report.get("subject"))}">']
    svg += [f'<line x1="{a:.1f}" y1="{axis}" x2="{b:.1f}" y2="{axis}" stroke="#444" '
            'stroke-width="2"/>' for a, b in lines]
    for x, days_gap in breaks:
        mid = x + _BREAK_W / 2
        svg.append(f'<line x1="{x:.1f}" y1="{axis}" x2="{x + _BREAK_W:.1f}" y2="{axis}" '
                   'stroke="#999" stroke-width="2" stroke-dasharray="3 4"/>'
                   f'<text class="gap" x="{mid:.1f}" y="{axis - 8}" text-anchor="middle">'
                   f"{_gap(days_gap)}</text>")
    for d, events in cols.items():
        x = xs[d]
        svg.append(f'<text x="{x + 4:.1f}" y="{axis + 16}" text-anchor="end" '
                   f'transform="rotate(-45 {x + 4:.1f} {axis + 16})">'
                   f"{d.day} {d.strftime('%b %Y')}</text>")
        for k, (n, ev) in enumerate(events[:_CAP]):
            svg.append(_mark(n, ev, x, axis - 14 - k * _STEP))
        if len(events) > _CAP:
            svg.append(f'<text x="{x:.1f}" y="{axis - 14 - _CAP * _STEP + 4}" '
                       f'text-anchor="middle">+{len(events) - _CAP}</text>')
    return "\n".join([*svg, "</svg>"])


def _mark(n: int, ev: dict[str, Any], x: float, y: float) -> str:
    colour, gone = _colour(ev), bool(ev.get("retracted_by"))
    tip = f"{n}. {_valid(ev)} · {ev.get('type')}: {_plain(ev.get('summary'))}"
    ink = f' style="fill:{colour}"' if gone else ""
    parts = [f'<a href="#ev-{n}"><title>{_h(tip)}</title>',
             f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_R}" fill="{"#fff" if gone else colour}" '
             f'stroke="{colour}" stroke-width="2"/>',
             f'<text class="num" x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle"'
             f"{ink}>{n}</text>"]
    if gone:
        parts.append(f'<line x1="{x - _R - 3:.1f}" y1="{y:.1f}" x2="{x + _R + 3:.1f}" '
                     f'y2="{y:.1f}" stroke="#b71c1c" stroke-width="2"/>')
    if ev.get("disputed_by"):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{_R + 3}" fill="none" '
                     'stroke="#6a1b9a" stroke-width="1.6" stroke-dasharray="3 2"/>')
    return "".join([*parts, "</a>"])


from projections.report_prov import render_prov  # noqa: E402  (re-exported)

__all__ = ["render_html", "render_markdown", "render_prov"]
