"""import-registry --backfill (issue 15): a snapshot placed between imported ones leaves the
ledger as an import of the snapshots in order does: the same status of every platform and
the same block intervals at every date, whichever of A (before), S (placed) and B (after)
list each entry; re-running adds nothing; what it cannot place exactly is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import count, one_line_error, run, run_json
from tests.test_import_registry import RU, _dump

#: Entries, and the snapshots listing each: A (15 Jan), S (16 Jan, placed later), B (17
#: Jan), C (18 Jan). Every combination of A, S and B, with a decision whose two entries
#: B lifted at once while S still listed one (five-a, five-b).
LINES = {
    "1.1.1.1;one.example.ru;;org;D-1;2020-01-01": "ASBC",
    ";two.example.ru;;org;D-2;2020-01-01": "AS",
    ";three.example.ru;;org;D-3;2020-01-01": "ABC",
    ";four.example.ru;;org;D-4;2020-01-01": "A",
    ";five-a.example.ru;;org;D-5;2020-01-01": "AS",
    ";five-b.example.ru;;org;D-5;2020-01-01": "A",
    "6.6.6.6;six.example.org;;org;D-6;2020-01-01": "SBC",
    "7.7.7.7;seven.example.net;;org;D-7;2020-01-01": "S",
    ";eight.example.com;;org;D-8;2020-01-01": "BC",
    ";nine.example.info;;org;D-9;2020-01-01": "C",
    ";ten.example.biz;;org;D-10;2020-01-01": "ASBC",
    "3.3.3.3;eleven.example.ru;;org;D-11;2020-01-01": "SBC",
    ";thirteen.example.ru;;org;D-13;2020-01-01": "AB",
}
DAYS = {"A": "15", "S": "16", "B": "17", "C": "18"}


def _snapshots(tmp_path: Path, late: str = "16") -> dict[str, str]:
    """The four snapshots; S on the ``late`` day. Before A (the 14th), S lists nothing of
    example.ru, whose platform A registers with targets S would not list (which a backfill
    refuses: see the last test)."""
    days = {**DAYS, "S": late}
    return {name: _dump(tmp_path / f"{name}.csv", f"2024-01-{day} 10:00:00 +0000",
                        [line for line, where in LINES.items() if name in where
                         and not (name == "S" and late == "14" and "example.ru" in line)])
            for name, day in days.items()}


def _answers(runner, db: str) -> dict:
    """Every platform's status and every block interval, at each hour around the snapshots
    (intervals without their order's name, which may differ: see the module's docs)."""
    out = {}
    for day in ("14", "15", "16", "17", "18", "19"):
        for hour in ("09", "10", "11"):
            at = f"2024-01-{day}T{hour}:00:00Z"
            out[("status", at)] = sorted(
                (row["platform"], row["state"], sorted(row["blocked_targets"]))
                for row in run_json(runner, db, "status", "--as-of", at))
            result = run(runner, db, "export", "intervals", "--format", "jsonl",
                         "--as-of", at)
            assert result.exit_code == 0, result.output
            out[("intervals", at)] = sorted(
                tuple(sorted((k, str(v)) for k, v in json.loads(line).items() if k != "order"))
                for line in result.stdout.splitlines())
    return out


@pytest.mark.parametrize("late", ["16", "14"])
def test_a_backfilled_snapshot_leaves_the_ledger_as_an_import_in_order(runner, db, tmp_path,
                                                                      late):
    """S between A and B; and S before every snapshot imported (A is then its B)."""
    files = _snapshots(tmp_path, late)
    in_order = str(tmp_path / "in-order.db")  # the backfill runs on both stores
    order = "ASBC" if late == "16" else "SABC"
    assert run(runner, in_order, "import-registry", *RU, *[files[n] for n in order]
               ).exit_code == 0
    assert run(runner, db, "import-registry", *RU, *[files[n] for n in "ABC"]).exit_code == 0
    before = count(db)
    refused = one_line_error(run(runner, db, "import-registry", *RU, files["S"]), 2)
    assert "--backfill" in refused and count(db) == before
    result = run(runner, db, "import-registry", *RU, files["S"], "--backfill", "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)["snapshots"][0]
    if late == "16":
        assert done["backfilled_before"] == "2024-01-17T10:00:00+00:00"
        # six's order and platform moved, eleven's order and the targets B's import gave
        # example.ru for it; D-4's and D-5's lifts; C's lift of thirteen, ordered anew
        assert done["amended"] == 7
    else:
        assert done["backfilled_before"] == "2024-01-15T10:00:00+00:00"
    assert _answers(runner, db) == _answers(runner, in_order)
    # Re-running adds nothing; the ledger verifies; what the ledger said before the
    # backfill is still what it said then.
    after = count(db)
    again = json.loads(run(runner, db, "import-registry", *RU, files["S"], "--backfill",
                           "--json").stdout)["snapshots"][0]
    assert again.get("skipped") == "already imported" and count(db) == after
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True


def test_what_a_backfill_cannot_place_exactly_is_refused(runner, db, tmp_path):
    """B's order of a decision that gained a target after S: splitting it is not built."""
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    s = _dump(tmp_path / "s.csv", "2024-01-16 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";y.example.org;;o;D-2;"])
    b = _dump(tmp_path / "b.csv", "2024-01-17 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";y.example.org;;o;D-2;", ";z.example.org;;o;D-2;"])
    assert run(runner, db, "import-registry", *RU, a, b).exit_code == 0
    before = count(db)
    error = one_line_error(run(runner, db, "import-registry", *RU, s, "--backfill"), 1)
    assert "also holds z.example.org" in error and "nothing written" in error
    assert count(db) == before


def test_a_backfill_is_all_or_nothing(runner, db, tmp_path):
    """--batch-commit would let a backfill stop between its corrections and its own
    events, after which the corrected ledger would read as what B listed: refused."""
    files = _snapshots(tmp_path)
    assert run(runner, db, "import-registry", *RU, files["A"], files["B"]).exit_code == 0
    before = count(db)
    error = one_line_error(run(runner, db, "import-registry", *RU, files["S"], "--backfill",
                               "--batch-commit"), 2)
    assert "--backfill is all or nothing" in error and count(db) == before
