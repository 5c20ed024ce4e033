"""Human renderings of status and history, as rich tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

STATE_STYLE = {
    "blocked": "bold red", "partially-blocked": "bold yellow", "accessible": "bold green",
    "in-effect": "red", "partially-lifted": "yellow", "temporarily-lifted": "yellow",
    "lifted": "green", "open": "yellow", "granted": "green", "denied": "red",
    "pending": "yellow", "committed": "cyan", "met": "green", "waived": "dim",
}


STATE_MARKUP = {state: f"[{style}]{state}[/]" for state, style in STATE_STYLE.items()}


def _styled(state: str) -> Text:
    return Text(state, style=STATE_STYLE.get(state, ""))


def status_view(status: dict[str, Any]) -> Group:
    """One platform's status: a heading line, its orders and its normalization requests."""
    when = []
    if status["as_of"]:
        when.append(f"as of {status['as_of']}")
    if status["as_known_at"]:
        when.append(f"as known at {status['as_known_at']}")
    head = Text.assemble((f"{status['name']} ({status['platform']})", "bold"), ": ",
                         _styled(status["state"]), f"  {', '.join(when)}" if when else "")
    parts: list[Any] = [head]
    if status["blocked_targets"]:
        parts.append(Text(f"  blocked: {', '.join(status['blocked_targets'])}"))
    if status["orders"]:
        table = Table("order", "authority", "state", "blocked targets", box=None,
                      padding=(0, 2), show_edge=False)
        for order in status["orders"]:
            table.add_row(order["ref"], order["authority"], _styled(order["state"]),
                          str(len(order["blocked_targets"])))
        parts.append(table)
    for request in status["normalizations"]:
        conditions = Text(", ").join(Text.assemble(f"{c} ", _styled(s))
                                     for c, s in request["conditions"].items())
        parts.append(Text.assemble("  normalization ", (request["ref"], "bold"), ": ",
                                   _styled(request["state"]),
                                   "  conditions: " if request["conditions"] else "",
                                   conditions))
    return Group(*parts)


def history_table(rows: list[dict[str, Any]], *, title: str | None = None) -> Table:
    """History rows as a table: when it happened, what, and when and by whom it was recorded."""
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("occurred", no_wrap=True)
    table.add_column("", no_wrap=True)  # marks: corrected, retracted, disputed
    table.add_column("type", no_wrap=True, style="cyan")
    table.add_column("subject", no_wrap=True)
    table.add_column("what")
    table.add_column("recorded", no_wrap=True, style="dim")
    table.add_column("by", style="dim")
    table.add_column("#", justify="right", style="dim")
    for row in rows:
        what = Text(row["summary"])
        if row.get("original"):
            was = ", ".join(f"{k} {v}" for k, v in row["original"].items())
            what.append(f"\n(was: {was})", style="dim")
        table.add_row(short_time(row["occurred_at"]), _marks(row), row["type"], row["subject"],
                      what, short_time(row["recorded_at"]), row.get("recorded_by", ""),
                      str(row["position"]),
                      style="dim strike" if row.get("retracted_by") else None)
    return table


def _marks(row: dict[str, Any]) -> Text:
    marks = Text()
    for key, word, style in (("retracted_by", "retracted", "red"),
                             ("corrected_by", "corrected", "yellow"),
                             ("disputed_by", "disputed", "magenta")):
        if row.get(key):
            marks.append(("" if not marks else " ") + word, style=style)
    return marks


def short_time(text: str) -> str:
    """An ISO time for a table: a bare date as is, a date-time to the minute with its offset."""
    if len(text) <= 10:
        return text
    day, _, rest = text.partition("T")
    clock, offset = rest[:5], rest[8:].lstrip("0123456789.")
    return f"{day} {clock}{'' if offset in ('+00:00', 'Z') else offset}"


def console(*, stderr: bool = False) -> Console:
    """A console; when not writing to a terminal, wide enough that tables stay readable."""
    probe = Console(stderr=stderr)
    width = None if probe.is_terminal else 160
    return Console(stderr=stderr, width=width)
