"""Several operators at once, on each store: nothing lost, nothing doubled, chain intact.

Each operator is a spawned process that runs the command line in-process (click's
CliRunner), one invocation per event, exactly as ``blockledger record`` would: it opens the
ledger, checks the rules, writes, catches the views up and closes (the writers send a share
of their events, CLI_EVERY, through the same calls on a ledger they keep open, the command
minus its opening, which is slow on PostgreSQL). A process counts the
optimistic-concurrency conflicts its writes ran into (``IntegrityError`` from the store,
retried by ``Ledger.record`` against fresh state), so that the races are seen to race.

- **Writers**: WRITERS processes record EVENTS events each, at once, every process on its
  own platforms and orders (registrations, blocks, notices, observations, lifts). Every
  event has an id known in advance: afterwards the ledger holds exactly those ids, once
  each, each writer's in the order it wrote them; the chain verifies; the views are caught
  up and agree with the ledger; each platform's status is what its writer recorded.
- **Races**: RACERS processes lift the same RACES orders at once, one order at a time
  (a barrier lines them up): for each order exactly one succeeds and every other gets the
  rule's refusal, one line and exit 1, never a traceback or a lost write.
- **Busy timeout**: a SQLite writer that cannot get the lock within the busy timeout gets
  one clear line and exit 1; one that gets it within the timeout waits and succeeds.
"""

from __future__ import annotations

import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest
from click.testing import CliRunner

#: Processes killed and writers raced: slow; CI runs them once (pyproject: trial).
pytestmark = pytest.mark.trial

WRITERS, EVENTS = 8, 200
#: Each writer's own platforms (and one order against each).
PLATFORMS = 4
RACERS, RACES = 2, 50
#: Writers record every n-th event through the whole command line (which opens the ledger,
#: creates any missing tables, writes, catches the views up, closes), the others through
#: the same calls on a ledger the process keeps open. Opening costs ~50 ms on PostgreSQL
#: here and serializes writers (the table-creation statements lock the tables): 1600 whole
#: commands took 3 minutes there, so a tenth go through the command line (and half on
#: SQLite), to keep this file near 2.5 minutes on two shared cores.
CLI_EVERY = {"sqlite": 2, "postgres": 10}
#: Generous: a spawned process that has not finished by then has hung.
JOIN_TIMEOUT = 600

NS = uuid.UUID("c0c0c0c0-0000-4000-8000-000000000000")
SRC = ["--source", "https://example.org/notice"]
ROOT = Path(__file__).resolve().parent.parent


def event_id(*key: object) -> str:
    return str(uuid.uuid5(NS, "/".join(map(str, key))))


# --- what runs in the spawned processes -------------------------------------------------------


def _count_conflicts() -> list[int]:
    """Count the store's optimistic-concurrency conflicts in this process: every
    ``IntegrityError`` raised by a save that ``Ledger.record`` then retries."""
    from eventsourcing.persistence import IntegrityError

    from ledger.application import Ledger

    conflicts = [0]
    save = Ledger._save

    def counting_save(self: Any, events: list[Any], *guard: Any) -> None:
        try:
            save(self, events, *guard)
        except IntegrityError:
            conflicts[0] += 1
            raise

    Ledger._save = counting_save  # type: ignore[method-assign]
    return conflicts


def _cli(db: str, operator: str, args: list[str]) -> dict[str, Any]:
    """One command, in-process: its exit code, its stdout and stderr, and any exception
    other than the exit the command line chose."""
    from cli import cli

    result = CliRunner().invoke(cli, ["--db", db, "--operator", operator, *args])
    exception = result.exception
    if isinstance(exception, SystemExit):
        exception = None
    return {"code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
            "exception": None if exception is None else repr(exception)}


def writer_script(worker: int) -> list[list[str]]:
    """EVENTS commands for one writer, all on its own subjects, each with a known id."""
    platforms = [f"w{worker}-p{k}" for k in range(PLATFORMS)]
    orders = [f"w{worker}-o{k}" for k in range(PLATFORMS)]
    script: list[list[str]] = []

    def add(*args: str) -> None:
        script.append([*args[:2], "--id", event_id(worker, len(script)), *args[2:]])

    for p in platforms:
        add("platform-registered", p, "--at", "2019-01-01", *SRC, "--name", p.upper(),
            "--target", f"a.{p}.example", "--target", f"b.{p}.example")
    for p, o in zip(platforms, orders, strict=True):
        add("blocked", o, "--at", "2020-01-01", *SRC, "--platform", p, "--authority", "A",
            "--reason", "r", "--target", f"a.{p}.example", "--target", f"b.{p}.example")
    i = 0
    while len(script) < EVENTS - PLATFORMS:
        k = i % PLATFORMS
        if i % 3 == 2:
            add("access-observed", orders[k], "--at", f"2020-02-{1 + i % 28:02d}", *SRC,
                "--target", f"a.{platforms[k]}.example", "--not-accessible",
                "--network", f"AS{i}")
        else:
            add("email-sent", platforms[k], "--at", "2020-01-02", *SRC, "--sender",
                f"writer {worker}", "--recipient", "abuse", "--summary", f"notice {i}")
        i += 1
    for p, o in zip(platforms, orders, strict=True):  # the last word: b is lifted
        add("unblocked", o, "--at", "2020-03-01", *SRC, "--target", f"b.{p}.example")
    assert len(script) == EVENTS
    return script


def _writer(db: str, worker: int, cli_every: int, results: Any) -> None:
    """Record this writer's script: every ``cli_every``-th event through the whole command
    line, the others through the same calls on a ledger this process keeps open."""
    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from projections.views import Views

    conflicts = _count_conflicts()
    operator = f"writer-{worker}"
    outcomes = []
    with open_ledger(parse_target(db), create=True) as ledger:
        for n, args in enumerate(writer_script(worker)):
            if n % cli_every == 0:
                outcome = _cli(db, operator, ["record", *args])
                if outcome["code"] != 0 or outcome["exception"] or outcome["stderr"]:
                    outcomes.append({"args": args[:2], **outcome})
                continue
            # What ``record`` does once the ledger is open: check and write the fact, then
            # catch the views up.
            fact = _parsed(args)
            try:
                ledger.record([fact], operator=operator)
                Views(ledger).catch_up()
            except Exception as error:  # reported with the others, below
                outcomes.append({"args": args[:2], "exception": repr(error)})
    results.put((worker, outcomes, conflicts[0]))


def _parsed(args: list[str]) -> Any:
    """``TYPE SUBJECT --option value ...`` parsed by the ``record TYPE`` command itself,
    into the fact it would record."""
    from commands.record import _fact_from_options, record
    from domain.declaration import REGISTRY

    command = record.commands[args[0]]
    params = dict(command.make_context(args[0], list(args[1:])).params)
    named = [params.pop(k) for k in ("subject", "occurred_at", "sources", "note", "event_id",
                                     "data")]
    return _fact_from_options(REGISTRY[args[0]], *named, params)


def _racer(db: str, racer: int, barrier: Any, results: Any) -> None:
    conflicts = _count_conflicts()
    for i in range(RACES):
        barrier.wait(timeout=120)
        before = conflicts[0]
        outcome = _cli(db, f"racer-{racer}", ["record", "unblocked", f"race-{i}",
                                              "--at", "2020-06-01", *SRC])
        results.put((i, racer, outcome, conflicts[0] - before))


def _run(processes: list[Any]) -> None:
    started = time.monotonic()
    for p in processes:
        p.start()
    try:
        for p in processes:
            p.join(timeout=max(1.0, JOIN_TIMEOUT - (time.monotonic() - started)))
    finally:
        for p in processes:
            if p.is_alive():
                p.kill()
                p.join()
    assert [p.exitcode for p in processes] == [0] * len(processes), "a process died or hung"


def _drain(queue: Any, n: int) -> list[Any]:
    return [queue.get(timeout=60) for _ in range(n)]


# --- the checks, in this process ---------------------------------------------------------------


def _read(runner: CliRunner, db: str, *args: str) -> Any:
    from cli import cli

    result = runner.invoke(cli, ["--db", db, *args, "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout)


def _exported(runner: CliRunner, db: str) -> list[dict[str, Any]]:
    from cli import cli

    result = runner.invoke(cli, ["--db", db, "export"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [orjson.loads(line) for line in result.stdout_bytes.splitlines()]


def _check_ledger(runner: CliRunner, db: str, expected: int) -> list[dict[str, Any]]:
    """The chain verifies over exactly ``expected`` events, the views are caught up and
    hold one history row per event; returns the export."""
    verified = _read(runner, db, "verify")
    assert verified["ok"] and verified["events"] == expected, verified
    views = _read(runner, db, "projections", "status")
    assert all(view["lag"] == 0 for view in views.values()), views
    assert views["history"]["rows"] == expected, views
    events = _exported(runner, db)
    assert len(events) == expected
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)
    return events


@pytest.fixture
def ctx() -> Any:
    return multiprocessing.get_context("spawn")


def test_writers_on_distinct_subjects_lose_nothing_and_double_nothing(db, runner, ctx):
    """WRITERS processes x EVENTS events at once, each on its own platforms and orders:
    afterwards exactly those events, once each, in each writer's order; the chain verifies;
    the views are caught up; every platform's status is what its writer recorded."""
    from cli import cli

    assert runner.invoke(cli, ["--db", db, "init"]).exit_code == 0  # the operators' ledger
    started = time.perf_counter()
    results = ctx.Queue()
    store = "postgres" if db.startswith("postgresql://") else "sqlite"
    _run([ctx.Process(target=_writer, args=(db, w, CLI_EVERY[store], results))
          for w in range(WRITERS)])
    reports = sorted(_drain(results, WRITERS))
    failed = [outcome for _, outcomes, _ in reports for outcome in outcomes]
    assert not failed, f"{len(failed)} commands failed or warned; first: {failed[0]}"
    conflicts = sum(c for _, _, c in reports)
    elapsed = time.perf_counter() - started

    total = WRITERS * EVENTS
    events = _check_ledger(runner, db, total)
    ids = [e["id"] for e in events]
    assert len(set(ids)) == total, "an event was recorded twice"
    scripts = {w: writer_script(w) for w in range(WRITERS)}
    expected = {args[3]: (w, n) for w, script in scripts.items()
                for n, args in enumerate(script)}
    assert set(ids) == set(expected), "events lost or not ours"
    for w in range(WRITERS):  # each writer's events, in the order it recorded them
        mine = [expected[i][1] for i in ids if expected[i][0] == w]
        assert mine == list(range(EVENTS)), f"writer {w}'s events out of order"
        assert {e["recorded_by"] for e in events if expected[e["id"]][0] == w} == {
            f"writer-{w}"}

    statuses = {s["platform"]: s for s in _read(runner, db, "status")}
    assert len(statuses) == WRITERS * PLATFORMS
    for w in range(WRITERS):
        for k in range(PLATFORMS):
            p = f"w{w}-p{k}"
            assert statuses[p]["state"] == "partially-blocked", statuses[p]
            assert statuses[p]["blocked_targets"] == [f"a.{p}.example"], statuses[p]
            history = _read(runner, db, "history", p)["events"]
            assert len(history) == sum(1 for args in scripts[w]
                                       if args[1] in (p, f"w{w}-o{k}")), p
    print(f"\n{WRITERS} writers x {EVENTS} events on {store} ({total // CLI_EVERY[store]} "
          f"through the whole command line): {total} recorded in {elapsed:.1f}s, "
          f"{conflicts} concurrency conflicts retried")


def test_racing_operators_one_wins_the_other_is_refused(db, runner, ctx):
    """RACERS processes lifting the same RACES orders at once: for each order exactly one
    succeeds, the others get the rule's refusal (one line, exit 1), nothing is lost or
    written twice, and the chain verifies."""
    from cli import cli

    setup = [{"id": event_id("race", "platform"), "type": "platform-registered",
              "subject": "racing", "occurred_at": "2019-01-01", "sources": [{"title": "s"}],
              "data": {"name": "Racing", "targets": ["a.example", "b.example"]}}]
    setup += [{"id": event_id("race", i), "type": "blocked", "subject": f"race-{i}",
               "occurred_at": "2020-01-01", "sources": [{"title": "s"}],
               "data": {"platform": "racing", "authority": "A", "reasons": ["r"],
                        "targets": ["a.example"]}} for i in range(RACES)]
    lines = b"".join(orjson.dumps(e) + b"\n" for e in setup)
    result = runner.invoke(cli, ["--db", db, "import", "-"], input=lines,
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output

    started = time.perf_counter()
    barrier, results = ctx.Barrier(RACERS), ctx.Queue()
    _run([ctx.Process(target=_racer, args=(db, r, barrier, results))
          for r in range(RACERS)])
    elapsed = time.perf_counter() - started
    outcomes: dict[int, list[dict[str, Any]]] = {}
    conflicts = 0
    for i, _racer_no, outcome, conflicted in _drain(results, RACERS * RACES):
        outcomes.setdefault(i, []).append(outcome)
        conflicts += conflicted
    for i in range(RACES):
        race = outcomes[i]
        assert all(o["exception"] is None for o in race), race
        assert sorted(o["code"] for o in race) == [0] + [1] * (RACERS - 1), race
        for o in race:
            if o["code"] == 0:
                assert o["stdout"].startswith(f"recorded unblocked race-{i} "), o
                assert not o["stderr"], o
            else:
                assert not o["stdout"], o
                line = o["stderr"].rstrip("\n")
                assert "\n" not in line and "Traceback" not in line, o
                assert line.startswith("error: refused:") and f"race-{i}" in line, o

    total = 1 + RACES + RACES
    events = _check_ledger(runner, db, total)
    lifts = [e for e in events if e["type"] == "unblocked"]
    assert sorted(e["subject"] for e in lifts) == sorted(f"race-{i}" for i in range(RACES))
    status = _read(runner, db, "status", "racing")
    assert status["state"] == "accessible" and not status["blocked_targets"], status
    assert all(order["state"] == "lifted" for order in status["orders"]), status
    store = "postgres" if db.startswith("postgresql://") else "sqlite"
    print(f"\n{RACERS} racers x {RACES} orders on {store}: one winner each in "
          f"{elapsed:.1f}s, {conflicts} concurrency conflicts retried against fresh state")


def _first(db: str, worker: int, barrier: Any, results: Any) -> None:
    barrier.wait(timeout=120)
    outcome = _cli(db, f"first-{worker}", [
        "record", "platform-registered", f"first-{worker}", "--at", "2019-01-01", *SRC,
        "--name", f"First {worker}", "--target", f"first-{worker}.example"])
    results.put((worker, outcome))


def test_the_first_operators_at_once_on_a_store_not_yet_created(db, runner, ctx):
    """WRITERS processes record their first event at the same moment into a ledger that
    does not exist yet (each creates the store's tables as it opens it): every one
    succeeds, quietly, and the chain verifies."""
    barrier, results = ctx.Barrier(WRITERS), ctx.Queue()
    _run([ctx.Process(target=_first, args=(db, w, barrier, results))
          for w in range(WRITERS)])
    outcomes = dict(_drain(results, WRITERS))
    failed = {w: o for w, o in outcomes.items()
              if o["code"] != 0 or o["exception"] or o["stderr"]}
    assert not failed, f"{len(failed)} of {WRITERS} failed; first: {next(iter(failed.values()))}"
    _check_ledger(runner, db, WRITERS)


#: New SQLite files opened by OPENERS threads at once, in the test below.
NEW_FILES, OPENERS = 30, 8


def test_connections_opening_a_new_sqlite_file_at_once_all_open(tmp_path):
    """OPENERS threads open each of NEW_FILES new ledger files at the same moment. SQLite
    answered the library's switch of a new file to WAL with "database is locked" at once,
    without waiting the busy timeout, while the others were opening it (8 files in 60
    failed so; ``ledger.storage.settle_wal`` now retries the switch): every open succeeds.
    Threads, not processes: the race is between SQLite connections, and threads start in
    a fraction of a spawned process's time."""
    import threading

    from ledger.application import open_ledger
    from ledger.storage import parse_target

    failed: list[str] = []
    for n in range(NEW_FILES):
        target = parse_target(str(tmp_path / f"{n}.db"))
        barrier = threading.Barrier(OPENERS)

        def open_at_once(target=target, barrier=barrier) -> None:
            barrier.wait(timeout=60)
            try:
                with open_ledger(target, create=True):
                    pass
            except Exception as error:  # collected, and asserted below
                failed.append(f"{target}: {error!r}")

        threads = [threading.Thread(target=open_at_once) for _ in range(OPENERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert not failed, f"{len(failed)} opens failed; first: {failed[0]}"


# --- SQLite's busy timeout ---------------------------------------------------------------------


def _record_with_timeout(db: str, timeout: int | None, *extra: str) -> subprocess.Popen:
    """``blockledger record`` in a real process; with ``timeout``, SQLite's busy timeout
    (30 s by default) set to that many seconds by ``BLOCKLEDGER_BUSY_TIMEOUT``."""
    code = "import sys; sys.argv[0] = 'blockledger'; from cli import main; main()"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKLEDGER_")}
    if timeout is not None:
        env["BLOCKLEDGER_BUSY_TIMEOUT"] = str(timeout)
    return subprocess.Popen(
        [sys.executable, "-c", code, "--db", db, "--operator", "waiting", "record",
         "email-sent", "busy", "--at", "2020-01-01", *SRC, "--sender", "s", "--recipient",
         "r", "--summary", "waits for the lock", *extra],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _locked(path: str) -> sqlite3.Connection:
    """Another connection holding the SQLite write lock (``BEGIN IMMEDIATE``)."""
    holder = sqlite3.connect(path, isolation_level=None, timeout=0)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def _registered(runner: CliRunner, path: str) -> None:
    from cli import cli

    result = runner.invoke(cli, ["--db", path, "record", "platform-registered", "busy",
                                 "--at", "2019-01-01", *SRC, "--name", "Busy", "--target",
                                 "busy.example"], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def test_a_sqlite_writer_past_the_busy_timeout_gets_one_clear_line(runner, sqlite_path):
    """Another connection holds the write lock longer than the busy timeout (shortened to
    1 s): the writer waits that long, then exits 4 with one line naming the lock; nothing
    is written, and once the lock is released the same command succeeds."""
    _registered(runner, sqlite_path)
    holder = _locked(sqlite_path)
    try:
        started = time.monotonic()
        process = _record_with_timeout(sqlite_path, 1)
        stdout, stderr = process.communicate(timeout=120)
        waited = time.monotonic() - started
    finally:
        holder.rollback()
        holder.close()
    assert process.returncode == 4, (stdout, stderr)
    assert stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr, stderr
    assert stderr.startswith("error: ") and "database is locked" in stderr, stderr
    assert "busy timeout (1 s, BLOCKLEDGER_BUSY_TIMEOUT)" in stderr, stderr
    assert waited >= 1.0, f"gave up after {waited:.2f}s, before the busy timeout"
    assert _read(runner, sqlite_path, "verify")["events"] == 1

    process = _record_with_timeout(sqlite_path, 1)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and not stderr, stderr
    assert _read(runner, sqlite_path, "verify")["events"] == 2


def test_a_sqlite_writer_waits_for_the_lock_within_the_busy_timeout(runner, sqlite_path):
    """With the default busy timeout, a writer that finds the lock held waits for it and
    succeeds when it is released (here after 2 s)."""
    _registered(runner, sqlite_path)
    holder = _locked(sqlite_path)
    try:
        process = _record_with_timeout(sqlite_path, None)
        time.sleep(2)
        assert process.poll() is None, process.communicate()
    finally:
        holder.rollback()
        holder.close()
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 0 and not stderr, stderr
    assert stdout.startswith("recorded email-sent busy "), stdout
    assert _read(runner, sqlite_path, "verify")["events"] == 2


@pytest.mark.parametrize("value", ["abc", "0", "1.5", "-3", "99999999"])
def test_a_bad_busy_timeout_is_one_line_and_writes_nothing(runner, sqlite_path, monkeypatch,
                                                           value):
    """``BLOCKLEDGER_BUSY_TIMEOUT`` takes whole seconds from 1 to 86400; anything else is
    one line, exit 2, and no ledger file."""
    from cli import cli

    monkeypatch.setenv("BLOCKLEDGER_BUSY_TIMEOUT", value)
    result = runner.invoke(cli, ["--db", sqlite_path, "init"])
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1 and "BLOCKLEDGER_BUSY_TIMEOUT" in result.output
    assert not Path(sqlite_path).exists()
