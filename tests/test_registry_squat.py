"""import-registry against squatted ids (issue 15, attack H2): the ids of a registry
import's events derive from the public dump, so anyone can record an event under one
before the honest import writes it. An id, once stored, is taken for ever (a retracted
event keeps it): the snapshot was then refused for ever, even after the squatting event
was retracted. An id held by an event retracted, or not the registry's (not proven by a
check of its snapshot by its own recorder), is derived again with a further component
(``again``), the same on every run. Each test failed before its fix."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from sources.registry import Registry, decision_ref
from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump

REGISTRY = Registry("RU", "Roskomnadzor")
REF = decision_ref("ru-roskomnadzor", "D-3")


def _files(tmp_path: Path) -> tuple[str, str, str]:
    a = _dump(tmp_path / "a.csv", "2024-01-10 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01"])
    c = _dump(tmp_path / "c.csv", "2024-01-12 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";three.example.net;;org;D-3;2020-01-01"])
    d = _dump(tmp_path / "d.csv", "2024-01-13 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01"])
    return a, c, d


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _by(runner, db: str, tmp_path: Path, operator: str, *events: dict) -> None:
    path = tmp_path / f"{operator}-{count(db)}.jsonl"
    path.write_text("".join(json.dumps(event) + "\n" for event in events))
    result = run(runner, db, "--operator", operator, "import", str(path))
    assert result.exit_code == 0, result.output


def _statement(event_id: str) -> dict:
    """A statement about platform example.ru (a's import registers it) under ``event_id``:
    an event of no registry's shape."""
    return {"id": event_id, "type": "statement-issued", "subject": "example.ru",
            "occurred_at": "2024-01-11T00:00:00+00:00", "sources": [{"title": "hand"}],
            "data": {"by": "someone", "summary": "squatting"}}


def _retract(runner, db: str, subject: str, target: str) -> None:
    result = run(runner, db, "record", "retraction", subject, "--at", "2024-01-12T11:00:00Z",
                 "--target", target, "--reason", "squatting", "--source", "review")
    assert result.exit_code == 0, result.output


def _imports_on(runner, db: str, c: str, d: str, checked: str | None = None) -> None:
    """c imports (one order, D-3's; its check under ``checked``, if given), again adds
    nothing, and d after it lifts D-3: c's events are the registry's (proven by its
    check), whatever their ids."""
    done = run(runner, db, "import-registry", *RU, c, "--json")
    assert done.exit_code == 0, done.output
    row = json.loads(done.stdout)["snapshots"][0]
    assert row["orders"] == 1 and row["checked"] == (checked or row["checked"]), row
    before = count(db)
    again = run(runner, db, "import-registry", *RU, c)
    assert again.exit_code == 0 and "0 events written" in again.output, again.output
    assert count(db) == before
    lifted = run(runner, db, "import-registry", *RU, d, "--json")
    assert lifted.exit_code == 0, lifted.output
    assert json.loads(lifted.stdout)["snapshots"][0]["lifted_targets"] == 1
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    three = [json.loads(row) for row in rows if "three.example.net" in row]
    assert [(r["from"], r["to"]) for r in three] == [
        ("2024-01-12T10:00:00+00:00", "2024-01-13T10:00:00+00:00")], three


def test_a_squatted_check_retracted_lets_the_snapshot_import(runner, db, tmp_path):
    """mallory's check of c, with its id, before c is imported: refused naming it (c reads
    as imported, and the ledger does not hold what it lists); retracted, c's own check
    (the same id) was refused as "in the ledger already, with other content" for ever."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    subject = REGISTRY.check_subject(digest, _at("2024-01-12T10:00:00+00:00"))
    forged = {"id": str(REGISTRY.event_id(digest, "registry-checked", subject)),
              "type": "registry-checked", "subject": subject,
              "occurred_at": "2024-01-12T10:00:00+00:00",
              "sources": [{"title": "c.csv", "sha256": digest}],
              "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                       "jurisdiction": "RU", "summary": "forged"}}
    _by(runner, db, tmp_path, "mallory", forged)
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 1)
    assert "mallory" in said and count(db) == before, said
    _retract(runner, db, subject, forged["id"])
    _imports_on(runner, db, c, d)


def test_a_squatted_order_id_of_another_shape_is_derived_again(runner, db, tmp_path):
    """A statement under the id c's import gives D-3's order: not the registry's event (its
    type and subject are not the order's), retracted or not; c's order gets another id."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    _by(runner, db, tmp_path, "mallory",
        _statement(str(REGISTRY.event_id(_digest(c), "blocked", REF))))
    _imports_on(runner, db, c, d)


def test_a_squatted_order_of_the_registrys_shape_refuses_until_retracted(runner, db,
                                                                         tmp_path):
    """mallory's ``blocked`` of D-3, with the id c's import gives it, at c's time: the
    refusal naming it stays until it is retracted; then c imports (its order under
    another reference: the squatted one is taken). (The documented behaviour, kept.)"""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    forged = {"id": str(REGISTRY.event_id(digest, "blocked", REF)), "type": "blocked",
              "subject": REF, "occurred_at": "2024-01-12T10:00:00+00:00",
              "sources": [{"title": "c.csv", "sha256": digest}],
              "data": {"platform": "example.ru", "authority": "Roskomnadzor",
                       "targets": ["one.example.ru"], "reasons": ["by hand"],
                       "jurisdiction": "RU"}}
    _by(runner, db, tmp_path, "mallory", forged)
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 1)
    assert "mallory" in said and "c.csv" in said and count(db) == before, said
    _retract(runner, db, REF, forged["id"])
    _imports_on(runner, db, c, d)


def test_a_squatted_registration_id_retracted_lets_the_snapshot_import(runner, db, tmp_path):
    """mallory's registration of a platform c's import does not register, under the id of
    the one it does (example.net): not the registry's event (another subject), retracted
    or not; c's registration gets another id."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    squat = {"id": str(REGISTRY.event_id(digest, "platform-registered", "example.net")),
             "type": "platform-registered", "subject": "squat.example",
             "occurred_at": "2024-01-12T10:00:00+00:00",
             "sources": [{"title": "c.csv", "sha256": digest}],
             "data": {"name": "Squat", "targets": ["squat.example"]}}
    _by(runner, db, tmp_path, "mallory", squat)
    _imports_on(runner, db, c, d)


def test_every_squatted_again_id_is_passed(runner, db, tmp_path):
    """The ids derived again are computable too: mallory squats the first four of D-3's
    order. The derivation is unbounded (each squat costs her an event): c takes the fifth,
    and again adds nothing."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    _by(runner, db, tmp_path, "mallory", *(
        _statement(str(REGISTRY.event_id(digest, "blocked", REF, again=n))) for n in range(4)))
    _imports_on(runner, db, c, d)
    rows = run(runner, db, "history", REF, "--json")
    assert rows.exit_code == 0, rows.output
    ids = [row["id"] for row in json.loads(rows.stdout)["events"] if row["type"] == "blocked"]
    assert ids == [str(REGISTRY.event_id(digest, "blocked", REF, again=4))], ids


def test_a_squatted_again_id_of_the_registrys_shape_refuses_until_retracted(runner, db,
                                                                           tmp_path):
    """The first id held by a statement, the second by mallory's ``blocked`` of the
    registry's shape (the note naming it again): her order stops the registry, named, until
    retracted; then c takes the third id."""
    from sources.registry_ids import again_note

    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    forged = {"id": str(REGISTRY.event_id(digest, "blocked", REF, again=1)),
              "type": "blocked", "subject": REF, "note": again_note(1),
              "occurred_at": "2024-01-12T10:00:00+00:00",
              "sources": [{"title": "c.csv", "sha256": digest}],
              "data": {"platform": "example.ru", "authority": "Roskomnadzor",
                       "targets": ["one.example.ru"], "reasons": ["by hand"],
                       "jurisdiction": "RU"}}
    _by(runner, db, tmp_path, "mallory",
        _statement(str(REGISTRY.event_id(digest, "blocked", REF))), forged)
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 1)
    assert "mallory" in said and "c.csv" in said and count(db) == before, said
    _retract(runner, db, REF, forged["id"])
    _imports_on(runner, db, c, d)


def _at(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text)


def test_a_squatted_check_subject_is_derived_again(runner, db, tmp_path):
    """A check under c's check's subject with another id (no check of the registry's: its
    id is not the shape's) took that subject: a snapshot's subject is fixed, and c's check
    was refused as "exists already" for ever. It is derived again, subject and id."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    subject = REGISTRY.check_subject(digest, _at("2024-01-12T10:00:00+00:00"))
    _by(runner, db, tmp_path, "mallory", {
        "id": "22222222-2222-4222-8222-222222222222", "type": "registry-checked",
        "subject": subject, "occurred_at": "2024-01-12T10:00:00+00:00",
        "sources": [{"title": "c.csv", "sha256": digest}],
        "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                 "jurisdiction": "RU"}})
    _imports_on(runner, db, c, d, checked=f"{subject}-again-1")
    shown = run(runner, db, "history", f"{subject}-again-1", "--json")
    assert shown.exit_code == 0, shown.output
    (check,) = json.loads(shown.stdout)["events"]
    assert check["id"] == str(REGISTRY.event_id(digest, "registry-checked",
                                                f"{subject}-again-1", again=1)), check


def _check_by_hand(digest: str, subject: str, at: str) -> dict:
    """A check under ``subject`` whose id is not the registry's shape (not a check of its)."""
    return {"id": "22222222-2222-4222-8222-222222222222", "type": "registry-checked",
            "subject": subject, "occurred_at": at,
            "sources": [{"title": "by hand", "sha256": digest}],
            "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                     "jurisdiction": "RU"}}


@pytest.mark.parametrize("squat", ["order", "check"])
def test_a_backfill_passes_a_squatted_id(runner, db, tmp_path, squat):
    """b placed between a and c (--backfill) orders D-3 at its time and lifts it at c's: the
    id of its order taken by a statement, it takes the next; its check's subject taken (its
    check is not the last of its events: the lift at c's time follows), the same."""
    a, c, _ = _files(tmp_path)
    c = _dump(tmp_path / "c.csv", "2024-01-12 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";four.example.org;;org;D-4;2020-01-01"])
    b = _dump(tmp_path / "b.csv", "2024-01-11 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";three.example.net;;org;D-3;2020-01-01"])
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    digest = _digest(b)
    subject = REGISTRY.check_subject(digest, _at("2024-01-11T10:00:00+00:00"))
    _by(runner, db, tmp_path, "mallory",
        _statement(str(REGISTRY.event_id(digest, "blocked", REF))) if squat == "order"
        else _check_by_hand(digest, subject, "2024-01-11T10:00:00+00:00"))
    done = run(runner, db, "import-registry", *RU, "--backfill", b)
    assert done.exit_code == 0, done.output
    again = run(runner, db, "import-registry", *RU, "--backfill", b)
    assert again.exit_code == 0, again.output
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    three = [json.loads(row) for row in rows if "three.example.net" in row]
    assert [(r["from"], r["to"]) for r in three] == [
        ("2024-01-11T10:00:00+00:00", "2024-01-12T10:00:00+00:00")], three


def test_an_import_cut_short_finishes_past_a_squatted_check_id(runner, db, tmp_path):
    """tester's import of L cut short after its first event; mallory then takes the id of
    its check. Finished by tester, its check takes the next id (and subject), and proves
    tester's events: the next snapshot is not refused as following an import cut short."""
    from tests.test_registry_review2 import ID, _cut_short_at

    first, second = tmp_path / "L.txt", tmp_path / "M.txt"
    first.write_text("a.example.com\nb.example.com\n")
    second.write_text("a.example.com\n")
    (tmp_path / "K.txt").write_text("a.example.com\n")
    assert run(runner, db, "import-registry", *ID, "--at", "2024-02-29T00:00Z",
               str(tmp_path / "K.txt")).exit_code == 0
    _cut_short_at(db, first, "2024-03-01T00:00+00:00", 1)
    digest = _digest(str(first))
    subject = Registry("ID", "Kominfo").check_subject(digest, _at("2024-03-01T00:00+00:00"))
    _by(runner, db, tmp_path, "mallory", {
        **_statement(str(Registry("ID", "Kominfo").event_id(digest, "registry-checked",
                                                             subject))),
        "subject": "example.com", "occurred_at": "2024-03-01T00:00:00+00:00"})
    done = run(runner, db, "--operator", "tester", "import-registry", *ID, "--at",
               "2024-03-01T00:00Z", str(first))
    assert done.exit_code == 0, done.output
    result = run(runner, db, "import-registry", *ID, "--at", "2024-03-02T00:00Z", str(second))
    assert result.exit_code == 0, result.output
    assert "1 targets lifted" in result.output, result.output
