"""Text for a person: tables at the terminal's width, plain text when piped.

At a terminal (``COLUMNS`` honoured) a table fits the width: the column that says what
happened is the last to shrink and is wrapped, never cut; lower-priority columns are
folded into it or dropped as the width shrinks. Piped, the output has no colour and no box
drawing: aligned columns at ``COLUMNS`` when it is set, else one tab-separated line per
record, as long as it needs to be.

Everything shown comes from events, which are hostile input: every cell is built as a
``rich.text.Text`` (never parsed as markup, so ``[bold]`` stays literal) from ``clean``,
which drops escape sequences, control characters and bidi overrides.
"""

from __future__ import annotations

import os
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from typing import IO, Any

#: An ANSI/VT escape sequence (CSI, OSC, or a two-character escape), removed whole so that
#: none of its printable tail ("[31m") is left behind.
_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
                     r"|\x9b[0-?]*[ -/]*[@-~]")
#: Rows a streamed table renders at once (widths are fixed, so chunks line up).
CHUNK = 200


#: Bidi overrides, embeddings and isolates: they reorder what follows them on screen.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u061c\ufeff")


def clean(value: object) -> str:
    """``value`` as one line of safe text: escape sequences, control characters (C0, C1),
    bidi overrides and isolates removed; tabs, newlines and line separators become spaces.
    Joiners and directional marks stay (Persian and Hindi text needs them), as the ledger
    keeps them."""
    text = _ESCAPE.sub("", "" if value is None else str(value))
    if text.isascii() and text.isprintable():
        return text
    out = []
    for char in text:
        if char in "\t\n\r\v\f\u2028\u2029\x85":
            out.append(" ")
        elif char not in _BIDI and unicodedata.category(char) not in ("Cc", "Cs"):
            out.append(char)
    return "".join(out)


def zone(name: str | None) -> tzinfo:
    """The time zone to show times in: ``name`` (an IANA name, from ``--tz``), else
    ``BLOCKLEDGER_TZ``, else UTC (``report_times.user_zone``, which every command asks)."""
    from projections.report_times import user_zone

    return user_zone(name)


def zone_name(tz: tzinfo) -> str:
    """How a header names ``tz``: UTC, or its IANA name."""
    return "UTC" if tz is UTC else str(getattr(tz, "key", tz))


def show_time(text: str | None, tz: tzinfo = UTC) -> str:
    """An ISO 8601 time for a person, in ``tz``, to the minute: a bare date (day
    precision) is shown as it is."""
    if not text:
        return ""
    if len(text) <= 10:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return clean(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def short_ids(ids: Iterable[str], *, least: int = 8) -> dict[str, str]:
    """Each id shortened to its shortest prefix (at least ``least`` characters) that no
    other of ``ids`` shares."""
    unique = sorted(set(ids))
    out = {}
    for i, full in enumerate(unique):
        length = least
        for other in (unique[i - 1] if i else "", unique[i + 1] if i + 1 < len(unique) else ""):
            while length < len(full) and other[:length] == full[:length]:
                length += 1
        out[full] = full[:length]
    return out


class Screen:
    """Where text goes and how: a terminal (colour, boxes, its width) or a pipe (plain).

    ``width`` is ``COLUMNS`` when set, else the terminal's; None for a pipe without
    ``COLUMNS`` (tab-separated lines, no width at all).
    """

    def __init__(self, *, tz: tzinfo = UTC, file: IO[str] | None = None,
                 terminal: bool | None = None):
        self.tz = tz
        self.file = file
        stream = file or sys.stdout
        self.terminal = stream.isatty() if terminal is None else terminal
        columns = os.environ.get("COLUMNS", "")
        width = int(columns) if columns.isdigit() and int(columns) >= 20 else None
        if width is None and self.terminal:
            import shutil

            # (it reads COLUMNS again, without the floor: COLUMNS=2 at a terminal folded
            # an example at width 0, a traceback)
            width = max(20, shutil.get_terminal_size().columns)
        self.width = width

    @property
    def tsv(self) -> bool:
        """Piped with no width: records as tab-separated lines."""
        return not self.terminal and self.width is None

    def console(self) -> Any:
        """A rich console for this screen: no markup or highlighting of its own (cells are
        ``Text``), colour only at a terminal."""
        from rich.console import Console

        class _Console(Console):
            def on_broken_pipe(self) -> None:
                # rich's own answer is exit 1; a reader that went away (`| head -1`) is
                # not an error of ours: the command's handler makes it exit 0
                raise BrokenPipeError

        file = self.file if self.terminal else _Trimmed(self.file or sys.stdout)
        return _Console(file=file, width=self.width or 10_000, highlight=False,  # type: ignore[arg-type]
                       markup=False, emoji=False, force_terminal=self.terminal,
                       no_color=not self.terminal, soft_wrap=self.width is None)

    def line(self, text: str = "") -> None:
        """One line of plain text (already clean)."""
        print(text, file=self.file or sys.stdout)

    def wrapped(self, text: str, *, first: str = "", rest: str = "    ") -> str:
        """``text`` folded at this screen's width, after ``first`` on its first line and
        ``rest`` on the others; one line where there is no width (piped, no ``COLUMNS``)."""
        if self.width is None or len(first) + len(text) <= self.width:
            return first + text
        import textwrap

        return textwrap.fill(text, self.width, initial_indent=first, subsequent_indent=rest,
                             break_long_words=False, break_on_hyphens=False)

    def nothing(self, text: str) -> None:
        """Say a table has no rows: on the table's stream at a terminal; piped, on stderr,
        so what a script reads is the tab-separated header alone."""
        print(text, file=sys.stderr if self.tsv else self.file or sys.stdout)

    def time(self, text: str | None) -> str:
        """``show_time`` in this screen's zone."""
        return show_time(text, self.tz)


def indented(renderable: Any, by: int) -> Any:
    """``renderable`` indented ``by`` columns, its wrapped lines too."""
    from rich.padding import Padding

    return Padding(renderable, (0, 0, 0, by))


class _Trimmed:
    """A text file that writes each line without its trailing spaces (rich pads every
    line to the console's width: piped, that is noise in a file)."""

    def __init__(self, file: IO[str]):
        self.file, self.pending = file, ""

    def write(self, text: str) -> int:
        *lines, self.pending = (self.pending + text).split("\n")
        for line in lines:
            self.file.write(line.rstrip(" ") + "\n")
        return len(text)

    def flush(self) -> None:
        self.file.flush()

    def isatty(self) -> bool:
        return False


class Column:
    """A table column: its header, how wide it must be, how to fill it; and ``most``, how
    wide it would be if the width allowed (a column measured on its cells: see ``fitted``;
    None: ``width``)."""

    def __init__(self, header: str, width: int, cell: Any, *, style: str = "",
                 justify: str = "left", most: int | None = None):
        self.header, self.width, self.cell = header, width, cell
        self.style, self.justify = style, justify
        self.most = width if most is None else max(width, most)


def fitted(header: str, texts: Iterable[str], *, wraps: bool = True,
           most: int = 10_000) -> tuple[int, int]:
    """``(width, most)`` for a column of ``texts``: ``width`` keeps every word whole (its
    longest word, or its header; with ``wraps`` False, its longest text, which is never
    wrapped), ``most`` is its longest text (no wider than ``most``, no narrower than
    ``width``). Widths are terminal cells (a wide character is two)."""
    from rich.cells import cell_len

    need = longest = cell_len(header)
    for text in texts:
        longest = max(longest, cell_len(text))
        if wraps:
            need = max(need, max((cell_len(word) for word in text.split()), default=0))
    if not wraps:
        need = longest
    return need, max(need, min(longest, most))


class Table:
    """A table written in chunks as its rows come: at a terminal the columns that fit
    ``screen.width`` (``main`` wrapped, never cut), piped plain aligned text or
    tab-separated lines.

    ``columns`` are in priority order after ``main``: each is shown while ``main`` keeps
    ``least`` characters; those left out go to ``fold``, which adds them to the main cell,
    or with ``below`` writes them on lines of their own under the record, indented, as
    wide as the screen. ``main`` takes the rest of the width, or with a ``most`` of its
    own no more than that, the width left over going to the shown columns that would be
    wider (their ``most``), in priority order. A column at least as wide as its longest
    word (``fitted``) never has a word split.
    Laid out here rather than by ``rich.table`` (which measures every cell again for every
    chunk: 340 us a row), each cell wrapped to its column's width.
    """

    GAP = 2  # spaces between columns
    INDENT = 2  # of what ``below`` writes under a record

    def __init__(self, screen: Screen, main: Column, columns: Sequence[Column], *,
                 first: Sequence[Column] = (), least: int = 36, fold: Any = None,
                 main_first: bool = False, below: bool = False):
        self.screen, self.main, self.fold, self.below = screen, main, fold, below
        shown = list(first)
        self.widths = {id(c): c.width for c in [*shown, *columns]}
        if screen.width is not None:
            used = sum(c.width + self.GAP for c in shown)
            for column in columns:  # in priority order: the first that does not fit ends it
                if screen.width - used - column.width - self.GAP < least:
                    break
                shown.append(column)
                used += column.width + self.GAP
            self.main_width = max(12, screen.width - used)
            if main.most:  # (0: as wide as it may be)
                spare = max(0, self.main_width - main.most)
                self.main_width -= spare
                for column in shown:
                    grow = min(spare, column.most - column.width)
                    self.widths[id(column)] += grow
                    spare -= grow
        else:
            shown += columns
            self.main_width = 0
        self.shown = shown
        self.folded = [c for c in columns if c not in shown]
        self.order = [main, *shown] if main_first else [*shown, main]
        self.rows = 0

    def write(self, records: Iterable[Any]) -> int:
        """Write ``records`` (as they come, ``CHUNK`` at a time); return how many."""
        chunk: list[Any] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= CHUNK:
                self._flush(chunk)
                chunk = []
        if chunk or not self.rows:
            self._flush(chunk)
        return self.rows

    def _main_cell(self, record: Any) -> Any:
        from rich.text import Text

        cell = self.main.cell(record)
        if self.fold is not None and self.folded and not self.below:
            head = self.fold(record, self.folded)
            if head is not None and head.plain:
                cell = Text.assemble(head, "\n", cell)
        return cell

    def _flush(self, chunk: list[Any]) -> None:
        screen = self.screen
        if screen.tsv:
            if not self.rows:
                screen.line("\t".join(c.header for c in self.order))
            for record in chunk:
                cells = [c.cell(record) for c in self.order]
                screen.line("\t".join(getattr(x, "plain", str(x)).replace("\n", " ")
                                      for x in cells))
            self.rows += len(chunk)
            return
        from rich.text import Text

        console = screen.console()
        lines: list[Any] = []
        if not self.rows:
            lines += self._lines(console, [Text(c.header, style="bold") for c in self.order])
            if screen.terminal:
                lines.append(Text("\u2500" * (screen.width or 80), style="dim"))
        for record in chunk:
            lines += self._lines(console, [self._main_cell(record) if c is self.main
                                           else c.cell(record) for c in self.order])
            if self.below and self.fold is not None and self.folded:
                lines += self._under(console, self.fold(record, self.folded))
        if lines:
            console.print(Text("\n").join(lines), soft_wrap=True, crop=False)
        self.rows += len(chunk)

    def _lines(self, console: Any, cells: list[Any]) -> list[Any]:
        """One record's screen lines: each cell wrapped (long words folded) to its width."""
        from rich.text import Text

        last = len(cells) - 1
        columns = []
        for i, (column, cell) in enumerate(zip(self.order, cells, strict=True)):
            width = self.main_width if column is self.main else self.widths[id(column)]
            wrapped = cell.wrap(console, width, overflow="fold")
            for line in wrapped:
                line.rstrip()
                if i < last:
                    line.align(column.justify, width)  # type: ignore[arg-type]
            columns.append((wrapped, width))
        out = []
        for row in range(max(len(wrapped) for wrapped, _ in columns)):
            line = Text()
            for i, (wrapped, width) in enumerate(columns):
                if i:
                    line.append(" " * self.GAP)
                if row < len(wrapped):
                    line.append_text(wrapped[row])
                elif i < last:
                    line.append(" " * width)
            line.rstrip()
            out.append(line)
        return out

    def _under(self, console: Any, text: Any) -> list[Any]:
        """What ``below`` writes under a record: ``text`` wrapped to the screen's width,
        indented (a word split only if longer than that whole line)."""
        from rich.text import Text

        if text is None or not text.plain:
            return []
        width = max(12, (self.screen.width or 80) - self.INDENT)
        out = []
        for line in text.wrap(console, width, overflow="fold"):
            line.rstrip()
            out.append(Text(" " * self.INDENT) + line)
        return out
