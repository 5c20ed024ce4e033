"""``import-registry`` diffed again (``commands.registry.REDIFFS``): another writer recorded
between the diff and the import's write lock, so the snapshot is read and diffed again. The
file read again must be the bytes first read: a file cut short meanwhile (a download being
rewritten) was read as an empty snapshot that lifted the whole registry, below the size at
which a shrink is refused, while the summary named the first read's SHA-256 (review of
2026-12-07, finding 1)."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import commands.registry as command
from domain.fact import Fact
from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump

LINES = [f"10.0.0.{i};site{i}.ru;;org;N-{i};2020-01-01" for i in range(1, 4)]


def _another_writer_after_the_first_diff(monkeypatch, then=None):
    """``_planned`` as it is, but after its first diff another writer records an event
    (and ``then()`` runs), so that the import is diffed again."""
    real, calls = command._planned, []

    def planned(ledger, *args, **kwargs):
        done = real(ledger, *args, **kwargs)
        if not calls:
            if then is not None:
                then()
            ledger.record([Fact.from_json({
                "id": str(uuid.uuid4()), "type": "platform-registered", "subject": "other",
                "occurred_at": "2024-01-16", "sources": ["s"],
                "data": {"name": "Other", "targets": ["other.example"]}})], operator="x")
        calls.append(1)
        return done

    monkeypatch.setattr(command, "_planned", planned)
    return calls


def test_diffed_again_the_same_bytes_import(runner, db, tmp_path, monkeypatch):
    assert run(runner, db, "import-registry", *RU, _dump(
        tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", LINES)).exit_code == 0
    later = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000",
                  [*LINES[1:], "10.0.1.1;new.ru;;org;N-9;2020-01-01"])
    calls = _another_writer_after_the_first_diff(monkeypatch)
    result = run(runner, db, "import-registry", *RU, "--json", later)
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout)["snapshots"][0]
    assert len(calls) == 2 and row["entries"] == 3 and row["orders"] == 1
    assert row["lifted_orders"] == 1
    assert row["sha256"] == hashlib.sha256(Path(later).read_bytes()).hexdigest()


def test_a_file_changed_before_it_is_diffed_again_is_refused(runner, db, tmp_path,
                                                             monkeypatch):
    assert run(runner, db, "import-registry", *RU, _dump(
        tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", LINES)).exit_code == 0
    later = Path(_dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000", LINES))
    before = count(db)
    _another_writer_after_the_first_diff(
        monkeypatch, lambda: later.write_bytes(b"Updated: 2024-01-16 10:00:00 +0000\n"))
    error = one_line_error(run(runner, db, "import-registry", *RU, str(later)), 1)
    assert "b.csv changed while it was being imported" in error
    assert "nothing written" in error
    assert count(db) == before + 1  # the other writer's event alone
