"""Index version 2: orders and requests have leaves of their own (``order/REF``,
``request/REF``), so that their reports read and prove only their own events; checkpoints
and reports of version 1 (platform leaves only) still verify, and a forged subject leaf is
caught by ``verify``."""

from __future__ import annotations

import json
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from domain.errors import BadInput, IntegrityFailure
from ledger import index_cache, platform_index
from ledger.application import open_ledger
from ledger.checkpoint import Checkpoint, load_private_key
from ledger.merkle import root
from ledger.platform_index import OPERATORS, fold, leaf, parse_leaf, run_of
from ledger.storage import parse_target
from projections.proof import check_report
from tests.clitools import key_pair, one_line_error, run

OLD = Path(__file__).resolve().parent / "data" / "index_v1"
NS = uuid.UUID("6d1f0a52-4a57-4d36-9a57-2f1f1a0a0000")


def _id(name: str) -> str:
    return str(uuid.uuid5(NS, name))


def _obj(name: str, type_: str, subject: str, at: str, data: dict) -> dict[str, Any]:
    return {"id": _id(name), "type": type_, "subject": subject, "occurred_at": at,
            "sources": [{"title": "s"}], "data": data}


def case_lines(filler: int = 150) -> list[str]:
    """Two platforms; order ``ord`` on alpha, lifted, corrected; request ``req``; and
    ``filler`` statements of beta on each side of the request, so that the subjects'
    events lie far apart in the log."""
    objs = [
        _obj("alpha", "platform-registered", "alpha", "2017-01-01",
             {"name": "Alpha", "targets": ["a.example"]}),
        _obj("beta", "platform-registered", "beta", "2017-01-01",
             {"name": "Beta", "targets": ["b.example"]}),
        _obj("blocked", "blocked", "ord", "2017-02-01",
             {"platform": "alpha", "authority": "A", "reasons": ["r"],
              "targets": ["a.example"]}),
    ]
    objs += [_obj(f"s{i}", "statement-issued", "beta", "2017-03-01",
                  {"by": "Beta", "summary": f"statement {i}"}) for i in range(filler)]
    objs.append(_obj("requested", "normalization-requested", "req", "2017-04-01",
                     {"platform": "alpha", "orders": ["ord"], "requested_by": "Alpha"}))
    objs += [_obj(f"t{i}", "statement-issued", "beta", "2017-04-02",
                  {"by": "Beta", "summary": f"more {i}"}) for i in range(filler)]
    objs += [
        _obj("lifted", "unblocked", "ord", "2017-05-01", {}),
        _obj("corrected", "correction", "ord", "2017-02-01",
             {"target": _id("blocked"), "set": {"authority": "Agency"},
              "reason": "the agency's name"}),
        _obj("sop", "condition-set", "req", "2017-04-03", {"condition": "sop"}),
    ]
    return [json.dumps(obj) for obj in objs]


def _runs(leaves: list[bytes]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for data in leaves:
        name, position = parse_leaf(data)
        out.setdefault(name, []).append(position)
    return out


class TestTheLeaves:
    """The index folded from interchange objects (no ledger, no vocabulary check)."""

    def test_orders_and_requests_have_their_own_runs_beside_the_platforms(self):
        """Amendments count with their target's subject; operators with the operators."""
        objs = [json.loads(line) for line in case_lines(2)]
        leaves, _ = fold(enumerate(objs, start=1))
        runs = _runs(leaves)
        assert runs["order/ord"] == [3, 9, 10]
        assert runs["request/req"] == [6, 11]
        assert runs["alpha"] == [1, 3, 6, 9, 10, 11]
        assert runs["beta"] == [2, 4, 5, 7, 8]
        assert leaves == sorted(set(leaves))
        # Version 1 is the platform leaves alone: exactly what it always was.
        old, _ = fold(enumerate(objs, start=1), 1)
        assert old == [x for x in leaves if b"/" not in parse_leaf(x)[0].encode()]
        assert set(_runs(old)) == {"alpha", "beta"}

    def test_an_order_over_many_platforms_is_in_each_platforms_run_and_its_own(self):
        """A second-edition order (``platforms: [...]``), given as interchange objects so
        that nothing here waits for the vocabulary: its events, its correction's and its
        observation's, are under each of its platforms and once under ``order/REF``."""
        objs = [
            _obj("a", "platform-registered", "alpha", "2020-01-01", {"name": "A"}),
            _obj("b", "platform-registered", "beta", "2020-01-01", {"name": "B"}),
            _obj("c", "platform-registered", "gamma", "2020-01-01", {"name": "C"}),
            _obj("many", "blocked", "wide", "2020-02-01",
                 {"platforms": ["alpha", "beta"], "authority": "X", "reasons": ["r"],
                  "targets": ["a.example", "b.example"]}),
            _obj("seen", "access-observed", "wide", "2020-02-02",
                 {"target": "a.example", "accessible": False}),
            _obj("moved", "correction", "wide", "2020-02-01",
                 {"target": _id("many"), "set": {"platforms": ["alpha", "gamma"]},
                  "reason": "r"}),
        ]
        leaves, platforms = fold(enumerate(objs, start=1))
        runs = _runs(leaves)
        assert platforms[("order", "wide")] == {"alpha", "beta", "gamma"}
        for name in ("alpha", "beta", "gamma"):
            assert [p for p in runs[name] if p > 3] == [4, 5, 6], name
        assert runs["order/wide"] == [4, 5, 6]
        assert len(leaves) == 3 + 3 * 3 + 3

    def test_subject_names_never_meet_a_platforms(self):
        """A platform called ``order`` and an order called ``x``: ``order\\0`` sorts before
        ``order/``, so each run is its own, contiguous."""
        leaves = sorted([leaf("order", 1), leaf("order/x", 2), leaf("order", 3),
                         leaf("order.x", 4), leaf("order/x", 5), leaf(OPERATORS, 6)])
        assert [parse_leaf(x)[1] for x in leaves[slice(*run_of(leaves, "order"))]] == [1, 3]
        assert [parse_leaf(x)[1] for x in leaves[slice(*run_of(leaves, "order/x"))]] == [2, 5]


class TestTheLine:
    """The versioned index line of the signed note."""

    BASE = Checkpoint("o", 3, bytes(range(32)), bytes(32), "2026-01-01T00:00:00Z")

    def test_each_version_has_one_spelling_and_parses_back(self):
        v1 = Checkpoint(*[getattr(self.BASE, f) for f in ("origin", "tree_size",
                                                            "root_hash", "chain_head",
                                                            "time")], 5, bytes(32))
        v2 = Checkpoint(v1.origin, 3, v1.root_hash, v1.chain_head, v1.time, 5, bytes(32), 2)
        assert v1.index_version == 1
        assert v1.body().endswith(b"\nplatforms 5 " + b"A" * 43 + b"=\n")
        assert v2.body().endswith(b"\nindex 2 5 " + b"A" * 43 + b"=\n")
        for cp in (v1, v2):
            assert Checkpoint.parse(cp.to_note())[0] == cp

    @pytest.mark.parametrize("line", ["index 1 5 ", "index 4 5 ", "index 02 5 ",
                                      "index 2 05 ", "index 2 5", "platforms 2 5 ",
                                      "index  2 5 "])
    def test_other_spellings_and_unknown_versions_are_refused(self, line):
        text = self.BASE.to_note().replace("\n\n", f"\n{line}{'A' * 43}=\n\n")
        if line.endswith("5"):
            text = self.BASE.to_note().replace("\n\n", f"\n{line}\n\n")
        with pytest.raises(BadInput, match="checkpoint"):
            Checkpoint.parse(text)


# -- reports that read only their subject's events ----------------------------------------


def _ledger(runner, db: str, tmp_path: Path, filler: int = 150) -> str:
    """The case, operator alice, and a checkpoint she signs. Returns her private key."""
    private, public = key_pair(tmp_path, "alice")
    source = tmp_path / "case.jsonl"
    source.write_text("\n".join(case_lines(filler)) + "\n")
    alice = ("--operator", "alice", "--key", private)
    assert run(runner, db, *alice, "operator", "add", "alice", "--public-key",
               public).exit_code == 0
    assert run(runner, db, *alice, "import", str(source)).exit_code == 0
    done = run(runner, db, *alice, "checkpoint")
    assert done.exit_code == 0, done.output
    return private


class Reads:
    """Counts the rows the store's reads return (events, chain rows with their events)."""

    METHODS = ("select_notifications", "select_events", "verification_rows",
               "operator_events")

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        from ledger.recorders import ChainedSQLiteApplicationRecorder

        classes: list[type] = [ChainedSQLiteApplicationRecorder]
        try:
            from ledger.recorders_postgres import ChainedPostgresApplicationRecorder
        except ImportError:  # no driver: only SQLite is tested
            pass
        else:
            classes.append(ChainedPostgresApplicationRecorder)
        self.rows = 0
        for cls in classes:
            for name in self.METHODS:
                monkeypatch.setattr(cls, name, self._counting(getattr(cls, name)))

    def _counting(self, method: Any) -> Any:
        def counted(*args: Any, **kwargs: Any) -> Any:
            found = method(*args, **kwargs)
            self.rows += len(found)
            return found
        return counted


def _report(runner, db: str, subject: str) -> dict[str, Any]:
    result = run(runner, db, "report", "provenance", subject, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for statement in ("generated_at", "report_signature", "verification"):
        report.pop(statement)
    return report


@pytest.mark.parametrize("subject, events", [("ord", 3), ("req", 2)])
def test_an_orders_or_requests_report_reads_only_its_events(runner, db, tmp_path,
                                                            monkeypatch, subject, events):
    """306 events of which the order holds 3 (its correction included) and the request 2,
    far apart: the report against alice's checkpoint reads those and alice's
    registration, and is the report a fold of the whole log gives."""
    _ledger(runner, db, tmp_path)
    with monkeypatch.context() as m:
        m.setattr(index_cache, "load", lambda *_: None)
        folding = Reads(m)
        folded = _report(runner, db, subject)
    assert folding.rows > 300
    asked: list[int] = []
    with monkeypatch.context() as m:
        from ledger.application import Ledger

        states_at = Ledger.states_at

        def noted(self: Any, positions: Any) -> Any:
            asked.extend(positions)
            return states_at(self, positions)

        m.setattr(Ledger, "states_at", noted)
        reads = Reads(m)
        fast = _report(runner, db, subject)
    assert fast == folded
    # The events asked for are the subject's and alice's registration; the rows read
    # besides are the store's first three (the cipher check on opening) and the few
    # within ``NEAR`` of those asked, which one query reads: none of the 300 others.
    assert sorted(asked) == [r["position"] for r in fast["evidence"]["records"]]
    assert len(asked) == events + 1
    assert reads.rows < 20, reads.rows
    assert check_report(fast) == len(fast["events"]) == events
    index = fast["evidence"]["index"]
    assert len(index[f"{'order' if subject == 'ord' else 'request'}/{subject}"][
        "positions"]) == events


def test_the_platforms_report_is_unchanged_but_for_its_index(runner, db, tmp_path):
    """alpha's report proves alpha's run (its order's and request's events in it), and the
    empty runs of ``order/alpha`` and ``request/alpha``."""
    _ledger(runner, db, tmp_path, filler=5)
    report = _report(runner, db, "alpha")
    index = report["evidence"]["index"]
    assert set(index) == {"alpha", "order/alpha", "request/alpha", OPERATORS}
    assert index["order/alpha"]["positions"] == index["request/alpha"]["positions"] == []
    assert len(index["alpha"]["positions"]) == 6 == len(report["events"])
    assert report["checkpoint"]["platform_index"]["version"] == platform_index.VERSION == 3
    assert check_report(report) == 6


# -- what the release before wrote ------------------------------------------------------------


@pytest.mark.parametrize("subject", ["alpha", "ord", "req"])
def test_reports_made_before_version_2_still_verify(runner, sqlite_path, subject):
    """Reports made by the release before, against its version 1 checkpoint (an order's
    proving its platform's run), pass verify-proof; edited, they fail."""
    path = OLD / f"{subject}.json"
    report = json.loads(path.read_text())
    assert "version" not in report["checkpoint"]["platform_index"]
    result = run(runner, sqlite_path, "verify-proof", str(path), "--public-key",
                 str(OLD / "alice.pub"), "--report-key", str(OLD / "alice.pub"))
    assert result.exit_code == 0, result.output
    report["report_signature"] = {"signed": False}
    records = report["evidence"]["records"]
    dropped = records.pop(next(i for i, r in enumerate(records) if r["subject"] == subject))
    with pytest.raises(IntegrityFailure, match=f"position {dropped['position']}"):
        check_report(report)


def test_a_ledger_checkpointed_before_version_2_still_verifies(runner, tmp_path):
    """The release before's ledger, its version 1 note kept: verify and verify --against
    pass; an order's report against that note folds the log and proves its platform's run,
    as it did; a new checkpoint is of version 2 and the order's report then reads its own
    leaves."""
    db = str(tmp_path / "ledger.db")
    with closing(sqlite3.connect(db)) as made:  # the dump of the release before's file
        made.executescript((OLD / "ledger.sql").read_text())
    note = OLD / "checkpoint.txt"
    assert Checkpoint.parse(note.read_text())[0].index_version == 1
    for args in (("verify",), ("verify", "--against", str(note), "--public-key",
                               str(OLD / "alice.pub"))):
        result = run(runner, db, *args)
        assert result.exit_code == 0, result.output
    report = _report(runner, db, "ord")
    assert set(report["evidence"]["index"]) == {"ord", "alpha", OPERATORS}
    assert check_report(report) == 3
    assert run(runner, db, "checkpoint").exit_code == 0
    report = _report(runner, db, "ord")
    assert set(report["evidence"]["index"]) == {"ord", "order/ord", "request/ord", OPERATORS}
    assert check_report(report) == 3
    # Both notes kept, of one tree size and two versions: no disagreement to name.
    result = run(runner, db, "verify")
    assert result.exit_code == 0, result.output


# -- a forged subject leaf ------------------------------------------------------------------


def _forge(db: str, drop: str, key_file: str | None,
           version: int = platform_index.VERSION) -> None:
    """As someone with the database would: a new kept note of the latest tree whose index
    (of ``version``) leaves out the last leaf of ``drop``, and a kept copy that gives it;
    signed with ``key_file`` (an operator with a grudge) or not."""
    with open_ledger(parse_target(db)) as ledger:
        honest, _ = Checkpoint.parse(ledger.recorder.select_checkpoints()[-1])
        leaves = index_cache.decode(index_cache.kept(ledger)[1])
        if version == 1:
            leaves = [x for x in leaves if "/" not in parse_leaf(x)[0]]
        mine = [x for x in leaves if parse_leaf(x)[0] == drop]
        forged = [x for x in leaves if x != mine[-1]]
        cp = Checkpoint(honest.origin, honest.tree_size, honest.root_hash,
                        honest.chain_head, honest.time, len(forged), root(forged), version)
        key = load_private_key(key_file) if key_file else None
        ledger.recorder.insert_checkpoint(cp.tree_size, cp.to_note(key, "alice" if key
                                                                    else None))
        index_cache.keep(ledger, cp.tree_size, forged)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_a_forged_subject_leaf_is_caught_by_verify(runner, db, tmp_path, signed):
    """The order's lift left out of ``order/ord`` in a kept note: verify names the note;
    unsigned, the order's report folds the log and fails; signed by an operator with a
    grudge it proves the lie, which verify (and verify --against) names."""
    private = _ledger(runner, db, tmp_path, filler=3)
    _forge(db, "order/ord", private if signed else None)
    line = one_line_error(run(runner, db, "verify"), 3)
    assert "platform index" in line and "forged" in line
    result = run(runner, db, "report", "provenance", "ord", "--format", "json")
    if not signed:
        assert result.exit_code == 3, result.output
        return
    lie = json.loads(result.stdout)
    assert len(lie["events"]) == 2  # the lift is gone: what verify is there to catch
    note = tmp_path / "forged.txt"
    note.write_text(lie["checkpoint"]["note"])
    assert run(runner, db, "verify", "--against", str(note)).exit_code != 0


def test_a_forged_note_of_the_older_version_is_caught_too(runner, db, tmp_path):
    """Beside the honest version 2 note, a version 1 note of the same tree leaving out
    one of alpha's events (a downgrade): verify folds the version 1 index too and names
    it; alpha's report, citing it (unsigned), folds the log and fails."""
    _ledger(runner, db, tmp_path, filler=3)
    _forge(db, "alpha", None, version=1)
    line = one_line_error(run(runner, db, "verify"), 3)
    assert "version 1" in line and "forged" in line
    assert run(runner, db, "report", "provenance", "alpha").exit_code == 3
