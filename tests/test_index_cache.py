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
from tests.clitools import key_pair, one_line_error, run
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


def _signed(runner, db: str, example, tmp_path, *, checkpoint: bool = True) -> str:
    """The 2017 case, then operator alice (the trust anchor, signed by her own key) and a
    checkpoint she signs: the kind of note whose kept index a report takes on trust.
    Returns alice's private key file."""
    private, public = key_pair(tmp_path, "alice")
    assert run(runner, db, "import", str(example)).exit_code == 0
    added = run(runner, db, "--operator", "alice", "--key", private, "operator", "add",
                "alice", "--public-key", public)
    assert added.exit_code == 0, added.output
    if checkpoint:
        done = run(runner, db, "--operator", "alice", "--key", private, "checkpoint")
        assert done.exit_code == 0, done.output
    return private


def _set_blob(db: str, blob: bytes) -> None:
    with open_ledger(parse_target(db)) as ledger:
        table = index_cache._table(ledger)
        mark = "%s" if ledger.target.postgres else "?"
        with ledger.recorder.datastore.transaction(commit=True) as c:
            c.execute(f"UPDATE {table} SET leaves = {mark}", (blob,))


def test_a_platforms_report_reads_only_its_events_and_equals_the_fold(runner, db, example,
                                                                       monkeypatch, tmp_path):
    _signed(runner, db, example, tmp_path)
    assert _cached(db) is not None
    with monkeypatch.context() as m:
        m.setattr(index_cache, "load", lambda *_: None)
        folded = _report(runner, db, "telegram")
    _no_fold(monkeypatch)
    fast = _report(runner, db, "telegram")
    assert "kept beside it" in fast.pop("verification")["checked"]
    assert "the log gives" in folded.pop("verification")["checked"]
    assert fast == folded
    assert check_report(fast) == len(fast["events"]) == 33


def test_an_unsigned_checkpoints_copy_is_not_taken_on_trust(runner, sqlite_path, example,
                                                            monkeypatch):
    """Anyone with the database can add an unsigned note: its index is folded again."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "checkpoint").exit_code == 0
    report = _report(runner, sqlite_path, "telegram")
    assert "the log gives" in report["verification"]["checked"]
    _no_fold(monkeypatch)
    with pytest.raises(AssertionError, match="folded"):
        run(runner, sqlite_path, "report", "provenance", "telegram")


def test_orders_and_requests_read_only_their_events_and_equal_the_fold(
        runner, sqlite_path, example, monkeypatch, tmp_path):
    """From index version 2 an order and a request have leaves of their own: their
    reports take the kept index too, and give what the fold gives."""
    _signed(runner, sqlite_path, example, tmp_path)
    for subject in SUBJECTS[1:]:
        with monkeypatch.context() as m:
            m.setattr(index_cache, "load", lambda *_: None)
            folded = _report(runner, sqlite_path, subject)
        with monkeypatch.context() as m:
            _no_fold(m)
            fast = _report(runner, sqlite_path, subject)
        assert "kept beside it" in fast.pop("verification")["checked"]
        assert "the log gives" in folded.pop("verification")["checked"]
        assert fast == folded
        assert check_report(fast) == len(fast["events"]) > 0
        assert {r["subject"] for r in fast["evidence"]["records"]} == {subject, "alice"}


def _forge(db: str, *, sign_with: str | None = None) -> None:
    """As someone with the database would: a new kept note, the latest one's tree with an
    index root that leaves out telegram's last event, and a kept copy that gives it."""
    from ledger.checkpoint import Checkpoint, load_private_key
    from ledger.merkle import root

    with open_ledger(parse_target(db)) as ledger:
        note = ledger.recorder.select_checkpoints()[-1]
        honest, _ = Checkpoint.parse(note)
        leaves = index_cache.decode(index_cache.kept(ledger)[1])
        mine = [x for x in leaves if platform_index.parse_leaf(x)[0] == "telegram"]
        forged = [x for x in leaves if x != mine[-1]]
        cp = Checkpoint(honest.origin, honest.tree_size, honest.root_hash,
                        honest.chain_head, honest.time, index_size=len(forged),
                        index_root=root(forged))
        key = load_private_key(sign_with) if sign_with else None
        ledger.recorder.insert_checkpoint(cp.tree_size, cp.to_note(key, "alice" if key
                                                                    else None))
        index_cache.keep(ledger, cp.tree_size, forged)


@pytest.mark.parametrize("signer", [None, "alice"])
def test_a_forged_note_with_its_forged_copy_never_proves_a_report(runner, db, example,
                                                                  tmp_path, signer):
    """The review's reproduction: unsigned, the report folds and fails; signed by an
    operator with a grudge, verify names the note (its index is not the log's)."""
    private = _signed(runner, db, example, tmp_path)
    _forge(db, sign_with=private if signer else None)
    line = one_line_error(run(runner, db, "verify"), 3)
    assert "platform index" in line and "forged" in line
    result = run(runner, db, "report", "provenance", "telegram", "--format", "json")
    if signer is None:
        assert result.exit_code == 3, result.output
    else:  # a signer may sign a lie; verify, and verify --against, name it
        assert json.loads(result.stdout)["proven"] is True


@pytest.mark.parametrize("tamper", [
    "garbage", "drop-a-position", "another-platform", "truncated-json", "text"])
def test_an_altered_copy_is_not_used_and_verify_names_it(runner, sqlite_path, example,
                                                         tamper, tmp_path):
    _signed(runner, sqlite_path, example, tmp_path)
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
    elif tamper == "text":
        forged = "abc"  # type: ignore[assignment]
    else:
        forged = zlib.compress(zlib.decompress(blob)[:-3])
    _set_blob(sqlite_path, forged)
    again = _report(runner, sqlite_path, "telegram")
    assert "the log gives" in again.pop("verification")["checked"]
    honest.pop("verification")
    assert again == honest
    line = one_line_error(run(runner, sqlite_path, "verify"), 3)
    assert "platform index kept" in line


def test_a_copy_from_another_checkpoint_is_not_used(runner, sqlite_path, example, tmp_path):
    """The copy kept for one checkpoint, the ledger grown and checkpointed again without
    keeping: a report citing the new note folds; then the copy is replaced."""
    private = _signed(runner, sqlite_path, example, tmp_path)
    first = _cached(sqlite_path)
    alice = ("--operator", "alice", "--key", private)
    assert run(runner, sqlite_path, *alice, "record", "statement-issued", "telegram", "--at",
               "2017-09-01", "--source", "https://example.org/s", "--by", "Telegram",
               "--summary", "later").exit_code == 0
    note = tmp_path / "cp.txt"
    assert run(runner, sqlite_path, *alice, "checkpoint", "--no-keep", "-o",
               str(note)).exit_code == 0
    result = run(runner, sqlite_path, "report", "provenance", "telegram", "--checkpoint",
                 str(note), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert check_report(report) == len(report["events"]) == 34
    assert _cached(sqlite_path) == first
    assert run(runner, sqlite_path, *alice, "checkpoint").exit_code == 0
    assert _cached(sqlite_path)[0] == first[0] + 1
    assert run(runner, sqlite_path, "verify").exit_code == 0


@pytest.mark.parametrize("damage", ["altered", "not-json", "a-list", "null"])
def test_a_damaged_event_of_the_subject_is_caught_without_a_fold(runner, sqlite_path,
                                                                 example, monkeypatch,
                                                                 tmp_path, damage):
    from tests.test_integrity import Store

    _signed(runner, sqlite_path, example, tmp_path)
    store = Store(sqlite_path)
    state = store.state(2)
    store.set_state(2, {"altered": state.replace(b"Telegram", b"Telegrap"),
                        "not-json": b"\xde\xad\xbe\xef", "a-list": b"[1,2]",
                        "null": None}[damage])
    _no_fold(monkeypatch)
    result = run(runner, sqlite_path, "report", "provenance", "telegram")
    assert result.exit_code == 3, result.output
    assert "position 2" in result.output or "does not decode" in result.output


@pytest.mark.parametrize("column", ["event_id", "originator_id"])
def test_an_order_sharing_the_platforms_reference_cannot_be_hidden(runner, sqlite_path,
                                                                   example, tmp_path,
                                                                   column):
    """An order named like a platform, on another platform: editing a column no hash
    covers (the chain's event id, the event's originator id) cannot drop it from the
    report, since the index's own leaves for ``order/telegram`` hold it; verify names the
    edit. (Against a version 1 index the originator id was a documented way to hide it.)"""
    from tests.test_integrity import Store

    more = tmp_path / "more.jsonl"
    more.write_text(
        json.dumps({"id": "6d1f0a52-4a57-4d36-9a57-2f1f1a0a0001", "type":
                    "platform-registered", "subject": "other", "occurred_at": "2017-01-01",
                    "sources": [{"title": "s"}], "data": {"name": "Other",
                                                          "targets": ["other.example"]}})
        + "\n" + json.dumps({
            "id": "6d1f0a52-4a57-4d36-9a57-2f1f1a0a0002", "type": "blocked",
            "subject": "telegram", "occurred_at": "2017-02-01", "sources": [{"title": "s"}],
            "data": {"platform": "other", "authority": "A", "reasons": ["r"],
                     "targets": ["other.example"]}}) + "\n")
    assert run(runner, sqlite_path, "import", str(more)).exit_code == 0
    _signed(runner, sqlite_path, example, tmp_path)
    honest = _report(runner, sqlite_path, "telegram")
    assert len(honest["events"]) == 34
    assert set(honest["evidence"]["index"]["order/telegram"]["positions"]) == {2}
    store = Store(sqlite_path)
    if column == "event_id":
        store.sql(f"UPDATE {store.chain} SET event_id = ? WHERE event_id = ?",
                  ("00000000-0000-0000-0000-000000000000",
                   "6d1f0a52-4a57-4d36-9a57-2f1f1a0a0002"))
    else:
        store.sql(f"UPDATE {store.events} SET originator_id = ? WHERE {store.pos} = 2",
                  ("00000000-0000-0000-0000-000000000000",))
    result = run(runner, sqlite_path, "report", "provenance", "telegram", "--format",
                 "json")
    if result.exit_code == 0:  # the order is still there, proven
        again = json.loads(result.stdout)
        assert [ev["id"] for ev in again["events"]] == [ev["id"] for ev in honest["events"]]
        assert check_report(again) == 34
    else:  # or the report fails closed
        assert result.exit_code == 3, result.output
    assert run(runner, sqlite_path, "verify").exit_code == 3


def test_an_encrypted_ledgers_copy_is_encrypted(runner, sqlite_path, example, monkeypatch,
                                                tmp_path):
    use_key(monkeypatch, KEY)
    _signed(runner, sqlite_path, example, tmp_path)
    contents = table_contents(sqlite_path)
    table = next(t for t in contents if t.endswith(index_cache.SUFFIX))
    assert not leaks({table: contents[table]}, ["telegram"])
    with pytest.raises(zlib.error):
        zlib.decompress(contents[table])
    report = _report(runner, sqlite_path, "telegram")
    assert check_report(report) == 33
    assert "kept beside it" in report["verification"]["checked"]
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
