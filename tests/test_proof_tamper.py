"""verify-proof against edited reports: every attack of the hostile review, on real reports
of the bundled 2017 case (signed by an operator, checkpointed with an auditor's key), a
platform's and an order's (which proves its own events by its ``order/REF`` leaves), must
fail in one line with exit 3 (or 2 for a report of the wrong shape), never pass, never a
traceback."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from cli import cli
from domain.errors import BadInput, IntegrityFailure
from projections.proof import STATEMENTS, check_report
from tests.clitools import key_pair, one_line_error, run

ORDER, REQUEST = "kominfo-2017-07-14", "telegram-id-2017"
#: The reports every attack is tried on: a platform's and an order's.
SUBJECTS = ("telegram", ORDER)


def _pem(tmp_path: Path, name: str) -> tuple[str, str]:
    return key_pair(tmp_path, name)


@pytest.fixture(scope="module")
def case(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A signed ledger of the 2017 case plus a second platform, a signed checkpoint, and
    JSON reports (signed by alice) of telegram, of signal, of the order and the request."""
    from click.testing import CliRunner

    from examples import __file__ as examples_init

    tmp = tmp_path_factory.mktemp("tamper")
    example = Path(examples_init).parent / "telegram-indonesia-2017.jsonl"
    alice, auditor = _pem(tmp, "alice"), _pem(tmp, "auditor")
    db = str(tmp / "ledger.db")
    runner = CliRunner()
    signed = ["--db", db, "--operator", "alice", "--key", alice[0]]

    def ok(*args: str) -> str:
        result = runner.invoke(cli, [*signed, *args], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.stdout

    ok("operator", "add", "alice", "--public-key", alice[1])
    ok("import", str(example))
    ok("record", "platform-registered", "signal", "--at", "2014-07-29", "--source", "s",
       "--name", "Signal", "--target", "signal.org")
    ok("record", "statement-issued", "signal", "--at", "2017-07-20", "--source", "s",
       "--by", "Signal", "--summary", "we are not blocked")
    ok("checkpoint", "--key", auditor[0], "-o", str(tmp / "cp.txt"))
    reports = {name: json.loads(ok("report", "provenance", name, "--format", "json"))
               for name in ("telegram", "signal", ORDER, REQUEST)}
    return {"tmp": tmp, "db": db, "alice": alice, "auditor": auditor, "reports": reports,
            "runner": runner}


def verify_proof(case: dict[str, Any], report: Any, *extra: str) -> Any:
    path = case["tmp"] / "attack.json"
    path.write_text(json.dumps(report))
    return case["runner"].invoke(cli, ["verify-proof", str(path), *extra],
                                 catch_exceptions=False)


def telegram(case: dict[str, Any], subject: str = "telegram") -> dict[str, Any]:
    return copy.deepcopy(case["reports"][subject])


def _own(report: dict[str, Any]) -> dict[str, Any]:
    """The index proof of the report's own events: the platform's run, or the order's."""
    index = report["evidence"]["index"]
    order = f"order/{report['subject']}"
    return index[order] if index.get(order, {}).get("positions") else index[report["subject"]]


def _where(report: dict[str, Any], type_: str) -> int:
    return next(i for i, ev in enumerate(report["events"]) if ev["type"] == type_)


def _record(report: dict[str, Any], position: int) -> int:
    return next(i for i, r in enumerate(report["evidence"]["records"])
                if r["position"] == position)


def test_the_untouched_reports_verify_with_both_keys(case):
    for report in case["reports"].values():
        result = verify_proof(case, report, "--public-key", case["auditor"][1],
                              "--report-key", case["alice"][1])
        assert result.exit_code == 0, result.output
        assert "checkpoint signature valid" in result.output
        assert "report signed by --report-key" in result.output
    assert case["reports"]["telegram"]["report_signature"]["signed"] is True
    assert case["reports"]["telegram"]["signatures"]["signed"] == 33
    # The order's and the request's reports carry their own events and the operator's,
    # not their platform's.
    for subject in (ORDER, REQUEST):
        report = case["reports"][subject]
        index = report["evidence"]["index"]
        assert set(index) == {subject, f"order/{subject}", f"request/{subject}",
                              "#operators"}
        positions = {r["position"] for r in report["evidence"]["records"]}
        assert positions == {p for run_ in index.values() for p in run_["positions"]}
        assert {r["subject"] for r in report["evidence"]["records"]} == {subject, "alice"}


def remove_the_lift(report):
    del report["events"][_where(report, "unblocked")]


def remove_the_lift_and_its_record(report):
    lift = report["events"].pop(_where(report, "unblocked"))
    del report["evidence"]["records"][_record(report, lift["position"])]


def remove_the_lift_everywhere(report):
    """Events, records and the index proof's list of positions: its proofs no longer fit."""
    lift = report["events"].pop(_where(report, "unblocked"))
    del report["evidence"]["records"][_record(report, lift["position"])]
    run_ = _own(report)
    at = run_["positions"].index(lift["position"])
    del run_["positions"][at]
    del run_["proofs"][at]


def remove_the_last_event_and_shorten_the_run(report):
    """The last of the subject's leaves, and its 'after' neighbour moved up: not
    adjacent."""
    run_ = _own(report)
    last = run_["positions"].pop()
    run_["proofs"].pop()
    report["events"] = [ev for ev in report["events"] if ev["position"] != last]
    del report["evidence"]["records"][_record(report, last)]


def null_a_signature(report):
    report["events"][3]["signature"] = None


def null_a_signature_and_its_record(report):
    report["events"][3]["signature"] = None
    report["evidence"]["records"][_record(report, report["events"][3]["position"])][
        "signature"] = None


def rename_a_signer(report):
    report["events"][3]["signature"]["operator"] = "mallory"


def rewrite_a_summary(report):
    report["events"][5]["summary"] = "Kominfo lifts everything"


def empty_corrected_by(report):
    corrected = next(ev for ev in report["events"] if ev["corrected_by"])
    corrected["corrected_by"] = []


def rename_the_subject(report):
    report["subject"] = "signal"


def rename_the_subject_to_an_order(report):
    report["subject"] = ORDER if report["subject"] != ORDER else "telegram"


def edit_a_proof_hash(report):
    run_ = _own(report)
    first = run_["proofs"][-1][0]
    run_["proofs"][-1][0] = ("B" if first[0] != "B" else "C") + first[1:]


def move_the_run(report):
    _own(report)["first"] += 1


def no_events(report):
    report["events"] = []


def no_events_no_records(report):
    report["events"] = []
    report["evidence"]["records"] = []


def change_tree_size(report):
    report["checkpoint"]["tree_size"] = 40


def delete_tree_size(report):
    del report["checkpoint"]["tree_size"]


def duplicate_an_event(report):
    report["events"].insert(4, copy.deepcopy(report["events"][4]))


def duplicate_an_event_and_its_record(report):
    report["events"].insert(4, copy.deepcopy(report["events"][4]))
    records = report["evidence"]["records"]
    at = _record(report, report["events"][4]["position"])
    records.insert(at, copy.deepcopy(records[at]))


def alter_an_event_field(report):
    report["events"][4]["data"]["authority"] = "Someone else"


def alter_a_record_field(report):
    report["evidence"]["records"][4]["data"]["authority"] = "Someone else"


def change_a_time_bound(report):
    report["events"][2]["record_time"]["not_after"]["time"] = "2030-01-01T00:00:00Z"


def drop_the_operator_events(report):
    report["evidence"]["records"] = [r for r in report["evidence"]["records"]
                                     if not r["type"].startswith("operator-")]
    del report["evidence"]["index"]["#operators"]


def add_a_field(report):
    report["events"][0]["verified_by"] = "the court"


ATTACKS = [remove_the_lift, remove_the_lift_and_its_record, remove_the_lift_everywhere,
           remove_the_last_event_and_shorten_the_run, null_a_signature,
           null_a_signature_and_its_record, rename_a_signer, rewrite_a_summary,
           empty_corrected_by, rename_the_subject, rename_the_subject_to_an_order, no_events,
           no_events_no_records, change_tree_size, delete_tree_size, duplicate_an_event,
           duplicate_an_event_and_its_record, alter_an_event_field, alter_a_record_field,
           change_a_time_bound, drop_the_operator_events, add_a_field, edit_a_proof_hash,
           move_the_run]


@pytest.mark.parametrize("subject", SUBJECTS)
@pytest.mark.parametrize("attack", ATTACKS, ids=lambda a: a.__name__)
def test_each_attack_fails_in_one_line(case, attack, subject):
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}  # the attacker drops what he cannot keep
    attack(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert "altered" in error or "missing" in error or "position" in error or \
        "concern" in error or "repeated" in error or "foreign" in error or \
        "left out" in error or "not in an index" in error, error


@pytest.mark.parametrize("subject", SUBJECTS)
def test_the_failures_name_what_fails(case, subject):
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    lift = report["events"][_where(report, "unblocked")]
    remove_the_lift(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {lift['position']} ({lift['id']}) is missing" in error
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    duplicate_an_event(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {report['events'][4]['position']} is repeated" in error
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    lift = report["events"][_where(report, "unblocked")]
    remove_the_lift_and_its_record(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {lift['position']}" in error and "left out" in error
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    duplicate_an_event_and_its_record(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {report['events'][4]['position']} is repeated" in error
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    null_a_signature_and_its_record(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {report['events'][3]['position']}: unsigned" in error
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    rewrite_a_summary(report)
    assert "event 6" in one_line_error(verify_proof(case, report), 3)
    report = telegram(case, subject)
    report["report_signature"] = {"signed": False}
    last = _own(report)["positions"][-1]
    edit_a_proof_hash(report)
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {last} is not in the checkpoint's index" in error


def test_a_foreign_event_in_an_orders_report_is_refused(case):
    """Telegram's statement (of the order's platform), with its record and proof, added to
    the order's report: the order's leaves do not hold it; with telegram's whole run, the
    report proves a name that is not the order's."""
    report, theirs = telegram(case, ORDER), case["reports"]["telegram"]
    report["report_signature"] = {"signed": False}
    statement = next(ev for ev in theirs["events"] if ev["type"] == "statement-issued")
    record = next(r for r in theirs["evidence"]["records"]
                  if r["position"] == statement["position"])
    report["events"].append(copy.deepcopy(statement))
    report["evidence"]["records"].append(copy.deepcopy(record))
    report["evidence"]["records"].sort(key=lambda r: r["position"])
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {statement['position']}" in error and "foreign" in error
    report["evidence"]["index"]["telegram"] = theirs["evidence"]["index"]["telegram"]
    records = {r["position"]: r for r in report["evidence"]["records"]}
    records.update((r["position"], r) for r in theirs["evidence"]["records"])
    report["evidence"]["records"] = [records[p] for p in sorted(records)]
    error = one_line_error(verify_proof(case, report), 3)
    assert "events of telegram" in error and "foreign" in error
    # The proof of the request's (empty) run swapped for telegram's: its leaves are under
    # another name, so the run does not prove.
    report = telegram(case, ORDER)
    report["report_signature"] = {"signed": False}
    report["evidence"]["index"][f"request/{ORDER}"] = theirs["evidence"]["index"]["telegram"]
    error = one_line_error(verify_proof(case, report), 3)
    assert f"index proof of request/{ORDER}" in error


def test_an_orders_report_cannot_drop_its_own_proof(case):
    """Without the order's run, or with the platform-style (version 1) proofs of its
    platform instead, against a version 2 checkpoint: refused."""
    report = telegram(case, ORDER)
    report["report_signature"] = {"signed": False}
    del report["evidence"]["index"][f"order/{ORDER}"]
    error = one_line_error(verify_proof(case, report), 3)
    assert f"order/{ORDER}" in error and "missing" in error
    report = telegram(case, ORDER)
    report["report_signature"] = {"signed": False}
    theirs = case["reports"]["telegram"]
    report["evidence"] = copy.deepcopy(theirs["evidence"])
    report["evidence"]["index"][ORDER] = report["evidence"]["index"].pop("telegram")
    one_line_error(verify_proof(case, report), 3)


def test_a_foreign_platforms_event_is_refused(case):
    """Signal's statement, with its record and proof, added to telegram's report."""
    report, theirs = telegram(case), case["reports"]["signal"]
    report["report_signature"] = {"signed": False}
    statement = next(ev for ev in theirs["events"] if ev["type"] == "statement-issued")
    record = next(r for r in theirs["evidence"]["records"]
                  if r["position"] == statement["position"])
    report["events"].append(copy.deepcopy(statement))
    report["evidence"]["records"].append(copy.deepcopy(record))
    error = one_line_error(verify_proof(case, report), 3)
    assert f"position {statement['position']}" in error and "foreign" in error
    # With signal's index proof and all its records, each is proven signal's: still not
    # telegram's, so the report is not what they give.
    report["evidence"]["index"]["signal"] = theirs["evidence"]["index"]["signal"]
    records = {r["position"]: r for r in report["evidence"]["records"]}
    records.update((r["position"], r) for r in theirs["evidence"]["records"])
    report["evidence"]["records"] = [records[p] for p in sorted(records)]
    error = one_line_error(verify_proof(case, report), 3)
    assert "signal" in error and "foreign" in error


def test_a_signed_report_refuses_any_edit_and_another_key(case):
    report = telegram(case)
    report["generated_at"] = "2001-01-01T00:00:00+00:00"  # a statement: covered by the signature
    assert "signature does not verify" in one_line_error(verify_proof(case, report), 3)
    report = telegram(case)
    other = _pem(case["tmp"], "other")[1]
    error = one_line_error(verify_proof(case, report, "--report-key", other), 3)
    assert "another key" in error
    report["report_signature"] = {"signed": False}
    error = one_line_error(verify_proof(case, report, "--report-key", case["alice"][1]), 3)
    assert "not signed" in error
    error = one_line_error(verify_proof(case, report, "--public-key", other), 3)
    assert "checkpoint's signature" in error


@pytest.mark.parametrize("mutate", [
    lambda r: r.clear(), lambda r: r.update(report="history"), lambda r: r.update(format=1),
    lambda r: r.update(report_signature=[]), lambda r: r.update(evidence=[]),
    lambda r: r["evidence"]["records"].append(7),
    lambda r: r["evidence"]["records"][0].update(position="1"),
    lambda r: r["evidence"]["records"][0].update(proof="AAAA"),
    lambda r: r["checkpoint"].update(note=7),
    lambda r: r["checkpoint"].update(note="not a note\n"),
    lambda r: r.update(as_of="yesterday"),
    lambda r: r["evidence"]["index"].update({"x\ny": {}}),
    lambda r: r["evidence"]["index"].update({"#operators": None}),
    lambda r: r["evidence"]["index"]["#operators"].update(positions="1"),
], ids=lambda m: "")
@pytest.mark.parametrize("subject", SUBJECTS)
def test_malformed_reports_are_bad_input(case, mutate, subject):
    report = telegram(case, subject)
    mutate(report)
    one_line_error(verify_proof(case, report), 2)


@pytest.mark.parametrize("mutate", [
    lambda r: r.update({"extra\nline": 1}), lambda r: r.update(subject="tele\ngram"),
    lambda r: r["events"][0].update({"a\u2028b": 1}),
])
def test_messages_quoting_the_report_stay_one_line(case, mutate):
    report = telegram(case)
    report["report_signature"] = {"signed": False}
    mutate(report)
    one_line_error(verify_proof(case, report), 3)


def test_a_report_that_is_not_json_or_not_an_object(case):
    path = case["tmp"] / "bad.json"
    for text in ("{", "[]", "null", '"x"'):
        path.write_text(text)
        result = case["runner"].invoke(cli, ["verify-proof", str(path)])
        one_line_error(result, 2)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    """Every key path of a report (of a list, only its first and last items)."""
    out = []
    if isinstance(value, dict):
        for key, item in value.items():
            out.append((*path, key))
            out += _paths(item, (*path, key))
    elif isinstance(value, list) and value:
        for index in sorted({0, len(value) - 1}):
            out.append((*path, index))
            out += _paths(value[index], (*path, index))
    return out


def _other_type(value: Any) -> Any:
    for candidate in ("x", 7, None, [], {}, True):
        if type(candidate) is not type(value):
            return candidate
    return None


@pytest.mark.parametrize("subject", ["signal", ORDER])
def test_fuzz_every_key_deleted_or_retyped(case, subject):
    """Deleting or retyping any key fails (2 or 3), but in the producer's statements,
    which only the report's signature covers (and this report is signed)."""
    original = case["reports"][subject]
    passed = []
    for path in _paths(original):
        for action in ("delete", "retype"):
            report = copy.deepcopy(original)
            holder = report
            for key in path[:-1]:
                holder = holder[key]
            if action == "delete":
                del holder[path[-1]]
            else:
                holder[path[-1]] = _other_type(holder[path[-1]])
            try:
                check_report(report)
            except (BadInput, IntegrityFailure):
                continue
            passed.append((action, path))
    # Without its signature block a report is unsigned, which is what it then says.
    assert passed == [("delete", ("report_signature",))], passed[:5]


def test_statements_only_the_signature_covers(case):
    """Unsigned, the producer's statements can be edited: they are not evidence."""
    report = copy.deepcopy(case["reports"]["signal"])
    report["report_signature"] = {"signed": False}
    report["generated_at"] = "2001-01-01T00:00:00+00:00"
    assert check_report(report) == 2
    assert set(STATEMENTS) >= {"generated_at", "ledger", "verification"}


def test_record_time_is_bounded_by_the_kept_checkpoints(runner, sqlite_path, example,
                                                        tmp_path):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    assert run(runner, sqlite_path, "record", "statement-issued", "telegram", "--at",
               "2017-08-11", "--source", "x", "--by", "Kominfo", "--summary",
               "s").exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    report = json.loads(run(runner, sqlite_path, "report", "provenance", "telegram",
                            "--format", "json").stdout)
    first, last = report["events"][0], report["events"][-1]
    assert last["summary"].startswith("Kominfo") and last["position"] == 34
    assert last["record_time"]["not_before"]["tree_size"] == 33
    assert last["record_time"]["not_after"]["tree_size"] == 34
    assert first["record_time"] == {"not_before": None,
                                    "not_after": last["record_time"]["not_before"]}
    assert len(report["evidence"]["checkpoints"]) == 1
    assert check_report(report) == 34
    report["evidence"]["checkpoints"] = []  # looser, and the events no longer say so
    with pytest.raises(IntegrityFailure, match="record_time"):
        check_report(report)


def test_a_key_given_twice_is_refused_even_in_a_signed_report(case):
    """Found by the hostile review: orjson keeps the last of two values of one key, other
    readers the first; a forged summary put before the real one passed, signature and
    all. A report that says two things is refused."""
    text = json.dumps(case["reports"]["telegram"])
    lift = _where(case["reports"]["telegram"], "unblocked")
    real = json.dumps(case["reports"]["telegram"]["events"][lift]["summary"])
    assert text.count(f'"summary": {real}') == 1
    forged = text.replace(f'"summary": {real}', f'"summary": "no lift", "summary": {real}')
    path = case["tmp"] / "duplicated.json"
    path.write_text(forged)
    result = case["runner"].invoke(cli, ["verify-proof", str(path), "--public-key",
                                         case["auditor"][1], "--report-key",
                                         case["alice"][1]], catch_exceptions=False)
    assert result.exit_code == 3, result.output
    assert "'summary' twice" in result.stderr and len(result.stderr.splitlines()) == 1
