"""Several operators at once, on each store: nothing lost, nothing doubled, chain intact."""

from __future__ import annotations

import json
import multiprocessing
import os

from click.testing import CliRunner

SRC = ["--source", "https://example.org/n"]


def _cli(db: str, *args: str) -> tuple[int, str]:
    from cli import cli

    result = CliRunner().invoke(cli, ["--db", db, "--operator", f"op{os.getpid()}", *args])
    return result.exit_code, result.output


def _writer(db: str, worker: int, n: int, failures) -> None:
    for i in range(n):
        code, output = _cli(db, "record", "email-sent", "shared", "--at", "2020-01-01", *SRC,
                            "--sender", f"worker {worker}", "--recipient", "r",
                            "--summary", f"notice {i}")
        if code != 0:
            failures.put(output)


def _racer(db: str, orders: int, barrier, results) -> None:
    for i in range(orders):
        barrier.wait(timeout=60)
        code, output = _cli(db, "record", "unblocked", f"order-{i}", "--at", "2020-06-01", *SRC)
        results.put((i, code, output.strip().splitlines()[-1] if output.strip() else ""))


def _setup(db: str, orders: int) -> None:
    assert _cli(db, "record", "platform-registered", "shared", "--at", "2019-01-01", *SRC,
                "--name", "Shared", "--target", "a.example", "--target", "b.example")[0] == 0
    for i in range(orders):
        assert _cli(db, "record", "blocked", f"order-{i}", "--at", "2020-01-01", *SRC,
                    "--platform", "shared", "--authority", "A", "--reason", "r",
                    "--target", "a.example")[0] == 0


def test_concurrent_writers_and_races(db):
    """4 processes x 25 events on one subject, then 2 processes racing to lift the same 10
    orders: every event lands once, each race has exactly one winner and one refusal
    (exit 1, one line), the chain verifies and the views are caught up."""
    orders = 10
    _setup(db, orders)
    ctx = multiprocessing.get_context("spawn")
    failures = ctx.Queue()
    writers = [ctx.Process(target=_writer, args=(db, w, 25, failures)) for w in range(4)]
    for p in writers:
        p.start()
    for p in writers:
        p.join(timeout=300)
    assert [p.exitcode for p in writers] == [0, 0, 0, 0]
    assert failures.empty(), failures.get()

    barrier, results = ctx.Barrier(2), ctx.Queue()
    racers = [ctx.Process(target=_racer, args=(db, orders, barrier, results)) for _ in range(2)]
    for p in racers:
        p.start()
    for p in racers:
        p.join(timeout=300)
    assert [p.exitcode for p in racers] == [0, 0]
    outcomes: dict[int, list[tuple[int, str]]] = {}
    while not results.empty():
        i, code, last = results.get()
        outcomes.setdefault(i, []).append((code, last))
    for i in range(orders):
        codes = sorted(code for code, _ in outcomes[i])
        assert codes == [0, 1], outcomes[i]
        refusal = next(last for code, last in outcomes[i] if code == 1)
        assert refusal.startswith("error: refused:") and "Traceback" not in refusal

    history = json.loads(_cli(db, "history", "shared", "--json")[1])
    emails = [e for e in history["events"] if e["type"] == "email-sent"]
    assert len(emails) == 100 and len({e["id"] for e in emails}) == 100
    assert len([e for e in history["events"] if e["type"] == "unblocked"]) == orders
    code, output = _cli(db, "verify", "--json")
    assert code == 0 and json.loads(output)["events"] == 1 + orders + 100 + orders
    lag = json.loads(_cli(db, "projections", "status", "--json")[1])
    assert lag["history"]["lag"] == 0 and lag["history"]["rows"] == 1 + orders + 100 + orders
