"""A --batch-commit import of a registry snapshot cut short (some batches in, then an error
or a kill) is known unfinished, since its ``registry-checked`` is written last: running it
again finishes it, and any other snapshot of the registry is refused until then, naming
it (issue 15, review finding H3). Before, a later snapshot was diffed against the half,
as if the registry had listed it, and the cut-short one was then refused as older."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _three
from tests.test_registry_backfill import _answers


def cut_short(db: str, path: str, keep: int, operator: str = "tester") -> int:
    """Write the first ``keep`` events of the import of ``path`` (what a --batch-commit
    import killed after its first batches leaves); return how many it makes in all."""
    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from projections.importing import import_facts
    from sources.holders import read_holders
    from sources.registry import Plan, Registry
    from sources.registry_held import held_in
    from sources.snapshots import read_snapshot

    snapshot = read_snapshot(Path(path), "rkn")
    registry = Registry("RU", "Roskomnadzor")
    with open_ledger(parse_target(db)) as ledger:
        held = held_in(ledger, registry, snapshot.updated)
        facts = list(Plan(snapshot, registry=registry, held=held,
                          holders=read_holders(ledger)).facts())
        assert facts[-1][1].type == "registry-checked" and keep < len(facts)
        import_facts(ledger, facts[:keep], operator=operator)
    return len(facts)


@pytest.mark.parametrize("keep", [1, 3])
def test_a_later_snapshot_over_a_cut_short_one_is_refused_until_it_is_finished(
        runner, db, tmp_path, keep):
    """d2 cut short after ``keep`` events (registrations only, then an order too): d3 is
    refused naming d2; d2 run again finishes; then d3 lands, and the ledger answers as
    an import of the three in order."""
    d1, d2, d3 = _three(tmp_path)
    in_order = str(tmp_path / "in-order.db")
    assert run(runner, in_order, "import-registry", *RU, d1, d2, d3).exit_code == 0
    assert run(runner, db, "import-registry", *RU, d1).exit_code == 0
    made = cut_short(db, d2, keep)
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, d3), 1)
    assert "d2.csv" in said and "cut short" in said and "tester" in said, said
    assert "nothing written" in said and count(db) == before
    said = one_line_error(run(runner, db, "import-registry", *RU, "--backfill", d3), 1)
    assert "cut short" in said and count(db) == before
    done = json.loads(run(runner, db, "import-registry", *RU, d2, "--json").stdout)
    assert done["snapshots"][0]["events"] == made - keep
    assert run(runner, db, "import-registry", *RU, d3).exit_code == 0
    assert _answers(runner, db) == _answers(runner, in_order)
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True


def test_a_cut_short_import_is_finished_by_whoever_began_it(runner, db, tmp_path):
    """Its events are the registry's only once its check, by the same recorder, follows
    them: another operator is told whose import it is, and nothing is written."""
    d1, d2, _ = _three(tmp_path)
    assert run(runner, db, "import-registry", *RU, d1).exit_code == 0
    cut_short(db, d2, 3, operator="alice")
    before = count(db)
    said = one_line_error(run(runner, db, "--operator", "bob", "import-registry", *RU, d2), 1)
    assert "alice" in said and "cut short" in said and count(db) == before
    result = run(runner, db, "--operator", "alice", "import-registry", *RU, d2)
    assert result.exit_code == 0, result.output
