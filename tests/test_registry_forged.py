"""import-registry against checks it did not make (issue 15, review findings 1, 2 and 6):
a ``registry-checked`` with the registry's computable id dates a snapshot, but never
decides what the registry listed; a snapshot is "already imported" only by its digest and
its time both; two files of one time are refused. Each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sources.registry import Registry
from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump

ID = ["--format", "domains", "--authority", "Kominfo", "--jurisdiction", "ID"]


def _forge(runner, db: str, tmp_path: Path, digest: str, subject: str, at: str) -> None:
    """A check with the id the registry's import would give it, recorded by hand."""
    registry = Registry("RU", "Roskomnadzor")
    path = tmp_path / f"{subject}.jsonl"
    path.write_text(json.dumps({
        "id": str(registry.event_id(digest, "registry-checked", subject)),
        "type": "registry-checked", "subject": subject, "occurred_at": at,
        "sources": [{"title": "dump.csv", "sha256": digest}],
        "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                 "jurisdiction": "RU"}}) + "\n")
    result = run(runner, db, "--operator", "mallory", "import", str(path))
    assert result.exit_code == 0, result.output


def _two(tmp_path: Path) -> tuple[str, str]:
    a = _dump(tmp_path / "a.csv", "2024-01-10 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";two.example.org;;org;D-2;2020-01-01"])
    c = _dump(tmp_path / "c.csv", "2024-01-12 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01",
               ";three.example.net;;org;D-3;2020-01-01"])
    return a, c


def test_a_forged_later_check_names_itself_and_steers_no_backfill(runner, db, tmp_path):
    a, c = _two(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    _forge(runner, db, tmp_path, "ab" * 32, "ru-roskomnadzor-20240601000000-abababab",
           "2024-06-01T00:00:00+00:00")
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 2)
    assert "2024-06-01" in said and "mallory" in said
    said = one_line_error(run(runner, db, "import-registry", *RU, "--backfill", c), 1)
    assert "known only from the check of 2024-06-01" in said and "mallory" in said
    assert count(db) == before


def test_a_forged_check_of_the_next_dump_does_not_skip_it(runner, db, tmp_path):
    a, c = _two(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = hashlib.sha256(Path(c).read_bytes()).hexdigest()
    _forge(runner, db, tmp_path, digest, "ru-roskomnadzor-by-hand",
           "2024-01-10T10:00:00+00:00")
    done = json.loads(run(runner, db, "import-registry", *RU, c, "--json").stdout)
    row = done["snapshots"][0]
    assert "skipped" not in row and row["orders"] == 1 and row["lifted_targets"] == 1


def test_the_same_list_at_a_later_time_is_imported_again(runner, db, tmp_path):
    (tmp_path / "a.txt").write_text("a.example.ru\n")
    (tmp_path / "b.txt").write_text("b.example.org\n")
    for at, name in (("2024-03-01", "a.txt"), ("2024-03-02", "b.txt"), ("2024-03-03", "a.txt")):
        result = run(runner, db, "import-registry", *ID, "--at", at, str(tmp_path / name))
        assert result.exit_code == 0 and "skipped" not in result.output, result.output
    again = run(runner, db, "import-registry", *ID, "--at", "2024-03-03", str(tmp_path / "a.txt"))
    assert again.exit_code == 0 and "0 events written" in again.output, again.output
    rows = json.loads(run(runner, db, "status", "--as-of", "2024-03-04", "--json").stdout)
    state = {row["platform"]: row["state"] for row in rows}
    assert state["example.ru"] == "blocked" and state["example.org"] != "blocked"


def test_another_file_of_the_same_time_is_refused(runner, db, tmp_path):
    a = _dump(tmp_path / "a.csv", "2024-01-10 10:00:00 +0000", [";x.example.ru;;org;D-1;"])
    a2 = _dump(tmp_path / "a2.csv", "2024-01-10 10:00:00 +0000", [";y.example.org;;org;D-2;"])
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, a2), 2)
    assert "a2.csv" in said and "two files cannot both be the registry then" in said
    assert count(db) == before
    result = run(runner, db, "import-registry", *RU, a)
    assert result.exit_code == 0 and "0 events written" in result.output, result.output


def test_an_address_under_two_decisions_does_not_wedge_the_registry(runner, db, tmp_path):
    """Review finding 4: an address two platforms hold is ambiguous to ``find``, not
    "held by nobody": re-ordering it adds no target its platform holds already."""
    one, two = "2.2.2.2;;;org;D-4;2020-01-01", "2.2.2.2;y.example.org;;org;D-3;2020-01-01"
    files = [_dump(tmp_path / f"s{day}.csv", f"2024-01-{day} 10:00:00 +0000", lines)
             for day, lines in (("10", [one]), ("11", [one, two]), ("12", [two]),
                                ("13", [one, two]), ("14", [one, two]))]
    for path in files:
        result = run(runner, db, "import-registry", *RU, path)
        assert result.exit_code == 0, result.output


def _forged_order(runner, db: str, tmp_path: Path, digest: str) -> str:
    """mallory's order of three.example.net under decision D-3, with the id the import of
    the snapshot of ``digest`` would give it, and the platform it needs: the event id a
    registry's import gives is computable by anyone."""
    from sources.registry import decision_ref

    registry = Registry("RU", "Roskomnadzor")
    ref = decision_ref(registry.name, "D-3")
    forged = {"id": str(registry.event_id(digest, "blocked", ref)), "type": "blocked",
              "subject": ref, "occurred_at": "2024-01-10T11:00:00+00:00",
              "sources": [{"title": "a.csv", "sha256": digest}],
              "data": {"platform": "example.net", "authority": "Roskomnadzor",
                       "targets": ["three.example.net"], "reasons": ["by hand"],
                       "jurisdiction": "RU"}}
    platform = {"type": "platform-registered", "subject": "example.net",
                "occurred_at": "2024-01-10T10:30:00+00:00", "sources": [{"title": "hand"}],
                "data": {"name": "Example", "targets": ["three.example.net"]}}
    path = tmp_path / "forged.jsonl"
    path.write_text(json.dumps(platform) + "\n" + json.dumps(forged) + "\n")
    result = run(runner, db, "--operator", "mallory", "import", str(path))
    assert result.exit_code == 0, result.output
    return forged["id"]


def test_a_forged_order_of_the_registrys_shape_steers_no_diff(runner, db, tmp_path):
    """mallory's ``blocked`` with the id a's import would give an order of decision D-3:
    read as the registry's (its id's shape alone), c's diff found D-3's entry held already
    and ordered nothing, leaving mallory's order as the registry's. An event is the
    registry's only where a check of its snapshot by its own recorder proves it: c is
    refused, naming mallory's events, until they are retracted; then c orders D-3 itself."""
    a, c = _two(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = hashlib.sha256(Path(a).read_bytes()).hexdigest()
    forged = _forged_order(runner, db, tmp_path, digest)
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 1)
    assert "mallory" in said and "a.csv" in said and "retract" in said, said
    assert count(db) == before
    from sources.registry import decision_ref

    ref = decision_ref("ru-roskomnadzor", "D-3")
    assert run(runner, db, "record", "retraction", ref, "--at", "2024-01-10T11:00:00Z",
               "--target", forged, "--reason", "not the registry's", "--source",
               "review").exit_code == 0
    done = json.loads(run(runner, db, "import-registry", *RU, c, "--json").stdout)
    assert done["snapshots"][0]["orders"] == 1, done
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    three = [json.loads(row) for row in rows if "three.example.net" in row]
    assert [(r["from"], r["to"]) for r in three] == [("2024-01-12T10:00:00+00:00", None)], three
