"""The platform index committed in checkpoints, and reports' completeness proofs: the leaf
encoding, proofs of runs at the edges and of empty runs, an order moved to another
platform, checkpoints written before the index, and PostgreSQL's gaps in positions."""

from __future__ import annotations

import json
import uuid

import pytest

from domain.errors import BadInput, IntegrityFailure
from ledger.application import open_ledger
from ledger.checkpoint import Checkpoint
from ledger.merkle import MerkleTree
from ledger.platform_index import OPERATORS, check_range, leaf, parse_leaf, prove_range, run_of
from ledger.storage import parse_target
from projections.proof import check_report
from tests.clitools import one_line_error, run

LEAVES = sorted([leaf("alpha", 3), leaf("alpha", 9), leaf("beta", 1), leaf("beta", 2),
                 leaf("beta", 7), leaf("gamma", 4), leaf(OPERATORS, 5), leaf("b", 8)])


def test_the_leaf_is_the_name_a_zero_byte_and_the_position_big_endian():
    assert leaf("telegram", 258) == b"telegram\x00" + bytes([0, 0, 0, 0, 0, 0, 1, 2])
    assert parse_leaf(leaf("telegram", 258)) == ("telegram", 258)
    with pytest.raises(ValueError):
        leaf("bad\x00name", 1)
    # A name that is a prefix of another sorts first, whatever the positions.
    assert leaf("b", 2**63) < leaf("beta", 0)


@pytest.mark.parametrize("name", ["alpha", "b", "beta", "gamma", OPERATORS, "absent", "zzz",
                                  "aaa", "c"])
def test_every_run_proves_exactly_its_positions(name):
    tree = MerkleTree(LEAVES)
    first, end = run_of(LEAVES, name)
    expected = [parse_leaf(x)[1] for x in LEAVES[first:end]]
    proof = prove_range(tree, LEAVES, name)
    assert check_range(name, proof, len(LEAVES), tree.root()) == expected


@pytest.mark.parametrize("tamper", [
    lambda p: p["positions"].pop(),
    lambda p: (p["positions"].pop(0), p["proofs"].pop(0), p.update(first=p["first"] + 1)),
    lambda p: (p["positions"].pop(), p["proofs"].pop()),
    lambda p: p.update(before=None),
    lambda p: p.update(after=None),
    lambda p: p["after"].update(platform="alpha"),
    lambda p: p["positions"].__setitem__(0, 2),
    lambda p: (p["positions"].append(99), p["proofs"].append(p["proofs"][0])),
])
def test_a_tampered_run_fails(tamper):
    tree = MerkleTree(LEAVES)
    proof = prove_range(tree, LEAVES, "beta")
    tamper(proof)
    with pytest.raises((IntegrityFailure, BadInput), match="index proof of beta"):
        check_range("beta", proof, len(LEAVES), tree.root())


def test_an_empty_run_cannot_hide_a_platform():
    """The neighbours of 'alpha' proven adjacent around nothing: they are not."""
    tree = MerkleTree(LEAVES)
    honest = prove_range(tree, LEAVES, "beta")
    forged = {"first": honest["first"], "positions": [], "proofs": [],
              "before": honest["before"], "after": honest["after"]}
    with pytest.raises(IntegrityFailure):
        check_range("beta", forged, len(LEAVES), tree.root())


def _event(id_: str, type_: str, subject: str, at: str, data: dict) -> str:
    return json.dumps({"id": id_, "type": type_, "subject": subject, "occurred_at": at,
                       "sources": [{"title": "s"}], "data": data})


def test_an_order_moved_to_another_platform_is_in_both_runs(runner, sqlite_path, tmp_path):
    """Corrected from alpha to beta, the order's events (earlier ones too) concern both:
    each platform's report proves them, and beta's lists them."""
    order = str(uuid.uuid4())
    lines = [
        _event(str(uuid.uuid4()), "platform-registered", "alpha", "2017-01-01",
               {"name": "Alpha", "targets": ["shared.example"]}),
        _event(str(uuid.uuid4()), "platform-registered", "beta", "2017-01-01",
               {"name": "Beta", "targets": ["shared.example"]}),
        _event(order, "blocked", "order-1", "2017-02-01",
               {"platform": "alpha", "authority": "A", "reasons": ["r"],
                "targets": ["shared.example"]}),
        _event(str(uuid.uuid4()), "unblocked", "order-1", "2017-03-01", {}),
        _event(str(uuid.uuid4()), "correction", "order-1", "2017-02-01",
               {"target": order, "set": {"platform": "beta"}, "reason": "it was beta"}),
    ]
    source = tmp_path / "moved.jsonl"
    source.write_text("\n".join(lines) + "\n")
    result = run(runner, sqlite_path, "import", str(source))
    assert result.exit_code == 0, result.output
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    reports = {name: json.loads(run(runner, sqlite_path, "report", "provenance", name,
                                    "--format", "json").stdout)
               for name in ("alpha", "beta", "order-1")}
    for name, report in reports.items():
        assert check_report(report) == len(report["events"]), name
    assert reports["alpha"]["evidence"]["index"]["alpha"]["positions"] == [1, 3, 4, 5]
    assert reports["beta"]["evidence"]["index"]["beta"]["positions"] == [2, 3, 4, 5]
    assert [ev["position"] for ev in reports["beta"]["events"]] == [2, 3, 5, 4]
    # The order's own leaves prove its events (its correction included) without either
    # platform's.
    index = reports["order-1"]["evidence"]["index"]
    assert set(index) == {"order-1", "order/order-1", "request/order-1", OPERATORS}
    assert index["order/order-1"]["positions"] == [3, 4, 5]
    assert [r["position"] for r in reports["order-1"]["evidence"]["records"]] == [3, 4, 5]


def test_a_checkpoint_without_an_index_gives_an_unproven_report(runner, sqlite_path,
                                                                 example, tmp_path):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint", "--no-keep", "-o",
               str(tmp_path / "cp.txt")).exit_code == 0
    current, _ = Checkpoint.parse((tmp_path / "cp.txt").read_text())
    old = Checkpoint(current.origin, current.tree_size, current.root_hash,
                     current.chain_head, current.time)
    assert "platforms" not in old.to_note()
    with open_ledger(parse_target(sqlite_path)) as ledger:
        ledger.recorder.insert_checkpoint(old.tree_size, old.to_note())
    result = run(runner, sqlite_path, "report", "provenance", "telegram", "--format", "json")
    report = json.loads(result.stdout)
    assert report["proven"] is False and "no platform index" in report["unproven_because"]
    assert len(report["events"]) == 33 and report["evidence"] is None
    path = tmp_path / "report.json"
    path.write_text(result.stdout)
    error = one_line_error(run(runner, sqlite_path, "verify-proof", str(path)), 3)
    assert "no evidence" in error
    assert "NOT PROVEN" in run(runner, sqlite_path, "report", "provenance",
                               "telegram").stdout


def test_a_report_without_any_checkpoint_is_refused_by_verify_proof(runner, sqlite_path,
                                                                     example, tmp_path):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    path = tmp_path / "report.json"
    path.write_text(run(runner, sqlite_path, "report", "provenance", "telegram", "--format",
                        "json").stdout)
    assert "cites no checkpoint" in one_line_error(
        run(runner, sqlite_path, "verify-proof", str(path)), 3)


def test_reports_prove_out_on_both_stores(runner, db, example, tmp_path):
    """PostgreSQL's positions may have gaps: leaves and positions are kept apart."""
    assert run(runner, db, "import", str(example)).exit_code == 0
    assert run(runner, db, "checkpoint").exit_code == 0
    for subject in ("telegram", "kominfo-2017-07-14", "telegram-id-2017"):
        path = tmp_path / f"{subject}.json"
        result = run(runner, db, "report", "provenance", subject, "--format", "json", "-o",
                     str(path))
        assert result.exit_code == 0, result.output
        checked = run(runner, db, "verify-proof", str(path))
        assert checked.exit_code == 0, checked.output


def test_a_ledger_that_does_not_give_the_checkpoint_is_refused(runner, sqlite_path,
                                                               example):
    """An event's subject rewritten, hash and chain recomputed: the Merkle root differs."""
    from tests.test_integrity import Store

    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    store = Store(sqlite_path)
    store.set_state(2, store.state(2).replace(b'"telegram"', b'"telegrap"'))
    store.rechain()
    error = one_line_error(run(runner, sqlite_path, "report", "provenance", "telegram"), 3)
    assert "checkpoint's root" in error


def test_the_report_is_signed_with_its_key_option_or_the_operators_key(runner, sqlite_path,
                                                                      example, tmp_path,
                                                                      monkeypatch):
    """--key signs the report; else BLOCKLEDGER_SIGNING_KEY; else it says it is unsigned.
    The renderings say who signed it."""
    from tests.test_proof_tamper import _pem

    producer, other = _pem(tmp_path, "producer"), _pem(tmp_path, "other")
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    path = tmp_path / "report.json"

    def report(*args: str) -> dict:
        result = run(runner, sqlite_path, "report", "provenance", "telegram", "--format",
                     "json", "-o", str(path), "--force", *args)
        assert result.exit_code == 0, result.output
        return json.loads(path.read_text())

    assert report()["report_signature"] == {"signed": False}
    signed = report("--key", producer[0])["report_signature"]
    assert signed["signed"] is True
    ok = run(runner, sqlite_path, "verify-proof", str(path), "--report-key", producer[1])
    assert ok.exit_code == 0 and "report signed by --report-key" in ok.output
    monkeypatch.setenv("BLOCKLEDGER_SIGNING_KEY", other[0])
    assert report()["report_signature"]["key_id"] != signed["key_id"]
    assert run(runner, sqlite_path, "verify-proof", str(path), "--report-key",
               other[1]).exit_code == 0
    markdown = run(runner, sqlite_path, "report", "provenance", "telegram").stdout
    html = run(runner, sqlite_path, "report", "provenance", "telegram", "--format",
               "html").stdout
    for text in (markdown, html):
        assert "report signed by" in text and "recorded between" in text
        assert "proven: this report rests on every event" in text
