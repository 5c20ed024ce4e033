"""The provenance report as one self-contained HTML page, from Jinja2 templates.

Why Jinja2: everything in a report is hostile input (a note, a source title, a target
name), and Jinja2's autoescaping escapes every value the template prints unless the code
says it is already safe; and an organisation can restyle a report (its CSS, its wording,
its layout) by giving a directory of its own templates (``report --template DIR``: a file
there replaces the bundled one of the same name, so ``report.css`` alone restyles the page)
without touching code.

What is passed as already safe, and why it is: the event details and the header
(``report_render._rows``/``_header``, which escape every user value with
``markupsafe.escape`` themselves, as the Markdown renderer escapes it for Markdown), the
CSS strings of the running header (``css_string``: every character but letters, digits and
spaces written as a CSS escape) and the embedded JSON report (``embedded_json``: ``<``,
``>``, ``&`` and the line separators written as JSON ``\\u`` escapes, so that no
``</script>`` can end it early, and it parses to exactly the same report).

The page loads nothing (a Content-Security-Policy forbids it, and no element has a source),
needs no script, and prints: A4 or Letter, the subject and checkpoint in the running
header, page numbers in the footer (CSS paged media margin boxes), no event split across
pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import attrs
import orjson
from attrs import frozen
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    TemplateError,
)
from markupsafe import Markup, escape

from domain.errors import BadInput
from projections.report_orders import LABELLED, Period, period_words
from projections.report_render import (
    _MARKS,
    HOW_TO_CHECK,
    KINDS,
    _colour,
    _Format,
    _header,
    _http,
    _plain,
    _rows,
    _valid,
    _verdict,
    elsewhere,
    first_line,
    former_words,
    produced_by,
    unplaced_words,
)
from projections.report_summary import summarise
from projections.report_superseded import CURRENT
from projections.report_timeline import timeline
from projections.report_times import Clock

#: The id of the script element that holds the JSON report (``verify-proof`` reads it).
EMBED_ID = "blockledger-report"
EMBED_OPEN = f'<script type="application/json" id="{EMBED_ID}">'
PAPERS = {"a4": "A4", "letter": "letter"}
_CODE_TICKS = re.compile(r"`([^`]*)`")
_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028",
                 "\u2029": "\\u2029"}


def _h(value: Any) -> str:
    return str(escape(_plain(value)))


def _link(url: str, title: str | None) -> str:
    if not _http(url):
        return f'{title + " " if title else ""}<span class="mono">{_h(url)}</span>'
    link = f'<a href="{_h(url)}" rel="noreferrer">{title or _h(url)}</a>'
    return link + (f' <span class="mono">{_h(url)}</span>' if title else "")


HTML = _Format(
    text=_h, code=lambda s: f"<code>{_h(s)}</code>", link=_link,
    items=lambda xs, num: ("<ol>" if num else "<ul>") + "".join(f"<li>{x}</li>" for x in xs)
    + ("</ol>" if num else "</ul>"),
    ref=lambda i, n: f'<a href="#ev-{n}">{_h(i)}</a>' if n else f"<code>{_h(i)}</code>")


def embedded_json(report: dict[str, Any]) -> Markup:
    """The report as JSON that is inert inside a script element and parses back to it."""
    text = orjson.dumps(report).decode()
    return Markup(re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group()], text))


def css_string(value: Any) -> Markup:
    """A CSS string literal of ``value``: inert in a style element, whatever it holds."""
    text = _plain(value)[:200]
    return Markup('"' + "".join(c if c.isascii() and (c.isalnum() or c == " ")
                                else f"\\{ord(c):x} " for c in text) + '"')


def environment(template_dir: str | None = None) -> Environment:
    """The templates: ``template_dir``'s first, then the bundled ones."""
    loaders: list[Any] = [PackageLoader("projections", "templates")]
    if template_dir is not None:
        loaders.insert(0, FileSystemLoader(template_dir))
    env = Environment(loader=ChoiceLoader(loaders), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["css_string"] = css_string
    return env


@frozen
class Layout:
    """How a version of blockledger drew the HTML report, so that ``verify-proof`` can
    check a page an earlier honest version made (``proof.check_page``): its number (the
    templates read it as ``layout``), and what its code drew otherwise: whether an
    interval names the court's ruling that began it, which marks are labelled, whether a
    zone known by its offset alone names it once, and whether the timeline's axis reaches
    the report's time however far after the events (after a break in the axis)."""

    number: int
    ruled: bool
    labelled: frozenset[str]
    zone_once: bool
    reach: bool = False
    #: When the next layout replaced it (the commit time of that change): no version drew
    #: it after, so only a report made before can honestly carry a page drawn in it (None:
    #: the current layout).
    replaced: datetime | None = None
    #: What it draws with less than the next layout, in words for ``verify-proof``.
    less: str = ""

    def period_words(self, period: Period, clock: Clock, targets: int) -> str:
        return period_words(period if self.ruled else attrs.evolve(period, ruled=None),
                            clock, targets)


#: The layouts, the current first (each with the commit time that replaced it, 1a3f603 and
#: 73f6577): 3 (2026-12-07, later) runs the axis on to the report's
#: time when it is far after the last event (layout 2 ended the axis at the last event, and
#: a block still in force ran to the edge with no date there); 2 (2026-12-07) names the
#: court whose ruling began an interval, labels a ruling on the timeline and styles the
#: bands a court set aside; 1 did not.
LAYOUTS = (
    Layout(3, True, LABELLED, True, reach=True),
    Layout(2, True, LABELLED, True, replaced=datetime(2026, 12, 7, 17, 21, 8, tzinfo=UTC),
           less="no report time on the axis when it is long after the events"),
    Layout(1, False, LABELLED - {"ruling"}, False,
           replaced=datetime(2026, 12, 7, 14, 46, 11, tzinfo=UTC),
           less="no court named beside the interval its ruling began, no ruling labelled "
                "on the timeline, no style for the bands a court set aside"),
)
#: Each layout by its number.
LAYOUT = {layout.number: layout for layout in LAYOUTS}


def render_html(report: dict[str, Any], *, clock: Clock | None = None,
                paper: str | None = None, template_dir: str | None = None,
                rule: str = CURRENT, layout: Layout = LAYOUTS[0]) -> str:
    """The report as one self-contained HTML5 page: a summary and a timeline of when each
    order was in force on top, then the ledger, checkpoint and every event with its proof;
    the JSON report embedded. ``paper`` (``a4``, ``letter``) fixes the printed page size;
    without it the printer's is used. ``rule``: the summary's rules, the current ones or
    an earlier version's (``report_superseded``: ``verify-proof`` renders a page again)."""
    clock = clock or Clock()
    if paper is not None and paper not in PAPERS:
        raise BadInput(f"unknown paper {paper!r}: give a4 or letter", field="paper")
    try:
        return _render(environment(template_dir).get_template("report.html.j2"), report,
                       clock, paper, rule, layout)
    except TemplateError as error:  # a template of one's own (--template DIR) that fails
        name = getattr(error, "name", None) or "report.html.j2"
        line = getattr(error, "lineno", None)
        raise BadInput(f"the template {name}{f' line {line}' if line else ''} fails: "
                       f"{' '.join(str(error.message or error).split())[:200]}",
                       field="template") from None


def _render(template: Any, report: dict[str, Any], clock: Clock, paper: str | None,
            rule: str = CURRENT, layout: Layout = LAYOUTS[0]) -> str:
    summary = summarise(report, rule=rule)
    events = report.get("events") or []
    where = {str(ev.get("id")): n for n, ev in enumerate(events, 1)}
    ok, verdict = _verdict(report)
    checkpoint = report.get("checkpoint") or {}
    shown = [{
        "number": n, "type": ev.get("type"), "subject": ev.get("subject"),
        "when": clock.text(_valid(ev)), "summary": ev.get("summary"),
        "colour": _colour(ev), "retracted": bool(ev.get("retracted_by")),
        "marks": [w for k, w in _MARKS if ev.get(k)], "id": ev.get("id"),
        "elsewhere": elsewhere(ev),
        "rows": [(k, Markup(v)) for k, v in _rows(ev, where, HTML, clock)],
    } for n, ev in enumerate(events, 1)]
    return template.render(
        report=report, subject=report.get("subject"), ok=ok, verdict=verdict,
        failed=first_line(report), produced_by=produced_by(report), clock=clock,
        zone=clock.described(summary.at, once=layout.zone_once),
        paper=PAPERS.get(paper or ""), paper_key=paper, summary=summary,
        timeline=timeline(summary, clock, layout.labelled, reach=layout.reach),
        period_words=layout.period_words, layout=layout.number,
        unplaced_words=unplaced_words, former_words=former_words,
        legend=[(label, colour) for label, colour, _ in KINDS.values()],
        header=[(k, Markup(v)) for k, v in _header(report, HTML, clock)],
        note=checkpoint.get("note"),
        running=f"checkpoint of {_plain(checkpoint.get('tree_size'))} events, "
                f"{clock.text(checkpoint.get('time'))}" if checkpoint else "no checkpoint",
        events=shown, how=[Markup(_CODE_TICKS.sub(r"<code>\1</code>", str(escape(s))))
                           for s in HOW_TO_CHECK],
        embedded=embedded_json(report), embed_id=EMBED_ID)
