"""The whole ledger's history, read the faster way (joined reads, one pass per platform,
facts only for what an amendment touches), is byte for byte what it was before
(``tests/history_oracle.py``): on the bundled cases, on a synthetic ledger with every kind
of amendment, and on generated ledgers whose corrections move orders between platforms
(recorded, imported, encrypted); now, as of a date, as known at a time, and filtered."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.values import When
from ledger.application import open_ledger
from ledger.encryption import new_key
from ledger.storage import parse_target
from projections.history import Filter, ledger_lines, ledger_rows
from projections.views import Views
from tests import history_oracle
from tests.clitools import run
from tests.test_bitemporal import _day
from tests.test_terminal_stream import mixed_ledger  # noqa: F401 (a fixture)
from tests.test_views_moves import _record, moving_scripts

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.jsonl"))


def both(views: Views, **where) -> tuple[list[bytes], list[bytes]]:
    """Each row as JSON bytes, by the path now and by the oracle; the JSON Lines path
    (``ledger_lines``, most lines spliced from the stored bytes) is held to the path now
    here too: each line its row's bytes and a line break."""
    def lines(rows):
        return [orjson.dumps(row) for row in rows]

    now = lines(ledger_rows(views, **where))
    assert list(ledger_lines(views, **where)) == [line + b"\n" for line in now], where
    return now, lines(history_oracle.ledger_rows(views, **where))


def wheres(views: Views) -> list[dict]:
    """Now; as of a date in the middle; as known at a recording time in the middle; and
    the filters, alone and together."""
    entries = list(views.ledger.entries())
    middle = entries[len(entries) // 2].fact
    operator = entries[0].fact.recorded_by
    return [
        {},
        {"as_of": When.parse(middle.occurred_at.text, end_of_day=True)},
        {"as_known_at": middle.recorded_at},
        {"as_known_at": datetime(2000, 1, 1, tzinfo=UTC)},
        {"keep": Filter(types=frozenset({"blocked", "unblocked", "correction"}))},
        {"keep": Filter(since=middle.occurred_at.instant)},
        {"keep": Filter(until=middle.occurred_at.instant, operator=operator)},
        {"keep": Filter(operator="nobody")},
    ]


def assert_same(db: str, **target) -> int:
    """Every ``wheres`` gives the same bytes both ways; return how many rows in all."""
    rows = 0
    with open_ledger(parse_target(db, **target)) as ledger:
        views = Views(ledger)
        views.catch_up()
        for where in wheres(views):
            now, before = both(views, **where)
            assert now == before, where
            rows += len(now)
    return rows


@pytest.mark.parametrize("case", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_bundled_cases(runner, sqlite_path, case):
    assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    assert assert_same(sqlite_path) > 0


def test_both_stores_read_plain_rows(runner, db):
    """The joined read gets plain tuples on either store (SQLite's ``sqlite3.Row`` set
    aside for it, PostgreSQL's dict rows turned into tuples): the same bytes as before."""
    case = next(p for p in EXAMPLES if "telegram" in p.stem)
    assert run(runner, db, "import", str(case)).exit_code == 0
    assert assert_same(db) > 0
    with open_ledger(parse_target(db)) as ledger:
        views = Views(ledger)
        views.catch_up()
        rows = views.store.platform_bodies(["telegram"])
        assert rows and {type(row) for row in rows} == {tuple}
        assert {type(row[2]) for row in rows} == {bytes}


def test_synthetic_ledger_with_every_amendment(mixed_ledger):  # noqa: F811
    """Corrections (one retracted), retractions and disputes on ~1,500 events."""
    assert assert_same(mixed_ledger) > 1500


@pytest.mark.parametrize("path", ["record", "import", "encrypted"])
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=moving_scripts(), day=st.integers(0, 70))
def test_generated_ledgers_with_moves(tmp_path_factory, path, script, day):
    """Orders moved between platforms by corrections (and moved back, retracted): each
    platform's part, the moved orders in the right one, as before."""
    facts, steps = script
    db = str(tmp_path_factory.mktemp("bytes") / "ledger.db")
    key = new_key() if path == "encrypted" else ""
    with open_ledger(parse_target(db, cipher_key=key), create=True) as ledger:
        _record(ledger, facts, steps, bulk=path == "import")
        views = Views(ledger)
        views.catch_up()
        as_of = When.parse(_day(day), end_of_day=True)
        for where in [{}, {"as_of": as_of}, *wheres(views)[2:4]]:
            now, before = both(views, **where)
            assert now == before, where
