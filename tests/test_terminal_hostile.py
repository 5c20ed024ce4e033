"""Hostile text in events must not break or spoof the terminal: escape sequences and
control characters are dropped, rich markup stays literal, bidi overrides are removed,
a very long word is folded, never cut."""

from __future__ import annotations

import io
import re

import pytest

from projections.history_text import HistoryTable
from projections.status_text import platform_text, summary_table
from projections.terminal import Screen, clean
from tests.clitools import run

SGR = re.compile(r"\x1b\[[0-9;]*m")  # rich's own colours, at a terminal
LONG = "x" * 300
HOSTILE = ("\x1b[2J\x1b]0;owned\x07 [bold red]ALERT[/bold red] \u202eevil\u202c "
           "\x9b31m \x07bell " + LONG)


def row(summary=HOSTILE, **extra):
    return {"id": "11111111-2222-3333-4444-555555555555", "type": "statement-issued",
            "subject": "[link=https://evil]telegram[/link]", "occurred_at": "2017-07-14",
            "recorded_at": "2017-07-14T00:00:00+00:00", "recorded_by": "\x1b[31mroot",
            "position": 1, "summary": summary, "corrected_by": [], "retracted_by": [],
            "disputed_by": [], **extra}


def shown(write, *, terminal, width=80):
    out = io.StringIO()
    screen = Screen(file=out, terminal=terminal)
    screen.width = width
    write(screen)
    return out.getvalue()


@pytest.mark.parametrize("terminal", [True, False], ids=["terminal", "piped"])
class TestHostileText:
    def test_history_cells_are_cleaned_and_literal(self, terminal):
        """No escape but rich's own colours, no bidi override, markup as text, the long
        word whole."""
        output = shown(lambda s: HistoryTable(s).write([row()]), terminal=terminal)
        bare = SGR.sub("", output)
        assert "\x1b" not in bare and "\x9b" not in bare and "\x07" not in bare
        assert "\u202e" not in output and "\u202c" not in output
        assert "[boldred]ALERT[/boldred]" in "".join(bare.split())  # spaces squeezed
        assert "[link=https://evil]telegram[/link]" in "".join(bare.split())
        assert LONG in "".join(bare.split())
        assert max(len(line) for line in bare.splitlines()) <= 80

    def test_status_cells_are_cleaned_and_literal(self, terminal):
        """A platform's name, an authority and a network are text, not commands."""
        status = {"platform": "p", "name": "[blink]P[/blink]\x1b]8;;http://x\x07",
                  "state": "blocked", "as_of": None, "as_known_at": None,
                  "blocked_targets": ["a.example"],
                  "orders": [{"ref": "o", "authority": "\u202eKominfo", "state": "in-effect",
                              "blocked_targets": ["a.example"], "disputed": False}],
                  "normalizations": [], "divergent": ["a.example"], "disputed": False,
                  "observed": {"a.example": {"accessible": True, "at": "2017-07-14",
                                             "network": "AS1 \x1b[8m" + LONG}}}

        def write(screen):
            screen.console().print(platform_text(status, None, screen))
            summary_table(screen, [status])

        bare = SGR.sub("", shown(write, terminal=terminal))
        assert "\x1b" not in bare and "\u202e" not in bare and "\x07" not in bare
        assert "[blink]P[/blink]" in bare and LONG in "".join(bare.split())


def test_clean_keeps_what_scripts_need():
    """Joiners and directional marks stay (Persian, Hindi); line breaks become spaces."""
    assert clean("می\u200cخواهم\nक्\u200dष") == "می\u200cخواهم क्\u200dष"
    assert clean("\u200fשלום") == "\u200fשלום"


def test_recorded_markup_is_shown_as_typed(runner, sqlite_path, monkeypatch):
    """An operator's [bold] in a statement is printed as typed by history and status."""
    source = ("--source", "https://example.org")
    run(runner, sqlite_path, "record", "platform-registered", "p", "--at", "2017-01-01",
        *source, "--name", "[red]P[/red]", "--target", "p.example")
    result = run(runner, sqlite_path, "record", "statement-issued", "p", "--at",
                 "2017-02-01", *source, "--by", "[bold]someone[/bold]", "--summary",
                 "[blink]hello[/blink] " + LONG)
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("COLUMNS", "80")
    history = run(runner, sqlite_path, "history", "p").output
    assert "[blink]hello[/blink]" in history and LONG in "".join(history.split())
    assert "[red]P[/red]" in run(runner, sqlite_path, "status", "p").output


def test_penalties_and_jurisdictions_are_shown(monkeypatch):
    """A status with penalties and several jurisdictions (DESIGN's second edition) says
    them: amount, currency, period, cap, state, accrued; each jurisdiction's state."""
    status = {"platform": "x", "name": "X", "state": "partially-blocked", "as_of": None,
              "as_known_at": None, "blocked_targets": ["x.example"], "orders": [],
              "normalizations": [], "observed": {}, "divergent": [], "disputed": False,
              "penalties": [{"id": "abcdef12-0000", "authority": "STF", "amount": "100000",
                             "currency": "BRL", "per": "day", "cap": "5000000",
                             "state": "running", "accrued": "300000"}],
              "jurisdictions": {"BR": {"state": "blocked", "blocked_targets": ["x.example"]},
                                "RU": {"state": "accessible", "blocked_targets": []}}}
    output = shown(lambda s: s.console().print(platform_text(status, None, s)),
                   terminal=False, width=100)
    assert ("penalty by STF: 100000 BRL a day, cap 5000000, accrued 300000 (abcdef12): "
            "running") in output
    assert "in BR: blocked (1 blocked: x.example)" in output and "in RU: accessible" in output
