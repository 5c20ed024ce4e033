"""Orders over many platforms (issue "Real cases, whole", item 2): ``blocked`` takes
``platforms`` (a list) as well as ``platform``, exactly one of the two; each target must be
one that one of the platforms is reached at when the order is made; each platform's status
shows the order with the targets that concern it, and lifting some targets affects only
their platforms. India's order of 29 June 2020 under Section 69A named 59 apps at once.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import consistency
from tests.clitools import older_ledger, one_line_error, run, run_json
from tests.test_views_moves import _fact, views_equal_a_full_replay
from tests.test_views_moves import _step as _plain_step

SRC = ["--source", "https://example.org/order"]
HELD = {"tiktok": ["tiktok.com", "app:android:com.zhiliaoapp.musically"],
        "wechat": ["wechat.com"], "shareit": ["shareit.com"]}


def _registered(runner, db) -> None:
    for name, targets in HELD.items():
        args = [a for t in targets for a in ("--target", t)]
        result = run(runner, db, "record", "platform-registered", name, "--at", "2020-01-01",
                     *SRC, "--name", name, *args)
        assert result.exit_code == 0, result.output


def _order(runner, db, *extra: str):
    return run(runner, db, "record", "blocked", "meity-69a-2020-06-29", "--at", "2020-06-29",
               *SRC, "--authority", "MeitY", "--reason", "sovereignty and integrity",
               "--legal-basis", "Section 69A, IT Act 2000", *extra)


def _apps(*names: str) -> list[str]:
    return [a for n in names for a in ("--platform", n)]


def _targets(*targets: str) -> list[str]:
    return [a for t in targets for a in ("--target", t)]


def test_one_order_blocks_many_platforms_each_with_its_own_targets(runner, db):
    _registered(runner, db)
    result = _order(runner, db, *_apps("tiktok", "wechat", "shareit"),
                    *_targets("tiktok.com", "app:android:com.zhiliaoapp.musically",
                              "wechat.com", "shareit.com"))
    assert result.exit_code == 0, result.output
    tiktok = run_json(runner, db, "status", "tiktok")
    assert tiktok["state"] == "blocked"
    assert tiktok["blocked_targets"] == ["tiktok.com", "app:android:com.zhiliaoapp.musically"]
    [order] = tiktok["orders"]
    assert order["ref"] == "meity-69a-2020-06-29" and order["state"] == "in-effect"
    assert order["blocked_targets"] == ["tiktok.com", "app:android:com.zhiliaoapp.musically"]
    wechat = run_json(runner, db, "status", "wechat")
    assert wechat["blocked_targets"] == ["wechat.com"]
    assert wechat["orders"][0]["blocked_targets"] == ["wechat.com"]
    # Lifting one platform's targets leaves the others blocked, and the order in effect
    # there.
    result = run(runner, db, "record", "unblocked", "meity-69a-2020-06-29", "--at",
                 "2021-01-05", *SRC, "--target", "wechat.com")
    assert result.exit_code == 0, result.output
    assert run_json(runner, db, "status", "wechat")["state"] == "accessible"
    assert run_json(runner, db, "status", "wechat")["orders"][0]["state"] == "lifted"
    tiktok = run_json(runner, db, "status", "tiktok")
    assert tiktok["state"] == "blocked" and tiktok["orders"][0]["state"] == "in-effect"
    # As of before the lift, WeChat was blocked.
    assert run_json(runner, db, "status", "wechat", "--as-of", "2020-12-31")["state"] == \
        "blocked"
    # Every platform's history holds the order's events; the views equal a replay.
    for name in HELD:
        events = run_json(runner, db, "history", name)["events"]
        assert "meity-69a-2020-06-29" in {e["subject"] for e in events}
    before = {name: run_json(runner, db, "status", name) for name in HELD}
    assert run(runner, db, "projections", "rebuild").exit_code == 0
    assert {name: run_json(runner, db, "status", name) for name in HELD} == before
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True


def test_the_human_status_and_report_show_a_platforms_own_targets(runner, db):
    _registered(runner, db)
    assert _order(runner, db, *_apps("tiktok", "wechat"),
                  *_targets("tiktok.com", "wechat.com")).exit_code == 0
    text = run(runner, db, "status", "wechat").stdout
    assert "wechat.com" in text and "tiktok.com" not in text
    report = run(runner, db, "report", "provenance", "wechat", "--format", "md").stdout
    assert "**targets (1):** wechat.com" in report
    assert "(1 of 1 targets blocked)" in report
    # The order's own report names every target.
    report = run(runner, db, "report", "provenance", "meity-69a-2020-06-29", "--format",
                 "md").stdout
    assert "**targets (2):** tiktok.com, wechat.com" in report


@pytest.mark.parametrize("extra, says", [
    (_apps("tiktok", "wechat") + _targets("tiktok.com", "shareit.com"),
     "target shareit.com of order meity-69a-2020-06-29 is not a target of any of its "
     "platforms (tiktok, wechat)"),
    (_apps("tiktok", "nosuch") + _targets("tiktok.com"), "platform nosuch is not registered"),
])
def test_a_target_no_platform_holds_or_an_unknown_platform_is_refused(runner, db, extra, says):
    _registered(runner, db)
    result = _order(runner, db, *extra)
    assert says in one_line_error(result, 1)
    assert run_json(runner, db, "status", "tiktok")["state"] == "accessible"


@pytest.mark.parametrize("data", [
    {"platform": "tiktok", "platforms": ["tiktok", "wechat"]},
    {},
])
def test_exactly_one_of_platform_and_platforms(runner, db, data):
    _registered(runner, db)
    data = {**data, "authority": "MeitY", "targets": ["tiktok.com"], "reasons": ["r"]}
    result = run(runner, db, "record", "blocked", "o", "--at", "2020-06-29", *SRC,
                 "--data", json.dumps(data))
    error = one_line_error(result, 2)
    assert "blocked takes exactly one of platform and platforms" in error


def test_a_correction_cannot_give_both_and_can_move_to_other_platforms(runner, db):
    _registered(runner, db)
    created = _order(runner, db, "--platform", "tiktok", *_targets("tiktok.com"))
    created = created.output.split()[-1]
    result = run(runner, db, "record", "correction", "meity-69a-2020-06-29", "--at",
                 "2020-07-01", *SRC, "--target", created, "--reason", "r",
                 "--set", 'platforms=["tiktok", "wechat"]')
    assert "exactly one of platform and platforms; both given" in one_line_error(result, 2)
    result = run(runner, db, "record", "correction", "meity-69a-2020-06-29", "--at",
                 "2020-07-01", *SRC, "--target", created, "--reason", "r",
                 "--set", "platform=null", "--set", 'platforms=["tiktok", "wechat"]',
                 "--set", 'targets=["tiktok.com", "wechat.com"]')
    assert result.exit_code == 0, result.output
    assert run_json(runner, db, "status", "wechat")["blocked_targets"] == ["wechat.com"]
    assert run_json(runner, db, "status", "tiktok")["blocked_targets"] == ["tiktok.com"]
    assert run(runner, db, "projections", "rebuild").exit_code == 0
    assert run_json(runner, db, "status", "wechat")["blocked_targets"] == ["wechat.com"]
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True


def test_export_import_round_trip_keeps_the_order_over_many(runner, db, tmp_path):
    _registered(runner, db)
    assert _order(runner, db, *_apps("tiktok", "wechat"),
                  *_targets("tiktok.com", "wechat.com")).exit_code == 0
    exported = tmp_path / "out.jsonl"
    assert run(runner, db, "export", "-o", str(exported)).exit_code == 0
    line = next(json.loads(x) for x in exported.read_text().splitlines()
                if '"blocked"' in x)
    assert line["data"]["platforms"] == ["tiktok", "wechat"] and "platform" not in line["data"]
    other = str(tmp_path / "copy.db")
    assert run(runner, other, "import", str(exported)).exit_code == 0
    assert run_json(runner, other, "status", "wechat")["blocked_targets"] == ["wechat.com"]


# --- views against a full replay, with orders over many platforms ------------------------

OWN = {"p": ["a.example", "b.example"], "q": ["c.example"], "r": ["b.example", "c.example"]}
ALL = sorted({t for ts in OWN.values() for t in ts})


def _named(platforms: list[str]) -> dict:
    return {"platform": platforms[0]} if len(platforms) == 1 else {"platforms": platforms}


@st.composite
def many_platform_scripts(draw):
    """Three platforms with overlapping targets, three orders over one to three of them,
    then random lifts, observations, moves (to other platform sets), corrections and
    retractions (some refused by the rules, as a real script's would be)."""
    facts = [_fact("platform-registered", p, 0, {"name": p.upper(), "targets": t})
             for p, t in OWN.items()]
    for ref in ("o1", "o2", "o3"):
        platforms = draw(st.lists(st.sampled_from(sorted(OWN)), min_size=1, max_size=3,
                                  unique=True))
        held = sorted({t for p in platforms for t in OWN[p]})
        # One of each platform's targets at least (an order names no platform it holds
        # nothing of), and any others they hold.
        targets = list(dict.fromkeys(
            [draw(st.sampled_from(OWN[p])) for p in platforms]
            + draw(st.lists(st.sampled_from(held), max_size=len(held), unique=True))))
        facts.append(_fact("blocked", ref, draw(st.integers(1, 30)),
                           {**_named(platforms), "authority": "A", "targets": targets,
                            "reasons": ["r"]}))
    steps = [(draw(st.sampled_from(["lift", "observe", "move", "move", "correct", "retract"])),
              draw(st.sampled_from(["o1", "o2", "o3"])), draw(st.integers(1, 60)),
              draw(st.lists(st.sampled_from(ALL), max_size=2, unique=True)),
              draw(st.lists(st.sampled_from(sorted(OWN)), min_size=1, max_size=3,
                            unique=True)),
              draw(st.integers(0, 1000)))
             for _ in range(draw(st.integers(1, 10)))]
    return facts, steps


def _many_step(step, recorded):
    kind, ref, day, targets, platforms, pick = step
    if kind != "move":
        return _plain_step((kind, ref, day, targets, bool(pick % 2), pick), recorded)
    creating = next(f for f in recorded if f.subject == ref and f.type == "blocked")
    held = sorted({t for p in platforms for t in OWN[p]})
    change = {"platform": None, "platforms": None, **_named(platforms), "targets": held}
    return _fact("correction", ref, day, {"target": str(creating.id), "reason": "r",
                                           "set": change})


@pytest.mark.parametrize("path", ["record", "import", "encrypted"])
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=many_platform_scripts(),
       days=st.lists(st.integers(0, 70), min_size=1, max_size=2), cut=st.floats(0, 1))
def test_views_equal_a_full_replay_with_orders_over_many(tmp_path_factory, path, script,
                                                         days, cut):
    def verify_agrees(ledger) -> None:
        # verify's recomputation of the views (history rows, moves, status) agrees.
        assert consistency.check(ledger, None) == []

    facts, steps = script
    views_equal_a_full_replay(tmp_path_factory, path, facts, steps, days, cut, tuple(OWN),
                              step=_many_step, also=verify_agrees)


def test_a_platform_holding_none_of_the_targets_or_a_list_of_one_is_refused(runner, db):
    _registered(runner, db)
    result = _order(runner, db, *_apps("tiktok", "wechat"), *_targets("tiktok.com"))
    assert "names platform wechat, which holds none of its targets" in \
        one_line_error(result, 1)
    data = {"platforms": ["tiktok"], "authority": "MeitY", "targets": ["tiktok.com"],
            "reasons": ["r"]}
    result = run(runner, db, "record", "blocked", "o", "--at", "2020-06-29", *SRC,
                 "--data", json.dumps(data))
    assert "platforms names two or more; for one, give platform" in one_line_error(result, 2)


def test_a_platform_whose_targets_a_back_dated_removal_took_has_no_such_order(runner, db):
    """A removal dated before the order that blocks what it removes is refused now
    (``domain.dependents``); a ledger written before that check holds one, and the order
    counts on the platform that still held its target."""
    _registered(runner, db)
    assert _order(runner, db, *_apps("tiktok", "wechat"),
                  *_targets("tiktok.com", "wechat.com")).exit_code == 0
    removal = ["record", "targets-removed", "wechat", "--at", "2020-06-01", *SRC,
               "--target", "wechat.com"]
    refused = run(runner, db, *removal)
    assert refused.exit_code == 1 and "would leave blocked of 2020-06-29" in refused.stderr
    with pytest.MonkeyPatch.context() as patch:
        older_ledger(patch)
        result = run(runner, db, *removal)
    assert result.exit_code == 0, result.output
    wechat = run_json(runner, db, "status", "wechat")
    assert wechat["orders"] == [] and wechat["state"] == "accessible"
    report = run(runner, db, "report", "provenance", "wechat", "--format", "md").stdout
    assert "### Order meity-69a-2020-06-29" not in report
    assert run_json(runner, db, "status", "tiktok")["blocked_targets"] == ["tiktok.com"]
    found = json.loads(run(runner, db, "verify", "--json").stdout)  # (and verify says so)
    assert [p["part"] for p in found["problems"]] == ["rules"], found
    assert "target wechat.com of order meity-69a-2020-06-29" in found["problems"][0]["what"]
