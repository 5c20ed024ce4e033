"""Publishing again: earlier checkpoints kept under archive/, each proven extended by the
new one; a ledger that does not extend the last publication is refused, exit 3, nothing
written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import key_pair, run

ORIGIN = "example.org/blocking-ledger"
LATER = {"type": "statement-issued", "subject": "telegram", "occurred_at": "2017-08-11",
         "sources": [{"title": "A later statement"}],
         "data": {"by": "Telegram", "summary": "Thanks for the cooperation."}}


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


@pytest.fixture
def published(runner, sqlite_path, example, tmp_path):
    """The 2017 case published once; returns (db, key, site)."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    private, _ = key_pair(tmp_path, "publisher")
    out = tmp_path / "site"
    result = run(runner, sqlite_path, "publish", str(out), "--key", private, "--origin", ORIGIN)
    assert result.exit_code == 0, result.stderr
    return sqlite_path, private, out


def add_event(runner, db: str, tmp_path: Path) -> None:
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps(LATER) + "\n")
    assert run(runner, db, "import", str(more)).exit_code == 0


class TestAppendOnly:
    def test_a_second_publication_archives_the_first_with_a_proof(self, runner, published,
                                                                 tmp_path):
        """The first checkpoint is kept under archive/ and the home page carries its
        consistency proof to the new one."""
        db, key, out = published
        first = (out / "checkpoint.txt").read_text()
        add_event(runner, db, tmp_path)
        result = run(runner, db, "publish", str(out), "--key", key, "--origin", ORIGIN)
        assert result.exit_code == 0, result.stderr
        assert "1 earlier publication(s)" in result.stderr
        archived = list((out / "archive").glob("checkpoint-33-*.txt"))
        assert [p.read_text() for p in archived] == [first]
        assert (out / "checkpoint.txt").read_text().splitlines()[1] == "34"
        home = (out / "index.html").read_text()
        assert f"archive/{archived[0].name}" in home

    def test_a_third_publication_keeps_both(self, runner, published, tmp_path):
        """Every earlier checkpoint stays, the unchanged ledger's too (one published in the
        same second as the last is the same note, kept once)."""
        db, key, out = published
        notes = {(out / "checkpoint.txt").read_text()}
        assert run(runner, db, "publish", str(out), "--key", key, "--origin", ORIGIN
                   ).exit_code == 0
        notes.add((out / "checkpoint.txt").read_text())
        add_event(runner, db, tmp_path)
        assert run(runner, db, "publish", str(out), "--key", key, "--origin", ORIGIN
                   ).exit_code == 0
        assert {p.read_text() for p in (out / "archive").iterdir()} == notes

    def test_a_rewritten_ledger_is_refused_exit_3_nothing_written(self, runner, published,
                                                                 tmp_path, example):
        """The same case with one note changed, published over the first: exit 3."""
        _, key, out = published
        before = snapshot(out)
        lines = example.read_text().splitlines()
        event = json.loads(lines[5])
        event["note"] = (event.get("note") or "") + " (rewritten)"
        lines[5] = json.dumps(event)
        rewritten = tmp_path / "rewritten.jsonl"
        rewritten.write_text("\n".join(lines) + "\n")
        other = str(tmp_path / "other.db")
        assert run(runner, other, "import", str(rewritten)).exit_code == 0
        result = run(runner, other, "publish", str(out), "--key", key, "--origin", ORIGIN)
        assert result.exit_code == 3, result.stderr
        assert "does not extend the published checkpoint" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert snapshot(out) == before

    def test_a_truncated_ledger_is_refused(self, runner, published, tmp_path, example):
        """A ledger with fewer events than published: exit 3."""
        _, key, out = published
        shorter = tmp_path / "shorter.jsonl"
        shorter.write_text("\n".join(example.read_text().splitlines()[:20]) + "\n")
        other = str(tmp_path / "other.db")
        assert run(runner, other, "import", str(shorter)).exit_code == 0
        result = run(runner, other, "publish", str(out), "--key", key, "--origin", ORIGIN)
        assert result.exit_code == 3, result.stderr

    def test_another_key_is_refused(self, runner, published, tmp_path):
        """Readers trust one key: a publication signed by another is refused, exit 3."""
        db, _, out = published
        other, _ = key_pair(tmp_path, "someone-else")
        result = run(runner, db, "publish", str(out), "--key", other, "--origin", ORIGIN)
        assert result.exit_code == 3, result.stderr
        assert "not signed by the publishing key" in result.stderr
