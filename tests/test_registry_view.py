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


def test_a_damaged_platform_row_steers_no_holder(runner, db, tmp_path):
    """M2 (issue 15): who holds a target was read from the platform rows of the view
    unchecked: telegram's registration row deleted, t.me was read as nobody's, and the
    import registered a platform of its own for it. The platform rows are checked as the
    orders' are: the import is refused (exit 3), nothing written, until a rebuild."""
    assert run(runner, db, "record", "platform-registered", "telegram", "--at", "2013-08-14",
               "--source", "https://telegram.org", "--name", "Telegram", "--target", "t.me",
               "--target", "telegram.org").exit_code == 0
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000",
              [";t.me;;o;D-1;", ";x.example.ru;;o;D-2;"])
    exported = [json.loads(line) for line in run(runner, db, "export").stdout.splitlines()]
    registration = next(obj for obj in exported if obj["subject"] == "telegram")
    _sql(db, "DELETE FROM bl_view_history WHERE position = ?", (registration["position"],))
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, a), 3)
    assert "history view" in said and "projections rebuild" in said, said
    assert count(db) == before
    assert run(runner, db, "projections", "rebuild", "history").exit_code == 0
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    held = {r["target"]: r["platform"] for r in map(json.loads, rows)}
    assert held["t.me"] == "telegram", held


def test_events_written_while_the_view_is_read_raise_no_false_alarm(runner, db, tmp_path,
                                                                     monkeypatch):
    """L1 (issue 15): another import writing between the log's last position being read
    and the view's rows of orders being scanned: the scan read its rows, the count of the
    log's events stopped at that position, and an honest import was refused as a damaged
    view. The rows are read up to that position, as the events are counted."""
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";z.example.org;;o;D-2;"])
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    from ledger.views import _Views

    real = _Views.kind_rows
    written = []

    def kind_rows(self, kind, **where):
        if not written and kind.endswith("order"):  # another writer, as the scan begins
            written.append(True)
            other = tmp_path / "other.jsonl"
            other.write_text(json.dumps({
                "type": "blocked", "subject": "by-hand-1", "occurred_at":
                "2024-01-15T12:00:00+00:00", "sources": [{"title": "x"}],
                "data": {"platform": "example.ru", "authority": "Someone",
                         "targets": ["x.example.ru"], "reasons": ["x"],
                         "jurisdiction": "RU"}}) + "\n")
            assert run(runner, db, "import", str(other)).exit_code == 0
        return real(self, kind, **where)

    monkeypatch.setattr(_Views, "kind_rows", kind_rows)
    result = run(runner, db, "import-registry", *RU, b)
    assert written and result.exit_code == 0, result.output
