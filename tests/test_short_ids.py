"""Ids shown in a history table: no two rows shown share one. A subject's rows are all in
memory: each id is its shortest prefix (8 characters at least) unique among them. The
whole ledger's rows are streamed: past the first chunk, every id is cut at the length at
which the ledger's ids are all told apart (``ViewReads.id_prefix_length``). Before, each
chunk of 200 rows was told apart on its own, and a walkthrough of 100,000 events found one
8-character id shown for two events."""

from __future__ import annotations

import os
import uuid
from itertools import pairwise

import orjson
import pytest

from ledger.application import open_ledger
from ledger.storage import parse_target
from tests.clitools import run

SOURCE = [{"url": "https://gazette.example/x", "title": "x"}]
#: Two ids alike in their first 12 characters (and a third in its first 9).
ALIKE = ["abcdef01-23aa-4000-8000-000000000001", "abcdef01-23ab-4000-8000-000000000002",
         "abcdef01-9fff-4000-8000-000000000003"]


def _ledger(runner, db: str, tmp_path, count: int, alike_at: tuple[int, ...]) -> list[str]:
    """``count`` platforms registered, one event each, random ids but at ``alike_at``
    (``ALIKE``'s); their ids."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    for at, same in zip(alike_at, ALIKE, strict=False):
        ids[at] = same
    lines = [orjson.dumps({"id": ids[i], "type": "platform-registered",
                           "subject": f"p{i:04d}", "occurred_at": "2020-01-01",
                           "sources": SOURCE, "data": {"name": f"P {i}",
                                                       "targets": [f"p{i}.example"]}})
             for i in range(count)]
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    assert run(runner, db, "import", str(path)).exit_code == 0
    return ids


def _shown(output: str) -> list[str]:
    """The id column of a plain (tab-separated) history table."""
    head, *rows = output.splitlines()
    at = head.split("\t").index("id")
    return [row.split("\t")[at] for row in rows]


def test_the_whole_ledger_streamed_never_shows_one_id_for_two_events(runner, sqlite_path,
                                                                      tmp_path):
    ids = _ledger(runner, sqlite_path, tmp_path, 450, (3, 420, 421))
    result = run(runner, sqlite_path, "history")
    assert result.exit_code == 0
    shown = _shown(result.stdout)
    assert len(shown) == 450
    assert len(set(shown)) == 450  # (two rows 400 apart were told apart by chunk before)
    assert {len(s) for s in shown} == {13}  # where the two alike in 12 differ
    assert all(full.startswith(s) for full, s in zip(sorted(ids), sorted(shown),
                                                     strict=True))


def test_a_subjects_rows_are_told_apart_among_themselves(runner, sqlite_path, tmp_path):
    _ledger(runner, sqlite_path, tmp_path, 5, (0, 1))
    result = run(runner, sqlite_path, "history", "p0000")
    assert _shown(result.stdout) == [ALIKE[0][:8]]  # (p0001's id is not among its rows)


def test_a_short_whole_ledger_is_told_apart_among_its_rows(runner, sqlite_path, tmp_path):
    _ledger(runner, sqlite_path, tmp_path, 6, (0, 1, 2))
    shown = _shown(run(runner, sqlite_path, "history").stdout)
    assert shown[:3] == [ALIKE[0][:13], ALIKE[1][:13], ALIKE[2][:10]]
    assert {len(s) for s in shown[3:]} == {8}


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 20_000])
def test_the_length_is_the_longest_shared_prefix_and_one(runner, sqlite_path, tmp_path,
                                                         page_size):
    """Against the rule written plainly, across page boundaries: the ids sorted, the
    longest prefix two neighbours share, and one (8 at the least)."""
    ids = _ledger(runner, sqlite_path, tmp_path, 40, (5, 17, 33))
    ordered = sorted(ids)
    expected = max(8, *(len(os.path.commonprefix([a, b])) + 1  # noqa: RUF071
                        for a, b in pairwise(ordered)))
    assert expected == 13
    with open_ledger(parse_target(sqlite_path)) as ledger:
        assert ledger.view_store().id_prefix_length(page_size=page_size) == expected
