"""The bundled Turkey case (issue 14 item 8): Wikipedia blocked on 29 April 2017 under
Law No. 5651; the Constitutional Court's ruling of 26 December 2019 took effect with its
publication on 15 January 2020, when access returned. It replays to those states, alone
and in one ledger with the 2017 Telegram case, and demo --case shows it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.clitools import run, run_json

TURKEY = Path(__file__).resolve().parent.parent / "examples" / "turkey-wikipedia-2017.jsonl"


@pytest.mark.parametrize("with_telegram", [False, True])
def test_the_case_replays_as_its_record_says(runner, sqlite_path, example, with_telegram):
    if with_telegram:
        assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "import", str(TURKEY)).exit_code == 0

    def state(day: str) -> dict:
        return run_json(runner, sqlite_path, "status", "wikipedia", "--as-of", day)

    assert state("2017-04-28")["state"] == "accessible"
    assert state("2017-04-29")["state"] == "blocked"
    pending = state("2019-12-31")
    assert pending["state"] == "blocked"
    assert pending["orders"][0]["pending_rulings"][0]["effective_at"] == "2020-01-15"
    after = state("2020-01-16")
    assert after["state"] == "accessible" and after["orders"][0]["state"] == "overturned"
    shown = run(runner, sqlite_path, "status", "wikipedia", "--as-of", "2019-12-31").output
    assert "pending: Constitutional Court of Turkey ruled overturned" in shown
    if with_telegram:
        assert run_json(runner, sqlite_path, "status", "telegram", "--as-of",
                        "2017-07-20")["state"] == "partially-blocked"


def test_demo_shows_the_chosen_case(runner, tmp_path):
    db = str(tmp_path / "case.db")
    done = run(runner, db, "demo", "--case", "turkey-wikipedia-2017")
    assert done.exit_code == 0, done.output
    assert "Turkey blocks Wikipedia" in done.output and "overturned" in done.output


def test_the_report_ends_the_block_when_the_ruling_took_effect(runner, sqlite_path):
    """The report's periods (and the intervals export) end the block on 15 January 2020,
    when the ruling took effect, though no event of the order happened that day."""
    assert run(runner, sqlite_path, "import", str(TURKEY)).exit_code == 0
    report = run(runner, sqlite_path, "report", "provenance", "btk-2017-04-29", "--format",
                 "md").output
    assert "in force: 29 Apr 2017 → 15 Jan 2020 (4 of 4 targets blocked)" in report
    rows = run(runner, sqlite_path, "export", "intervals").output.splitlines()[1:]
    assert len(rows) == 4 and all(r.endswith(",2017-04-29,2020-01-15") for r in rows)
