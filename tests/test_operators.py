"""Signed attribution on both stores: operators are events, writes are signed in the insert
transaction, and the signature check finds unsigned, unknown-key, revoked-key and forged
events."""

from __future__ import annotations

import sqlite3

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import BadInput, Refused
from ledger.application import open_ledger
from ledger.signatures import attribute, check, operators, public_key_text, signature_of
from ledger.storage import parse_target
from ledger.verify import verify
from tests.facts import email, operator_added, operator_revoked, registered


@pytest.fixture
def keys() -> dict[str, Ed25519PrivateKey]:
    return {name: Ed25519PrivateKey.generate() for name in ("alice", "bob", "carol")}


def added(name: str, key: Ed25519PrivateKey, role: str | None = None, at: str = "2017-01-01"):
    return operator_added(name, at=at, public_key=public_key_text(key.public_key()),
                          role=role)


def write(target, operator, key, facts):
    with open_ledger(target, create=True) as ledger:
        attribute(ledger, operator, key)
        return ledger.record(facts, operator=operator)


def test_a_ledger_without_operators_takes_unsigned_writes(db):
    target = parse_target(db)
    write(target, "tester", None, [registered()])
    with open_ledger(target) as ledger:
        report = check(ledger)
    assert report.ok and report.signed == 0 and report.unsigned_before_operators == 1


def test_once_an_operator_exists_every_write_is_signed_by_a_registered_recorder(db, keys):
    """The first operator registers itself (the trust anchor, signed with its own key);
    then writes by alice are signed, and everyone else is refused before anything is
    written: an unregistered name, a missing key, someone else's key, an auditor."""
    target = parse_target(db)
    write(target, "tester", None, [registered()])
    write(target, "alice", keys["alice"], [added("alice", keys["alice"])])
    write(target, "alice", keys["alice"], [email(), added("bob", keys["bob"], role="auditor")])
    with open_ledger(target) as ledger:
        assert set(operators(ledger)) == {"alice", "bob"}
        count = ledger.count()
    refusals = [
        ("mallory", keys["carol"], Refused, "not registered"),
        ("alice", None, BadInput, "must sign"),
        ("alice", keys["carol"], BadInput, "not the registered key of operator 'alice'"),
        ("bob", keys["bob"], Refused, "is an auditor"),
    ]
    for operator, key, error, words in refusals:
        with open_ledger(target, create=True) as ledger, pytest.raises(error, match=words):
            attribute(ledger, operator, key)
    with open_ledger(target) as ledger:
        assert ledger.count() == count
        report = check(ledger)
        assert report.ok, report.to_json()
        assert report.signed == 3 and report.unsigned_before_operators == 1
        assert verify(ledger).ok


def test_an_unsigned_insert_is_refused_inside_the_transaction(db, keys):
    """Even a writer that skips ``attribute`` cannot add unsigned events once an operator
    exists: the recorder refuses and the transaction rolls back."""
    target = parse_target(db)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]), registered()])
    with open_ledger(target, create=True) as ledger:
        before = ledger.count()
        with pytest.raises(BadInput, match="must be signed"):
            ledger.record([email()], operator="alice")
        assert ledger.count() == before
        assert verify(ledger).ok


def test_revoked_operators_are_refused_and_their_late_signatures_reported(db, keys,
                                                                         monkeypatch):
    target = parse_target(db)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]),
                                             added("carol", keys["carol"]), registered()])
    write(target, "carol", keys["carol"], [email()])
    write(target, "alice", keys["alice"], [operator_revoked("carol", at="2017-06-01")])
    with open_ledger(target, create=True) as ledger, pytest.raises(Refused, match="revoked"):
        attribute(ledger, "carol", keys["carol"])
    # A writer that checked just before the revocation is refused in its own transaction.
    with open_ledger(target, create=True) as ledger:
        attribute(ledger, "alice", keys["alice"])
        ledger.recorder.signer = type(ledger.recorder.signer).of("carol", keys["carol"])
        with pytest.raises(Refused, match="carol' was revoked"):
            ledger.record([email(at="2017-03-02", summary="late")], operator="carol")
    # A writer whose code skips that check (a modified copy of blockledger) still signs
    # with carol's key: verify names the event.
    monkeypatch.setattr("ledger.signed.authorize", lambda _ops, rows, *args: list(rows))
    with open_ledger(target, create=True) as ledger:
        attribute(ledger, "alice", keys["alice"])
        ledger.recorder.signer = type(ledger.recorder.signer).of("carol", keys["carol"])
        ledger.record([email(at="2017-03-02", summary="late")], operator="carol")
        report = check(ledger)
        late = ledger.recorder.max_notification_id()  # PostgreSQL: the refused insert's id is gone
    assert report.to_json()["problems"] == {"revoked_key": {"count": 1, "positions": [late]}}
    assert "1 revoked key (first at position" in report.summary()


def test_forged_unknown_and_misattributed_signatures_are_reported(db, keys, monkeypatch):
    target = parse_target(db)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]), registered()])
    write(target, "alice", keys["alice"], [email(at="2017-03-01")])
    # Writers whose code skips the checks of the insert transaction (a modified copy):
    # verify still names every event they wrote.
    monkeypatch.setattr("ledger.signed.authorize", lambda _ops, rows, *args: list(rows))
    monkeypatch.setattr("ledger.application.Ledger._check_signer", lambda *args: None)
    with open_ledger(target, create=True) as ledger:
        # A key nobody registered, under alice's key id: the signature does not verify.
        attribute(ledger, "alice", keys["alice"])
        forger = type(ledger.recorder.signer)("alice", keys["carol"], ledger.recorder.signer.key_id)
        ledger.recorder.signer = forger
        ledger.record([email(at="2017-03-02", summary="forged")], operator="alice")
        # A key nobody registered, under its own id.
        ledger.recorder.signer = type(forger).of("carol", keys["carol"])
        ledger.record([email(at="2017-03-03", summary="unknown")], operator="carol")
        # Alice's real key, but the event says bob recorded it.
        attribute(ledger, "alice", keys["alice"])
        ledger.record([email(at="2017-03-04", summary="whose")], operator="bob")
        report = check(ledger).to_json()
    assert report["ok"] is False
    assert {name: p["count"] for name, p in report["problems"].items()} == {
        "bad_signature": 1, "unknown_key": 1, "wrong_operator": 1}


def test_a_signature_row_altered_in_the_database_is_caught(sqlite_path, keys):
    target = parse_target(sqlite_path)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]), registered()])
    with sqlite3.connect(sqlite_path) as conn:
        conn.execute("UPDATE stored_events_signatures SET signature = ? WHERE position = 2",
                     (bytes(64),))
        conn.execute("DELETE FROM stored_events_signatures WHERE position = 1")
    with open_ledger(target) as ledger:
        problems = check(ledger).to_json()["problems"]
    # Deleting the anchor's signature is not a problem: it came before any operator.
    assert problems == {"bad_signature": {"count": 1, "positions": [2]}}


def test_reports_get_each_event_s_signer(db, keys):
    target = parse_target(db)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]), registered()])
    with open_ledger(target) as ledger:
        found = signature_of(ledger, [1, 2, 99])
    assert set(found) == {1, 2}
    assert found[2]["operator"] == "alice"
    assert found[2]["public_key"] == public_key_text(keys["alice"].public_key())


def test_attach_lets_eventless_writes_through_and_refuses_events_with_the_reason(db, keys):
    """Opened by an unregistered operator, the ledger still takes a checkpoint (no event),
    but an event write is refused in its transaction, with why."""
    from ledger.checkpointing import checkpoint_note
    from ledger.signatures import attach

    target = parse_target(db)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]), registered()])
    with open_ledger(target, create=True) as ledger:
        assert attach(ledger, "mallory", None) is None
        checkpoint_note(ledger, origin="test")
        with pytest.raises(Refused, match="'mallory' is not registered"):
            ledger.record([email()], operator="mallory")
        assert ledger.count() == 2


def test_reports_show_who_signed_and_a_third_party_checks_the_signatures(db, keys):
    """The provenance report carries each event's signer, key and signature; md, html and
    PROV show them; verify-proof's check refuses a report whose signature was altered."""
    import copy
    import json

    from ledger.checkpointing import checkpoint_note
    from projections.proof import check_report
    from projections.provenance import provenance
    from projections.report_render import render_html, render_markdown, render_prov

    target = parse_target(db)
    write(target, "alice", keys["alice"], [added("alice", keys["alice"]), registered()])
    write(target, "alice", keys["alice"], [email()])
    with open_ledger(target, create=True) as ledger:
        ledger.recorder.insert_checkpoint(3, checkpoint_note(ledger, origin="test"))
        report = json.loads(json.dumps(provenance(ledger, "telegram"), default=str))
    assert [ev["signature"]["operator"] for ev in report["events"]] == ["alice", "alice"]
    assert report["signatures"]["signed"] == 2
    assert check_report(report) == 2
    assert "signed by" in render_markdown(report) and "alice" in render_html(report)
    assert "bl:Signature" in render_prov(report)
    forged = copy.deepcopy(report)
    forged["events"][1]["signature"]["signature"] = report["events"][0]["signature"]["signature"]
    with pytest.raises(Refused, match=r"event 2 .* signature does not verify"):
        check_report(forged)
