"""import-registry against checks derived again by hand, notes corrected and squatted order
references (the review of the fix of issue 15's attack H2). A check derived again
(``<subject>-again-N``, note ``id again N``) can be computed by anyone: a second operator's
check of a snapshot imported already proved her forged order citing it, which the next
import lifted as the registry's; a correction of a check's note changed its N and stopped
the registry; an order reference taken by hand-made orders (retracted or not) refused its
decision for ever. Each test failed before its fix."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from sources.registry import decision_ref
from sources.registry_ids import again_note
from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump
from tests.test_registry_squat import (
    REF,
    REGISTRY,
    _at,
    _by,
    _check_by_hand,
    _digest,
    _files,
    _imports_on,
    _retract,
)

FAKE = decision_ref("ru-roskomnadzor", "FAKE-666")
C_AT = "2024-01-12T10:00:00+00:00"


def _check(digest: str, subject: str, at: str, again: int = 0) -> dict:
    """A check of the registry's shape (its id, subject and note) recorded by hand."""
    return {"id": str(REGISTRY.event_id(digest, "registry-checked", subject, again)),
            "type": "registry-checked", "subject": subject, "occurred_at": at,
            **({"note": again_note(again)} if again else {}),
            "sources": [{"title": "c.csv", "sha256": digest}],
            "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                     "jurisdiction": "RU", "summary": "mallory's"}}


def _forged(digest: str) -> dict:
    """mallory's order of a decision no snapshot lists, citing c, of the registry's shape."""
    return {"id": str(REGISTRY.event_id(digest, "blocked", FAKE)), "type": "blocked",
            "subject": FAKE, "occurred_at": C_AT,
            "sources": [{"title": "c.csv", "sha256": digest}],
            "data": {"platform": "example.ru", "authority": "Roskomnadzor",
                     "targets": ["one.example.ru"], "reasons": ["forged"],
                     "jurisdiction": "RU"}}


def _refused(runner, db: str, path: str, *named: str) -> None:
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, path), 1)
    assert all(name in said for name in named) and count(db) == before, said


def _lifts_no_forgery(runner, db: str, d: str) -> None:
    done = run(runner, db, "import-registry", *RU, d, "--json")
    assert done.exit_code == 0, done.output
    events = json.loads(run(runner, db, "history", FAKE, "--json").stdout)["events"]
    assert [e["type"] for e in events] == ["blocked", "retraction"], events


@pytest.mark.parametrize("route", ["again-check", "earlier-check"])
def test_a_second_check_of_an_imported_snapshot_proves_none_of_its_recorders_events(
        runner, db, tmp_path, route):
    """c imported; mallory records a check of c's very bytes (derived again beside the
    honest one, or at an earlier time) and an order citing c: her check proved her order
    the registry's, and d's import lifted it as the registry's (verify passing). Now d is
    refused, naming her check or her order, until they are retracted."""
    a, c, _ = _files(tmp_path)
    d = _dump(tmp_path / "d.csv", "2024-01-13 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";three.example.net;;org;D-3;2020-01-01"])
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    digest = _digest(c)
    plain = REGISTRY.check_subject(digest, _at(C_AT))
    if route == "again-check":
        check = _check(digest, f"{plain}-again-1", C_AT, again=1)
    else:
        earlier = _at(C_AT) - timedelta(hours=1)
        check = _check(digest, REGISTRY.check_subject(digest, earlier), earlier.isoformat())
    forged = _forged(digest)
    _by(runner, db, tmp_path, "mallory", check, forged)
    if route == "again-check":  # two recorders' checks of c: both named
        _refused(runner, db, d, "tester", "mallory", "two operators")
        _retract(runner, db, check["subject"], check["id"])
    _refused(runner, db, d, "mallory", "c.csv")  # her order: proven by no check of hers
    _retract(runner, db, FAKE, forged["id"])
    _lifts_no_forgery(runner, db, d)


def test_two_recorders_checks_derived_again_are_refused_naming_both(runner, db, tmp_path):
    """c's check subject taken by hand, so its check is derived again (again-1), needed;
    mallory adds a check derived once more (again-2, needed too by the rule of its plain
    subject) and an order citing c. Only the first check was kept (``Held.checks``), hers
    proved her order: now both are named, whatever the order kept."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    plain = REGISTRY.check_subject(digest, _at(C_AT))
    _by(runner, db, tmp_path, "someone", _check_by_hand(digest, plain, C_AT))
    done = run(runner, db, "import-registry", *RU, c, "--json")
    assert json.loads(done.stdout)["snapshots"][0]["checked"] == f"{plain}-again-1"
    check = _check(digest, f"{plain}-again-2", C_AT, again=2)
    forged = _forged(digest)
    _by(runner, db, tmp_path, "mallory", check, forged)
    _refused(runner, db, d, "tester", "mallory", "two operators")
    _retract(runner, db, check["subject"], check["id"])
    _refused(runner, db, d, "mallory", "c.csv")
    _retract(runner, db, FAKE, forged["id"])
    done = run(runner, db, "import-registry", *RU, d, "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["snapshots"][0]["lifted_targets"] == 1  # D-3 only


@pytest.mark.parametrize("note", ["checked by hand against the mirror",
                                  "id again 1: see ticket 7"])
def test_a_correction_of_a_checks_note_changes_nothing(runner, db, tmp_path, note):
    """A check's note may be corrected; its ``id again N`` was read from the note as
    corrected, so a note starting so unrecognised the check and stopped the registry."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    done = run(runner, db, "import-registry", *RU, c, "--json")
    subject = json.loads(done.stdout)["snapshots"][0]["checked"]
    _correct_note(runner, db, subject, note)
    lifted = run(runner, db, "import-registry", *RU, d, "--json")
    assert lifted.exit_code == 0, lifted.output
    assert json.loads(lifted.stdout)["snapshots"][0]["lifted_targets"] == 1


def test_a_correction_of_the_note_of_a_check_derived_again_changes_nothing(runner, db,
                                                                          tmp_path):
    """c's check derived again (its subject taken by hand): a correction of its note to a
    harmless text made it N = 0, not the registry's; d was refused, and running c again
    did not repair it."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    digest = _digest(c)
    plain = REGISTRY.check_subject(digest, _at(C_AT))
    _by(runner, db, tmp_path, "mallory", _check_by_hand(digest, plain, C_AT))
    _correct_note(runner, db, None, "checked by hand against the mirror", c=c,
                  checked=f"{plain}-again-1")
    again = run(runner, db, "import-registry", *RU, c)
    assert again.exit_code == 0 and "0 events written" in again.output, again.output
    lifted = run(runner, db, "import-registry", *RU, d, "--json")
    assert lifted.exit_code == 0, lifted.output
    assert json.loads(lifted.stdout)["snapshots"][0]["lifted_targets"] == 1


def _correct_note(runner, db: str, subject: str | None, note: str, c: str | None = None,
                  checked: str | None = None) -> None:
    """Correct the note of the check under ``subject`` (or of c's, imported now, which is
    to be under ``checked``)."""
    if subject is None:
        done = run(runner, db, "import-registry", *RU, c, "--json")
        subject = json.loads(done.stdout)["snapshots"][0]["checked"]
        assert subject == checked, done.output
    (check,) = json.loads(run(runner, db, "history", subject, "--json").stdout)["events"]
    fix = run(runner, db, "record", "correction", subject, "--at", "2024-01-12T12:00:00Z",
              "--target", check["id"], "--set", f"note={note}", "--reason", "annotating",
              "--source", "review")
    assert fix.exit_code == 0, fix.output


def _order_by_hand(event_id: str, ref: str) -> dict:
    return {"id": event_id, "type": "blocked", "subject": ref,
            "occurred_at": "2024-01-11T00:00:00+00:00", "sources": [{"title": "hand"}],
            "data": {"platform": "example.ru", "authority": "Roskomnadzor",
                     "targets": ["one.example.ru"], "reasons": ["grudge"],
                     "jurisdiction": "RU"}}


@pytest.mark.parametrize("retracted", [True, False])
def test_a_squatted_order_reference_is_derived_again(runner, db, tmp_path, retracted):
    """D-3's reference and its ``-at-`` form at c's time taken by hand-made orders
    (retracted or not): c was refused for ever ("an order ... exists already"). Its order
    is derived again (``-at-<time>-again-1``), the registry's: again adds nothing, d lifts
    it."""
    a, c, d = _files(tmp_path)
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    at_ref = f"{REF}-at-20240112100000"
    ids = [f"33333333-3333-4333-8333-33333333333{i}" for i in range(2)]
    _by(runner, db, tmp_path, "mallory", *(
        _order_by_hand(i, ref) for i, ref in zip(ids, (REF, at_ref), strict=True)))
    if retracted:
        for i, ref in zip(ids, (REF, at_ref), strict=True):
            _retract(runner, db, ref, i)
    _imports_on(runner, db, c, d)
    shown = run(runner, db, "history", f"{at_ref}-again-1", "--json")
    assert shown.exit_code == 0, shown.output
    types = [e["type"] for e in json.loads(shown.stdout)["events"]]
    assert types == ["blocked", "unblocked"], types


def test_a_backfill_derives_a_squatted_order_reference_again(runner, db, tmp_path):
    """b, placed between a and c, no longer lists D-3, which c lists again: D-3 is ordered
    anew at c's time (``-at-`` c's time). That reference taken by a hand-made order, the
    backfill was refused; it takes ``-again-1``, and again adds nothing."""
    a = _dump(tmp_path / "a.csv", "2024-01-10 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";three.example.net;;org;D-3;2020-01-01"])
    c = _dump(tmp_path / "c.csv", "2024-01-12 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01", ";three.example.net;;org;D-3;2020-01-01",
               ";four.example.org;;org;D-4;2020-01-01"])
    b = _dump(tmp_path / "b.csv", "2024-01-11 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01"])
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    at_ref = f"{REF}-at-20240112100000"
    _by(runner, db, tmp_path, "mallory",
        _order_by_hand("33333333-3333-4333-8333-333333333330", at_ref))
    done = run(runner, db, "import-registry", *RU, "--backfill", b)
    assert done.exit_code == 0, done.output
    before = count(db)
    again = run(runner, db, "import-registry", *RU, "--backfill", b)
    assert again.exit_code == 0 and count(db) == before, again.output
    shown = json.loads(run(runner, db, "history", f"{at_ref}-again-1", "--json").stdout)
    assert [e["type"] for e in shown["events"]] == ["blocked"], shown
    rows = run(runner, db, "export", "intervals", "--format", "jsonl").stdout.splitlines()
    three = sorted((r["from"], r["to"]) for r in map(json.loads, rows)
                   if "three.example.net" in json.dumps(r))
    assert three == [("2024-01-10T10:00:00+00:00", "2024-01-11T10:00:00+00:00"),
                     ("2024-01-12T10:00:00+00:00", None)], three
