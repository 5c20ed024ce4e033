"""import-registry against the second hostile review of its fixes (issue 15): each test
failed before its fix."""

from __future__ import annotations

import json
from pathlib import Path

from sources.registry import Registry
from tests.clitools import count, run
from tests.test_import_registry import RU, _dump


def _import_by(runner, db: str, tmp_path: Path, operator: str, *events: dict) -> None:
    path = tmp_path / f"{operator}-{count(db)}.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    result = run(runner, db, "--operator", operator, "import", str(path))
    assert result.exit_code == 0, result.output


def test_a_forged_retraction_of_the_registrys_shape_wedges_nothing(runner, db, tmp_path):
    """C1: mallory's retraction of a hand-made event, with the id the registry's import
    would give a retraction of a snapshot nobody imported, was read as an import cut short:
    every later snapshot was refused, for ever (a retraction cannot be retracted). A plain
    import writes no amendment, and a backfill writes its amendments with its check: one
    of the registry's shape that no check proves is a hand-made event, for the rules."""
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";w.example.net;;o;D-3;"])
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    hand = "11111111-1111-4111-8111-111111111111"
    digest = "9" * 64
    _import_by(runner, db, tmp_path, "mallory", {
        "id": hand, "type": "statement-issued", "subject": "example.ru",
        "occurred_at": "2024-01-15T11:00:00+00:00", "sources": [{"title": "x"}],
        "data": {"by": "someone", "summary": "hi"}}, {
        "id": str(Registry("RU", "Roskomnadzor").event_id(digest, "retraction", "example.ru")),
        "type": "retraction", "subject": "example.ru",
        "occurred_at": "2024-01-15T12:00:00+00:00",
        "sources": [{"title": "forged", "sha256": digest}],
        "data": {"target": hand, "reason": "r"}})
    done = run(runner, db, "import-registry", *RU, b, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["snapshots"][0]["orders"] == 1


def _check(digest: str, subject: str, at: str) -> dict:
    """A ``registry-checked`` with the id the registry's import would give it."""
    return {"id": str(Registry("RU", "Roskomnadzor").event_id(digest, "registry-checked",
                                                               subject)),
            "type": "registry-checked", "subject": subject, "occurred_at": at,
            "sources": [{"title": "forged", "sha256": digest}],
            "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                     "jurisdiction": "RU"}}


def test_a_forged_check_is_cleared_by_its_retraction(runner, db, tmp_path):
    """H1: a hand-recorded check of the registry's shape dated after every snapshot made
    each later one "older than the latest", and retracting it changed nothing (the checks
    were read without their amendments): a retracted check counts for nothing."""
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";w.example.net;;o;D-3;"])
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = "7" * 64
    forged = _check(digest, f"ru-roskomnadzor-20261201000000-{digest[:8]}",
                    "2026-12-01T00:00:00+00:00")
    _import_by(runner, db, tmp_path, "mallory", forged)
    assert run(runner, db, "import-registry", *RU, b).exit_code != 0
    assert run(runner, db, "record", "retraction", forged["subject"], "--at", "2026-12-06",
               "--source", "review", "--target", forged["id"], "--reason",
               "forged").exit_code == 0
    before = count(db)
    done = run(runner, db, "import-registry", *RU, b, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["snapshots"][0]["orders"] == 1
    assert count(db) == before + 3  # its platform, its order, its check


def test_a_check_under_another_subject_is_not_the_registrys(runner, db, tmp_path):
    """H1: a check with the registry's id for a subject its imports never give (not its
    time and digest's) dated every later snapshot as older: it is hand-made, and counts
    for nothing."""
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000",
              [";x.example.ru;;o;D-1;", ";w.example.net;;o;D-3;"])
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    _import_by(runner, db, tmp_path, "mallory",
               _check("7" * 64, "ru-roskomnadzor-x", "2026-12-01T00:00:00+00:00"))
    done = run(runner, db, "import-registry", *RU, b, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["snapshots"][0]["orders"] == 1


ID = ["--format", "domains", "--authority", "Kominfo", "--jurisdiction", "ID"]


def _cut_short_at(db: str, path: Path, at: str, keep: int) -> None:
    """The first ``keep`` events of the import of list ``path`` at ``at`` (what a
    --batch-commit import killed after its first batch leaves), recorded by ``tester``."""
    from datetime import datetime

    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from projections.importing import import_facts
    from sources.holders import read_holders
    from sources.registry import Plan
    from sources.registry_held import held_in
    from sources.snapshots import read_snapshot

    snapshot = read_snapshot(path, "domains", datetime.fromisoformat(at))
    registry = Registry("ID", "Kominfo")
    with open_ledger(parse_target(db)) as ledger:
        held = held_in(ledger, registry, snapshot.updated)
        facts = list(Plan(snapshot, registry=registry, held=held,
                          holders=read_holders(ledger)).facts())
        assert facts[-1][1].type == "registry-checked" and keep < len(facts)
        import_facts(ledger, facts[:keep], operator="tester")


def test_a_cut_short_import_of_bytes_checked_before_at_another_time_is_unfinished(
        runner, db, tmp_path):
    """M1: a list that reverts (L, M, then L again at a later time), its third import cut
    short: the first check of L proved the cut-short events (proof keyed on the digest
    alone), and the next snapshot was diffed over the half. A check proves its snapshot's
    events at its own time only: N is refused naming L until L's import is finished."""
    from tests.clitools import one_line_error

    lists = {}
    for name, second in (("L", "b"), ("M", "c"), ("N", "d")):
        lists[name] = tmp_path / f"{name}.txt"
        lists[name].write_text(f"a.example.com\n{second}.example.com\n")
    for at, name in (("2024-03-01T00:00Z", "L"), ("2024-03-02T00:00Z", "M")):
        assert run(runner, db, "import-registry", *ID, "--at", at,
                   str(lists[name])).exit_code == 0
    _cut_short_at(db, lists["L"], "2024-03-03T00:00+00:00", 1)
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *ID, "--at", "2024-03-04T00:00Z",
                              str(lists["N"])), 1)
    assert "L.txt" in said and "cut short" in said and count(db) == before, said
    for at, name in (("2024-03-03T00:00Z", "L"), ("2024-03-04T00:00Z", "N")):
        result = run(runner, db, "import-registry", *ID, "--at", at, str(lists[name]))
        assert result.exit_code == 0, result.output
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    b = sorted((r["from"], r["to"]) for r in map(json.loads, rows)
               if r["target"] == "b.example.com")
    assert b == [("2024-03-01T00:00:00+00:00", "2024-03-02T00:00:00+00:00"),
                 ("2024-03-03T00:00:00+00:00", "2024-03-04T00:00:00+00:00")], b


def test_a_backfill_that_would_change_who_holds_a_later_order_is_refused(runner, db,
                                                                        tmp_path):
    """H4: s10 lists 6.6.6.6 with six.example.net under one decision, s11 lists 6.6.6.6
    alone under another. In order, example.net holds 6.6.6.6 and s11's order is its;
    s11 then s10 --backfill left s11's order with a platform ip-6.6.6.6 of its own (verify
    passing). Refused instead, naming it, nothing written."""
    from tests.clitools import one_line_error

    s10 = _dump(tmp_path / "s10.csv", "2024-01-10 10:00:00 +0000",
                ["6.6.6.6;six.example.net;;org;D-7;2020-01-01"])
    s11 = _dump(tmp_path / "s11.csv", "2024-01-11 10:00:00 +0000",
                ["6.6.6.6;;;org;D-6;2020-01-01"])
    assert run(runner, db, "import-registry", *RU, s11).exit_code == 0
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, "--backfill", s10), 1)
    # (refused as a target shared by decisions, the broader rule that now comes first)
    assert "6.6.6.6" in said and "s10.csv" in said and "more than one decision" in said, said
    assert count(db) == before


def test_a_backfill_giving_a_listed_address_another_home_is_refused(runner, db, tmp_path):
    """check_moved, past check_shared (one decision, so not shared): 6.6.6.6 listed under
    D-1 with a.example.org in the backfilled snapshot, with b.example.com in the next."""
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000", ["6.6.6.6;b.example.com;;o;D-1;"])
    s = _dump(tmp_path / "s.csv", "2024-01-15 10:00:00 +0000", ["6.6.6.6;a.example.org;;o;D-1;"])
    assert run(runner, db, "import-registry", *RU, b).exit_code == 0
    before = count(db)
    result = run(runner, db, "import-registry", *RU, s, "--backfill")
    assert result.exit_code == 1, result.output
    assert "which an import in order registers as platform example.org" in result.output
    assert count(db) == before


def test_a_backfill_giving_an_address_a_later_order_holds_is_refused(runner, db, tmp_path):
    """check_beyond, past check_shared: the order holding 6.6.6.6 was made by the snapshot
    after the next one, for another platform than the backfilled snapshot gives it."""
    b = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000", [";x.example.ru;;o;D-9;"])
    c = _dump(tmp_path / "c.csv", "2024-01-17 10:00:00 +0000",
              [";x.example.ru;;o;D-9;", "6.6.6.6;b.example.com;;o;D-2;"])
    s = _dump(tmp_path / "s.csv", "2024-01-15 10:00:00 +0000", ["6.6.6.6;a.example.org;;o;D-2;"])
    assert run(runner, db, "import-registry", *RU, b).exit_code == 0
    assert run(runner, db, "import-registry", *RU, c).exit_code == 0
    before = count(db)
    result = run(runner, db, "import-registry", *RU, s, "--backfill")
    assert result.exit_code == 1, result.output
    assert "after the next snapshot, is of example.com" in result.output
    assert count(db) == before
