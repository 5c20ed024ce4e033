"""report provenance SUBJECT --jurisdiction CC (issue 14): the summary, timeline and answer
are CC's, as ``status --jurisdiction`` gives them; every event is listed, marked with where
it counts; the report carries the ledger's default jurisdiction and (index version 3)
proves it carries every event that sets it; verify-proof derives the answer again and
refuses any report whose answer, marks, jurisdiction or default does not follow."""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cli import cli
from ledger import platform_index
from ledger.application import open_ledger
from ledger.checkpoint import Checkpoint
from ledger.merkle import root
from ledger.storage import parse_target
from projections.proof import STATEMENTS, check_report
from projections.provenance import Evidence, assemble
from projections.report_summary import summarise
from tests.clitools import key_pair, older_ledger, one_line_error, run, run_json

SRC = ["--source", "https://example.org/record"]


def _steps(now: str) -> list[list[str]]:
    """Telegram in three states: Indonesia's order names no jurisdiction (the default
    applies), Russia's was lifted, Brazil's holds t.me with a daily fine; an observation
    made in Russia; then the default corrected from ID to MY."""
    return [
        ["platform-registered", "telegram", "--at", "2013-08-14", "--name", "Telegram",
         "--target", "t.me", "--target", "telegram.org"],
        ["blocked", "kom-2017", "--at", "2017-07-14", "--platform", "telegram",
         "--authority", "Kominfo", "--target", "telegram.org", "--reason", "terrorism"],
        ["blocked", "rkn-2018", "--at", "2018-04-16", "--platform", "telegram",
         "--authority", "Roskomnadzor", "--target", "t.me", "--target", "telegram.org",
         "--reason", "keys", "--jurisdiction", "RU"],
        ["unblocked", "rkn-2018", "--at", "2020-06-18", "--authority", "Roskomnadzor"],
        ["blocked", "stf-2022", "--at", "2022-03-18", "--platform", "telegram",
         "--authority", "STF", "--target", "t.me", "--reason", "courts",
         "--jurisdiction", "BR"],
        ["access-observed", "telegram", "--at", "2022-03-19", "--target", "t.me",
         "--not-accessible", "--jurisdiction", "RU"],
        ["penalty-imposed", "telegram", "--at", "2022-03-19", "--authority", "STF",
         "--amount", "1000000", "--currency", "BRL", "--per", "day", "--reason", "r",
         "--order", "stf-2022"],
    ]


def _ledger(runner: CliRunner, db: str, tmp_path: Path, *, correct: bool = True) -> str:
    """The ledger above, operator alice, and a checkpoint she signs (whose kept index a
    report takes); returns her private key file."""
    private, public = key_pair(tmp_path, "alice")
    assert run(runner, db, "init", "--jurisdiction", "ID").exit_code == 0
    alice = ("--operator", "alice", "--key", private)
    assert run(runner, db, *alice, "operator", "add", "alice", "--public-key",
               public).exit_code == 0
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for step in _steps(now):
        result = run(runner, db, *alice, "record", *step, *SRC)
        assert result.exit_code == 0, result.output
    if correct:
        created = run_json(runner, db, "history", "ledger")["events"][0]["id"]
        result = run(runner, db, *alice, "record", "correction", "ledger", "--at", now, *SRC,
                     "--target", created, "--set", "jurisdiction=MY",
                     "--reason", "the ledger follows Malaysia")
        assert result.exit_code == 0, result.output
    # A checkpoint's time is in whole seconds: written in the next second, it is after
    # every event (a report as known at any time before it can be proven: H2).
    time.sleep(1 - datetime.now(UTC).microsecond / 1e6)
    done = run(runner, db, *alice, "checkpoint")
    assert done.exit_code == 0, done.output
    return private


def _report(runner: CliRunner, db: str, subject: str, *args: str) -> dict[str, Any]:
    result = run(runner, db, "report", "provenance", subject, "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("jreport")
    runner, db = CliRunner(), str(tmp / "ledger.db")
    _ledger(runner, db, tmp)
    reports = {(s, c): _report(runner, db, s, "--jurisdiction", c)
               for s in ("telegram", "kom-2017") for c in ("BR", "RU", "MY", "ID")}
    other = str(tmp / "other.db")  # another ledger, with a default of its own
    (tmp / "other").mkdir()
    _ledger(runner, other, tmp / "other", correct=False)
    reports["other"] = _report(runner, other, "telegram", "--jurisdiction", "ID")
    return {"tmp": tmp, "db": db, "runner": runner, "reports": reports}


def _copy(case: dict[str, Any], subject: str = "telegram", code: str = "BR") -> dict:
    return copy.deepcopy(case["reports"][(subject, code)])


def _verify(case: dict[str, Any], report: Any, *extra: str) -> Any:
    path = case["tmp"] / "attack.json"
    path.write_text(json.dumps(report))
    return case["runner"].invoke(cli, ["verify-proof", str(path), *extra],
                                 catch_exceptions=False)


def _marks(report: dict[str, Any]) -> dict[str, tuple[str | None, bool]]:
    return {f"{ev['type']} {ev['subject']}": (ev["jurisdiction"]["where"],
                                              ev["jurisdiction"]["counts"])
            for ev in report["events"] if ev["type"] != "correction"}


# -- what the report says ------------------------------------------------------------------


@pytest.mark.parametrize("code", ["BR", "RU", "MY", "ID"])
def test_the_answer_is_status_for_that_jurisdiction(case, code):
    """The answer's status is what ``status --jurisdiction CC --as-of`` its time says, and
    the report proves out."""
    report = _copy(case, code=code)
    answer = report["answer"]
    assert report["jurisdiction"] == answer["jurisdiction"] == code
    assert answer["as_of"] == Checkpoint.parse(report["checkpoint"]["note"])[0].time.replace(
        "Z", "+00:00")
    status = run_json(case["runner"], case["db"], "status", "telegram", "--jurisdiction",
                      code, "--as-of", answer["as_of"])
    assert answer["status"] == status
    assert answer["default_jurisdiction"] == "MY"  # as corrected
    assert {r: o["binds"] for r, o in answer["orders"].items()} == {
        "kom-2017": code == "MY", "rkn-2018": code == "RU", "stf-2022": code == "BR"}
    assert check_report(report) == len(report["events"])
    expected = {"BR": "partially-blocked", "RU": "accessible", "MY": "partially-blocked",
                "ID": "accessible"}[code]
    assert status["state"] == expected


def test_every_event_is_listed_and_marked_with_where_it_counts(case):
    """Other jurisdictions' events are listed (a reader sees them), marked as not part of
    the answer; the ledger's settings are listed, part of every answer."""
    marks = _marks(_copy(case, code="BR"))
    assert marks == {
        "platform-registered telegram": ("all", True),
        "blocked kom-2017": ("MY", False),
        "blocked rkn-2018": ("RU", False),
        "unblocked rkn-2018": ("RU", False),
        "blocked stf-2022": ("BR", True),
        "access-observed telegram": ("RU", False),
        "penalty-imposed telegram": ("BR", True),
        "jurisdiction-default ledger": ("all", True),
    }
    unfiltered = _report(case["runner"], case["db"], "telegram")
    assert "jurisdiction" not in unfiltered and "answer" not in unfiltered
    assert "ledger/ledger" not in unfiltered["evidence"]["index"]
    # The same events as the report for all, and the ledger's settings besides.
    listed = {ev["position"] for ev in _copy(case)["events"]}
    assert listed - {ev["position"] for ev in unfiltered["events"]} == {
        ev["position"] for ev in _copy(case)["events"] if ev["subject"] == "ledger"}
    correction = next(ev for ev in _copy(case)["events"] if ev["type"] == "correction")
    assert correction["jurisdiction"] == {"where": "all", "counts": True}


def test_the_summary_and_timeline_answer_for_the_jurisdiction(case):
    """The summary's state is the answer's; its orders are the jurisdiction's; the HTML
    opens with the answer for it, marks the others' events, and proves out as a page."""
    report = _copy(case, code="RU")
    summary = summarise(report)
    assert summary.jurisdiction == "RU" and summary.state == "accessible"
    assert [o.ref for o in summary.orders] == ["rkn-2018"]
    assert summary.elsewhere == 3  # Indonesia's (Malaysia's now), Brazil's, its fine
    assert summary.divergent == {"t.me": ("unreachable after lift", None, "2022-03-19")}
    br = summarise(_copy(case, code="BR"))
    assert br.state == "partially-blocked" and [o.ref for o in br.orders] == ["stf-2022"]
    assert [s[4] for s in br.course] == ["partially-blocked"]
    runner, db, tmp = case["runner"], case["db"], case["tmp"]
    page = tmp / "ru.html"
    result = run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "RU",
                 "--format", "html", "-o", str(page), "--force")
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "In <strong>RU</strong>, <strong>telegram</strong>" in html
    assert html.count('class="mark m-elsewhere">elsewhere: BR<') == 2
    assert "kom-2017" not in html.split('aria-label="Summary"')[1].split("<h2>Ledger")[0]
    assert "ok:" in run(runner, db, "verify-proof", str(page)).output
    # What the page shows is proven: the answer's country edited on the page alone fails.
    page.write_text(html.replace("In <strong>RU</strong>", "In <strong>BR</strong>", 1))
    assert "the page differs" in one_line_error(run(runner, db, "verify-proof", str(page)), 3)


def test_an_order_of_another_jurisdiction_says_so(case):
    report = _copy(case, "kom-2017", "BR")
    assert report["answer"]["status"] is None
    assert report["answer"]["orders"] == {"kom-2017": {"jurisdiction": "MY", "binds": False}}
    assert summarise(report).binds_elsewhere == "MY"
    text = run(case["runner"], case["db"], "report", "provenance", "kom-2017",
               "--jurisdiction", "BR").stdout
    assert "In **BR**, nothing: order **kom-2017** binds MY, not BR" in text
    assert check_report(report) == len(report["events"])


def test_markdown_and_prov_say_where_each_event_counts(case):
    runner, db = case["runner"], case["db"]
    text = run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "BR").stdout
    assert "In **BR**, **telegram** (platform) was **partially-blocked**" in text
    assert text.count("**[ELSEWHERE: RU]**") == 3
    assert "- **jurisdiction:** BR: part of this report's answer" in text
    prov = json.loads(run(runner, db, "report", "provenance", "telegram", "--jurisdiction",
                          "BR", "--format", "prov-json").stdout)
    answer = prov["entity"]["ex:answer-BR"]
    assert answer["bl:state"] == "partially-blocked"
    derived = {d["prov:usedEntity"] for d in prov["wasDerivedFrom"].values()
               if d["prov:generatedEntity"] == "ex:answer-BR"}
    assert len(derived) == sum(ev["jurisdiction"]["counts"] for ev in _copy(case)["events"])


def test_the_default_is_listed_whatever_the_as_of(case):
    """The default applies at every valid time: a report as of 2022, before the default
    was set (now), still lists it and its correction, and answers with it."""
    report = _report(case["runner"], case["db"], "telegram", "--jurisdiction", "MY",
                     "--as-of", "2022-03-18")
    assert [ev["type"] for ev in report["events"] if ev["subject"] == "ledger"] == [
        "jurisdiction-default", "correction"]
    assert report["answer"]["as_of"] == "2022-03-18"
    assert report["answer"]["status"]["state"] == "partially-blocked"  # Indonesia's order
    assert "access-observed" not in {ev["type"] for ev in report["events"]}  # on the 19th
    assert check_report(report) == len(report["events"])


def test_as_known_before_the_correction_the_default_is_the_first(case, tmp_path):
    """--as-known-at before the correction: the default was ID, and the report says so
    (the correction is proven but not yet known)."""
    runner, db = case["runner"], case["db"]
    before = run_json(runner, db, "history", "ledger")["events"][1]["recorded_at"]
    known = (datetime.fromisoformat(before) - timedelta(microseconds=1)).isoformat()
    report = _report(runner, db, "telegram", "--jurisdiction", "ID", "--as-known-at", known)
    assert report["answer"]["default_jurisdiction"] == "ID"
    assert report["answer"]["orders"]["kom-2017"] == {"jurisdiction": "ID", "binds": True}
    assert check_report(report) == len(report["events"])


# -- attacks: each fails verify-proof in one line, exit 3 -----------------------------------


def _settings(report: dict[str, Any]) -> list[int]:
    return report["evidence"]["index"]["ledger/ledger"]["positions"]


def _drop(report: dict[str, Any], position: int) -> None:
    report["evidence"]["records"] = [r for r in report["evidence"]["records"]
                                     if r["position"] != position]
    report["events"] = [ev for ev in report["events"] if ev["position"] != position]


def _reassembled(report: dict[str, Any]) -> dict[str, Any]:
    """What a careful attacker does after editing the evidence: derive every field again
    with blockledger's own code, so that only the proofs can tell."""
    from projections.proof import _when

    evidence = report["evidence"]
    made = assemble(Evidence(report["subject"], _when(report["as_of"], "as_of"),
                             _when(report["as_known_at"], "as_known_at"),
                             report["checkpoint"]["note"], evidence["records"],
                             evidence["index"], evidence["checkpoints"],
                             jurisdiction=report.get("jurisdiction")))
    return {**made, **{k: report[k] for k in STATEMENTS if k in report}}


def remove_the_default(report):
    _drop(report, _settings(report)[0])


def remove_the_correction_of_the_default_and_derive_again(report):
    _drop(report, _settings(report)[1])
    fresh = _reassembled(report)
    # Without the correction the default is ID again: Indonesia's order leaves Malaysia.
    assert fresh["answer"]["orders"]["kom-2017"]["jurisdiction"] == "ID"
    report.clear()
    report.update(fresh)


def remove_the_correction_and_its_index_position(report):
    position = _settings(report)[1]
    _drop(report, position)
    proof = report["evidence"]["index"]["ledger/ledger"]
    at = proof["positions"].index(position)
    del proof["positions"][at], proof["proofs"][at]
    report.update(_reassembled(report))


def remove_the_settings_proof(report):
    del report["evidence"]["index"]["ledger/ledger"]


def forge_the_default(report):
    position = _settings(report)[0]
    for holder in (report["evidence"]["records"], report["events"]):
        found = next(r for r in holder if r["position"] == position)
        found["data"]["jurisdiction"] = "BR"


def a_default_of_another_ledger(report, other):
    """Another ledger's default (ID, never corrected), with its proofs, in place of this
    one's; this one's correction left out so that the events fold."""
    mine, theirs = _settings(report)[0], _settings(other)[0]
    record = next(r for r in other["evidence"]["records"] if r["position"] == theirs)
    _drop(report, _settings(report)[1])
    records = report["evidence"]["records"]
    records[next(i for i, r in enumerate(records) if r["position"] == mine)] = record
    report.update(_reassembled(report))
    assert report["answer"]["default_jurisdiction"] == "ID"


def edit_the_answer(report):
    report["answer"]["status"]["state"] = "accessible"


def edit_an_order_of_the_answer(report):
    report["answer"]["orders"]["kom-2017"]["binds"] = True


def edit_the_jurisdiction(report):
    report["jurisdiction"] = "RU"


def edit_the_jurisdiction_and_its_answer(report):
    report["jurisdiction"] = report["answer"]["jurisdiction"] = "RU"
    report["answer"]["status"]["jurisdiction"] = "RU"


def a_jurisdiction_that_is_no_code(report):
    report["jurisdiction"] = "Brazil"


def drop_the_jurisdiction(report):
    del report["jurisdiction"]


def drop_the_answer(report):
    del report["answer"]


def unmark_an_event_of_another_jurisdiction(report):
    ev = next(ev for ev in report["events"] if ev["subject"] == "rkn-2018")
    ev["jurisdiction"] = {"where": "BR", "counts": True}


def drop_the_marks(report):
    for ev in report["events"]:
        del ev["jurisdiction"]


def leave_out_an_event_of_another_jurisdiction(report):
    ev = next(ev for ev in report["events"] if ev["subject"] == "rkn-2018")
    report["events"].remove(ev)


ATTACKS = [remove_the_default, remove_the_correction_of_the_default_and_derive_again,
           remove_the_correction_and_its_index_position, remove_the_settings_proof,
           forge_the_default, a_default_of_another_ledger, edit_the_answer,
           edit_an_order_of_the_answer, edit_the_jurisdiction,
           edit_the_jurisdiction_and_its_answer, a_jurisdiction_that_is_no_code,
           drop_the_jurisdiction, drop_the_answer, unmark_an_event_of_another_jurisdiction,
           drop_the_marks, leave_out_an_event_of_another_jurisdiction]


@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__)
def test_each_attack_fails_in_one_line(case, attack):
    report = _copy(case)
    assert "ok:" in _verify(case, report).output
    if attack is a_default_of_another_ledger:
        attack(report, copy.deepcopy(case["reports"]["other"]))
    else:
        attack(report)
    error = one_line_error(_verify(case, report), 3)
    assert re.search(r"altered|missing|left out|not in the checkpoint|not a jurisdiction|"
                     r"do not lead|foreign|index proof|not the ledger", error), error


def test_the_failures_name_the_default_left_out(case):
    report = _copy(case)
    position = _settings(report)[1]
    remove_the_correction_of_the_default_and_derive_again(report)
    error = one_line_error(_verify(case, report), 3)
    assert f"position {position}, which concerns ledger/ledger, is missing" in error
    report = _copy(case)
    remove_the_settings_proof(report)
    assert "which events concern ledger/ledger" in one_line_error(_verify(case, report), 3)
    report = _copy(case)
    a_jurisdiction_that_is_no_code(report)
    assert "jurisdiction 'Brazil' is not a jurisdiction code (altered)" in one_line_error(
        _verify(case, report), 3)


# -- older checkpoints, requests, bad input -------------------------------------------------


def test_against_a_version_2_index_the_report_is_not_proven(runner, sqlite_path, tmp_path,
                                                           monkeypatch):
    """A checkpoint written before version 3 cannot prove the default complete: the
    report says it is not proven and why, and verify-proof refuses it; the report for
    all is proven as before; a version-2 report given a jurisdiction is refused."""
    monkeypatch.setattr(platform_index, "VERSION", 2)
    _ledger(runner, sqlite_path, tmp_path)
    report = _report(runner, sqlite_path, "telegram", "--jurisdiction", "BR")
    assert report["proven"] is False and "(version 2)" in report["unproven_because"]
    assert report["answer"]["status"]["state"] == "partially-blocked"
    path = tmp_path / "r.json"
    path.write_text(json.dumps(report))
    assert "carries no evidence): the checkpoint's index (version 2)" in one_line_error(
        run(runner, sqlite_path, "verify-proof", str(path)), 3)
    whole = _report(runner, sqlite_path, "telegram")
    assert whole["proven"] is True and check_report(whole) == len(whole["events"])
    whole["jurisdiction"] = "BR"
    path.write_text(json.dumps(whole))
    assert "its checkpoint's index (version 2) cannot prove" in one_line_error(
        run(runner, sqlite_path, "verify-proof", str(path)), 3)


def test_a_requests_report_for_one_jurisdiction_is_refused(runner, sqlite_path, tmp_path):
    private = _ledger(runner, sqlite_path, tmp_path)
    assert run(runner, sqlite_path, "--operator", "alice", "--key", private, "record",
               "normalization-requested", "req-1", "--at",
               "2022-03-20", *SRC, "--platform", "telegram", "--order", "stf-2022",
               "--requested-by", "Telegram").exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    out = tmp_path / "req.json"
    error = one_line_error(run(runner, sqlite_path, "report", "provenance", "req-1",
                               "--jurisdiction", "BR", "--format", "json", "-o", str(out)), 2)
    assert "a request's report cannot answer for one jurisdiction" in error
    assert "stf-2022" in error and not out.exists()


@pytest.mark.parametrize("code, words", [("brazil", "'brazil' is not a jurisdiction"),
                                         ("UK", "that country is GB")])
def test_a_bad_jurisdiction_is_one_line_and_writes_nothing(runner, sqlite_path, tmp_path,
                                                          code, words):
    out = tmp_path / "r.json"
    error = one_line_error(run(runner, sqlite_path, "report", "provenance", "telegram",
                               "--jurisdiction", code, "-o", str(out)), 2)
    assert words in error and not out.exists()


# -- both stores; verify checks the new index ---------------------------------------------


def test_reports_for_one_jurisdiction_prove_out_on_both_stores(runner, db, tmp_path):
    """On SQLite and PostgreSQL, from the kept index (alice signed the checkpoint) and
    from a fold of the log (the kept copy deleted): the same report, which proves out."""
    _ledger(runner, db, tmp_path)
    kept = _report(runner, db, "telegram", "--jurisdiction", "BR")
    assert "folded from every event" not in kept["verification"]["checked"]
    with open_ledger(parse_target(db)) as ledger:
        from ledger import index_cache

        with ledger.recorder.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {index_cache._table(ledger)}")
    folded = _report(runner, db, "telegram", "--jurisdiction", "BR")
    for report in (kept, folded):
        for statement in ("generated_at", "verification", "report_signature", "ledger"):
            report.pop(statement)
    assert kept == folded
    assert check_report(kept) == len(kept["events"]) == 9


def test_verify_rebuilds_the_version_3_index(runner, sqlite_path, tmp_path):
    """A kept note of version 3 whose index leaves out the ledger's settings (a version 2
    index under the version 3 line), put in place of the real one, is caught by verify,
    which folds the log's index at the note's version."""
    _ledger(runner, sqlite_path, tmp_path)
    assert run(runner, sqlite_path, "verify").exit_code == 0
    with open_ledger(parse_target(sqlite_path)) as ledger:
        note = ledger.recorder.select_checkpoints()[-1]
        cp = Checkpoint.parse(note)[0]
        assert cp.index_version == 3
        from ledger.verify import walk

        positions: list[int] = []
        walk(ledger, on_leaf=lambda position, _: positions.append(position))
        v2 = platform_index.build(ledger, positions[:cp.tree_size], 2)
        v3 = platform_index.build(ledger, positions[:cp.tree_size], 3)
        assert len(v3) == len(v2) + 2  # the default and its correction
        forged = Checkpoint(cp.origin, cp.tree_size, cp.root_hash, cp.chain_head, cp.time,
                            len(v2), root(v2), 3)
        from ledger import index_cache

        with ledger.recorder.datastore.transaction(commit=True) as c:
            c.execute(f"DELETE FROM {ledger.recorder.checkpoints_table_name}")
            c.execute(f"DELETE FROM {index_cache._table(ledger)}")
        ledger.recorder.insert_checkpoint(cp.tree_size, forged.to_note())
    error = one_line_error(run(runner, sqlite_path, "verify"), 3)
    assert "commits to a platform index (version 3) the log does not give" in error, error


# -- the hostile review's findings (each test failed before its fix) -----------------------

BEFORE = Path(__file__).resolve().parent / "data" / "report_v2_html"


@pytest.mark.parametrize("page", ["telegram.html", "telegram-2019.html", "rkn.html"])
def test_html_reports_of_the_release_before_still_verify(runner, tmp_path, page):
    """H1: a page made by the release before (adb47bb) is exactly what this release renders
    from its proven report: a report for all renders as it always did (the ELSEWHERE mark's
    style is only in reports for one jurisdiction)."""
    result = runner.invoke(cli, ["verify-proof", str(BEFORE / page), "--public-key",
                                 str(BEFORE / "alice.pub")], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "the page is exactly what the proven report renders to" in result.output
    assert check_report(json.loads((BEFORE / "telegram.json").read_text())) == 7


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _correct_the_default(runner: CliRunner, db: str, private: str, code: str) -> None:
    created = run_json(runner, db, "history", "ledger")["events"][0]["id"]
    result = run(runner, db, "--operator", "alice", "--key", private, "record", "correction",
                 "ledger", "--at", datetime.now(UTC).isoformat(timespec="seconds"), *SRC,
                 "--target", created, "--set", f"jurisdiction={code}", "--reason", "wrong")
    assert result.exit_code == 0, result.output


def test_as_known_after_the_checkpoint_is_not_proven(runner, sqlite_path, tmp_path):
    """H2: the default corrected after the checkpoint; a report as known at a later time
    cannot be proven by it (the correction is not in its proofs): it is made from a full
    replay, says it is not proven and why, and answers with the corrected default;
    verify-proof refuses it, and refuses a proven report whose as_known_at was moved after
    its checkpoint's time (which would otherwise derive again the same)."""
    private = _ledger(runner, sqlite_path, tmp_path, correct=False)
    proven = _report(runner, sqlite_path, "telegram", "--jurisdiction", "ID")
    _correct_the_default(runner, sqlite_path, private, "BR")
    known = _now()
    path = tmp_path / "r.json"
    for args in (("--jurisdiction", "ID"), ()):
        report = _report(runner, sqlite_path, "telegram", "--as-known-at", known, *args)
        assert report["proven"] is False
        assert "after its checkpoint's time" in report["unproven_because"]
        if args:
            assert report["answer"]["default_jurisdiction"] == "BR"
            assert report["answer"]["status"]["state"] == "accessible"  # no order binds ID
        path.write_text(json.dumps(report))
        error = one_line_error(run(runner, sqlite_path, "verify-proof", str(path)), 3)
        assert "says it is not proven (it carries no evidence): it is as known at" in error
    assert check_report(proven) == len(proven["events"])
    for moved in (proven, _report(runner, sqlite_path, "telegram")):
        moved["as_known_at"] = "2099-01-01T00:00:00+00:00"
        path.write_text(json.dumps(moved))
        error = one_line_error(run(runner, sqlite_path, "verify-proof", str(path)), 3)
        assert "after its checkpoint's time" in error, error
    # As known at the checkpoint's time or before: proven, as ever.
    from domain.values import When
    from projections.provenance import known_after

    checkpoint = Checkpoint.parse(proven["checkpoint"]["note"])[0]
    at = When.parse(checkpoint.time)
    assert known_after(at, checkpoint) is None
    assert known_after(When.of(at.instant - timedelta(days=1)), checkpoint) is None
    assert known_after(When.of(at.instant + timedelta(seconds=1)), checkpoint) is not None


def _record(runner: CliRunner, db: str, *steps: list[str]) -> None:
    for step in steps:
        result = run(runner, db, "record", *step, *SRC)
        assert result.exit_code == 0, result.output


def test_a_regional_order_is_flagged_and_no_answer_for_another_region(runner, sqlite_path,
                                                                      tmp_path):
    """H3: Jammu and Kashmir's order (IN-JK) counts in India's answer, flagged with its
    region in the headline and its order's block (md, html, prov-json); an observation made
    in Delhi (IN-DL) that telegram.org is reachable is not its block failing, and one that
    it is unreachable is not explained by it; one made in Jammu and Kashmir is. Status and
    report say the same, with or without a jurisdiction."""
    db = sqlite_path
    assert run(runner, db, "init", "--jurisdiction", "IN").exit_code == 0
    _record(runner, db,
            ["platform-registered", "telegram", "--at", "2013-08-14", "--name", "Telegram",
             "--target", "t.me", "--target", "telegram.org"],
            ["blocked", "jk", "--at", "2019-01-01", "--platform", "telegram", "--authority",
             "J&K Home Dept", "--target", "telegram.org", "--reason", "unrest",
             "--jurisdiction", "IN-JK"],
            ["access-observed", "telegram", "--at", "2019-02-01", "--target", "telegram.org",
             "--accessible", "--jurisdiction", "IN-DL", "--network", "AS9829"])

    def divergence(as_of: str, *code: str) -> dict[str, str]:
        args = ("--jurisdiction", *code) if code else ()
        return run_json(runner, db, "status", "telegram", "--as-of", as_of, *args)[
            "divergence"]

    for code in ((), ("IN",), ("IN-DL",), ("IN-JK",)):
        assert divergence("2019-02-02", *code) == {}, code
    _record(runner, db, ["access-observed", "telegram", "--at", "2019-03-01", "--target",
                         "telegram.org", "--not-accessible", "--jurisdiction", "IN-DL"])
    assert divergence("2019-03-02") == divergence("2019-03-02", "IN") == {
        "telegram.org": "unexplained"}
    _record(runner, db, ["access-observed", "telegram", "--at", "2019-04-01", "--target",
                         "telegram.org", "--accessible", "--jurisdiction", "IN-JK"])
    for code in ((), ("IN",), ("IN-JK",)):
        assert divergence("2019-04-02", *code) == {
            "telegram.org": "reachable-while-blocked"}, code
    assert run(runner, db, "checkpoint").exit_code == 0
    report = _report(runner, db, "telegram", "--jurisdiction", "IN", "--as-of", "2019-02-02")
    summary = summarise(report)
    assert summary.divergent == {} and summary.regional == {"telegram.org": ("IN-JK",)}
    assert [o.regional for o in summary.orders] == ["IN-JK"]
    assert check_report(report) == len(report["events"])
    text = run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "IN",
               "--as-of", "2019-02-02").stdout
    assert "blocked: telegram.org (in IN-JK only: a regional order)." in text
    assert "### Order jk — J\\&K Home Dept (regional: IN-JK)" in text
    assert "differs from the orders" not in text
    prov = json.loads(run(runner, db, "report", "provenance", "telegram", "--jurisdiction",
                          "IN", "--format", "prov-json").stdout)
    assert json.loads(prov["entity"]["ex:answer-IN"]["bl:regional_orders"]) == {"jk": "IN-JK"}
    page = tmp_path / "in.html"
    assert run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "IN",
               "--format", "html", "-o", str(page)).exit_code == 0
    html = page.read_text()
    assert "targets blocked (telegram.org in IN-JK only: regional orders)." in html
    assert "<strong>regional:</strong> binds IN-JK only" in html
    assert "ok:" in run(runner, db, "verify-proof", str(page)).output
    # The report for all says nothing new: a page of it reads as it always did.
    plain = run(runner, db, "report", "provenance", "telegram").stdout
    assert "regional" not in plain.split("## Ledger and checkpoint")[0]


def _penalty_marks_agree(report: dict[str, Any]) -> list[bool]:
    """Each penalty-imposed's mark, checked against the answer: it counts exactly when the
    answer's status lists it."""
    listed = {p["id"] for p in (report["answer"]["status"] or {}).get("penalties") or []}
    out = []
    for ev in report["events"]:
        if ev["type"] == "penalty-imposed":
            assert ev["jurisdiction"]["counts"] == (ev["id"] in listed), ev["jurisdiction"]
            out.append(ev["jurisdiction"]["counts"])
    return out


def test_a_penalty_counts_where_its_order_binds_whatever_the_as_of(runner, sqlite_path):
    """M2: a fine under Brazil's order, valid-dated before the order (its date corrected
    later, in a ledger written before such a correction was refused: it is now, by
    ``domain.dependents``): the answer and the marks put it in Brazil at every as-of, by
    one rule; a new penalty dated before its order is refused (the same day is not)."""
    db = sqlite_path
    assert run(runner, db, "init", "--jurisdiction", "RU").exit_code == 0
    _record(runner, db,
            ["platform-registered", "telegram", "--at", "2013-08-14", "--name", "Telegram",
             "--target", "t.me"],
            ["blocked", "stf", "--at", "2020-01-01", "--platform", "telegram", "--authority",
             "STF", "--target", "t.me", "--reason", "r", "--jurisdiction", "BR"],
            ["penalty-imposed", "telegram", "--at", "2021-01-01", "--authority", "STF",
             "--amount", "1000", "--currency", "BRL", "--per", "once", "--reason", "r",
             "--order", "stf"])
    created = next(ev["id"] for ev in run_json(runner, db, "history", "stf")["events"]
                   if ev["type"] == "blocked")
    moved = ["correction", "stf", "--at", "2022-03-18", "--target", created,
             "--set", "occurred_at=2022-03-18", "--reason", "the order's date"]
    error = one_line_error(run(runner, db, "record", *moved, *SRC), 1)
    assert "would leave penalty-imposed of 2021-01-01" in error, error
    with pytest.MonkeyPatch.context() as patch:
        older_ledger(patch)
        _record(runner, db, moved)
    assert run(runner, db, "checkpoint").exit_code == 0
    for as_of in ("2021-06-01", "2023-01-01"):
        br, ru = (_report(runner, db, "telegram", "--jurisdiction", c, "--as-of", as_of)
                  for c in ("BR", "RU"))
        assert _penalty_marks_agree(br) == [True] and _penalty_marks_agree(ru) == [False]
        for code in ("BR", "RU"):
            status = run_json(runner, db, "status", "telegram", "--jurisdiction", code,
                              "--as-of", as_of)
            assert len(status["penalties"]) == (code == "BR"), (code, as_of)
        assert check_report(br) == len(br["events"])
    refused = run(runner, db, "record", "penalty-imposed", "telegram", "--at", "2022-03-17",
                  "--authority", "STF", "--amount", "1", "--currency", "BRL", "--per",
                  "once", "--reason", "r", "--order", "stf", *SRC)
    error = one_line_error(refused, 1)
    assert "penalty-imposed at 2022-03-17 names order stf, which was made at 2022-03-18" \
        in error
    _record(runner, db, ["penalty-imposed", "telegram", "--at", "2022-03-18", "--authority",
                         "STF", "--amount", "1", "--currency", "BRL", "--per", "once",
                         "--reason", "r", "--order", "stf"])


def test_a_retracted_payment_of_a_retracted_penalty_counts_where_the_penalty_did(
        runner, sqlite_path):
    """LOW (s9b): both retracted, the payment is marked where its penalty counted (Brazil),
    not 'every jurisdiction'."""
    db = sqlite_path
    assert run(runner, db, "init", "--jurisdiction", "RU").exit_code == 0
    _record(runner, db,
            ["platform-registered", "telegram", "--at", "2013-08-14", "--name", "Telegram",
             "--target", "t.me"],
            ["blocked", "stf", "--at", "2022-03-18", "--platform", "telegram", "--authority",
             "STF", "--target", "t.me", "--reason", "r", "--jurisdiction", "BR"],
            ["penalty-imposed", "telegram", "--at", "2022-03-19", "--authority", "STF",
             "--amount", "1000", "--currency", "BRL", "--per", "day", "--reason", "r",
             "--order", "stf"])
    penalty = run_json(runner, db, "history", "telegram")["events"][-1]["id"]
    _record(runner, db, ["penalty-paid", "telegram", "--at", "2022-04-01", "--penalty",
                         penalty, "--amount", "13000"])
    paid = run_json(runner, db, "history", "telegram")["events"][-1]["id"]
    for target in (paid, penalty):
        _record(runner, db, ["retraction", "telegram", "--at", "2022-05-01", "--target",
                             target, "--reason", "never"])
    assert run(runner, db, "checkpoint").exit_code == 0
    report = _report(runner, db, "telegram", "--jurisdiction", "RU")
    marks = {ev["type"]: ev["jurisdiction"] for ev in report["events"]
             if ev["type"].startswith("penalty")}
    assert marks == {"penalty-imposed": {"where": "BR", "counts": False},
                     "penalty-paid": {"where": "BR", "counts": False}}
    assert check_report(report) == len(report["events"])


TELEGRAM = ["platform-registered", "telegram", "--at", "2013-08-14", "--name", "Telegram",
            "--target", "t.me", "--target", "telegram.org"]
RKN = ["blocked", "rkn", "--at", "2018-04-16", "--platform", "telegram", "--authority",
       "RKN", "--target", "t.me", "--reason", "r"]


def _checkpoint(runner: CliRunner, db: str) -> None:
    time.sleep(1 - datetime.now(UTC).microsecond / 1e6)  # after every event (whole seconds)
    assert run(runner, db, "checkpoint").exit_code == 0


def test_orders_that_bind_no_jurisdiction_leave_the_answer_undetermined(runner, sqlite_path,
                                                                        tmp_path):
    """M1: an order recorded before the ledger had a default, asked as known then: the
    answer says it is undetermined and which orders bind no jurisdiction (not that the
    platform was accessible), and does not count them among other jurisdictions'."""
    db = sqlite_path
    assert run(runner, db, "init").exit_code == 0
    _record(runner, db, TELEGRAM, RKN)
    known = _now()
    assert run(runner, db, "init", "--jurisdiction", "RU").exit_code == 0
    _checkpoint(runner, db)
    report = _report(runner, db, "telegram", "--jurisdiction", "RU", "--as-known-at", known)
    assert report["answer"]["unplaced"] == ["rkn"]
    assert report["answer"]["orders"] == {"rkn": {"jurisdiction": None, "binds": False}}
    assert check_report(report) == len(report["events"])
    summary = summarise(report)
    assert summary.unplaced == ("rkn",) and summary.unplaced_events == 1
    assert summary.elsewhere == 0
    text = run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "RU",
               "--as-known-at", known).stdout
    assert "In **RU**, the answer for **telegram** (platform) is **undetermined**" in text
    assert "1 order (rkn) binds no jurisdiction" in text
    assert "0 events of other jurisdictions" in text and "1 bind no jurisdiction" in text
    assert "**[NO JURISDICTION]**" in text
    page = tmp_path / "k.html"
    assert run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "RU",
               "--as-known-at", known, "--format", "html", "-o", str(page)).exit_code == 0
    assert "the answer is <strong>undetermined</strong>" in page.read_text()
    assert "ok:" in run(runner, db, "verify-proof", str(page)).output
    # As known now, the default places it: determined.
    now = _report(runner, db, "telegram", "--jurisdiction", "RU")
    assert now["answer"]["unplaced"] == [] and summarise(now).state == "partially-blocked"


def test_an_observation_outside_its_orders_country_counts_in_no_answer(runner, sqlite_path):
    """M3: an observation made in Russia, recorded on an order that names no jurisdiction
    (Russia's by the default); the default then corrected to Brazil. The observation is
    in no country's status, and its mark says so and why, instead of claiming to be part
    of Russia's answer. (Such a correction of the default is refused now, as an order's
    own jurisdiction corrected from under its observation is: ``domain.dependents``; a
    ledger written before that check holds one, and the marks and the answer agree on it
    by one rule.)"""
    db = sqlite_path
    assert run(runner, db, "init", "--jurisdiction", "RU").exit_code == 0
    _record(runner, db, TELEGRAM, RKN,
            ["access-observed", "rkn", "--at", "2018-05-01", "--target", "t.me",
             "--accessible", "--jurisdiction", "RU"])
    created = run_json(runner, db, "history", "ledger")["events"][0]["id"]
    corrected = ["correction", "ledger", "--at", _now()[:19] + "+00:00", "--target",
                 created, "--set", "jurisdiction=BR", "--reason", "wrong"]
    error = one_line_error(run(runner, db, "record", *corrected, *SRC), 1)
    assert "would leave access-observed of 2018-05-01" in error
    assert "order rkn binds BR: an observation in RU is not of it" in error
    with pytest.MonkeyPatch.context() as patch:
        older_ledger(patch)
        _record(runner, db, corrected)
    _checkpoint(runner, db)
    for code in ("RU", "BR"):
        report = _report(runner, db, "telegram", "--jurisdiction", code)
        observed = next(ev for ev in report["events"] if ev["type"] == "access-observed")
        assert observed["jurisdiction"]["counts"] is False, code
        assert "recorded on order rkn, which binds BR" in observed["jurisdiction"]["note"]
        assert report["answer"]["status"]["observed"] == {}
        assert check_report(report) == len(report["events"])
    text = run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "RU").stdout
    assert "**[IN NO ANSWER]**" in text and "ELSEWHERE: RU" not in text


def test_notices_retracted_orders_and_former_countries(runner, sqlite_path):
    """LOW: Brazil's notices are tied to no jurisdiction (not 'part of' Russia's answer);
    an order whose creation was retracted is not among the answer's orders, and its report
    says nothing counts rather than 'null'; an order of a former country (SU) is noted."""
    db = sqlite_path
    assert run(runner, db, "init", "--jurisdiction", "RU").exit_code == 0
    _record(runner, db, TELEGRAM,
            ["email-sent", "telegram", "--at", "2022-03-10", "--sender", "STF (Brazil)",
             "--recipient", "Telegram", "--summary", "comply"],
            ["no-response", "telegram", "--at", "2022-03-15", "--summary", "none"],
            ["blocked", "stf", "--at", "2022-03-18", "--platform", "telegram", "--authority",
             "STF", "--target", "t.me", "--reason", "r", "--jurisdiction", "BR"],
            ["blocked", "glav", "--at", "1985-01-01", "--platform", "telegram",
             "--authority", "Glavlit", "--target", "telegram.org", "--reason", "r",
             "--jurisdiction", "SU"])
    created = next(ev["id"] for ev in run_json(runner, db, "history", "stf")["events"]
                   if ev["type"] == "blocked")
    _record(runner, db, ["retraction", "stf", "--at", "2022-03-20", "--target", created,
                         "--reason", "wrong"])
    _checkpoint(runner, db)
    report = _report(runner, db, "telegram", "--jurisdiction", "RU")
    marks = {ev["type"]: ev["jurisdiction"] for ev in report["events"]}
    assert marks["email-sent"] == marks["no-response"] == {"where": "untied", "counts": False}
    assert set(report["answer"]["orders"]) == {"glav"}
    summary = summarise(report)
    assert summary.elsewhere == 3 and summary.former == ("SU",)  # glav's, stf's two
    assert [m.type for m in summary.notices] == ["email-sent", "no-response"]
    text = run(runner, db, "report", "provenance", "telegram", "--jurisdiction", "RU").stdout
    assert "not tied to a jurisdiction: listed, part of no jurisdiction's answer" in text
    assert "every jurisdiction: part of this report's answer" in text  # its registration
    assert text.count("**[ELSEWHERE") == 3
    assert "SU: a former country (ISO 3166-3)" in text
    assert check_report(report) == len(report["events"])
    gone = run(runner, db, "report", "provenance", "stf", "--jurisdiction", "BR").stdout
    assert "In **BR**, **stf** has no event that counts" in gone and "null" not in gone


def test_verify_proof_checks_the_jurisdiction_codes_shape_not_its_iso_table(case,
                                                                          monkeypatch):
    """LOW: a verifier whose ISO 3166 data knows other codes still verifies a report;
    an altered code of the wrong shape still fails."""
    from domain import jurisdictions

    monkeypatch.setattr(jurisdictions, "check_country", lambda code: f"{code} unknown here")
    report = _copy(case)
    assert "ok:" in _verify(case, report).output
    report["jurisdiction"] = "BRA"
    assert "not a jurisdiction code" in one_line_error(_verify(case, report), 3)


def test_import_says_which_default_it_adopts(runner, tmp_path):
    """LOW: importing another ledger's export that sets a default says so."""
    a, b = str(tmp_path / "a.db"), str(tmp_path / "b.db")
    assert run(runner, a, "init", "--jurisdiction", "RU").exit_code == 0
    exported = tmp_path / "a.jsonl"
    exported.write_text(run(runner, a, "export").stdout)
    assert run(runner, b, "init").exit_code == 0
    result = run(runner, b, "import", str(exported))
    assert result.exit_code == 0, result.output
    assert "the ledger's default jurisdiction is now RU (was none), set by the imported " \
           "events" in result.output
    again = run(runner, b, "import", str(exported))
    assert "default jurisdiction" not in again.output
