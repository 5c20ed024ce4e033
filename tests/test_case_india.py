"""The bundled India case (issue "Real cases, whole", item 8): the order of 29 June 2020
under Section 69A of the IT Act blocked 59 apps at once (this example records 14 of them,
each with its Android package). One order over many platforms; it replays to the state
the press release reports, alone and in one ledger with the Telegram 2017 and Turkey 2017
cases, per jurisdiction."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import run, run_json

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
INDIA = EXAMPLES / "india-apps-2020.jsonl"
ORDER = "meity-69a-2020-06-29"


def _apps() -> list[str]:
    order = next(json.loads(line) for line in INDIA.read_text().splitlines()
                 if '"blocked"' in line)
    return order["data"]["platforms"]


@pytest.mark.parametrize("together", [False, True])
def test_one_order_blocks_every_app_it_names(runner, sqlite_path, together):
    cases = [INDIA, *(EXAMPLES / f"{name}.jsonl" for name in (
        "telegram-indonesia-2017", "turkey-wikipedia-2017"))] if together else [INDIA]
    for case in cases:
        assert run(runner, sqlite_path, "import", str(case)).exit_code == 0
    apps = _apps()
    assert len(apps) == 14
    rows = run_json(runner, sqlite_path, "status", "--as-of", "2020-07-01",
                    "--jurisdiction", "IN")
    blocked = {r["platform"] for r in rows if r["state"] == "blocked"}
    assert blocked == set(apps)
    for app in ("tiktok", "wechat"):
        status = run_json(runner, sqlite_path, "status", app, "--as-of", "2020-07-01")
        [order] = status["orders"]
        assert order["ref"] == ORDER and order["jurisdiction"] == "IN"
        assert len(order["blocked_targets"]) == 1  # its own app, not the other 13
        assert list(status["jurisdictions"]) == ["IN"]
    history = run_json(runner, sqlite_path, "history", "tiktok")["events"]
    assert [e["type"] for e in history] == ["platform-registered", "blocked",
                                            "statement-issued"]
    if together:
        # Each case answers in its own state, and nowhere else.
        on = run_json(runner, sqlite_path, "status", "--as-of", "2017-07-20",
                      "--jurisdiction", "ID")
        assert {r["platform"]: r["state"] for r in on}["telegram"] == "partially-blocked"
        assert {r["platform"]: r["state"] for r in run_json(
            runner, sqlite_path, "status", "--as-of", "2017-07-20", "--jurisdiction", "TR",
        )}["wikipedia"] == "blocked"
        assert {r["platform"]: r["state"] for r in run_json(
            runner, sqlite_path, "status", "--as-of", "2017-07-20", "--jurisdiction", "IN",
        )}.get("telegram") == "accessible"
    assert json.loads(run(runner, sqlite_path, "verify", "--json").stdout)["ok"] is True


def test_demo_runs_the_india_case(runner, tmp_path):
    done = run(runner, str(tmp_path / "case.db"), "demo", "--case", "india-apps-2020")
    assert done.exit_code == 0, done.output
    assert "India blocks 59 apps" in done.output
    assert "orders 14 targets of 14 platforms" in " ".join(done.output.split())
