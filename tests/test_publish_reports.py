"""publish's provenance reports: read from one pass over the chain, one event tree and
one read of the events for every platform, order and request of the publication
(``projections.evidence.gather``'s ``shared``, ``prepare``), and each byte for byte the
report that ``report provenance --format json`` writes alone for that subject against
the same checkpoint, proven by ``verify-proof``."""

from __future__ import annotations

from pathlib import Path

import pytest

from projections import evidence
from tests.clitools import key_pair, run

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
#: The India case's fourteen platforms under one order, and the Telegram and Turkey cases.
CASES = ("india-apps-2020.jsonl", "telegram-indonesia-2017.jsonl",
         "turkey-wikipedia-2017.jsonl")


@pytest.fixture
def ledger(runner, sqlite_path, tmp_path, monkeypatch):
    """Three bundled cases in one ledger (16 platforms), a key, and a fixed clock for the
    reports' ``generated_at``."""
    for case in CASES:
        assert run(runner, sqlite_path, "import", str(EXAMPLES / case)).exit_code == 0
    monkeypatch.setattr("projections.provenance._now", lambda: "2026-01-01T00:00:00+00:00")
    private, public = key_pair(tmp_path, "publisher")
    return sqlite_path, private, public


def counted(monkeypatch) -> list[str]:
    """The subjects for which ``gather`` read and checked the trees."""
    calls: list[str] = []
    real = evidence.checked_trees

    def trees(ledger, subject, *rest):
        calls.append(subject)
        return real(ledger, subject, *rest)

    monkeypatch.setattr(evidence, "checked_trees", trees)
    return calls


@pytest.mark.parametrize("keep", [True, False], ids=["kept", "no-keep"])
def test_each_report_is_the_one_report_provenance_writes(runner, ledger, tmp_path,
                                                         monkeypatch, keep):
    """The trees are read once for the 16 platforms (kept index or, with --no-keep,
    folded from the log); every download is report provenance's own bytes against the
    published checkpoint, and verify-proof proves it."""
    db, private, public = ledger
    calls = counted(monkeypatch)
    out = tmp_path / "site"
    result = run(runner, db, "publish", str(out), "--key", private,
                 *([] if keep else ["--no-keep"]))
    assert result.exit_code == 0, result.stderr
    downloads = sorted((out / "downloads").glob("provenance-*.json"))
    assert len(downloads) == 16
    assert len(calls) == 1, calls
    for path in downloads:
        ref = path.name.removeprefix("provenance-").removesuffix(".json")
        alone = tmp_path / f"{ref}.json"
        made = run(runner, db, "report", "provenance", ref, "--format", "json", "--checkpoint",
                   str(out / "checkpoint.txt"), "--key", private, "-o", str(alone))
        assert made.exit_code == 0, made.stderr
        assert path.read_bytes() == alone.read_bytes(), ref
    for path in downloads[:3]:
        proven = run(runner, db, "verify-proof", str(path), "--public-key", public)
        assert proven.exit_code == 0, proven.stderr


def test_a_shared_tree_is_not_taken_for_another_checkpoint(runner, ledger, tmp_path):
    """The trees kept for one note serve only reports against that note: a report
    against a later checkpoint, with the same dict, reads its own."""
    from ledger.application import open_ledger
    from ledger.checkpoint import load_private_key
    from ledger.checkpointing import checkpoint_note
    from ledger.storage import parse_target
    from projections.provenance import provenance

    db, private, _ = ledger
    key = load_private_key(private)
    shared: dict = {}
    with open_ledger(parse_target(db)) as opened:
        first = checkpoint_note(opened, origin="t", private_key=key, key_name="t", keep=False)
        report = provenance(opened, "telegram", checkpoint_note=first, shared=shared)
        assert report["proven"] and len(shared) == 1
    result = run(runner, db, "record", "access-observed", "telegram", "--at", "2020-01-01",
                 "--target", "t.me", "--accessible", "--source", "https://example.org/o")
    assert result.exit_code == 0, result.output
    with open_ledger(parse_target(db)) as opened:
        later = checkpoint_note(opened, origin="t", private_key=key, key_name="t", keep=False)
        report = provenance(opened, "telegram", checkpoint_note=later, shared=shared)
        assert report["proven"] and len(shared) == 2
        assert report["checkpoint"]["tree_size"] == len(shared[next(reversed(shared))]
                                                        .trees.hashes)


def reads(monkeypatch) -> list[list[int]]:
    """The positions of each read of events by ``Ledger.states_at``."""
    from ledger import rules_check
    from ledger.application import Ledger

    calls: list[list[int]] = []
    real, check = Ledger.states_at, rules_check.check
    checking: list[bool] = []

    def states_at(self, positions):
        if not checking:  # (verify's own reads, for the rules between subjects, apart)
            calls.append(sorted(positions))
        return real(self, positions)

    def checked(log):
        checking.append(True)
        try:
            return check(log)
        finally:
            checking.pop()

    monkeypatch.setattr(Ledger, "states_at", states_at)
    monkeypatch.setattr(rules_check, "check", checked)
    return calls


def test_a_publication_reads_its_events_once(runner, ledger, tmp_path, monkeypatch):
    """The reports of every platform, order and request are gathered from one read of
    the events they rest on (``evidence.prepare``), each event read once, where each
    report used to read its own (20 reads for these 16 platforms and 4 orders and
    requests)."""
    db, private, _ = ledger
    calls = reads(monkeypatch)
    result = run(runner, db, "publish", str(tmp_path / "site"), "--key", private)
    assert result.exit_code == 0, result.stderr
    assert len(calls) == 1, [len(c) for c in calls]
    assert len(calls[0]) == len(set(calls[0]))


def test_each_subjects_report_is_the_one_it_would_be_alone(runner, ledger, tmp_path):
    """Every report a publication gathers (platforms', orders' and requests') from the
    shared batch, read in one pass, is the report ``provenance`` makes for that subject
    alone against the same checkpoint."""
    from ledger.application import open_ledger
    from ledger.checkpoint import Checkpoint, load_private_key
    from ledger.checkpointing import checkpoint_note
    from ledger.storage import parse_target
    from projections.book import Book
    from projections.provenance import provenance

    db, private, _ = ledger
    with open_ledger(parse_target(db)) as opened:
        note = checkpoint_note(opened, origin="t", private_key=load_private_key(private),
                               key_name="t", keep=True)
        book = Book(opened.entries())
        subjects = [ref for kind in ("platform", "order", "request") for ref in book.refs(kind)]
        assert len(subjects) == 20
        shared: dict = {}
        evidence.prepare(opened, subjects, Checkpoint.parse(note)[0], note, given=True,
                         shared=shared)
        together = {ref: provenance(opened, ref, checkpoint_note=note, shared=shared)
                    for ref in subjects}
        for ref in subjects:
            alone = provenance(opened, ref, checkpoint_note=note)
            assert alone["proven"]
            assert together[ref] == alone, ref


def test_the_cited_note_is_parsed_once_for_a_publications_reports(runner, ledger, tmp_path,
                                                                   monkeypatch):
    """The evidence of the 20 reports against one checkpoint parses the cited note once
    (to find the kept checkpoints its tree extends), not again for each report's record
    time bounds (``_bounding`` did: 21 parses)."""
    from ledger.application import open_ledger
    from ledger.checkpoint import Checkpoint, load_private_key
    from ledger.checkpointing import checkpoint_note
    from ledger.storage import parse_target
    from projections.book import Book
    from projections.provenance import provenance

    db, private, _ = ledger
    with open_ledger(parse_target(db)) as opened:
        note = checkpoint_note(opened, origin="t", private_key=load_private_key(private),
                               key_name="t", keep=True)
        book = Book(opened.entries())
        subjects = [ref for kind in ("platform", "order", "request") for ref in book.refs(kind)]
        parsed: list[str] = []

        class Counted(Checkpoint):
            @classmethod
            def parse(cls, text):
                parsed.append(text)
                return Checkpoint.parse(text)

        monkeypatch.setattr(evidence, "Checkpoint", Counted)
        shared: dict = {}
        reports = [provenance(opened, ref, checkpoint_note=note, shared=shared)
                   for ref in subjects]
        assert all(r["proven"] for r in reports) and len(reports) == 20
        assert parsed.count(note) == 1, parsed.count(note)
