"""import-registry against the third hostile review of its squat and launder rules (the
second of fixregsquat's): each test failed before its fix."""

from __future__ import annotations

import hashlib
import json

import pytest

from sources.registry import decision_ref
from tests.clitools import count, one_line_error, run
from tests.test_import_registry import RU, _dump
from tests.test_registry_squat import REGISTRY, _at, _by, _digest, _files

FAKE = decision_ref("ru-roskomnadzor", "FAKE-666")
C_AT = "2024-01-12T10:00:00+00:00"
MADE_UP = hashlib.sha256(b"nothing published").hexdigest()


def _check(digest: str, at: str) -> dict:
    """A check of the registry's shape (its id and subject) of ``digest`` at ``at``."""
    subject = REGISTRY.check_subject(digest, _at(at))
    return {"id": str(REGISTRY.event_id(digest, "registry-checked", subject)),
            "type": "registry-checked", "subject": subject, "occurred_at": at,
            "sources": [{"title": "c.csv", "sha256": digest}],
            "data": {"registry": "ru-roskomnadzor", "authority": "Roskomnadzor",
                     "jurisdiction": "RU", "summary": "2 entries listed"}}


def _forged(digest: str, at: str) -> dict:
    """An order of the registry's shape of a decision no snapshot lists, citing ``digest``."""
    return {"id": str(REGISTRY.event_id(digest, "blocked", FAKE)), "type": "blocked",
            "subject": FAKE, "occurred_at": at,
            "sources": [{"title": "c.csv", "sha256": digest}],
            "data": {"platform": "example.ru", "authority": "Roskomnadzor",
                     "targets": ["one.example.ru"], "reasons": ["forged"],
                     "jurisdiction": "RU"}}


def test_a_second_snapshot_checked_at_an_imported_time_refuses(runner, db, tmp_path):
    """HIGH 1: after c's import (01-12T10:00), mallory recorded a check of a made-up digest
    at c's very time and an order citing it: her check proved it, and d's import lifted it
    as the registry's. Two checks at one instant (whatever their digests) now refuse every
    import of the registry, naming both recorders; retracting hers lets d import."""
    a, c, d = _files(tmp_path)
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    _by(runner, db, tmp_path, "mallory", _check(MADE_UP, C_AT), _forged(MADE_UP, C_AT))
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, d), 1)
    assert count(db) == before, said
    assert "two snapshots" in said and C_AT in said, said
    assert "by tester" in said and "by mallory" in said and MADE_UP[:12] in said, said
    # a re-run of c is refused too: the registry is stopped, not steered
    again = one_line_error(run(runner, db, "import-registry", *RU, c), 1)
    assert "by mallory" in again and count(db) == before
    events = json.loads(run(runner, db, "history", FAKE, "--json").stdout)["events"]
    assert [e["type"] for e in events] == ["blocked"]


ID = ("--format", "domains", "--authority", "Kominfo", "--jurisdiction", "ID")


@pytest.mark.parametrize("backfiller", ["alice", "bob"])
def test_a_backfill_of_a_later_snapshots_bytes_is_refused_naming_it(runner, db, tmp_path,
                                                                     backfiller):
    """MEDIUM 3: a plain list unchanged between a snapshot found later and the next one
    imported has that one's bytes; its backfill failed on the store's raw "event … is in
    the ledger already … with other content" (its events' ids are the later import's).
    Now refused up front, one line naming the later snapshot, nothing written; a backfill
    of the earlier snapshot's bytes is still placed."""
    l1, l2 = tmp_path / "l1.txt", tmp_path / "l2.txt"
    l1.write_text("one.example.id\ntwo.example.id\n")
    l2.write_text("one.example.id\nthree.example.id\n")

    def imp(who: str, at: str, path, *extra: str):
        return run(runner, db, "--operator", who, "import-registry", *ID, "--at", at,
                   *extra, str(path))

    assert imp("alice", "2024-03-01T00:00:00+00:00", l1).exit_code == 0
    assert imp("bob", "2024-03-03T00:00:00+00:00", l2).exit_code == 0
    before = count(db)
    said = one_line_error(imp(backfiller, "2024-03-02T00:00:00+00:00", l2, "--backfill"), 1)
    assert "same bytes" in said and "2024-03-03T00:00:00+00:00" in said, said
    assert "recorded by bob" in said and "in the ledger already" not in said, said
    assert count(db) == before
    done = imp(backfiller, "2024-03-02T00:00:00+00:00", l1, "--backfill")
    assert done.exit_code == 0 and count(db) > before, done.output


@pytest.mark.parametrize("check_at", ["2024-01-11T10:00:00+00:00", "2024-01-01T00:00:00+00:00"])
def test_an_order_of_a_plain_reference_at_a_later_checks_time_is_not_proven(
        runner, db, tmp_path, check_at):
    """HIGH 1 (idea 3): mallory's check of a made-up snapshot before c's, and her order of
    a plain decision reference citing it dated at c's time, were proven as a backfill's
    corrective events (her check earlier, c's time a check's): d's import lifted it as the
    registry's. At a later check's time an order counts only under the reference a
    backfill gives one it makes then (``-at-`` that time): hers is unproven, so every
    import is refused naming her (an import cut short, or made by hand) until retracted."""
    a, c, d = _files(tmp_path)
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    _by(runner, db, tmp_path, "mallory", _check(MADE_UP, check_at), _forged(MADE_UP, C_AT))
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, d), 1)
    assert "recorded by mallory" in said and "cut short" in said and count(db) == before, said
    events = json.loads(run(runner, db, "history", FAKE, "--json").stdout)["events"]
    assert [e["type"] for e in events] == ["blocked"]


def test_an_order_citing_a_real_dump_at_a_later_checks_time_is_not_proven(runner, db,
                                                                            tmp_path):
    """HIGH 1 (idea 3), with c's real bytes: mallory's check of them at another time
    (01-12T22:00), then after d's import her order citing c dated at d's time, was lifted
    by e's import as the registry's. Now unproven: e is refused naming her."""
    a, c, d = _files(tmp_path)
    e = _dump(tmp_path / "e.csv", "2024-01-14 10:00:00 +0000",
              [";one.example.ru;;org;D-1;2020-01-01"])
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    _by(runner, db, tmp_path, "mallory", _check(_digest(c), "2024-01-12T22:00:00+00:00"))
    assert run(runner, db, "import-registry", *RU, d).exit_code == 0
    _by(runner, db, tmp_path, "mallory", _forged(_digest(c), "2024-01-13T10:00:00+00:00"))
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, e), 1)
    assert "recorded by mallory" in said and count(db) == before, said


def test_a_rerun_refused_for_a_hand_made_order_names_it(runner, db, tmp_path):
    """LOW 4: mallory's check of a made-up snapshot (01-11) and her order citing it at that
    time (the base trust model: she imported that snapshot, as far as the ledger knows).
    A re-run of c was refused naming only c's honest check; it now names the order it
    would lift and who recorded it."""
    a, c, _ = _files(tmp_path)
    for path in (a, c):
        assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    at = "2024-01-11T10:00:00+00:00"
    _by(runner, db, tmp_path, "mallory", _check(MADE_UP, at), _forged(MADE_UP, at))
    before = count(db)
    said = one_line_error(run(runner, db, "import-registry", *RU, c), 1)
    assert f"of {FAKE} (recorded by mallory)" in said and "recorded by tester" in said, said
    assert count(db) == before
