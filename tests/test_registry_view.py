"""What a registry's diff reads of the history view is checked against the events (issue
15, review finding M8): the view is an index of the log that anyone holding the database
can edit, and its rows carry no hash. A row deleted, or moved to another kind of subject,
steered the diff (an order's event left out: its entry read as not held, and ordered a
second time); now the import is refused (exit 3), nothing written, until the view is
rebuilt from the log."""

from __future__ import annotations

import json

import pytest

from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump


def _sql(db: str, statement: str, params: tuple) -> None:
    """Run one statement on the ledger's database, as someone holding a copy would."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            conn.execute(statement.replace("?", "%s"), params)
    else:
        import sqlite3

        with sqlite3.connect(db) as conn:
            conn.execute(statement, params)


@pytest.mark.parametrize("damage", [
    "DELETE FROM bl_view_history WHERE position = ?",
    "UPDATE bl_view_history SET kind = 'platform' WHERE position = ?",
    "UPDATE bl_view_history SET subject = 'elsewhere' WHERE position = ?",
])
def test_a_damaged_history_view_steers_no_diff(runner, db, tmp_path, damage):
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";z.example.org;;o;D-2;"])
    c = _dump(tmp_path / "c.csv", "2024-01-17 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";z.example.org;;o;D-2;", ";w.example.net;;o;D-3;"])
    assert run(runner, db, "import-registry", *RU, a, b).exit_code == 0
    exported = run(runner, db, "export").stdout.splitlines()
    order = next(json.loads(line) for line in exported
                 if '"blocked"' in line and "z.example.org" in line)
    # z's order gains a later event of its own, so that it is folded from its rows
    assert run(runner, db, "record", "access-observed", order["subject"], "--at",
               "2024-01-16T12:00:00Z", "--target", "z.example.org", "--not-accessible",
               "--source", "probe").exit_code == 0
    _sql(db, damage, (order["position"],))
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 3)
    assert "history view" in said and "projections rebuild" in said, said
    assert count(db) == before
    assert run(runner, db, "projections", "rebuild", "history").exit_code == 0
    done = json.loads(run(runner, db, "import-registry", *RU, c, "--json").stdout)
    assert done["snapshots"][0]["orders"] == 1  # w's alone: z's is held
