"""The whole ledger's history as JSON Lines, made by several processes at once.

The history of each group of platforms is independent of every other group's
(``projections.history_stream.group_rows``: a group's events are read, checked and laid
out from the database alone), so worker processes make groups while the main process
writes them, in the order one process writes them: the same bytes, sooner. Each worker
opens the ledger itself (a connection is never shared between processes) and reads only;
the main process makes the first group itself, so the first lines come at once while the
workers start. A damaged event raises in the worker as it would here, and is raised here
in the group's turn (``IntegrityFailure``, exit 3, naming its position).

Used for the JSON Lines of a ledger of ``PARALLEL_FROM`` events or more, stored in a file or
on PostgreSQL (not in memory), with more than one core free: ``BLOCKLEDGER_JOBS`` sets how
many processes (1: none), else the cores this process may run on less those other
processes keep busy now, at most ``MOST_JOBS`` (one process when fewer than two are free).
Each group's work is all of one process's, so the CPU time spent is about the same (a
fifth more: the workers' start, the lines crossing a pipe); the wall time falls with the
cores free (issue 13, ``benchmarks/history_read.py``).

A worker reads only the ledger the command opened: it must find at the command's last
link of the hash chain the same link (a file replaced or a link flipped at that path
meanwhile is another ledger), else it makes nothing and the command makes every group
itself. A worker that cannot open the ledger (the connections a server allows, a file
gone) does the same, quietly. Workers ignore Ctrl-C (the command stops them) and end
when the command does, however it ends (killed too: they watch it).
(Review of 2026-12-07, findings 1-7.)
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import get_context
from typing import Any

from domain.errors import BadInput

#: Events from which the history is made by several processes: below it, starting them
#: (about 0.2 s each, spawned: the interpreter, the imports, the ledger opened) and the
#: lines crossing a pipe cost about what they save. Measured on two free cores, one
#: process against two workers (``benchmarks/history_read.py``, two runs each): 100,000
#: events 0.83-0.85 -> 0.77-0.79 s (7%, for a fifth more CPU); 300,000 2.48-2.76 ->
#: 1.90-2.03 s (25%); 1,000,000 7.4-7.7 -> 4.8-5.2 s (35%).
PARALLEL_FROM = 200_000
#: Processes at most, unless ``BLOCKLEDGER_JOBS`` says more (up to ``JOBS_LIMIT``).
MOST_JOBS = 4
JOBS_LIMIT = 64
#: Groups handed to the workers ahead of the one being written, per worker: enough to
#: keep each busy, few enough that memory stays flat (a group's lines, about 1 MB).
AHEAD = 4
JOBS_VARIABLE = "BLOCKLEDGER_JOBS"


def jobs_wanted() -> int:
    """How many processes may make a history: ``BLOCKLEDGER_JOBS`` (a whole number, 1 to
    ``JOBS_LIMIT``), else the cores free (those this process may run on, less those other
    processes keep busy: ``busy_cores``), at most ``MOST_JOBS``; 1 when fewer than two are
    free."""
    return _jobs_set() or _jobs_free()


def _jobs_set() -> int | None:
    """``BLOCKLEDGER_JOBS`` (a whole number, 1 to ``JOBS_LIMIT``), or None when unset."""
    text = os.environ.get(JOBS_VARIABLE, "").strip()
    if not text:
        return None
    if (not text.isascii() or not text.isdigit() or len(text) > 3
            or not 1 <= int(text) <= JOBS_LIMIT):
        # (no field: it is no option's, and one would be shown as --jobs)
        raise BadInput(f"{JOBS_VARIABLE} is {text[:40]!r}: give the number of processes "
                       f"that make the history, from 1 to {JOBS_LIMIT}")
    return int(text)


def _jobs_free() -> int:
    """The cores free, at most ``MOST_JOBS``; 1 when fewer than two are."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # (not on every system)
        cores = os.cpu_count() or 1
    # The cores free: workers on busy cores spend more CPU than one process for no gain
    # (1M events, one of two cores busy: 8.2 s with two workers, 7.5 s alone).
    free = cores - int(busy_cores() + 0.5)
    return max(1, min(free, MOST_JOBS)) if free >= 2 else 1


def busy_cores(sample: float = 0.05) -> float:
    """How many of the machine's cores other processes keep busy now: the share of time
    they were not idle over ``sample`` seconds, while this process sleeps (``/proc/stat``;
    0 where there is none). Not the load average: a minute's mean, it still counts the
    history just run, and the next would run alone."""
    try:
        before = _cpu_times()
        time.sleep(sample)
        after = _cpu_times()
    except (OSError, ValueError, IndexError):
        return 0.0
    total = sum(after) - sum(before)
    idle = (after[3] + after[4]) - (before[3] + before[4])  # idle and iowait
    if total <= 0:
        return 0.0
    return (1 - idle / total) * (os.cpu_count() or 1)


def _cpu_times() -> list[int]:
    """The machine's CPU times so far (``/proc/stat``'s first line: user, nice, system,
    idle, iowait, ...)."""
    with open("/proc/stat", "rb") as stat:
        return [int(value) for value in stat.readline().split()[1:]]


def jobs_for(views: Any) -> int:
    """The processes to make this ledger's whole history with (1: this one alone). The
    free cores are sampled (``busy_cores``, 50 ms) only for a ledger that could use them:
    every other history starts as it did."""
    if _jobs_set() == 1:
        return 1
    target = views.ledger.target
    if not target.postgres and (target.path is None or not target.path.is_file()):
        return 1  # (an in-memory database is this process's alone)
    if (views.ledger.recorder.max_notification_id() or 0) < PARALLEL_FROM:
        return 1
    return jobs_wanted()


def group_lines(views: Any, groups: list[list[str]], jobs: int, options: dict[str, Any],
                joined: bool, here: Callable[[list[str]], tuple[Any, int]],
                ) -> Iterator[tuple[Any, int]]:
    """``group_rows`` of each of ``groups`` as JSON Lines (``joined``: in one piece), in
    order: the first made here (``here``), the others by ``jobs`` worker processes,
    ``AHEAD`` groups a worker handed out ahead of the one written."""
    jobs = max(1, min(jobs, len(groups) - 1))
    head = views.ledger.recorder.chain_head()
    pool = ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"),
                               initializer=_open, initargs=(views.ledger.target, head))
    pending: deque[tuple[list[str], Future | None]] = deque()
    rest = iter(groups[1:])
    broken = False

    def hand_out(most: int) -> None:
        nonlocal broken
        for group in rest:
            future = None
            if not broken:
                try:
                    future = pool.submit(_group, group, options, joined)
                except BrokenProcessPool:
                    broken = True
            pending.append((group, future))
            if len(pending) >= most:
                return

    try:
        with _quiet_children():  # (the workers are spawned by the first submissions)
            hand_out(jobs * AHEAD)
        if groups:
            yield here(groups[0])
        while pending:
            group, future = pending.popleft()
            try:
                if future is None:
                    raise BrokenProcessPool
                done = future.result()  # (a worker's exception, raised here)
            except (BrokenProcessPool, _NotHere):
                # A worker could not open this ledger, or died (killed, out of memory; a
                # main module that cannot be imported again): this group, and every one
                # after it, made here.
                broken = True
                for index, (later_group, later) in enumerate(pending):
                    if later is not None:
                        later.cancel()
                    # (made here too: a future cancelled before it ran has no result but
                    # CancelledError, which a loaded machine met whenever it won the race)
                    pending[index] = (later_group, None)
                done = here(group)
            hand_out(jobs * AHEAD if not broken else 1)
            yield done
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _quiet_children() -> Iterator[None]:
    """Ctrl-C ignored while workers are spawned (they inherit it, as an exec keeps an
    ignored signal): the terminal sends it to every process of the command, and the
    command alone stops, and stops them."""
    try:
        before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # (not the main thread: signals are not this thread's to set)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


class _NotHere(Exception):
    """A worker could not open the ledger the command reads (or found another there)."""


#: A worker's own views of the ledger (``_open``), or the reason it has none.
_VIEWS: list[Any] = []


def _open(target: Any, head: tuple[int, int, bytes] | None) -> None:
    """A worker's start: the ledger opened for reading, for the worker's life, if it is the
    one the command reads (the same last link of the hash chain, ``head``); a watch on the
    command, which ends this process when the command ends."""
    import threading
    from contextlib import ExitStack
    from multiprocessing import parent_process
    from multiprocessing.connection import wait

    from ledger.application import open_ledger
    from projections.views import Views

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    parent = parent_process()
    if parent is not None:
        def watch() -> None:
            wait([parent.sentinel])
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    stack = ExitStack()  # (closed as the worker exits)
    try:
        ledger = stack.enter_context(open_ledger(target, command="history"))
        if head is not None:
            found = ledger.recorder.select_chain(head[0] - 1, 1)
            if not found or (found[0].seq, found[0].position, bytes(found[0].chain)) != (
                    head[0], head[1], bytes(head[2])):
                raise _NotHere("another ledger at this path")
        _VIEWS[:] = [Views(ledger), stack]
    except Exception as error:  # (said by making nothing: the command makes it all)
        _VIEWS[:] = [None, f"{type(error).__name__}: {error}"]


def _group(group: list[str], options: dict[str, Any], joined: bool) -> tuple[Any, int]:
    from projections.history_stream import group_rows

    if _VIEWS[0] is None:
        raise _NotHere(_VIEWS[1])
    return group_rows(_VIEWS[0], group, True, options, joined)
