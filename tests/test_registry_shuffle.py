"""import-registry --backfill in any order (issue 15, review finding H5): snapshots imported
in a random order, each with --backfill, leave the ledger as an import of the snapshots it
accepted, oldest first, does (the same status of every platform and the same block
intervals, at every snapshot's time and around it); a snapshot it cannot place exactly is
refused with nothing written. ``python -m tests.test_registry_shuffle N`` prints how many
of N random orders are refused somewhere (the figure of the README)."""

from __future__ import annotations

import json
import random
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clitools import count, run, run_json
from tests.test_import_registry import RU, _dump

#: Entries: two decisions of several targets (D-3's two domains, D-1's domain and
#: address), domains of one registrable domain under different decisions, an address alone.
POOL = [
    "1.1.1.1;one.example.ru;;org;D-1;2020-01-01",
    ";two.example.ru;;org;D-2;2020-01-01",
    ";three.example.org;;org;D-3;2020-01-01",
    ";four.example.org;;org;D-3;2020-01-01",
    ";five.example.net;;org;D-5;2020-01-01",
    "6.6.6.6;;;org;D-6;2020-01-01",
    ";seven.example.ru;;org;D-7;2020-01-01",
]
#: Entries sharing an address: 6.6.6.6 listed under two decisions, with its domain (D-7)
#: and alone (D-6), beside an entry of that domain and one of another (review H4).
SHARED = [
    "6.6.6.6;six.example.net;;org;D-7;2020-01-01",
    "6.6.6.6;;;org;D-6;2020-01-01",
    ";www.example.net;;org;D-8;2020-01-01",
    "1.1.1.1;one.example.ru;;org;D-1;2020-01-01",
]
DAYS = 5  # snapshots of 10..14 January, 10:00


def files_of(directory: Path, masks: list[int], pool: list[str] = POOL) -> list[str]:
    """One snapshot a day, listing the entries of ``pool`` in its bit mask."""
    return [_dump(directory / f"s{i}.csv", f"2024-01-{10 + i} 10:00:00 +0000",
                  [line for bit, line in enumerate(pool) if mask >> bit & 1])
            for i, mask in enumerate(masks)]


def import_shuffled(runner: CliRunner, db: str, files: list[str], order: list[int]
                    ) -> list[int]:
    """Import ``files`` in ``order``, each with --backfill; the indexes accepted. A
    refusal must be one line, exit 1 or 2, with nothing written."""
    accepted = []
    for i in order:
        before = count(db)
        result = run(runner, db, "import-registry", *RU, "--backfill", files[i])
        if result.exit_code == 0:
            accepted.append(i)
            continue
        assert result.exit_code in (1, 2), (result.stdout, result.stderr)
        assert "Traceback" not in result.stderr and count(db) == before, result.stderr
    return accepted


def answers(runner: CliRunner, db: str) -> dict:
    """Status of every platform and the block intervals (without their orders' names,
    which may differ: see sources.registry_backfill), as of each snapshot's time, just
    before it, and now."""
    out = {}
    times = [None, *(f"2024-01-{10 + d}T{h}:00:00Z" for d in range(DAYS) for h in ("09", "10"))]
    for at in times:
        args = () if at is None else ("--as-of", at)
        out[("status", at)] = sorted(
            (row["platform"], row["state"], sorted(row["blocked_targets"]))
            for row in run_json(runner, db, "status", *args))
        result = run(runner, db, "export", "intervals", "--format", "jsonl", *args)
        assert result.exit_code == 0, result.output
        out[("intervals", at)] = sorted(
            tuple(sorted((k, str(v)) for k, v in json.loads(line).items() if k != "order"))
            for line in result.stdout.splitlines())
    return out


def check_one(runner: CliRunner, directory: Path, masks: list[int], order: list[int],
              shuffled: str | None = None, pool: list[str] = POOL) -> bool:
    """The property, for one order: True when every snapshot was accepted."""
    files = files_of(directory, masks, pool)
    shuffled = shuffled or str(directory / "shuffled.db")
    in_order = str(directory / "in-order.db")
    accepted = import_shuffled(runner, shuffled, files, order)
    assert accepted, "the first snapshot imported is never refused"
    result = run(runner, in_order, "import-registry", *RU, *[files[i] for i in sorted(accepted)])
    assert result.exit_code == 0, result.output
    assert answers(runner, shuffled) == answers(runner, in_order), (masks, order, accepted)
    assert json.loads(run(runner, shuffled, "verify", "--json").stdout)["ok"] is True
    return len(accepted) == len(files)


_MASKS = st.lists(st.integers(1, 2 ** len(POOL) - 1), min_size=DAYS, max_size=DAYS)


@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(masks=_MASKS, order=st.permutations(range(DAYS)))
def test_snapshots_in_any_order_answer_as_in_order_or_are_refused(runner, masks, order):
    with tempfile.TemporaryDirectory() as directory:
        check_one(runner, Path(directory), masks, list(order))


@pytest.mark.parametrize(("masks", "order"), [
    ([1, 2, 2, 2, 2], [1, 0, 2, 3, 4]),  # s0's address given s1's order's platform
    ([1, 1, 1, 3, 1], [3, 1, 2, 0, 4]),  # s3's platform of the address moved to s1's time
])
def test_a_shared_address_backfilled_answers_as_in_order(runner, db, tmp_path, masks, order):
    """H4: 6.6.6.6 listed with six.example.net (D-7) and alone (D-6): a backfill gave an
    order of a later snapshot, or the platform it registered, another platform than an
    import in order does (verify passing). Refused now, and the ledger answers as an
    import in order of what was accepted."""
    check_one(runner, tmp_path, masks, order, shuffled=db, pool=SHARED)


def test_a_target_shared_by_decisions_is_not_backfilled(runner, db, tmp_path):
    """The order the narrower checks missed: s3 lists 6.6.6.6 under D-7 and D-6; s1,
    backfilled before it, gave 6.6.6.6 to example.net's platform where an import in order
    kept it beside ip-6.6.6.6 (verify passing). A target the snapshot or the next one lists
    under two decisions is refused, naming it."""
    files = files_of(tmp_path, [1, 1, 2, 3, 1], SHARED)
    assert run(runner, db, "import-registry", *RU, files[3]).exit_code == 0
    before = count(db)
    result = run(runner, db, "import-registry", *RU, "--backfill", files[1])
    assert result.exit_code == 1, result.output
    assert "6.6.6.6, which the registry lists under more than one decision" in result.stderr
    assert count(db) == before
    (tmp_path / "all").mkdir()
    check_one(runner, tmp_path / "all", [1, 1, 2, 3, 1], [3, 1, 2, 0, 4], pool=SHARED)


_SHARED_MASKS = st.lists(st.integers(1, 2 ** len(SHARED) - 1), min_size=DAYS, max_size=DAYS)


@settings(max_examples=10, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(masks=_SHARED_MASKS, order=st.permutations(range(DAYS)))
def test_shared_addresses_in_any_order_answer_as_in_order_or_are_refused(runner, masks,
                                                                         order):
    """The property over ``SHARED``: what a backfill accepts answers as in order."""
    with tempfile.TemporaryDirectory() as directory:
        check_one(runner, Path(directory), masks, list(order), pool=SHARED)


@pytest.mark.parametrize(("masks", "order"), [
    ([113, 104, 88, 19, 110], [2, 1, 0, 3, 4]),  # backwards: 12th, 11th, then 10th
    ([114, 110, 13, 115, 15], [3, 0, 4, 1, 2]),  # a platform a later import registered
    ([52, 100, 111, 104, 9], [3, 0, 4, 2, 1]),  # targets a later import gave a platform
    ([40, 22, 106, 81, 41], [3, 4, 1, 2, 0]),
])
def test_orders_refused_before_are_placed_exactly(runner, db, tmp_path, masks, order):
    """Each of these had a snapshot refused (a backfill before one backfilled already:
    B's order found by its first time, not its time as corrected; a platform, or a
    target given it, that a later import registered with more than the snapshot lists)."""
    assert check_one(runner, tmp_path, masks, order, shuffled=db)


def refusal_rate(n: int, seed: int = 15) -> tuple[int, int]:
    """How many of ``n`` random registries and orders had a snapshot refused."""
    rng, runner, refused = random.Random(seed), CliRunner(), 0
    for _ in range(n):
        masks = [rng.randrange(1, 2 ** len(POOL)) for _ in range(DAYS)]
        order = rng.sample(range(DAYS), DAYS)
        with tempfile.TemporaryDirectory() as directory:
            refused += not check_one(runner, Path(directory), masks, order)
    return refused, n


if __name__ == "__main__":
    import os

    os.environ["BLOCKLEDGER_OPERATOR"] = "tester"
    refused, n = refusal_rate(int(sys.argv[1]))
    print(f"refused: {refused} of {n} random orders")
