"""Crashes: ``kill -9`` at random moments during a large import and a projection rebuild.

Real subprocesses of the installed ``blockledger`` command, real SIGKILLs, many times over,
on SQLite and on PostgreSQL, each trial in a fresh copy of a ledger. Kill moments follow
the process's observed progress (``tests.trials``): the store is polled from outside for
milestones (the ledger opened, events committed, each batch committed, views dropped,
views caught up), an uninterrupted run says how long each stretch between them lasts, and
each killed run waits for a stretch to begin and kills after a random fraction of it, so
every stretch gets its share of kills however fast or slow the machine is today.

After every kill:

- the ledger holds none or all of an atomic import, or a prefix of whole batches of a
  ``--batch-commit`` import, and running that import again completes it;
- the next command runs and leaves the views caught up (lag 0), whole, and giving the same
  status as a clean run; a killed rebuild's views come back to exactly what they were;
- ``verify`` passes.

Each test prints what every trial found (``pytest -s``). The seed is random and printed
(and named in any failure): ``CRASH_SEED=n`` replays the same draws (the moments relative
to the milestones, not the machine's timing).
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.clitools import run, run_json
from tests.trials import (
    Milestone,
    Plan,
    PostgresStore,
    Progress,
    SQLiteStore,
    Store,
    Trial,
    killed_trials,
    run_once,
)

#: Processes killed and writers raced: slow; CI runs them once (pyproject: trial).
pytestmark = pytest.mark.trial

#: Killed runs per scenario (atomic import, batch import, rebuild) on each store.
TRIALS = {"sqlite": 20, "postgres": 20}
#: Events in the imported file, and in the ledger whose views are rebuilt, on each store.
EVENTS = {"sqlite": 3000, "postgres": 1000}
#: Events per transaction in the ``--batch-commit`` trials: enough that writing one batch
#: takes longer than ``tests.trials.SHORTEST`` (20 ms) on a fast machine, or its stretch
#: gets no kills (SQLite imports about 12,000 events a second on a shared 2-core machine).
BATCH_SIZE = {"sqlite": 600, "postgres": 100}

SEED = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(10**6))


@pytest.fixture(autouse=True)
def _name_the_seed() -> None:
    """Every failure names the seed that drew its kill moments (pytest shows what a failed
    test printed)."""
    print(f"CRASH_SEED={SEED}")


# --- the input and the stores -----------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One synthetic file per store (a prefix of the same events)."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import events

    lines = [orjson.dumps(event) for event in events(max(EVENTS.values()))]
    folder = tmp_path_factory.mktemp("crash-input")
    out: dict[str, Any] = {}
    for store, n in EVENTS.items():
        path = folder / f"events-{n}.jsonl"
        path.write_bytes(b"".join(line + b"\n" for line in lines[:n]))
        chosen = [orjson.loads(line) for line in lines[:n]]
        registered = [0]  # how many platforms the first k events register, for every k
        for event in chosen:
            registered.append(registered[-1] + (event["type"] == "platform-registered"))
        out[store] = {"path": path, "ids": [event["id"] for event in chosen],
                      "platforms": registered}
    return out


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return SQLiteStore(tmp_path)
    pg_url = request.getfixturevalue("pg_url")  # skips (or fails in CI) without a server
    return PostgresStore(pg_url.rsplit("/", 1)[0])


# --- the invariants ---------------------------------------------------------------------------


def views_lag(runner: Any, db: str) -> dict[str, dict[str, int]]:
    """``projections status --json``: each view's position, lag and rows (it only reads)."""
    return run_json(runner, db, "projections", "status")


def behind(lag: dict[str, dict[str, int]]) -> bool:
    return any(view["lag"] for view in lag.values())


def check_after_crash(runner: Any, db: str, platforms: list[int]) -> dict[str, Any]:
    """The next command runs; afterwards the views are caught up and whole, and the chain
    verifies. Returns the status it printed and how many events the ledger holds."""
    result = run(runner, db, "status", "--json")
    assert result.exit_code == 0, result.output
    status = orjson.loads(result.stdout)
    checked = run(runner, db, "verify", "--json")
    verification = orjson.loads(checked.stdout)
    assert checked.exit_code == 0 and verification["ok"], verification
    events = verification["events"]
    lag = views_lag(runner, db)
    assert not behind(lag), f"the views did not catch up: {lag}"
    assert lag["history"]["rows"] == events, lag
    assert lag["status"]["rows"] == platforms[events] == len(status), lag
    return {"status": status, "events": events}


def landed_ids(runner: Any, db: str) -> list[str]:
    result = run(runner, db, "export")
    assert result.exit_code == 0, result.output
    return [orjson.loads(line)["id"] for line in result.stdout_bytes.splitlines()]


def summary(title: str, rows: list[dict[str, Any]], started: float) -> Counter[str]:
    killed = [row for row in rows if row["trial"] >= 0]
    print(f"\n{title}: {len(killed)} trials in {time.perf_counter() - started:.1f}s "
          f"(CRASH_SEED={SEED})")
    for row in rows:
        print("  " + "  ".join(f"{key}={value}" for key, value in row.items()))
    outcomes = Counter(row["outcome"] for row in killed)
    for outcome, n in sorted(outcomes.items()):
        print(f"  {n:3} x {outcome}")
    return outcomes


def _init(runner: Any, db: str) -> str:
    result = run(runner, db, "init")
    assert result.exit_code == 0, result.output
    return db


# --- importing --------------------------------------------------------------------------------


def _import_milestones(n: int, size: int | None) -> list[Milestone]:
    """The ledger opened; (each batch committed;) every event committed; the views caught
    up with them."""
    out: list[Milestone] = [("opened", lambda p, opened, seen: opened)]
    if size is not None:
        for k in range(1, (n - 1) // size + 1):
            out.append((f"batch {k}", lambda p, o, s, k=k: (p.events or 0) >= k * size))
    out.append(("committed", lambda p, o, s: (p.events or 0) >= n))
    out.append(("views", lambda p, o, s: "committed" in s and _caught_up(p)))
    return out


def _caught_up(p: Progress) -> bool:
    return bool(p.head) and p.history == p.head and p.status == p.head


def _import_trials(runner: Any, store: Store, generated: dict[str, Any],
                   batch: bool) -> list[dict[str, Any]]:
    data = generated[store.name]
    path, ids, platforms = str(data["path"]), data["ids"], data["platforms"]
    n, size = len(ids), BATCH_SIZE[store.name]
    args = ["import", path, *(["--batch-commit", "--batch-size", str(size)] if batch else [])]
    rng = random.Random(f"{SEED}-{store.name}-{batch}")
    rows: list[dict[str, Any]] = []
    clean: dict[str, Any] = {}
    milestones = _import_milestones(n, size if batch else None)
    with store.fresh() as empty, killed_trials(store, _init(runner, empty), args,
                                               milestones, TRIALS[store.name],
                                               rng) as trials:
        for trial in trials:
            db = trial.db
            raw = views_lag(runner, db)  # what the kill left, before anything catches up
            found = check_after_crash(runner, db, platforms)
            events = found["events"]
            if batch:
                assert events == n or (events % size == 0 and events < n), (
                    f"not whole batches: {events} of {n} events")
                assert landed_ids(runner, db) == ids[:events], "not a prefix of the file"
            else:
                assert events in (0, n), f"half an atomic import: {events} of {n} events"
            if events == n:
                clean.setdefault("status", found["status"])  # from the uninterrupted run
                assert found["status"] == clean["status"]
            row = trial.row(events=events, lag=f"{raw['history']['lag']}/"
                            f"{raw['status']['lag']}",
                            outcome=_import_outcome(trial, events, n, behind(raw)))
            if batch and events < n:  # resumable: the same import completes it
                again = run(runner, db, *args)
                assert again.exit_code == 0, again.output
                assert f"imported {n - events} events" in again.output, again.output
                if events:
                    assert f"({events} already in the ledger, skipped)" in again.output
                done = check_after_crash(runner, db, platforms)
                assert done["events"] == n
                assert done["status"] == clean["status"]
                row["resumed"] = n - events
            rows.append(row)
    return rows


def _import_outcome(trial: Trial, events: int, n: int, views_behind: bool) -> str:
    if not trial.killed:
        return "finished before the kill"
    if events == 0:
        if "opened" not in trial.seen:
            return "killed starting up, nothing landed"
        return ("killed during the write, rolled back" if trial.uncommitted
                else "killed before the commit, nothing landed")
    if events < n:
        return "killed during the write, whole batches kept"
    if views_behind:
        return "killed after the write, views behind"
    return "killed after the write and the views"


def test_a_killed_atomic_import_lands_all_or_nothing(runner, store, generated):
    """``import FILE`` killed at any moment: none or all of it, views caught up, verified.
    Kills land before the commit (nothing landed) and after it (everything)."""
    started = time.perf_counter()
    rows = _import_trials(runner, store, generated, False)
    outcomes = summary(f"atomic import of {EVENTS[store.name]} events on {store.name}",
                       rows, started)
    assert (outcomes["killed before the commit, nothing landed"]
            + outcomes["killed during the write, rolled back"]), (
        f"no kill landed between opening the ledger and the commit: {outcomes}")
    assert any("after the write" in o for o in outcomes), (
        f"no kill landed after the commit: {outcomes}")


def test_a_killed_batch_import_keeps_whole_batches_and_resumes(runner, store, generated):
    """``import FILE --batch-commit`` killed at any moment: a prefix of whole batches,
    views caught up, verified; running the same import again completes it. Kills land
    between batches."""
    started = time.perf_counter()
    rows = _import_trials(runner, store, generated, True)
    outcomes = summary(f"batch import of {EVENTS[store.name]} events in batches of "
                       f"{BATCH_SIZE[store.name]} on {store.name}", rows, started)
    assert outcomes["killed during the write, whole batches kept"] >= 3, (
        f"too few kills landed between batches: {outcomes}")


# --- rebuilding -------------------------------------------------------------------------------


def _rebuild_milestones() -> list[Milestone]:
    """The ledger opened; a view emptied; both views rebuilt to the ledger's head."""
    return [
        ("opened", lambda p, opened, seen: opened),
        ("dropped", lambda p, o, s: p.history_rows == 0 or p.status_rows == 0
         or p.history == 0 or p.status == 0),
        ("rebuilt", lambda p, o, s: "dropped" in s and _caught_up(p)),
    ]


def test_a_killed_rebuild_leaves_views_that_catch_up(runner, store, generated):
    """``projections rebuild`` killed at any moment: the next command catches the views up
    and status and history are exactly what they were before the rebuild. Kills land
    mid-rebuild."""
    started = time.perf_counter()
    data = generated[store.name]
    rng = random.Random(f"{SEED}-{store.name}-rebuild")
    rows = []
    with store.fresh() as base:
        assert run(runner, base, "import", str(data["path"])).exit_code == 0
        before = _answers(runner, base)
        whole = views_lag(runner, base)
        assert not behind(whole)
        with killed_trials(store, base, ["projections", "rebuild"], _rebuild_milestones(),
                           TRIALS[store.name], rng) as trials:
            for trial in trials:
                raw = views_lag(runner, trial.db)  # what the kill left
                check_after_crash(runner, trial.db, data["platforms"])
                assert _answers(runner, trial.db) == before
                assert views_lag(runner, trial.db) == whole
                rows.append(trial.row(history_rows=raw["history"]["rows"],
                                      status_rows=raw["status"]["rows"],
                                      lag=f"{raw['history']['lag']}/{raw['status']['lag']}",
                                      outcome=_rebuild_outcome(trial, raw, whole)))
    outcomes = summary(f"rebuild of {EVENTS[store.name]} events on {store.name}", rows,
                       started)
    assert sum(n for o, n in outcomes.items() if o.startswith("killed mid-rebuild")) >= 3, (
        f"too few kills landed mid-rebuild: {outcomes}")


def _answers(runner: Any, db: str) -> tuple[bytes, bytes]:
    answers = []
    for command in ("status", "history"):
        result = run(runner, db, command, "--json")
        assert result.exit_code == 0, result.output
        answers.append(result.stdout_bytes)
    return answers[0], answers[1]


def _rebuild_outcome(trial: Trial, raw: dict[str, dict[str, int]],
                     whole: dict[str, dict[str, int]]) -> str:
    if not trial.killed:
        return "finished before the kill"
    if raw == whole:
        return ("killed after the rebuild, views whole" if "dropped" in trial.seen
                else "killed before the drop, views untouched")
    dropped = [view for view in ("history", "status") if raw[view]["rows"] == 0]
    if dropped:
        return f"killed mid-rebuild, {' and '.join(dropped)} empty"
    return "killed mid-rebuild, views partly rebuilt"


# --- the first write to a fresh ledger --------------------------------------------------------


def test_a_kill_right_after_the_first_commit_into_a_fresh_ledger(runner, store, generated):
    """The first import into a store that does not exist yet, killed the moment its events
    are seen committed (polled from outside): the next read works and leaves the views
    caught up. (The views' tables must exist before the first commit: a ledger never holds
    events without the tables its read commands expect.)"""
    small = generated[store.name]["path"].with_name(f"first-200-{store.name}.jsonl")
    lines = generated[store.name]["path"].read_bytes().splitlines(keepends=True)
    small.write_bytes(b"".join(lines[:200]))
    milestones: list[Milestone] = [("committed", lambda p, o, s: (p.events or 0) > 0)]
    hits = 0
    for attempt in range(4):
        with store.fresh() as db:
            trial = run_once(store, db, ["import", str(small)], milestones,
                             Plan("committed", 0.0, "committed"), attempt)
            if not trial.killed:
                continue  # it finished first: try again
            hits += 1
            result = run(runner, db, "status", "--json")
            assert result.exit_code == 0, result.output
            after = run(runner, db, "projections", "status", "--json")
            assert after.exit_code == 0, after.output
            assert not behind(orjson.loads(after.stdout))
            assert run(runner, db, "verify").exit_code == 0
    assert hits, "no kill landed after the first commit"

