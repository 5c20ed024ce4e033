"""Kill trials: run the installed ``blockledger`` command, watch its progress in the store
from outside, and ``kill -9`` it at a random moment relative to what it has done.

A scenario names its milestones (the process opened the ledger, its events committed, a
batch committed, the views dropped, the views caught up...), each a predicate on what a
probe reads from the store (the ledger and the views' tables, read directly: nothing that
catches up) and, on Linux, on the process's open files. An uninterrupted run records when
each milestone was first seen; that splits the run into segments. Each killed run then
picks a segment (stratified: every segment gets its share of kills, shuffled), waits until
the segment's first milestone is seen in *this* run, sleeps a random fraction of how long
that segment lasted uninterrupted, and sends SIGKILL. So kills follow the process's
progress rather than assume its speed: a machine twice as slow still gets kills in every
segment.

Each trial runs in a fresh copy of a source ledger; the next trial's process runs (and is
killed) while the caller checks the one before, so that the checks cost little wall time.
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
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.clitools import blockledger

#: How often the store is polled while a process runs, in seconds.
POLL = 0.003
#: Stretches between milestones shorter than this (seconds) get no kills of their own.
SHORTEST = 0.02
#: A run that takes longer than this has hung.
HANG = 300.0


# --- what a probe reads -----------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """What the store holds, read directly (None where a table is missing)."""

    events: int | None = None  # committed events
    head: int | None = None  # the last committed event's position
    history: int | None = None  # the history view's tracked position
    status: int | None = None  # the status view's tracked position
    history_rows: int | None = None
    status_rows: int | None = None


def _view(name: str) -> str:
    from ledger.views import tracking_name

    return tracking_name(name)


def _tables() -> tuple[str, str]:
    from ledger.views import FACTS, STATUS

    return FACTS, STATUS


# --- the stores -------------------------------------------------------------------------------


class Store:
    """Where trials run: fresh ledgers on one store, copies, and probes that read it
    directly while a process runs and right after it was killed."""

    name = ""

    def fresh(self) -> AbstractContextManager[str]:
        raise NotImplementedError

    def clone(self, source: str) -> AbstractContextManager[str]:
        raise NotImplementedError

    def prober(self, target: str) -> AbstractContextManager[Callable[[], Progress]]:
        raise NotImplementedError

    def opened(self, target: str, pid: int) -> bool:
        """Whether process ``pid`` has the ledger open (connected to its database)."""
        raise NotImplementedError

    def uncommitted(self, target: str) -> bool:
        """Whether a killed process left written but uncommitted pages behind (a write
        that was rolled back): for the record of what each kill hit."""
        raise NotImplementedError


class SQLiteStore(Store):
    name = "sqlite"

    def __init__(self, folder: Path):
        self.folder = folder

    @contextmanager
    def fresh(self) -> Iterator[str]:
        path = self.folder / f"{uuid.uuid4().hex[:12]}.db"
        try:
            yield str(path)
        finally:
            _remove_sqlite(path)

    @contextmanager
    def clone(self, source: str) -> Iterator[str]:
        target = self.folder / f"{uuid.uuid4().hex[:12]}.db"
        for suffix in ("", "-wal"):
            if os.path.exists(source + suffix):
                shutil.copyfile(source + suffix, str(target) + suffix)
        try:
            yield str(target)
        finally:
            _remove_sqlite(target)

    @contextmanager
    def prober(self, target: str) -> Iterator[Callable[[], Progress]]:
        facts, status = _tables()
        history_view, status_view = _view("history"), _view("status")
        conn: list[sqlite3.Connection] = []

        def probe() -> Progress:
            if not conn:
                if not os.path.exists(target):
                    return Progress()
                try:
                    conn.append(sqlite3.connect(f"file:{target}?mode=ro", uri=True,
                                                timeout=0, isolation_level=None,
                                                check_same_thread=False))
                except sqlite3.Error:
                    return Progress()
            c = conn[0]
            values: list[int | None] = []
            for statement, params in (
                    ("SELECT COUNT(*), MAX(rowid) FROM stored_events", ()),
                    ("SELECT MAX(notification_id) FROM tracking WHERE application_name = ?",
                     (history_view,)),
                    ("SELECT MAX(notification_id) FROM tracking WHERE application_name = ?",
                     (status_view,)),
                    (f"SELECT COUNT(*) FROM {facts}", ()),
                    (f"SELECT COUNT(*) FROM {status}", ())):
                try:
                    row = c.execute(statement, params).fetchone()
                except sqlite3.Error:
                    row = (None,) * (2 if "stored_events" in statement else 1)
                values.extend(row)
            events, head, history, status_pos, history_rows, status_rows = values
            return Progress(events, head or 0 if events is not None else None,
                            history or 0 if history_rows is not None else history,
                            status_pos or 0 if status_rows is not None else status_pos,
                            history_rows, status_rows)

        try:
            yield probe
        finally:
            for c in conn:
                c.close()

    def opened(self, target: str, pid: int) -> bool:
        wanted = os.path.realpath(target)
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            return False
        for fd in fds:
            with suppress(OSError):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == wanted:
                    return True
        return False

    def uncommitted(self, target: str) -> bool:
        # A transaction bigger than the page cache spills to the WAL before it commits:
        # frames after the last commit frame are a write the kill interrupted.
        return wal_frames(Path(target + "-wal"))[1] > 0


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        with suppress(FileNotFoundError):
            os.remove(str(path) + suffix)


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


class PostgresStore(Store):
    name = "postgres"
    EVENTS = "blockledger_events"
    TRACKING = "blockledger_tracking"

    def __init__(self, server: str):
        self.server = server
        self._admin: Any = None

    def _connect(self, url: str) -> Any:
        import psycopg

        return psycopg.connect(url, autocommit=True, connect_timeout=10,
                               application_name="blockledger-trials")

    @contextmanager
    def _database(self, template: str | None) -> Iterator[str]:
        name = f"bl_crash_{uuid.uuid4().hex[:16]}"
        statement = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        for attempt in range(100):  # a template takes no sessions: a closing one may linger
            try:
                with self._connect(f"{self.server}/postgres") as conn:
                    conn.execute(statement)
                break
            except Exception as error:
                if "being accessed by other users" not in str(error) or attempt == 99:
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

    @contextmanager
    def prober(self, target: str) -> Iterator[Callable[[], Progress]]:
        import psycopg

        facts, status = _tables()
        conn = self._connect(target)
        query = (
            f"SELECT (SELECT COUNT(*) FROM {self.EVENTS}), "
            f"(SELECT COALESCE(MAX(notification_id), 0) FROM {self.EVENTS}), "
            f"(SELECT COALESCE(MAX(notification_id), 0) FROM {self.TRACKING} "
            "WHERE application_name = %s), "
            f"(SELECT COALESCE(MAX(notification_id), 0) FROM {self.TRACKING} "
            "WHERE application_name = %s), "
            f"(SELECT COUNT(*) FROM {facts}), (SELECT COUNT(*) FROM {status})")
        params = (_view("history"), _view("status"))

        def probe() -> Progress:
            try:
                return Progress(*conn.execute(query, params).fetchone())
            except psycopg.errors.UndefinedTable:
                return Progress()

        try:
            yield probe
        finally:
            conn.close()

    def opened(self, target: str, pid: int) -> bool:
        if self._admin is None or self._admin.closed:
            self._admin = self._connect(f"{self.server}/postgres")
        name = target.rsplit("/", 1)[1]
        # A backend of another client than our probe: the process under trial.
        return self._admin.execute(
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = %s AND "
            "application_name <> 'blockledger-trials'", (name,)).fetchone()[0] > 0

    def uncommitted(self, target: str) -> bool:
        with self._connect(target) as conn:
            size = conn.execute("SELECT pg_relation_size(%s)", (self.EVENTS,)).fetchone()[0]
            count = conn.execute(f"SELECT COUNT(*) FROM {self.EVENTS}").fetchone()[0]
        return size > 0 and count == 0


# --- running and killing ----------------------------------------------------------------------


def command_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BLOCKLEDGER_") and k not in ("PERSISTENCE_MODULE",
                                                            "SQLITE_DBNAME")}
    env["BLOCKLEDGER_OPERATOR"] = "crash-tester"
    return env


Milestone = tuple[str, Callable[[Progress, bool, dict[str, float]], bool]]


@dataclass
class Plan:
    """Kill ``delay`` seconds after milestone ``after`` is seen (None: let it run)."""

    after: str
    delay: float
    segment: str


@dataclass
class Trial:
    """One run: killed or not, when, and what it had reached."""

    number: int
    db: str
    plan: Plan | None
    killed: bool = False
    elapsed: float = 0.0
    seen: dict[str, float] = field(default_factory=dict)  # milestone -> when first seen
    left: Progress = field(default_factory=Progress)  # what the store held after the kill
    uncommitted: bool = False
    phase: str = ""  # the caller's finding

    def row(self, **found: Any) -> dict[str, Any]:
        if self.plan is None:
            when = f"never (ran {self.elapsed:.2f}s)"
        else:
            when = (f"{self.plan.after}+{self.plan.delay:.3f}s"
                    + (f" at {self.elapsed:.2f}s" if self.killed else
                       f", finished first at {self.elapsed:.2f}s"))
        return {"trial": self.number, "kill": when, **found}


def run_once(store: Store, db: str, args: list[str], milestones: list[Milestone],
             plan: Plan | None, number: int) -> Trial:
    """Run ``blockledger --db DB ARGS``, polling the store for milestones, and SIGKILL it
    per ``plan``. A run that is not killed must succeed."""
    trial = Trial(number, db, plan)
    with store.prober(db) as probe, tempfile.TemporaryFile() as stderr:
        started = time.perf_counter()
        process = subprocess.Popen([blockledger(), "--db", db, *args], env=command_env(),
                                   stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            kill_at = None
            opened = False
            seen = trial.seen
            seen["spawned"] = 0.0
            while True:
                now = time.perf_counter() - started
                if kill_at is not None and now >= kill_at:
                    os.kill(process.pid, signal.SIGKILL)
                    trial.killed = True
                    break
                if process.poll() is not None:
                    break
                if now > HANG:
                    pytest.fail(f"blockledger {' '.join(args)} hung: {seen}")
                opened = opened or store.opened(db, process.pid)
                progress = probe()
                for name, reached in milestones:
                    if name not in seen and reached(progress, opened, seen):
                        seen[name] = now
                if plan is not None and kill_at is None and plan.after in seen:
                    kill_at = seen[plan.after] + plan.delay
                    continue  # a delay of 0: kill now, before another poll
                time.sleep(POLL)
        finally:
            if process.poll() is None and not trial.killed:
                os.kill(process.pid, signal.SIGKILL)
            process.wait()
        trial.elapsed = time.perf_counter() - started
        # A process that exited just before the signal (a zombie not yet reaped) finished.
        trial.killed = process.returncode == -signal.SIGKILL
        if not trial.killed:
            stderr.seek(0)
            assert process.returncode == 0, (
                f"trial {number}: blockledger {' '.join(args)} was not killed, yet exited "
                f"{process.returncode}: {stderr.read().decode().strip()}")
        trial.left = probe()
    trial.uncommitted = trial.killed and store.uncommitted(db)
    return trial


def stratified(n: int, rng: random.Random) -> list[float]:
    """``n`` numbers in ``[0, 1)``, one in each of ``n`` equal slices, shuffled."""
    out = [(i + rng.random()) / n for i in range(n)]
    rng.shuffle(out)
    return out


@contextmanager
def killed_trials(store: Store, source: str, args: list[str], milestones: list[Milestone],
                  n: int, rng: random.Random) -> Iterator[Iterator[Trial]]:
    """One uninterrupted run of ``blockledger ARGS`` in a copy of ``source``, then ``n``
    runs killed at random moments relative to its milestones, each in a fresh copy.

    The uninterrupted run's milestones split a run into segments (spawned -> first
    milestone -> ... -> exit; those shorter than SHORTEST dropped). Killed run ``i`` picks
    a segment round-robin over a shuffled order, waits for the segment's first milestone,
    and kills after a stratified random fraction of that segment's uninterrupted length.
    The copy of each trial is dropped once the caller is done with it; the next run goes
    on meanwhile.
    """
    names = [name for name, _ in milestones]
    segments: list[tuple[str, float]] = []
    fractions = stratified(n, rng)

    def start(number: int) -> tuple[Trial, AbstractContextManager[str]]:
        copy = store.clone(source)
        db = copy.__enter__()
        try:
            plan = None
            if number >= 0:
                after, length = segments[order[number % len(order)]]
                plan = Plan(after, fractions[number] * length, after)
            return run_once(store, db, args, milestones, plan, number), copy
        except BaseException:
            copy.__exit__(*sys.exc_info())
            raise

    with ThreadPoolExecutor(max_workers=1) as pool:
        baseline, copy = pool.submit(start, -1).result()
        # The segments an uninterrupted run went through, from what it was seen to reach.
        reached = sorted((baseline.seen[m], m) for m in ["spawned", *names]
                          if m in baseline.seen)
        ends = [t for t, _ in reached[1:]] + [baseline.elapsed]
        # A stretch shorter than a few polls (say two milestones one transaction reaches)
        # gets no kills of its own: the kills of the stretch before it cover it.
        segments = [(m, end - t) for (t, m), end in zip(reached, ends, strict=True)
                    if end - t >= SHORTEST]
        # Every stretch gets its share of kills, in a shuffled order; starting up (Python
        # importing the command, nothing touched yet) half a share.
        order = []
        while len(order) < n:
            rounds = len(order) // max(1, len(segments))
            share = [i for i, (m, _) in enumerate(segments) if m != "spawned" or rounds % 2 == 0]
            rng.shuffle(share)
            order += share
        missing = [m for m in names if m not in baseline.seen]
        pending: list[Future] = []

        def trials() -> Iterator[Trial]:
            nonlocal copy
            trial: Trial | None = baseline
            number = -1
            while trial is not None:
                if number + 1 < n:
                    pending.append(pool.submit(start, number + 1))
                try:
                    yield trial
                finally:
                    copy.__exit__(None, None, None)
                number += 1
                trial = None
                if pending:
                    trial, copy = pending.pop().result()

        running = trials()
        try:
            yield running
        finally:
            running.close()  # drops the copy being checked, if a check failed
            for future in pending:  # and the one in flight
                with suppress(Exception):
                    future.result()[1].__exit__(None, None, None)
        if missing:
            print(f"  (milestones not seen in the uninterrupted run: {missing})")
        print("  segments of an uninterrupted run: " + ", ".join(
            f"{m} +{length:.2f}s" for m, length in segments))
