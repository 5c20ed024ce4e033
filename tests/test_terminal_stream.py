"""The whole ledger's history, streamed platform by platform, says what each platform's
own history says: the same rows, in the same order, every event once."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from domain.declaration import REGISTRY
from domain.stored import DATA as _PAYLOADS
from domain.values import When
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.book import Book
from projections.history import Filter, history, ledger_rows
from projections.views import Views
from tests.clitools import run

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


@pytest.fixture
def mixed_ledger(runner, sqlite_path, example, tmp_path):
    """The 2017 case (corrected, disputed) and ~1,500 synthetic events (lifts, temporary
    lifts, observations, corrections on some platforms, none on others)."""
    from synthetic import events

    path = tmp_path / "synthetic.jsonl"
    path.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in events(1500, seed=5)))
    for source in (example, path):
        result = run(runner, sqlite_path, "import", str(source))
        assert result.exit_code == 0, result.output
    # Retractions and disputes too: an observation retracted, another disputed, a
    # correction retracted.
    observed = [e for e in map(orjson.loads, path.read_bytes().splitlines())
                if e["type"] in ("access-observed", "correction")]
    for verb, event, extra in (("retraction", observed[0], ("--reason", "misread")),
                               ("dispute", observed[1], ("--claim", "another account")),
                               ("retraction", next(e for e in observed
                                                   if e["type"] == "correction"),
                                ("--reason", "the time is not known"))):
        result = run(runner, sqlite_path, "record", verb, event["subject"], "--at",
                     "2019-12-31", "--source", "https://example.org", "--target",
                     event["id"], *extra)
        assert result.exit_code == 0, result.output
    return sqlite_path


def streamed(db, **where):
    with open_ledger(parse_target(db)) as ledger:
        views = Views(ledger)
        views.catch_up()
        return list(ledger_rows(views, **where)), Book(ledger.entries())


class TestStream:
    def test_each_platform_as_its_own_history(self, mixed_ledger):
        """Platform by platform, the rows are exactly those of history PLATFORM."""
        rows, book = streamed(mixed_ledger)
        assert sorted(r["id"] for r in rows) == sorted(str(f.id) for facts in
                                                        book.subjects.values() for f in facts)
        start = 0
        for platform in book.refs("platform"):
            expected = history(book, platform)
            assert rows[start:start + len(expected)] == expected, platform
            start += len(expected)

    def test_as_of_and_as_known_at(self, mixed_ledger):
        """--as-of and --as-known-at keep what the platform's own history keeps."""
        as_of = When.parse("2016-06-30", end_of_day=True)
        rows, book = streamed(mixed_ledger, as_of=as_of)
        assert rows and all(r["occurred_at"][:10] <= "2016-06-30" for r in rows)
        assert len(rows) == sum(len(history(book, p, as_of=as_of))
                                for p in book.refs("platform"))
        before = datetime(2000, 1, 1, tzinfo=UTC)
        assert streamed(mixed_ledger, as_known_at=before)[0] == []

    def test_filters(self, mixed_ledger):
        """A filter keeps the same rows on both paths (amended and plain subjects)."""
        keep = Filter(types=frozenset({"blocked", "correction"}))
        rows, _ = streamed(mixed_ledger, keep=keep)
        assert {r["type"] for r in rows} == {"blocked", "correction"}


def test_stored_data_describes_as_the_payload(mixed_ledger):
    """Every event but amendments described from its stored data says what its payload
    says."""
    with open_ledger(parse_target(mixed_ledger)) as ledger:
        for entry in ledger.entries():
            fact = entry.fact
            if fact.kind.subject == "any":
                continue  # amendments are described from their facts
            raw = fact.to_json()["data"]
            assert REGISTRY[fact.type].describe(_PAYLOADS[fact.type](**raw)) == fact.describe()


def test_status_as_of_from_each_platform_as_from_the_whole_ledger(runner, mixed_ledger):
    """status --as-of folds each platform from its own rows: the same objects as the
    status of every platform in one book of the whole ledger."""
    from projections.status import all_status

    as_of = When.parse("2016-06-30", end_of_day=True)
    with open_ledger(parse_target(mixed_ledger)) as ledger:
        expected = all_status(Book(ledger.entries()), as_of=as_of)
    listed = run(runner, mixed_ledger, "status", "--as-of", "2016-06-30", "--json")
    assert orjson.loads(listed.stdout) == expected


@pytest.mark.parametrize("damage", [(b'"summary":', b'"summari":'), (b'"data":', b'"dada":'),
                                    (b'"occurred_at":"2017', b'"occurred_at":"x017')],
                         ids=["data field", "envelope", "valid time"])
def test_a_damaged_plain_event_is_named(runner, sqlite_path, example, damage):
    """An event no amendment touches is read without building its fact, but a damaged
    one is still one line naming its position, exit 3."""
    from tests.clitools import one_line_error
    from tests.test_integrity import Store

    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    assert run(runner, sqlite_path, "history").exit_code == 0  # the views are caught up
    rows = json.loads(run(runner, sqlite_path, "history", "--json").stdout)["events"]
    position = next(r["position"] for r in rows if r["type"] == "statement-issued"
                    and not r["disputed_by"])
    store = Store(sqlite_path)
    store.set_state(position, store.state(position).replace(*damage))
    for fmt in ("jsonl", "table"):
        result = run(runner, sqlite_path, "history", "--format", fmt)
        assert f"position {position}" in one_line_error(result, 3)


def test_streamed_a_few_platforms_at_a_time(mixed_ledger, monkeypatch):
    """The first row comes after one group of platforms is read, and each group is read
    only when the rows before it are taken (memory holds one group, however long the
    ledger)."""
    import projections.history as module

    monkeypatch.setattr(module, "PLATFORMS", 3)
    with open_ledger(parse_target(mixed_ledger)) as ledger:
        views = Views(ledger)
        views.catch_up()
        reads: list[list[str]] = []
        real = views.store.platform_bodies

        def counted(group):
            reads.append(list(group))
            return real(group)

        monkeypatch.setattr(views.store, "platform_bodies", counted)
        rows = ledger_rows(views)
        next(rows)
        assert len(reads) == 1 and len(reads[0]) == 3
        seen = 1
        for _ in rows:
            seen += 1
            assert len(reads) <= 2 + seen // 3  # never ahead of the rows taken
        groups = len(views.store.platforms_since(0)) // 3 + 2
        assert len(reads) in (groups - 1, groups) and seen > 1500
