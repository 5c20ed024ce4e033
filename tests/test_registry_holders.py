"""check_holders (``sources.registry_placed``): no test reached its refusal (issue 15's
leftovers; an instrumented run of the registry suites). Two backfills that reach it, each
against the ledger an import in order gives: a hand-made platform registered between the
backfilled snapshot S and the next one, B, holding news.example.org (B's order is on it)
while S lists its parent domain example.org."""

from __future__ import annotations

import json
from pathlib import Path

from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump


def _ledger(runner, db: str, tmp_path: Path, holds: str, backfill: bool):
    """A, then S and B in order (``backfill`` False), or B then S --backfill; platform
    ``held`` registered by hand at 12:00 between them, holding ``holds``."""
    tmp_path.mkdir(exist_ok=True)
    a = _dump(tmp_path / "a.csv", "2024-01-10 10:00:00 +0000", [";one.example.ru;;o;D-9;"])
    s = _dump(tmp_path / "s.csv", "2024-01-11 10:00:00 +0000",
              [";one.example.ru;;o;D-9;", ";example.org;;o;D-1;"])
    b = _dump(tmp_path / "b.csv", "2024-01-12 10:00:00 +0000",
              [";one.example.ru;;o;D-9;", ";news.example.org;;o;D-2;"])
    hand = tmp_path / "hand.jsonl"
    hand.write_text(json.dumps({
        "type": "platform-registered", "subject": "held",
        "occurred_at": "2024-01-11T12:00:00+00:00", "sources": [{"title": "hand"}],
        "data": {"name": "Held", "targets": [holds]}}) + "\n")
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    if not backfill:
        for args in (("import-registry", *RU, s), ("import", str(hand)),
                     ("import-registry", *RU, b)):
            assert run(runner, db, *args).exit_code == 0
        return None
    assert run(runner, db, "import", str(hand)).exit_code == 0
    assert run(runner, db, "import-registry", *RU, b).exit_code == 0
    return run(runner, db, "import-registry", *RU, "--backfill", s)


def _intervals(runner, db: str) -> list[tuple]:
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    return sorted((r["platform"], r["target"], r["from"], r["to"]) for r in map(json.loads, rows))


def test_a_nearer_holder_is_not_refused_as_the_snapshots(runner, db, tmp_path):
    """``held`` holds news.example.org itself: in order, B's import finds it (matching
    takes the nearest), as it did. check_holders took S's example.org first and refused
    ("imported in order it would be example.org's"), wrongly; now the backfill is placed
    and the ledger is the one an import in order gives."""
    done = _ledger(runner, db, tmp_path / "x", "news.example.org", backfill=True)
    assert done.exit_code == 0, done.output
    in_order = str(tmp_path / "in-order.db")
    _ledger(runner, in_order, tmp_path / "y", "news.example.org", backfill=False)
    assert _intervals(runner, db) == _intervals(runner, in_order)


def test_a_holder_the_snapshot_would_have_shared_refuses_the_backfill(runner, db, tmp_path):
    """``held`` holds example.org, as S's platform would have from 10:00: in order, B finds
    two platforms holding news.example.org's domain and registers none of them (its order
    is example.org's); B's import, without S, ordered it for ``held``. check_holders
    refuses, naming it, nothing written."""
    in_order = str(tmp_path / "in-order.db")
    _ledger(runner, in_order, tmp_path / "y", "example.org", backfill=False)
    assert ("example.org", "news.example.org", "2024-01-12T10:00:00+00:00", None) in \
        _intervals(runner, in_order)
    result = _ledger(runner, db, tmp_path / "x", "example.org", backfill=True)
    said = one_line_error(result, 1)
    assert "s.csv gives news.example.org to platform example.org" in said, said
    assert "is of held: imported in order it would be example.org's" in said, said
    before = count(db)
    assert run(runner, db, "import-registry", *RU, "--backfill",
               str(tmp_path / "x" / "s.csv")).exit_code == 1
    assert count(db) == before
