"""The platform index kept beside the latest checkpoint (``ledger.index_cache``): a
platform's report reads only its own events with it, gives the same report as a fold of
the whole log, and an altered, swapped or stale copy never changes an answer (it is not
used) while ``verify`` names it."""

from __future__ import annotations

import json
import zlib

import pytest

from ledger import index_cache, platform_index
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.proof import check_report
from tests.clitools import one_line_error, run
from tests.test_encryption import KEY, leaks, table_contents, use_key

SUBJECTS = ("telegram", "kominfo-2017-07-14", "telegram-id-2017")


def _report(runner, db: str, subject: str) -> dict:
    result = run(runner, db, "report", "provenance", subject, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for moment in ("generated_at", "report_signature"):
        report.pop(moment, None)
    return report


def _no_fold(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make a fold of the whole log fail the test; return the events read by position."""
    def refuse(*_a, **_k):
        raise AssertionError("the whole log was folded")

    monkeypatch.setattr(platform_index, "scan", refuse)
    return []


def _cached(db: str) -> tuple[int, bytes] | None:
    with open_ledger(parse_target(db)) as ledger:
        return index_cache.kept(ledger)


def _set_blob(db: str, blob: bytes) -> None:
    with open_ledger(parse_target(db)) as ledger:
        table = index_cache._table(ledger)
        mark = "%s" if ledger.target.postgres else "?"
        with ledger.recorder.datastore.transaction(commit=True) as c:
            c.execute(f"UPDATE {table} SET leaves = {mark}", (blob,))


def test_a_platforms_report_reads_only_its_events_and_equals_the_fold(runner, db, example,
                                                                       monkeypatch):
    assert run(runner, db, "import", str(example)).exit_code == 0
    assert run(runner, db, "checkpoint").exit_code == 0
    assert _cached(db) is not None
    folded = {}
    with monkeypatch.context() as m:
        m.setattr(index_cache, "load", lambda *_: None)
        folded = {s: _report(runner, db, s) for s in SUBJECTS}
    _no_fold(monkeypatch)
    fast = _report(runner, db, "telegram")
    assert fast == folded["telegram"]
    assert check_report(fast) == len(fast["events"]) == 33


def test_orders_and_requests_fold_the_log_and_prove_out(runner, sqlite_path, example):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    for subject in SUBJECTS[1:]:
        report = _report(runner, sqlite_path, subject)
        assert check_report(report) == len(report["events"]) > 0


@pytest.mark.parametrize("tamper", [
    "garbage", "drop-a-position", "another-platform", "truncated-json"])
def test_an_altered_copy_is_not_used_and_verify_names_it(runner, sqlite_path, example,
                                                         tamper):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    honest = _report(runner, sqlite_path, "telegram")
    _, blob = _cached(sqlite_path)
    leaves = index_cache.decode(blob)
    mine = [x for x in leaves if platform_index.parse_leaf(x)[0] == "telegram"]
    if tamper == "garbage":
        forged = b"not zlib at all"
    elif tamper == "drop-a-position":
        forged = index_cache.encode([x for x in leaves if x != mine[-1]])
    elif tamper == "another-platform":
        moved = [platform_index.leaf("elsewhere", platform_index.parse_leaf(x)[1])
                 for x in mine]
        forged = index_cache.encode(sorted({*leaves, *moved} - set(mine)))
    else:
        forged = zlib.compress(zlib.decompress(blob)[:-3])
    _set_blob(sqlite_path, forged)
    assert _report(runner, sqlite_path, "telegram") == honest
    line = one_line_error(run(runner, sqlite_path, "verify"), 3)
    assert "platform index kept" in line


def test_a_copy_from_another_checkpoint_is_not_used(runner, sqlite_path, example, tmp_path):
    """The copy kept for a checkpoint of 33 events, the ledger grown and checkpointed again
    without keeping: a report citing the new note folds; then the copy is replaced."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    first = _cached(sqlite_path)
    assert run(runner, sqlite_path, "record", "statement-issued", "telegram", "--at",
               "2017-09-01", "--source", "https://example.org/s", "--by", "Telegram",
               "--summary", "later").exit_code == 0
    note = tmp_path / "cp.txt"
    assert run(runner, sqlite_path, "checkpoint", "--no-keep", "-o", str(note)).exit_code == 0
    result = run(runner, sqlite_path, "report", "provenance", "telegram", "--checkpoint",
                 str(note), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert check_report(report) == len(report["events"]) == 34
    assert _cached(sqlite_path) == first
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    assert _cached(sqlite_path)[0] == first[0] + 1
    assert run(runner, sqlite_path, "verify").exit_code == 0


def test_an_altered_event_of_the_subject_is_caught_without_a_fold(runner, sqlite_path,
                                                                  example, monkeypatch):
    from tests.test_integrity import Store

    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    store = Store(sqlite_path)
    store.set_state(2, store.state(2).replace(b"Telegram", b"Telegrap"))
    _no_fold(monkeypatch)
    line = one_line_error(run(runner, sqlite_path, "report", "provenance", "telegram"), 3)
    assert "position 2" in line and "altered" in line


def test_an_encrypted_ledgers_copy_is_encrypted(runner, sqlite_path, example, monkeypatch):
    use_key(monkeypatch, KEY)
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    contents = table_contents(sqlite_path)
    table = next(t for t in contents if t.endswith(index_cache.SUFFIX))
    assert not leaks({table: contents[table]}, ["telegram"])
    with pytest.raises(zlib.error):
        zlib.decompress(contents[table])
    report = _report(runner, sqlite_path, "telegram")
    assert check_report(report) == 33
    assert run(runner, sqlite_path, "verify").exit_code == 0


def test_the_kept_form_gives_back_the_leaves_and_refuses_what_is_not_one():
    leaves = sorted([platform_index.leaf(name, position)
                     for name in ("a", "b", "beta", platform_index.OPERATORS, "zz-top")
                     for position in (1, 2, 2**40, 7)])
    assert index_cache.decode(index_cache.encode(leaves)) == leaves
    assert index_cache.decode(index_cache.encode([])) == []
    raw = zlib.decompress(index_cache.encode(leaves))
    for broken in (raw[:-1], b"\x00\x00" + raw, raw[:5]):
        with pytest.raises(ValueError):
            index_cache.decode(zlib.compress(broken))
