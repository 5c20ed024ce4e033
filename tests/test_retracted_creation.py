"""A subject whose creating event was retracted: the refusals say the way on (a walkthrough
found a dead end: registering it again said "exists already", and retracting the
retraction said "record the event again", which the first refused)."""

from __future__ import annotations

import json

import pytest

from tests.clitools import one_line_error, run, run_json

SRC = ("--source", "https://example.org/notice")


@pytest.fixture
def retracted(runner, db):
    assert run(runner, db, "record", "platform-registered", "acme", "--at", "2020-01-01", *SRC,
               "--name", "Acme", "--target", "acme.example").exit_code == 0
    [registered] = run_json(runner, db, "history", "acme")["events"]
    assert run(runner, db, "record", "retraction", "acme", "--at", "2020-02-01", *SRC,
               "--target", registered["id"], "--reason", "wrong").exit_code == 0
    events = run_json(runner, db, "history", "acme")["events"]
    return db, registered["id"], next(e["id"] for e in events if e["type"] == "retraction")


def test_registering_it_again_names_the_retraction_and_the_way_on(runner, retracted):
    db, registered, _ = retracted
    line = one_line_error(run(runner, db, "record", "platform-registered", "acme", "--at",
                              "2020-03-01", *SRC, "--name", "Acme", "--target",
                              "acme.example"), 1)
    assert f"platform acme was created by platform-registered of 2020-01-01 ({registered})" \
        in line
    assert "which was retracted" in line and "another reference (e.g. acme-2)" in line


def test_retracting_the_retraction_says_the_same(runner, retracted):
    db, registered, retraction = retracted
    line = one_line_error(run(runner, db, "record", "retraction", "acme", "--at", "2020-03-01",
                              *SRC, "--target", retraction, "--reason", "undo"), 1)
    assert f"a retraction cannot be retracted, and {registered} created acme" in line
    assert "record it again under another reference" in line


def test_the_way_on_works_and_the_first_stays_unregistered(runner, retracted):
    db, _, _ = retracted
    assert run(runner, db, "record", "platform-registered", "acme-2", "--at", "2020-01-01",
               *SRC, "--name", "Acme", "--target", "acme.example").exit_code == 0
    assert run(runner, db, "record", "blocked", "o1", "--at", "2020-04-01", *SRC,
               "--platform", "acme-2", "--authority", "X", "--reason", "r", "--target",
               "acme.example").exit_code == 0
    assert run_json(runner, db, "status", "acme-2")["state"] == "blocked"
    assert "not registered" in run(runner, db, "status", "acme").output
    assert json.loads(run(runner, db, "verify", "--json").output)["ok"] is True


def test_an_import_says_the_same(runner, retracted, tmp_path):
    db, _, _ = retracted
    line = {"type": "platform-registered", "subject": "acme", "occurred_at": "2020-03-01",
            "sources": [{"url": "https://example.org"}],
            "data": {"name": "Acme", "targets": ["acme.example"]}}
    path = tmp_path / "again.jsonl"
    path.write_text(json.dumps(line) + "\n")
    error = one_line_error(run(runner, db, "import", str(path)), 1)
    assert "which was retracted" in error and "another reference (e.g. acme-2)" in error


def test_the_reference_named_is_free_and_not_the_same(runner, db):
    """The way on names a reference no subject holds (review: it named acme-2, an
    unrelated platform, and for a 99-character reference ending in -2, itself)."""
    for ref in ("acme", "acme-2", "a" * 97 + "-2"):
        assert run(runner, db, "record", "platform-registered", ref, "--at", "2020-01-01",
                   *SRC, "--name", "N", "--target", f"{ref[:60]}.example").exit_code == 0
        [registered] = run_json(runner, db, "history", ref)["events"]
        if ref != "acme-2":
            assert run(runner, db, "record", "retraction", ref, "--at", "2020-02-01", *SRC,
                       "--target", registered["id"], "--reason", "wrong").exit_code == 0
    line = one_line_error(run(runner, db, "record", "platform-registered", "acme", "--at",
                              "2020-03-01", *SRC, "--name", "N", "--target",
                              "acme.example"), 1)
    assert "(e.g. acme-3)" in line, line
    long = "a" * 97 + "-2"
    line = one_line_error(run(runner, db, "record", "platform-registered", long, "--at",
                              "2020-03-01", *SRC, "--name", "N", "--target", "a.example"), 1)
    assert f"(e.g. {'a' * 97}-3)" in line and f"(e.g. {long})" not in line, line


def test_an_event_on_it_says_it_was_retracted(runner, retracted):
    """Not 'is before acme was created' (acme was registered in 2020; review)."""
    db, registered, _ = retracted
    line = one_line_error(run(runner, db, "record", "email-sent", "acme", "--at", "2025-03-01",
                              *SRC, "--sender", "K", "--recipient", "A", "--summary", "x"), 1)
    assert f"platform acme was created by platform-registered of 2020-01-01 ({registered}), " \
           "which was retracted: it counts as never created" in line, line


def test_exists_already_names_the_creation_as_it_counts(runner, db):
    """The registration corrected to 2019: 'exists already' names it so (review: it named
    the date as first recorded)."""
    assert run(runner, db, "record", "platform-registered", "acme", "--at", "2020-01-01", *SRC,
               "--name", "Acme", "--target", "acme.example").exit_code == 0
    [registered] = run_json(runner, db, "history", "acme")["events"]
    assert run(runner, db, "record", "correction", "acme", "--at", "2020-09-01", *SRC,
               "--target", registered["id"], "--set", "occurred_at=2019-01-01", "--reason",
               "earlier").exit_code == 0
    line = one_line_error(run(runner, db, "record", "platform-registered", "acme", "--at",
                              "2020-03-01", *SRC, "--name", "Acme", "--target",
                              "acme.example"), 1)
    assert "exists already (created by platform-registered of 2019-01-01" in line, line
