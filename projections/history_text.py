"""History rows as a table for a person (``projections.terminal``): what happened, in
full, with when it happened; type, subject, id, record time, operator and position as the
width allows, folded into the description's first line where it does not."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from projections.terminal import Column, Screen, Table, clean, short_ids, zone_name

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
MARKS = (("retracted_by", "retracted", "red"), ("corrected_by", "corrected", "yellow"),
         ("disputed_by", "disputed", "magenta"))


def marks(row: dict[str, Any]) -> list[tuple[str, str]]:
    """The row's marks, (word, style): retracted, corrected, disputed."""
    return [(word, style) for key, word, style in MARKS if row.get(key)]


def what(row: dict[str, Any], ids: dict[str, str] | None = None, least: int = 8) -> Any:
    """The description cell: marks, the summary (an event id in it shortened as in the id
    column, else to ``least`` characters), and what a correction changed."""
    from rich.text import Text

    text = Text(style="dim strike" if row.get("retracted_by") else "")
    for word, style in marks(row):
        text.append(f"[{word}]", style=f"bold {style}")
        text.append(" ")
    summary = clean(row.get("summary", ""))
    if ids is not None:
        summary = UUID.sub(lambda m: ids.get(m.group(0), m.group(0)[:least]), summary)
    text.append(summary)
    if row.get("original"):
        was = ", ".join(f"{clean(k)} {clean(v)}" for k, v in row["original"].items())
        text.append(f" (was: {was})", style="dim")
    return text


class HistoryTable:
    """Writes history rows to ``screen`` as they come."""

    def __init__(self, screen: Screen, *, title: str | None = None,
                 unique_length: Callable[[], int] | None = None):
        from rich.text import Text

        self.screen = screen
        self.ids: dict[str, str] = {}
        #: For more rows than one chunk: the length at which every event id of the ledger
        #: is told apart (``ViewReads.id_prefix_length``), or None (each chunk's own).
        self.unique_length = unique_length
        self.least = 8
        tz = screen.time

        def text(value: Any, style: str = "") -> Any:
            return Text(clean(value), style=style)

        main = Column(f"what happened (times {zone_name(screen.tz)})", 0,
                      lambda r: what(r, self.ids, self.least))
        occurred = Column("occurred", 16, lambda r: text(tz(r["occurred_at"])))
        self.table = Table(screen, main, [
            Column("type", 21, lambda r: text(r["type"], "cyan"), style="cyan"),
            Column("subject", 18, lambda r: text(r["subject"])),
            Column("id", 8, lambda r: text(self.ids.get(r["id"], r["id"][:self.least]), "dim")),
            Column("recorded", 16, lambda r: text(tz(r.get("recorded_at")), "dim")),
            Column("by", 10, lambda r: text(r.get("recorded_by") or "", "dim")),
            Column("#", 7, lambda r: text(r.get("position", ""), "dim"), justify="right"),
        ], first=[occurred], least=40, fold=self._fold)
        self.title = title

    def _fold(self, row: dict[str, Any], folded: list[Column]) -> Any:
        from rich.text import Text

        head = Text()
        names = {c.header for c in folded}
        if "type" in names:
            head.append(clean(row["type"]), style="bold cyan")
        if "subject" in names:
            head.append(("  " if head else "") + clean(row["subject"]))
        if "id" in names:
            head.append("  " + self.ids.get(row["id"], row["id"][:self.least]), style="dim")
        return head

    def write(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write ``rows``; ids are shortened to prefixes unique among each chunk shown."""
        if self.title and not self.screen.tsv:
            self.screen.line(clean(self.title))
        return self.table.write(self._shortened(rows))

    def _shortened(self, rows: Iterable[dict[str, Any]]) -> Iterable[dict[str, Any]]:
        """The rows, a chunk at a time, with ``ids`` set for each: within one chunk, the
        shortest prefix unique among the rows shown (all of them, given as a list); past
        one chunk of a stream, whose rows cannot be known ahead, the length at which the
        ledger's ids are all told apart (``unique_length``), so that no two rows shown share
        an id and each shown id names one event of the ledger."""
        from projections.terminal import CHUNK

        if isinstance(rows, list):  # (all known: unique among them all)
            self.ids = short_ids((r["id"] for r in rows), least=self.least)
            yield from rows
            return
        chunk: list[dict[str, Any]] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) >= CHUNK:
                if self.unique_length is not None:
                    self.least, self.unique_length = self.unique_length(), None
                self.ids = short_ids((r["id"] for r in chunk), least=self.least)
                yield from chunk
                chunk = []
        self.ids = short_ids((r["id"] for r in chunk), least=self.least)
        yield from chunk
