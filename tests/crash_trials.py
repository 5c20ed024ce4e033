# Not collected by pytest yet (timing-based, flaked once under load): run with
# `python -m pytest tests/crash_trials.py -s`. To be made robust and collected again.
"""Crashes: ``kill -9`` at random moments during a large import and a projection rebuild.

Real subprocesses of the installed ``blockledger`` command, real SIGKILLs, many times over,
on SQLite and on PostgreSQL, each trial in a fresh database. After every kill the ledger
must hold none or all of an atomic import, or a prefix of whole batches of a
``--batch-commit`` import (and re-running that import completes it); the next command must
run and leave the views caught up (lag 0), whole, and equal to what a clean run gives; and
``verify`` must pass. A rebuild killed at any moment must leave views that the next
command brings back to exactly what they were.

Kill moments are drawn from 0 to SPAN times an uninterrupted run, stratified (one draw in
each of TRIALS equal slices, shuffled), so that kills land before, during and after the
write; a run seen running longer than that stretches the time scale. Where none of the
TRIALS landed where a scenario needs one (between two batches, mid-rebuild), a few more are
drawn between the last moment found "before" and the first found "after". To keep the file
quick, each trial's process runs (and is killed) while the one before is checked. Each test
prints what every trial found (``pytest -s``). The seed is random and printed:
``CRASH_SEED=n`` replays the same draws (the moments, not the machine's timing).
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import struct
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.clitools import run, run_json

#: Kill trials per scenario (atomic import, batch import, rebuild) on each store.
TRIALS = {"sqlite": 20, "postgres": 8}
#: Events in the imported file, and in the ledger whose views are rebuilt, on each store
#: (PostgreSQL imports about 3x slower here).
EVENTS = {"sqlite": 2000, "postgres": 1000}
#: Events per transaction in the ``--batch-commit`` trials.
BATCH_SIZE = {"sqlite": 300, "postgres": 300}
#: Kills are drawn from 0 to this many times an uninterrupted run.
SPAN = 1.2
#: At most this many more kills (a fraction of TRIALS) when none of the TRIALS landed where
#: a scenario needs one (say mid-rebuild): drawn between the last moment found "before"
#: and the first found "after".
EXTRA = 0.5

SEED = int(os.environ.get("CRASH_SEED") or random.SystemRandom().randrange(10**6))


# --- the input -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One synthetic file, and a prefix of it for the slower store."""
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


# --- the stores: fresh databases, copies, and what a kill left in them ------------------------


class Store:
    """Where trials run: fresh ledgers on one store, and what a kill left in them. The
    probes read the store directly, before any command opens the ledger again."""

    name = ""

    def fresh(self) -> AbstractContextManager[str]:
        """A new, empty ``--db`` target, dropped afterwards."""
        raise NotImplementedError

    def clone(self, source: str) -> AbstractContextManager[str]:
        """A copy of the ledger at ``source``, dropped afterwards."""
        raise NotImplementedError

    def fingerprint(self, target: str) -> Any:
        """Something that changes whenever a transaction writes to the ledger, committed
        or not."""
        raise NotImplementedError

    def events_cut_short(self, target: str) -> bool:
        """Whether events were being written, uncommitted, when the process died (with
        none of them in the ledger: a write that was rolled back)."""
        raise NotImplementedError


class SQLiteStore(Store):
    name = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder

    @contextmanager
    def fresh(self) -> Iterator[str]:
        yield str(self.folder / f"{uuid.uuid4().hex[:12]}.db")

    @contextmanager
    def clone(self, source: str) -> Iterator[str]:
        target = str(self.folder / f"{uuid.uuid4().hex[:12]}.db")
        for suffix in ("", "-wal"):
            if os.path.exists(source + suffix):
                shutil.copyfile(source + suffix, target + suffix)
        yield target

    def fingerprint(self, target: str) -> Any:
        return wal_frames(Path(target + "-wal"))

    def events_cut_short(self, target: str) -> bool:
        # A transaction bigger than the page cache spills to the WAL before it commits:
        # frames after the last commit frame are a write the kill interrupted.
        return wal_frames(Path(target + "-wal"))[1] > 0


class PostgresStore(Store):
    name = "postgres"
    TABLES = ("blockledger_events", "blockledger_events_chain", "blockledger_tracking",
              "bl_view_history", "bl_view_status")

    def __init__(self, server: str):
        self.server = server

    def _connect(self, url: str) -> Any:
        import psycopg

        return psycopg.connect(url, autocommit=True, connect_timeout=5)

    @contextmanager
    def _database(self, template: str | None) -> Iterator[str]:
        name = f"bl_crash_{uuid.uuid4().hex[:16]}"
        statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        for attempt in range(50):  # a template takes no sessions: a closing one may linger
            try:
                with self._connect(f"{self.server}/postgres") as conn:
                    conn.execute(statement)
                break
            except Exception as error:
                if "being accessed by other users" not in str(error) or attempt == 49:
                    raise
                time.sleep(0.1)
        try:
            yield f"{self.server}/{name}"
        finally:
            with self._connect(f"{self.server}/postgres") as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def fresh(self) -> AbstractContextManager[str]:
        return self._database(None)

    def clone(self, source: str) -> AbstractContextManager[str]:
        return self._database(source.rsplit("/", 1)[1])

    def fingerprint(self, target: str) -> Any:
        # A rewritten row has a new xmin (a copy keeps its template's); a rolled-back
        # insert leaves its pages.
        out = []
        with self._connect(target) as conn:
            for table in self.TABLES:
                if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
                    out.append(None)
                    continue
                size = conn.execute("SELECT pg_relation_size(%s)", (table,)).fetchone()[0]
                xmins = conn.execute(f"SELECT DISTINCT xmin::text FROM {table}").fetchall()
                out.append((size, sorted(row[0] for row in xmins)))
        return out

    def events_cut_short(self, target: str) -> bool:
        with self._connect(target) as conn:
            return conn.execute(
                "SELECT pg_relation_size('blockledger_events')").fetchone()[0] > 0


def wal_frames(wal: Path) -> tuple[int, int]:
    """``(committed, uncommitted)`` frames in the current generation of a SQLite WAL."""
    try:
        data = wal.read_bytes()
    except FileNotFoundError:
        return 0, 0
    if len(data) < 32:
        return 0, 0
    magic, _, page_size, _, salt1, salt2 = struct.unpack(">6I", data[:24])
    if magic not in (0x377F0682, 0x377F0683):
        return 0, 0
    frame = 24 + (65536 if page_size == 1 else page_size)
    committed = pending = 0
    for offset in range(32, len(data) - frame + 1, frame):
        _, commit_size, s1, s2 = struct.unpack(">4I", data[offset:offset + 16])
        if (s1, s2) != (salt1, salt2):
            break  # left over from an earlier generation of the WAL
        pending += 1
        if commit_size:
            committed, pending = committed + pending, 0
    return committed, pending


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return SQLiteStore(tmp_path)
    pg_url = request.getfixturevalue("pg_url")  # skips (or fails in CI) without a server
    return PostgresStore(pg_url.rsplit("/", 1)[0])


# --- running and killing ----------------------------------------------------------------------


def blockledger() -> str:
    beside = Path(sys.executable).parent / "blockledger"
    found = str(beside) if beside.exists() else shutil.which("blockledger")
    if found is None:
        pytest.fail("the blockledger command is not installed (pip install -e .)")
    return found


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BLOCKLEDGER_") and k not in ("PERSISTENCE_MODULE",
                                                            "SQLITE_DBNAME")}
    env["BLOCKLEDGER_OPERATOR"] = "crash-tester"
    return env


def kill_after(db: str, delay: float | None, *args: str) -> tuple[bool, float]:
    """Start ``blockledger --db DB ARGS`` and SIGKILL it after ``delay`` seconds (None: let
    it finish). Returns whether it was killed (else it finished, successfully) and when."""
    with tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([blockledger(), "--db", db, *args], env=_env(),
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            process.wait(timeout=300 if delay is None else delay)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            assert delay is not None, f"blockledger {' '.join(args)} hung"
            assert process.returncode == -signal.SIGKILL
            return True, time.perf_counter() - started
        elapsed = time.perf_counter() - started
        stderr.seek(0)
        assert process.returncode == 0, stderr.read().decode()
        return False, elapsed


def strata(n: int, span: float, rng: random.Random) -> list[float]:
    """``n`` random numbers in ``[0, span)``, one in each of ``n`` equal slices, shuffled."""
    out = [(i + rng.random()) * span / n for i in range(n)]
    rng.shuffle(out)
    return out


class Trial:
    """One run of the command: killed or not, and what the store showed right after. The
    caller sets ``phase``: "before", "mid" or "after" what the scenario is about."""

    def __init__(self, number: int, db: str, delay: float | None, scale: float | None,
                 extra: bool):
        self.number, self.db, self.delay, self.scale = number, db, delay, scale
        self.extra = extra
        self.killed = False
        self.elapsed = 0.0
        self.wrote = False  # the process wrote something to the ledger, committed or not
        self.events_cut_short = False
        self.phase: str | None = None

    @property
    def moment(self) -> float:
        """By when the phase was reached: the kill, or the end of a run that finished."""
        return self.delay if self.killed and self.delay is not None else self.elapsed

    def row(self, **found: Any) -> dict[str, Any]:
        when = (f"{self.delay:.2f}s/{self.scale:.2f}s" if self.delay is not None
                else f"never (ran {self.elapsed:.2f}s)")
        return {"trial": f"{self.number}{' (extra)' if self.extra else ''}", "kill_at": when,
                **found}


@contextmanager
def killed_trials(store: Store, source: str, args: list[str], rng: random.Random,
                  enough: Callable[[list[Trial]], bool]) -> Iterator[Iterator[Trial]]:
    """Runs of ``blockledger ARGS``, each in a fresh copy of ``source``: one uninterrupted,
    then TRIALS killed at moments drawn from 0 to SPAN times the longest any run was seen
    running.

    Each run starts while the caller checks the one before, so that checks cost no wall
    time; each copy is dropped once checked. When the kills, as phased by the caller, are
    not ``enough``, up to EXTRA x TRIALS more are drawn between the last "before" and the
    first "after" moment, until they are.
    """
    n = TRIALS[store.name]
    fractions = strata(n, SPAN, rng)
    scale: list[float] = []  # how long each run was seen running: the time scale
    done: list[Trial] = []

    def start(number: int, delay: float | None) -> tuple[Trial, AbstractContextManager[str]]:
        copy = store.clone(source)
        db = copy.__enter__()
        try:
            trial = Trial(number, db, delay, max(scale) if scale else None, number >= n)
            before = store.fingerprint(db)
            trial.killed, trial.elapsed = kill_after(db, delay, *args)
            trial.wrote = store.fingerprint(db) != before
            trial.events_cut_short = trial.killed and store.events_cut_short(db)
        except BaseException:
            copy.__exit__(*sys.exc_info())
            raise
        return trial, copy

    def planned(number: int) -> float | None:
        return None if number < 0 else fractions[number] * max(scale)

    def bracketed() -> float:
        kills = [t for t in done if t.number >= 0]
        low = max((t.moment for t in kills if t.phase == "before"), default=0.0)
        high = min((t.moment for t in done if t.phase == "after"),
                   default=2 * SPAN * max(scale))
        return rng.uniform(low, max(low, high))

    with ThreadPoolExecutor(max_workers=1) as pool:
        pending: list[Future] = [pool.submit(start, -1, None)]

        def trials() -> Iterator[Trial]:
            number = -1
            while pending:
                trial, copy = pending.pop().result()
                # A run killed while still running took at least that long: under load
                # the runs are slower than the first, and the late kills stretch the scale.
                scale.append(trial.moment)
                if number + 1 < n:
                    pending.append(pool.submit(start, number + 1, planned(number + 1)))
                try:
                    yield trial
                finally:
                    copy.__exit__(None, None, None)
                done.append(trial)
                number += 1
                if (not pending and number < n + EXTRA * n
                        and not enough([t for t in done if t.number >= 0])):
                    pending.append(pool.submit(start, number, bracketed()))

        running = trials()
        try:
            yield running
        finally:
            running.close()  # drops the copy being checked, if a check failed
            for future in pending:  # and the one in flight
                with suppress(Exception):
                    future.result()[1].__exit__(None, None, None)


def phases(trials: list[Trial]) -> set[str | None]:
    return {trial.phase for trial in trials}


# --- the invariants ---------------------------------------------------------------------------


def views_lag(runner: Any, db: str) -> dict[str, dict[str, int]]:
    """``projections status --json``: each view's position, lag and rows (it only reads)."""
    return run_json(runner, db, "projections", "status")


def behind(lag: dict[str, dict[str, int]]) -> bool:
    return any(view["lag"] for view in lag.values())


def lags(raw: dict[str, dict[str, int]]) -> str:
    return f"{raw['history']['lag']}/{raw['status']['lag']}"


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
    killed = [row for row in rows if not row["kill_at"].startswith("never")]
    print(f"\n{title}: {len(killed)} kills in {time.perf_counter() - started:.1f}s "
          f"(seed {SEED})")
    for row in rows:
        print("  " + "  ".join(f"{key}={value}" for key, value in row.items()))
    outcomes = Counter(row["outcome"] for row in killed)
    for outcome, n in sorted(outcomes.items()):
        print(f"  {n:3} x {outcome}")
    return outcomes


# --- importing --------------------------------------------------------------------------------


def _import_trials(runner: Any, store: Store, generated: dict[str, Any], batch: bool,
                   enough: Callable[[list[Trial]], bool]) -> list[dict[str, Any]]:
    data = generated[store.name]
    path, ids, platforms = str(data["path"]), data["ids"], data["platforms"]
    n, size = len(ids), BATCH_SIZE[store.name]
    args = ["import", path, *(["--batch-commit", "--batch-size", str(size)] if batch else [])]
    rng = random.Random(f"{SEED}-{store.name}-{batch}")
    rows: list[dict[str, Any]] = []
    clean: dict[str, Any] = {}
    with store.fresh() as empty, killed_trials(store, _init(runner, empty), args, rng,
                                               enough) as trials:
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
            if events == 0:
                trial.phase = "before"
            elif events < n or (trial.killed and behind(raw)):
                trial.phase = "mid"
            else:
                trial.phase = "after"
            row = trial.row(events=events, lag=lags(raw),
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


def _init(runner: Any, db: str) -> str:
    result = run(runner, db, "init")
    assert result.exit_code == 0, result.output
    return db


def _import_outcome(trial: Trial, events: int, n: int, views_behind: bool) -> str:
    if not trial.killed:
        return "finished before the kill"
    if events == 0:
        return ("killed during the write, rolled back" if trial.events_cut_short
                else "killed before the write, nothing landed")
    if events < n:
        return "killed during the write, whole batches kept"
    if views_behind:
        return "killed after the write, views behind"
    return "killed after the write and the views"


def test_a_killed_atomic_import_lands_all_or_nothing(runner, store, generated):
    """``import FILE`` killed at any moment: none or all of it, views caught up, verified.
    Some kills must find nothing landed, and some everything."""
    started = time.perf_counter()

    def enough(trials: list[Trial]) -> bool:
        return "before" in phases(trials) and bool(phases(trials) & {"mid", "after"})

    rows = _import_trials(runner, store, generated, False, enough)
    outcomes = summary(f"atomic import on {store.name}", rows, started)
    assert any("nothing landed" in o or "rolled back" in o for o in outcomes), (
        f"no kill landed before the commit: {outcomes}")
    assert any("after the write" in o or "finished" in o for o in outcomes), (
        f"no kill landed after the commit: {outcomes}")


def test_a_killed_batch_import_keeps_whole_batches_and_resumes(runner, store, generated):
    """``import FILE --batch-commit`` killed at any moment: a prefix of whole batches,
    views caught up, verified; running the same import again completes it. Some kills
    must find nothing landed, and some land between batches."""
    started = time.perf_counter()

    def enough(trials: list[Trial]) -> bool:
        return {"before", "mid"} <= phases(trials)

    rows = _import_trials(runner, store, generated, True, enough)
    outcomes = summary(f"batch import on {store.name}", rows, started)
    assert outcomes["killed during the write, whole batches kept"], (
        f"no kill landed between batches: {outcomes}")
    assert any("nothing landed" in o or "rolled back" in o for o in outcomes), outcomes


# --- rebuilding -------------------------------------------------------------------------------


def test_a_killed_rebuild_leaves_views_that_catch_up(runner, store, generated):
    """``projections rebuild`` killed at any moment: the next command catches the views up
    and status and history are exactly what they were before the rebuild. Some kills must
    land mid-rebuild."""
    started = time.perf_counter()
    data = generated[store.name]
    rng = random.Random(f"{SEED}-{store.name}-rebuild")
    rows = []
    with store.fresh() as base:
        assert run(runner, base, "import", str(data["path"])).exit_code == 0
        before = _answers(runner, base)
        whole = views_lag(runner, base)
        assert not behind(whole)
        with killed_trials(store, base, ["projections", "rebuild"], rng,
                           lambda trials: "mid" in phases(trials)) as trials:
            for trial in trials:
                raw = views_lag(runner, trial.db)  # what the kill left
                check_after_crash(runner, trial.db, data["platforms"])
                assert _answers(runner, trial.db) == before
                assert views_lag(runner, trial.db) == whole
                if raw != whole:
                    trial.phase = "mid"
                else:
                    trial.phase = "before" if trial.killed and not trial.wrote else "after"
                rows.append(trial.row(history_rows=raw["history"]["rows"],
                                      status_rows=raw["status"]["rows"],
                                      outcome=_rebuild_outcome(trial, raw, whole)))
    outcomes = summary(f"rebuild on {store.name}", rows, started)
    assert any(o.startswith("killed mid-rebuild") for o in outcomes), (
        f"no kill landed mid-rebuild: {outcomes}")


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
        return ("killed after the last commit, views whole" if trial.wrote
                else "killed before the drop, views untouched")
    dropped = [view for view in ("history", "status") if raw[view]["rows"] == 0]
    if dropped:
        return f"killed mid-rebuild, {' and '.join(dropped)} empty"
    return "killed mid-rebuild, views partly rebuilt"


# --- the first write to a fresh ledger --------------------------------------------------------


def _first_commit_seen(store: Store, db: str) -> Callable[[], bool]:
    """A probe, polled from outside, for the import's first events having committed."""
    if isinstance(store, SQLiteStore):
        def sqlite_probe() -> bool:
            if not os.path.exists(db):
                return False
            try:
                with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0) as conn:
                    return conn.execute("SELECT count(*) FROM stored_events").fetchone()[0] > 0
            except sqlite3.Error:
                return False
        return sqlite_probe

    import psycopg

    def postgres_probe() -> bool:
        try:
            with psycopg.connect(db, autocommit=True, connect_timeout=5) as conn:
                return conn.execute("SELECT count(*) FROM blockledger_events").fetchone()[0] > 0
        except psycopg.Error:
            return False
    return postgres_probe


@pytest.mark.xfail(strict=True, reason="a kill between the first commit into a fresh ledger "
                   "and the creation of the views' tables leaves a ledger whose views no read "
                   "command creates: 'projections status' fails (no such table "
                   "bl_view_history) until a write command runs")
def test_a_kill_right_after_the_first_commit_into_a_fresh_ledger(runner, store, generated):
    """The first import into a store that does not exist yet, killed the moment its events
    are seen committed (polled from outside): the next read leaves the views caught up.

    The views' tables are created by the first catch-up after that commit, so a kill in
    between (a few milliseconds on SQLite, more on PostgreSQL; the poll lands there about
    every other time on SQLite, every time on PostgreSQL) leaves a ledger without them.
    Reads open the store without creating tables: ``status`` swallows the failed catch-up
    and replays the log, and ``projections status`` fails, until some write creates them.
    """
    small = generated[store.name]["path"].with_name("first-200.jsonl")
    lines = generated[store.name]["path"].read_bytes().splitlines(keepends=True)
    small.write_bytes(b"".join(lines[:200]))
    hits = 0
    for _attempt in range(12):
        with store.fresh() as db:
            probe = _first_commit_seen(store, db)
            process = subprocess.Popen([blockledger(), "--db", db, "import", str(small)],
                                       env=_env(), stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            while process.poll() is None and not probe():
                pass
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait()
            if process.returncode != -signal.SIGKILL:
                continue  # it finished first: try again
            hits += 1
            result = run(runner, db, "status", "--json")
            assert result.exit_code == 0, result.output
            after = run(runner, db, "projections", "status", "--json")
            assert after.exit_code == 0, after.output
            assert not behind(orjson.loads(after.stdout))
    assert hits, "no kill landed after the first commit"
