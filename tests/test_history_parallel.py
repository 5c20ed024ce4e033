"""The whole ledger's history made by worker processes (``projections.history_parallel``)
is byte for byte what one process makes: on a synthetic ledger with every kind of
amendment (SQLite, encrypted, PostgreSQL), now, as of a date, as known at a time and
filtered; a damaged event is refused as one process refuses it; ``BLOCKLEDGER_JOBS``."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from domain.errors import BadInput, IntegrityFailure
from ledger.application import open_ledger
from ledger.encryption import new_key
from ledger.storage import parse_target
from projections import history, history_parallel
from projections.formats import write_jsonl
from projections.history import ledger_lines
from projections.views import Views
from tests.clitools import one_line_error, run
from tests.test_history_bytes import EXAMPLES, wheres
from tests.test_terminal_stream import mixed_ledger  # noqa: F401 (a fixture)


@pytest.fixture
def parallel(monkeypatch):
    """Worker processes for any ledger (two), groups of three platforms; returns a
    switch: ``parallel(False)`` makes the history in this process alone."""
    monkeypatch.setattr(history_parallel, "PARALLEL_FROM", 0)
    monkeypatch.setattr(history, "PLATFORMS", 3)

    def switch(on: bool) -> None:
        monkeypatch.setenv(history_parallel.JOBS_VARIABLE, "2" if on else "1")

    return switch


def _lines(db: str, parallel, on: bool, **target) -> list[list[bytes]]:
    parallel(on)
    with open_ledger(parse_target(db, **target)) as ledger:
        views = Views(ledger)
        views.catch_up()
        assert history_parallel.jobs_for(views) == (2 if on else 1)
        out = []
        for where in wheres(views):
            lines = list(ledger_lines(views, **where))
            pieces = list(ledger_lines(views, joined=True, **where))
            assert b"".join(pieces) == b"".join(lines)
            assert sum(piece.rows for piece in pieces) == len(lines)
            assert all(pieces), where  # (a group with no lines gives no piece)
            sink = io.BytesIO()
            assert write_jsonl(iter(pieces), sink) == len(lines)
            out.append(lines)
        return out


def test_workers_write_what_one_process_writes(mixed_ledger, parallel):  # noqa: F811
    alone = _lines(mixed_ledger, parallel, False)
    assert sum(map(len, alone)) > 1500
    assert _lines(mixed_ledger, parallel, True) == alone


def _imported(runner, db: str) -> None:
    for case in EXAMPLES[:3]:
        assert run(runner, db, "import", str(case)).exit_code == 0


def test_workers_on_an_encrypted_ledger(runner, sqlite_path, parallel, monkeypatch):
    key = new_key()
    monkeypatch.setenv("BLOCKLEDGER_CIPHER_KEY", key)
    _imported(runner, sqlite_path)
    alone = _lines(sqlite_path, parallel, False, cipher_key=key)
    assert alone[0] and _lines(sqlite_path, parallel, True, cipher_key=key) == alone


@pytest.mark.postgres
def test_workers_on_postgres(runner, pg_url, parallel):
    _imported(runner, pg_url)
    alone = _lines(pg_url, parallel, False)
    assert alone[0] and _lines(pg_url, parallel, True) == alone


def test_a_damaged_event_is_refused_by_the_workers_as_here(runner, sqlite_path, parallel):
    import sqlite3

    case = next(p for p in EXAMPLES if "telegram" in p.stem)
    assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    assert run(runner, sqlite_path, "status").exit_code == 0  # (the views caught up)
    with sqlite3.connect(sqlite_path) as conn:  # a body no longer canonical JSON
        conn.execute("UPDATE stored_events SET state = CAST(REPLACE(CAST(state AS TEXT), "
                     "'\"type\":', ' \"type\":') AS BLOB) WHERE rowid = 5")
    said = []
    for on in (False, True):
        parallel(on)
        said.append(one_line_error(run(runner, sqlite_path, "history", "--format", "jsonl"),
                                   3))
        with open_ledger(parse_target(sqlite_path)) as ledger, pytest.raises(
                IntegrityFailure, match="position 5"):
            list(ledger_lines(Views(ledger)))
    assert said[0] == said[1] and "position 5" in said[0]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5", "٢"])
def test_jobs_must_be_a_whole_number(monkeypatch, runner, sqlite_path, value):
    monkeypatch.setenv(history_parallel.JOBS_VARIABLE, value)
    with pytest.raises(BadInput, match=history_parallel.JOBS_VARIABLE):
        history_parallel.jobs_wanted()
    monkeypatch.setattr(history_parallel, "PARALLEL_FROM", 0)
    case = next(p for p in EXAMPLES if "telegram" in p.stem)
    assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    error = one_line_error(run(runner, sqlite_path, "history", "--format", "jsonl"), 2)
    assert history_parallel.JOBS_VARIABLE in error
    assert "--jobs" not in error  # (no such option)


def test_a_small_ledger_stays_in_one_process(sqlite_path, runner, monkeypatch):
    monkeypatch.setenv(history_parallel.JOBS_VARIABLE, "4")
    case = next(p for p in EXAMPLES if "telegram" in p.stem)
    assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    with open_ledger(parse_target(sqlite_path)) as ledger:
        assert history_parallel.jobs_for(Views(ledger)) == 1  # under PARALLEL_FROM
        # and the free cores are not sampled for it (50 ms at every start)
        monkeypatch.delenv(history_parallel.JOBS_VARIABLE)

        def sampled(*args):
            raise AssertionError("busy cores sampled for a small ledger")

        monkeypatch.setattr(history_parallel, "busy_cores", sampled)
        assert history_parallel.jobs_for(Views(ledger)) == 1


def test_workers_that_cannot_start_leave_the_work_here(runner, sqlite_path, tmp_path):
    """A program read from standard input cannot be imported again by a spawned worker
    (its workers die at start): the history is still written whole, by this process."""
    import subprocess
    import sys

    case = next(p for p in EXAMPLES if "telegram" in p.stem)
    assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    program = f"""
import sys
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections import history, history_parallel
from projections.history import ledger_lines
from projections.views import Views
history_parallel.PARALLEL_FROM = 0
history.PLATFORMS = 1
with open_ledger(parse_target({sqlite_path!r})) as ledger:
    views = Views(ledger)
    assert history_parallel.jobs_for(views) == 2, history_parallel.jobs_for(views)
    sys.stdout.buffer.write(b"".join(ledger_lines(views)))
"""
    env = {**__import__("os").environ, history_parallel.JOBS_VARIABLE: "2"}
    done = subprocess.run([sys.executable, "-"], input=program.encode(), env=env,
                          capture_output=True, check=True, cwd=str(tmp_path))
    with open_ledger(parse_target(sqlite_path)) as ledger:
        assert done.stdout == b"".join(ledger_lines(Views(ledger)))
    assert done.stdout.count(b"\n") > 10


def _driven(db: str, pause: float, *swap: str):
    import subprocess
    import sys

    driver = str(Path(__file__).resolve().parent / "parallel_driver.py")
    return subprocess.Popen([sys.executable, driver, db, str(pause), *swap],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.add(int(entry.name))
    return found


def _gone(pids: set[int], within: float = 15.0) -> bool:
    import time

    end = time.monotonic() + within
    while time.monotonic() < end:
        if not any(Path(f"/proc/{pid}").exists() for pid in pids):
            return True
        time.sleep(0.2)
    return False


def _paused(process) -> None:
    assert process.stderr.readline().strip() == b"paused"


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_workers_end_when_the_command_is_killed(runner, sqlite_path, how):
    """Killed (kill -9, or timeout's and systemd's SIGTERM), the command leaves no worker
    behind: each watches it and ends with it (before, both lived on, the ledger open)."""
    import os
    import signal
    import time

    _imported(runner, sqlite_path)
    process = _driven(sqlite_path, 30)
    _paused(process)
    time.sleep(1.5)  # the workers spawned, and started
    workers = {pid for pid in _children(process.pid)}
    assert len(workers) >= 2, workers  # (two workers and the resource tracker)
    os.kill(process.pid, getattr(signal, how))
    process.wait(10)
    assert _gone(workers), [p for p in workers if Path(f"/proc/{p}").exists()]


def test_ctrl_c_stops_the_command_alone_and_says_one_line(runner, sqlite_path):
    """The terminal sends Ctrl-C to every process of the command: the workers ignore it
    (before, each printed a traceback), the command says "aborted", exit 130, and ends
    them."""
    import os
    import signal
    import time

    _imported(runner, sqlite_path)
    process = _driven(sqlite_path, 30)
    _paused(process)
    time.sleep(1.5)
    workers = _children(process.pid)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert b"Traceback" not in err and b"aborted" in err, err
    assert _gone(workers)


def test_a_file_replaced_at_the_path_is_not_read_by_the_workers(runner, sqlite_path,
                                                                tmp_path):
    """The file at --db replaced by another ledger after the command opened it: a worker
    opening the path finds another last link of the hash chain, makes nothing, and the
    command makes every group from the ledger it opened (before: 361 lines of 3,033, the
    rest from the other file, exit 0). Quietly: no worker's traceback."""
    other = str(tmp_path / "other.db")
    _imported(runner, sqlite_path)
    assert run(runner, other, "import", str(EXAMPLES[-1])).exit_code == 0
    with open_ledger(parse_target(sqlite_path)) as ledger:
        alone = b"".join(ledger_lines(Views(ledger), workers=False))
    process = _driven(sqlite_path, 0.5, other)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert out == alone and b"Traceback" not in err, err[-2000:]


def test_more_jobs_than_groups_and_at_most_64(monkeypatch, sqlite_path, runner, parallel):
    case = next(p for p in EXAMPLES if "telegram" in p.stem)
    assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    alone = _lines(sqlite_path, parallel, False)
    monkeypatch.setenv(history_parallel.JOBS_VARIABLE, "64")
    with open_ledger(parse_target(sqlite_path)) as ledger:
        views = Views(ledger)
        assert [list(ledger_lines(views, **where)) for where in wheres(views)] == alone
    for value in ("65", "9" * 5000):
        monkeypatch.setenv(history_parallel.JOBS_VARIABLE, value)
        with pytest.raises(BadInput, match="1 to 64"):
            history_parallel.jobs_wanted()


def test_limit_starts_no_worker(runner, sqlite_path, parallel, monkeypatch):
    """--limit takes the first few lines: starting workers for them cost more than the
    lines (1.1 s against 0.5 s for --limit 1)."""
    _imported(runner, sqlite_path)
    parallel(True)

    def refused(*args, **kwargs):
        raise AssertionError("workers started")

    monkeypatch.setattr(history_parallel, "group_lines", refused)
    result = run(runner, sqlite_path, "history", "--format", "jsonl", "--limit", "2")
    assert result.exit_code == 0 and result.stdout.count("\n") == 2
    with pytest.raises(AssertionError, match="workers started"):
        run(runner, sqlite_path, "history", "--format", "jsonl")


@pytest.mark.parametrize("cores, load, jobs", [(2, 0.2, 2), (2, 0.6, 1), (2, 1.7, 1),
                                               (8, 0.0, 4), (8, 5.4, 3), (8, 7.0, 1),
                                               (1, 0.0, 1)])
def test_by_default_only_free_cores_are_used(monkeypatch, cores, load, jobs):
    """Workers on busy cores spend more CPU than one process, for no gain: by default the
    cores other processes keep busy now are left out (BLOCKLEDGER_JOBS still decides when
    set)."""
    monkeypatch.delenv(history_parallel.JOBS_VARIABLE, raising=False)
    monkeypatch.setattr(history_parallel.os, "sched_getaffinity", lambda _: set(range(cores)))
    monkeypatch.setattr(history_parallel, "busy_cores", lambda: load)
    assert history_parallel.jobs_wanted() == jobs
    monkeypatch.setenv(history_parallel.JOBS_VARIABLE, "3")
    assert history_parallel.jobs_wanted() == 3


def test_busy_cores_are_seen():
    """A process spinning on a core is seen as (about) one busy core more."""
    import subprocess
    import sys

    quiet = history_parallel.busy_cores(0.3)
    spinning = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        import time

        time.sleep(0.3)
        busy = history_parallel.busy_cores(0.5)
    finally:
        spinning.kill()
        spinning.wait()
    assert 0 <= quiet <= (__import__("os").cpu_count() or 1)
    assert busy >= 0.6, (quiet, busy)
