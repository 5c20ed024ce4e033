"""An event id the ledger holds is skipped only when it is the same event; with other
content it is refused (exit 1), naming the id, its position and the first field that
differs, on both ways in: ``import`` and ``record --id``."""

from __future__ import annotations

from pathlib import Path

import orjson

from ledger.application import open_ledger
from ledger.storage import parse_target
from tests.clitools import count, one_line_error, run

ID = "6f1c2a3e-1d2b-4c5d-8e9f-0a1b2c3d4e5f"
SOURCE = ["--source", "https://example.org/kominfo/press-release"]


def _lines(path: Path, objects: list[dict]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(o) + b"\n" for o in objects))
    return path


def _registered(**changes) -> dict:
    obj = {"id": ID, "type": "platform-registered", "subject": "telegram",
           "occurred_at": "2017-01-01", "sources": [{"url": "https://example.org/a"}],
           "data": {"name": "Telegram", "targets": ["t.me", "web.telegram.org"]}}
    obj.update(changes)
    return obj


def _statement(n: int, **data) -> dict:
    return {"id": f"6f1c2a3e-1d2b-4c5d-8e9f-0000000000{n:02d}", "type": "statement-issued",
            "subject": "telegram", "occurred_at": f"2017-02-{n:02d}",
            "sources": [{"url": "https://example.org/s"}],
            "data": {"by": "Telegram", "summary": f"statement {n}", **data}}


def _position(db: str, event_id: str) -> int:
    with open_ledger(parse_target(db)) as ledger:
        return ledger.recorder.positions_of([event_id])[event_id]


class TestImport:
    def test_a_reimported_export_adds_nothing(self, runner, db, tmp_path, example):
        """The export of a ledger, recorded_at, recorded_by, position and hash included,
        imports again as nothing new: every line is the event held."""
        assert run(runner, db, "import", str(example)).exit_code == 0
        n = count(db)
        export = tmp_path / "export.jsonl"
        export.write_text(run(runner, db, "export").stdout)
        again = run(runner, db, "import", str(export))
        assert again.exit_code == 0, again.output
        assert f"imported 0 events ({n} already in the ledger, skipped)" in again.output
        assert count(db) == n

    def test_a_known_id_with_other_data_is_refused(self, runner, db, tmp_path):
        """The same id with another name: exit 1, the line, the id, its position and the
        field that differs, with both values; nothing of the file is written."""
        assert run(runner, db, "import", str(_lines(tmp_path / "a.jsonl", [
            _registered(), _statement(1)]))).exit_code == 0
        position = _position(db, ID)
        changed = _registered(data={"name": "Telegram Messenger",
                                    "targets": ["t.me", "web.telegram.org"]})
        result = run(runner, db, "import", str(_lines(tmp_path / "b.jsonl", [
            _statement(2), changed])))
        error = one_line_error(result, 1)
        assert error.startswith("error: line 2: refused: ")
        assert f"event {ID} is in the ledger already, at position {position}" in error
        assert "data.name is 'Telegram' there, 'Telegram Messenger' here" in error
        assert count(db) == 2

    def test_a_known_id_with_another_time_or_field_is_refused(self, runner, db, tmp_path):
        """Any field counts: the valid time, an added note, one of the targets."""
        assert run(runner, db, "import", str(_lines(tmp_path / "a.jsonl",
                                                    [_registered()]))).exit_code == 0
        for changed, said in (
                (_registered(occurred_at="2017-01-02"),
                 "occurred_at is '2017-01-01' there, '2017-01-02' here"),
                (_registered(note="from the gazette"),
                 "note is absent there, 'from the gazette' here"),
                (_registered(data={"name": "Telegram", "targets": ["t.me", "x.telegram.org"]}),
                 "data.targets[1] is 'web.telegram.org' there, 'x.telegram.org' here")):
            result = run(runner, db, "import", str(_lines(tmp_path / "b.jsonl", [changed])))
            assert said in one_line_error(result, 1)
        assert count(db) == 1

    def test_ledger_fields_do_not_count(self, runner, db, tmp_path):
        """A line that differs only in what the ledger sets (recorded_at, recorded_by,
        position, hash) is the same event: skipped."""
        assert run(runner, db, "import", str(_lines(tmp_path / "a.jsonl",
                                                    [_registered()]))).exit_code == 0
        same = _registered(recorded_at="2020-01-01T00:00:00+00:00", recorded_by="someone",
                           position=99, hash="ab" * 32)
        result = run(runner, db, "import", str(_lines(tmp_path / "b.jsonl", [same])))
        assert result.exit_code == 0, result.output
        assert "imported 0 events (1 already in the ledger, skipped)" in result.output

    def test_an_id_twice_in_one_file_with_other_content_is_refused(self, runner, db,
                                                                   tmp_path):
        """Twice in the same file: the second, if it differs, is refused too (the same
        line twice is skipped once)."""
        same = [_registered(), _statement(1), _statement(1)]
        result = run(runner, db, "import", str(_lines(tmp_path / "a.jsonl", same)))
        assert result.exit_code == 0, result.output
        assert count(db) == 2
        other = [_statement(3), _statement(3, medium="Twitter")]
        error = one_line_error(run(runner, db, "import", str(
            _lines(tmp_path / "b.jsonl", other))), 1)
        assert error.startswith("error: line 2: refused: ")
        assert "given twice" in error and "data.medium is absent there, 'Twitter' here" in error
        assert count(db) == 2

    def test_batch_commit_refuses_as_well(self, runner, db, tmp_path):
        """With --batch-commit, a changed event in a later batch is refused the same way,
        after the batches before it."""
        assert run(runner, db, "import", str(_lines(tmp_path / "a.jsonl",
                                                    [_registered()]))).exit_code == 0
        lines = [_statement(1), _statement(2), _registered(occurred_at="2016-12-31")]
        result = run(runner, db, "import", str(_lines(tmp_path / "b.jsonl", lines)),
                     "--batch-commit", "--batch-size", "2")
        error = one_line_error(result, 1)
        assert error.startswith("error: line 3: refused: ") and ID in error
        assert count(db) == 3


class TestRecord:
    def _record(self, runner, db, *args: str, name: str = "Telegram"):
        return run(runner, db, "record", "platform-registered", "telegram", "--id", ID,
                   "--at", "2017-01-01", *SOURCE, "--name", name, "--target", "t.me", *args)

    def test_recording_the_same_event_again_is_skipped(self, runner, db):
        assert self._record(runner, db).exit_code == 0
        again = self._record(runner, db)
        assert again.exit_code == 0, again.output
        assert f"skipped: event {ID} is already in the ledger" in again.output
        assert count(db) == 1

    def test_recording_another_event_with_a_known_id_is_refused(self, runner, db):
        assert self._record(runner, db).exit_code == 0
        error = one_line_error(self._record(runner, db, name="Telegram Messenger"), 1)
        assert f"event {ID} is in the ledger already, at position 1" in error
        assert "data.name is 'Telegram' there, 'Telegram Messenger' here" in error
        assert count(db) == 1


def test_an_encrypted_ledger_compares_what_it_decrypts(runner, monkeypatch, tmp_path):
    """Under a cipher key the stored bytes are decrypted before the comparison: its own
    export re-imports as nothing new, and a changed line is refused the same way."""
    from ledger import encryption

    monkeypatch.setenv(encryption.KEY_VARIABLE, encryption.new_key())
    db = str(tmp_path / "secret.db")
    assert run(runner, db, "import", str(_lines(tmp_path / "a.jsonl", [
        _registered(), _statement(1)]))).exit_code == 0
    export = tmp_path / "export.jsonl"
    export.write_text(run(runner, db, "export").stdout)
    again = run(runner, db, "import", str(export))
    assert again.exit_code == 0, again.output
    assert "imported 0 events (2 already in the ledger, skipped)" in again.output
    changed = _statement(1, medium="Twitter")
    error = one_line_error(run(runner, db, "import", str(
        _lines(tmp_path / "b.jsonl", [changed]))), 1)
    assert "data.medium is absent there, 'Twitter' here" in error
