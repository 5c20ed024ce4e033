"""The provenance report as Markdown, for a lawyer: the summary, the header and
checkpoint, then every event with its proof. User text is escaped for Markdown (``_md``: it
cannot open links, HTML, headings or list items); what the renderers share (an event's
details, the header, the verdict) is ``report_render``'s.
"""

from __future__ import annotations

import re
from typing import Any

from projections.report_orders import period_words
from projections.report_render import (
    _MARKS,
    HOW_TO_CHECK,
    UTC_CLOCK,
    _Format,
    _header,
    _http,
    _plain,
    _rows,
    _valid,
    blocked_words,
    elsewhere,
    first_line,
    former_words,
    unplaced_words,
)
from projections.report_summary import Summary, summarise
from projections.report_times import Clock

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


def _summary_md(summary: Summary, clock: Clock) -> list[str]:
    if summary.problem:
        return ["## Summary", "", _md(summary.problem), ""]
    at = clock.when(summary.at, summary.at_text)
    place = f"In **{_md(summary.jurisdiction)}**, " if summary.jurisdiction else ""
    if summary.binds_elsewhere:
        out = ["## Summary", "", f"{place}nothing: order **{_md(summary.subject)}** binds "
               f"{_md(summary.binds_elsewhere)}, not {_md(summary.jurisdiction)}; its events "
               "are listed below, marked ELSEWHERE.", ""]
        return out
    if summary.state is None:  # nothing of it counts by then: say so, not "null"
        why = {"platform": "was not registered", "order": "did not exist (not yet made)",
               "request": "had not been made"}.get(str(summary.kind), "")
        return ["## Summary", "", f"{place}**{_md(summary.subject)}** "
                + (f"({_md(summary.kind)}) {why} at {_md(at)}." if why else
                   f"has no event that counts at {_md(at)} (its events were retracted, or "
                   "none had happened by then); they are listed below."), ""]
    out = ["## Summary", "",
           f"{place}**{_md(summary.subject)}** ({_md(summary.kind)}) was "
           f"**{_md(summary.state)}** at {_md(at)}"
           + (f"; blocked: {_md(blocked_words(summary))}" if summary.blocked else "")
           + ".", ""]
    if summary.unplaced:
        out[-2:-1] = [
            f"{place}the answer for **{_md(summary.subject)}** ({_md(summary.kind)}) is "
            f"**undetermined** at {_md(at)}: {_md(unplaced_words(summary))}. Of the orders "
            f"that bind {_md(summary.jurisdiction)}, it was **{_md(summary.state)}**"
            + (f"; blocked: {_md(blocked_words(summary))}" if summary.blocked else "") + "."]
    if summary.jurisdiction:
        out += [f"This summary answers for {_md(summary.jurisdiction)} alone; "
                f"{summary.elsewhere} events of other jurisdictions are listed below, "
                "marked ELSEWHERE, and are not part of it"
                + (f"; {summary.unplaced_events} bind no jurisdiction, marked NO "
                   "JURISDICTION" if summary.unplaced_events else "") + ".", ""]
    if summary.former:
        out += [_md(former_words(summary)), ""]
    if summary.course:
        out += ["Over time: " + "; ".join(
            f"**{_md(state)}** " + (f"{_md(clock.when(a, at))} → {_md(clock.when(b, bt))}"
                                    if b else f"since {_md(clock.when(a, at))}")
            for a, at, b, bt, state in summary.course) + ".", ""]
    for order in summary.orders:
        regional = [f"- **binds:** {_md(order.regional)} only (a regional order, counted "
                    f"in {_md(summary.jurisdiction)}'s answer)"] if order.regional else []
        out += [f"### Order {_md(order.ref)} — {_md(order.authority)}"
                + (f" (regional: {_md(order.regional)})" if order.regional else ""), "",
                *regional,
                f"- **state at the report's time:** {_md(order.state)}",
                f"- **instrument:** {_md(order.instrument or 'not given')}",
                f"- **legal basis:** {_md(order.legal_basis or 'not given')}",
                f"- **reasons:** {_md(', '.join(order.reasons))}",
                f"- **targets ({len(order.targets)}):** {_md(', '.join(order.targets))}",
                "- **in force:**" + ("".join(
                    f"\n  - {_md(period_words(p, clock, len(order.targets)))}"
                    for p in order.periods) or " never"), ""]
    for request in summary.requests:
        conditions = ", ".join(f"{c}: {s}" for c, s in request.conditions.items())
        out += [f"### Request {_md(request.ref)}: {_md(request.state)}", "",
                f"- **orders:** {_md(', '.join(request.orders))}",
                f"- **conditions:** {_md(conditions or 'none')}"]
        out += [f"- {_md(clock.when(m.at, m.text))}: {_md(m.word)} (event {m.number})"
                for m in request.marks if m.type in ("meeting-held", "sop-agreed",
                                                     "normalization-granted",
                                                     "normalization-denied")]
        out.append("")
    if summary.divergent:
        out += ["Observed access that differs from the orders: " + "; ".join(
            f"{_md(target)} ({_md(how)}" + (f", on {_md(network)}" if network else "")
            + (f", {_md(clock.text(seen))}" if seen else "") + ")"
            for target, (how, network, seen) in summary.divergent.items()) + ".", ""]
    return out


def render_markdown(report: dict[str, Any], *, clock: Clock = UTC_CLOCK) -> str:
    """The report as Markdown for a lawyer: a summary, the header and checkpoint, then the
    events with their proofs; times in ``clock``'s zone. A report of a ledger that fails
    verification opens with a FAILED line."""
    where = {str(ev.get("id")): n for n, ev in enumerate(report["events"], 1)}
    failed = first_line(report)
    out = [f"**{_md(failed)}**", ""] if failed else []
    out += [f"# Provenance report: {_md(report.get('subject'))}", ""]
    out += _summary_md(summarise(report), clock)
    out += ["## Ledger and checkpoint", ""]
    out += [f"- **{k}:** {v}".replace(" \n", "\n")
            for k, v in _header(report, MARKDOWN, clock)]
    note = str((report.get("checkpoint") or {}).get("note") or "")
    if note:
        fence = _fence(note, 3)
        out += ["", "The signed checkpoint note:", "", fence + "text", note.rstrip("\n"), fence]
    out += ["", f"## Events ({len(report['events'])}, in valid-time order)"]
    for n, ev in enumerate(report["events"], 1):
        strike = "~~" if ev.get("retracted_by") else ""
        marks = "".join(f" **[{w.upper()}]**" for k, w in _MARKS if ev.get(k))
        marks += f" **[{_md(elsewhere(ev).upper())}]**" if elsewhere(ev) else ""
        out += ["", f"### {n}. {_md(clock.text(_valid(ev)))} · {_md(ev.get('type'))} · "
                    f"{_md(ev.get('subject'))}", "",
                f"{strike}{_md(ev.get('summary'))}{strike}{marks}", ""]
        out += [f"- **{k}:** {v}".replace(" \n", "\n")
                for k, v in _rows(ev, where, MARKDOWN, clock)]
    out += ["", "## How to check", ""]
    return "\n".join([*out, *(f"{i}. {s}" for i, s in enumerate(HOW_TO_CHECK, 1)), ""])
