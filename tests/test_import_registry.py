"""import-registry (issue "Real sources in and out", item 2): snapshots of a national
registry, oldest first, diffed against what the ledger holds for that registry. Fixtures
are written here in the formats of the public mirror zapret-info/z-i (dump.csv: an
'Updated:' line, then ip;domain;url;organisation;decision number;decision date, several
IPs joined by ' | ', Windows-1251) and of a plain domain list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clitools import count, one_line_error, run, run_json

RU = ["--format", "rkn", "--authority", "Roskomnadzor", "--jurisdiction", "RU"]
FIRST = [
    "1.2.3.4 | 1.2.3.5;example.ru;http://example.ru/page;Генпрокуратура;"
    "27-31-2015/Ид2971-15;2015-11-20",
    "5.6.7.8;casino.example.com;;ФНС;2-6-27/2016-06-23-79-АИ;2016-06-23",
    "9.9.9.9;;;Роскомнадзор;ЕАИС-1;2018-04-16",
    ";*.президент.рф;;суд;2а-123/2019;2019-01-01",
]


def _dump(path: Path, updated: str, lines: list[str], encoding: str = "cp1251") -> str:
    path.write_bytes((f"Updated: {updated}\n" + "\n".join(lines) + "\n").encode(encoding))
    return str(path)


def _three(tmp_path: Path) -> list[str]:
    """Three snapshots: the second drops the casino entry and adds a target to the first
    decision; the third re-adds the casino entry and drops the added target."""
    second = [FIRST[0], *FIRST[2:],
              "8.8.4.4;news.example.org;;Генпрокуратура;27-31-2015/Ид2971-15;2015-11-20"]
    return [_dump(tmp_path / "d1.csv", "2024-01-15 10:00:00 +0000", FIRST),
            _dump(tmp_path / "d2.csv", "2024-01-16 10:00:00 +0000", second, "utf-8"),
            _dump(tmp_path / "d3.csv", "2024-01-17 10:00:00 +0000", FIRST)]


def _state(runner, db, platform, day) -> dict:
    return run_json(runner, db, "status", platform, "--as-of", day)


def test_three_snapshots_become_orders_and_lifts(runner, db, tmp_path):
    files = _three(tmp_path)
    result = run(runner, db, "import-registry", *RU, *files, "--json")
    assert result.exit_code == 0, result.output
    done = json.loads(result.stdout)
    assert done["registry"] == "ru-roskomnadzor"
    first, second, third = done["snapshots"]
    assert (first["orders"], first["registered"], first["encoding"]) == (4, 4, "windows-1251")
    assert (second["orders"], second["lifted_targets"], second["encoding"]) == (1, 2, "utf-8")
    assert (third["orders"], third["lifted_targets"]) == (1, 2)
    # example.com's casino entry: blocked, lifted when it left the registry, blocked again
    # by a new order when it came back.
    assert _state(runner, db, "example.com", "2024-01-15T12:00:00Z")["state"] == "blocked"
    gone = _state(runner, db, "example.com", "2024-01-16T12:00:00Z")
    assert gone["state"] == "accessible" and gone["orders"][0]["state"] == "lifted"
    back = _state(runner, db, "example.com", "2024-01-17T12:00:00Z")
    assert back["state"] == "blocked"
    assert sorted(o["state"] for o in back["orders"]) == ["in-effect", "lifted"]
    assert any(o["ref"].endswith("-at-20240117100000") for o in back["orders"])
    # The decision that gained news.example.org in the second snapshot: a new order, over
    # the new platform, lifted again in the third.
    news = _state(runner, db, "example.org", "2024-01-16T12:00:00Z")
    assert news["state"] == "blocked"
    assert news["orders"][0]["ref"].startswith("ru-roskomnadzor-27-31-2015-2971-15-")
    assert _state(runner, db, "example.org", "2024-01-17T12:00:00Z")["state"] == "accessible"
    # IP addresses are targets of the domain's platform; an entry of addresses only has a
    # platform of its own; a wildcard of a Cyrillic name is its domain, as A-labels.
    ru = _state(runner, db, "example.ru", "2024-01-17T12:00:00Z")
    assert ru["blocked_targets"] == ["example.ru", "1.2.3.4", "1.2.3.5"]
    assert _state(runner, db, "ip-9.9.9.9", "2024-01-17T12:00:00Z")["state"] == "blocked"
    assert _state(runner, db, "xn--d1abbgf6aiiy.xn--p1ai", "2024-01-17T12:00:00Z")[
        "orders"][0]["jurisdiction"] == "RU"
    # The Windows-1251 text is stored as the Cyrillic it was, never as mojibake.
    events = run_json(runner, db, "history", "example.ru")["events"]
    order = next(e for e in events if e["type"] == "blocked")
    assert "Генпрокуратура" in order["data"]["instrument"]
    assert "27-31-2015/Ид2971-15" in order["data"]["instrument"]
    assert order["sources"][0]["sha256"] and "d1.csv" in order["sources"][0]["title"]
    # Re-running adds nothing; the ledger verifies.
    before = count(db)
    again = json.loads(run(runner, db, "import-registry", *RU, *files, "--json").stdout)
    assert [s.get("skipped") for s in again["snapshots"]] == ["already imported"] * 2 + [
        None]  # the last is diffed again (it may have been interrupted): nothing to do
    assert again["snapshots"][2]["events"] == 0
    assert count(db) == before
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True
    rows = run_json(runner, db, "status", "--jurisdiction", "RU")
    assert {r["platform"]: r["state"] for r in rows}["example.org"] == "accessible"


def test_an_older_snapshot_is_refused(runner, db, tmp_path):
    files = _three(tmp_path)
    # The 17 January snapshot lists what the 15th did: it changes nothing, and its check
    # is the trace that the registry was seen so then.
    later = _dump(tmp_path / "d3b.csv", "2024-01-17 10:00:00 +0000", FIRST)
    result = run(runner, db, "import-registry", *RU, files[0], later)
    assert result.exit_code == 0
    assert "d3b.csv (updated 2024-01-17T10:00:00+00:00, 4 entries): no change; checked " \
           "(ru-roskomnadzor-20240117100000-" in result.stdout
    checks = [r for r in run_json(runner, db, "history")["events"]
              if r["type"] == "registry-checked"]
    assert [c["occurred_at"] for c in checks] == ["2024-01-15T10:00:00+00:00",
                                                  "2024-01-17T10:00:00+00:00"]
    assert checks[1]["sources"][0]["sha256"] and "d3b.csv" in checks[1]["sources"][0]["title"]
    assert checks[1]["data"]["summary"] == "4 entries listed"
    before = count(db)
    error = one_line_error(run(runner, db, "import-registry", *RU, files[1]), 2)
    assert "before the last snapshot imported" in error and "oldest first" in error
    assert count(db) == before


def test_a_registrys_orders_are_those_its_imports_made(runner, db, tmp_path):
    """Neither a hand-made order nor another registry's, whose references share its
    prefix, is lifted by its snapshots."""
    for step in (["platform-registered", "telegram", "--at", "2018-01-01", "--name", "T",
                  "--target", "t.me"],
                 ["blocked", "ru-roskomnadzor-telegram-2018", "--at", "2018-04-16",
                  "--platform", "telegram", "--authority", "Roskomnadzor", "--target", "t.me",
                  "--reason", "r"]):
        assert run(runner, db, "record", *step, "--source", "s").exit_code == 0
    court = _dump(tmp_path / "c.csv", "2024-01-14 10:00:00 +0000",
                  [";court.example.com;;суд;C-1;2020-01-01"])
    assert run(runner, db, "import-registry", "--format", "rkn", "--authority",
               "Roskomnadzor Court", "--jurisdiction", "RU", court).exit_code == 0
    files = _three(tmp_path)
    assert run(runner, db, "import-registry", *RU, *files).exit_code == 0
    assert run_json(runner, db, "status", "telegram")["state"] == "blocked"
    assert run_json(runner, db, "status", "example.com")["blocked_targets"][0] == \
        "court.example.com"


def test_decisions_whose_slugs_hold_at_or_list_are_kept_across_snapshots(runner, db,
                                                                          tmp_path):
    lines = [";a.example.com;;Office at Moscow;AT-5;2020-01-01",
             ";b.example.org;;org;List-7;2020-01-01"]
    files = [_dump(tmp_path / f"s{i}.csv", f"2024-01-1{i} 10:00:00 +0000", lines)
             for i in (5, 6, 7)]
    done = json.loads(run(runner, db, "import-registry", *RU, *files, "--json").stdout)
    assert [s["events"] for s in done["snapshots"]] == [5, 1, 1]  # each: its check


def test_an_interrupted_import_of_the_last_snapshot_finishes_when_run_again(runner, db,
                                                                          tmp_path):
    from sources.registry import Registry
    from sources.registry_held import held_in
    from sources.snapshots import read_snapshot

    files = _three(tmp_path)
    assert run(runner, db, "import-registry", *RU, files[0]).exit_code == 0
    # As if killed after its first events: the last snapshot's events in part.
    snapshot = read_snapshot(Path(files[1]), "rkn")
    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from projections.importing import import_facts
    from sources.holders import read_holders
    from sources.registry import Plan

    registry = Registry("RU", "Roskomnadzor")
    with open_ledger(parse_target(db)) as ledger:
        held = held_in(ledger, registry, snapshot.updated)
        facts = list(Plan(snapshot, registry=registry, held=held,
                     holders=read_holders(ledger)).facts())
        import_facts(ledger, facts[:1], operator="tester")  # as the CLI runs
    done = json.loads(run(runner, db, "import-registry", *RU, files[1], "--json").stdout)
    assert done["snapshots"][0]["events"] == len(facts) - 1
    again = json.loads(run(runner, db, "import-registry", *RU, files[1], "--json").stdout)
    assert again["snapshots"][0]["events"] == 0


def test_a_snapshot_that_would_lift_most_of_the_registry_is_refused(runner, db, tmp_path):
    many = [f"10.0.0.{i};site{i}.ru;;org;D-{i};2020-01-01" for i in range(12)]
    first = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", many)
    cut = _dump(tmp_path / "b.csv", "2024-01-16 10:00:00 +0000", many[:3])
    empty = _dump(tmp_path / "e.csv", "2024-01-16 10:00:00 +0000", [])
    assert run(runner, db, "import-registry", *RU, first).exit_code == 0
    before = count(db)
    assert "no entries" in one_line_error(run(runner, db, "import-registry", *RU, empty), 2)
    error = one_line_error(run(runner, db, "import-registry", *RU, cut), 2)
    assert "lifts 18 of the 24 entries" in error and "--allow-shrink" in error
    assert count(db) == before
    assert run(runner, db, "import-registry", *RU, cut, "--allow-shrink").exit_code == 0


def test_networks_and_a_file_of_mixed_encodings(runner, db, tmp_path):
    net = _dump(tmp_path / "n.csv", "2024-01-15 10:00:00 +0000",
                ["10.0.0.0/8;;;org;N-1;2020-01-01", "2001:db8::/32;;;org;N-2;2020-01-01"])
    assert run(runner, db, "import-registry", *RU, net).exit_code == 0
    names = {r["platform"] for r in run_json(runner, db, "status")}
    assert names == {"net-10.0.0.0-8", "net-2001.db8..-32"}
    mixed = tmp_path / "m.csv"
    mixed.write_bytes(b"Updated: 2024-01-16 10:00:00 +0000\n"
                      + FIRST[0].encode("utf-8") + b"\n" + FIRST[1].encode("cp1251") + b"\n")
    error = one_line_error(run(runner, db, "import-registry", *RU, str(mixed)), 2)
    assert "line 2: UTF-8, while other lines are not" in error


@pytest.mark.parametrize("line, says", [
    ("1.2.3.4;example.ru;;org;", "5 fields, not the 6"),
    ("1.2.3.4;example.ru;;org;;2015-11-20", "no decision number"),
    ("1.2.3.4;example.ru;;org;N-1;20 Nov 2015", "is not a date"),
    ("1.2.3.4;example.ru;;org;N-1;2020-13-45", "is not a date"),
    ("1.2.3.4;example.ru;;or\x00g;N-1;2015-11-20", "line 3: character 3 is a NUL"),
    ("999.1.1.1;;;org;N-1;2015-11-20", "line 3"),
    (";;;org;N-1;2015-11-20", "no domain, IP address or URL"),
])
def test_a_malformed_line_is_named_and_nothing_is_written(runner, db, tmp_path, line, says):
    path = _dump(tmp_path / "bad.csv", "2024-01-15 10:00:00 +0000", [FIRST[0], line])
    error = one_line_error(run(runner, db, "import-registry", *RU, path), 2)
    assert says in error and "bad.csv" in error
    assert count(db) == 0


@pytest.mark.parametrize("how", [[], ["--batch-commit", "--batch-size", "2"]])
def test_a_malformed_last_line_stops_the_whole_snapshot(runner, db, tmp_path, how):
    """The file is checked by the diff's pass over every entry, before anything is
    written (not by a pass of its own as it is read): a bad line after many good ones,
    even with --batch-commit and batches of two, leaves the ledger as it was, for a first
    snapshot and for a later one."""
    good = [f"10.0.0.{i};site{i}.ru;;org;N-{i};2020-01-01" for i in range(1, 40)]
    bad = "10.0.0.99;site99.ru;;org;N-99;2020-13-45"
    first = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [*good, bad])
    error = one_line_error(run(runner, db, "import-registry", *RU, *how, first), 2)
    assert "a.csv, line 41:" in error and "is not a date" in error
    assert count(db) == 0
    assert run(runner, db, "import-registry", *RU, *how, _dump(
        tmp_path / "b.csv", "2024-01-15 10:00:00 +0000", good)).exit_code == 0
    before = count(db)
    later = _dump(tmp_path / "c.csv", "2024-01-16 10:00:00 +0000",
                  [*good[1:], "10.0.1.1;new.ru;;org;N-100;2020-01-01", bad])
    error = one_line_error(run(runner, db, "import-registry", *RU, *how, later), 2)
    assert "c.csv, line 41:" in error
    assert count(db) == before


def test_an_undecodable_file_is_refused(runner, db, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"Updated: 2024-01-15 10:00:00 +0000\n1.2.3.4;x.ru;;\x98;N;2015-11-20\n")
    error = one_line_error(run(runner, db, "import-registry", *RU, str(path)), 2)
    assert "neither UTF-8 nor Windows-1251" in error


def test_a_domain_list_is_one_order_per_snapshot(runner, db, tmp_path):
    one = tmp_path / "l1.txt"
    one.write_text("# the list\nblocked.example\nother.example\n")
    two = tmp_path / "l2.txt"
    two.write_text("Updated: 2024-03-02 00:00:00 +0000\nother.example\nthird.example\n")
    ids = ["--format", "domains", "--authority", "Kominfo", "--jurisdiction", "ID"]
    error = one_line_error(run(runner, db, "import-registry", *ids, str(one)), 2)
    assert "no 'Updated:' line, and no --at" in error
    error = one_line_error(run(runner, db, "import-registry", *ids, str(two), "--at",
                               "2024-03-01"), 2)
    assert "--at is for a file that does not" in error
    assert run(runner, db, "import-registry", *ids, str(one), "--at",
               "2024-03-01").exit_code == 0
    assert run(runner, db, "import-registry", *ids, str(two)).exit_code == 0
    status = {r["platform"]: r["state"] for r in run_json(runner, db, "status")}
    assert status == {"blocked.example": "accessible", "other.example": "blocked",
                      "third.example": "blocked"}
    orders = run_json(runner, db, "status", "other.example")["orders"]
    assert [o["ref"] for o in orders] == ["id-kominfo-list-20240301000000"]


def test_a_platform_already_holding_the_domain_gets_the_order_and_the_addresses(runner, db,
                                                                               tmp_path):
    assert run(runner, db, "record", "platform-registered", "example", "--at", "2015-01-01",
               "--source", "s", "--name", "Example", "--target", "example.ru").exit_code == 0
    path = _dump(tmp_path / "d.csv", "2024-01-15 10:00:00 +0000", FIRST[:1])
    assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    status = run_json(runner, db, "status", "example")
    assert status["state"] == "blocked"
    assert status["blocked_targets"] == ["example.ru", "1.2.3.4", "1.2.3.5"]


def test_a_platform_registered_after_the_snapshot_does_not_take_its_entries(runner, db,
                                                                           tmp_path):
    """Entries go to the platform that holds their target at the snapshot's time: one
    registered later (June) is not it, so the January entry gets a platform of its own;
    where that platform's name is the later one's, the import is refused, naming it."""
    assert run(runner, db, "record", "platform-registered", "example", "--at", "2024-06-01",
               "--source", "s", "--name", "Example", "--target", "example.ru").exit_code == 0
    path = _dump(tmp_path / "d.csv", "2024-01-15 10:00:00 +0000", FIRST[:1])
    assert run(runner, db, "import-registry", *RU, path).exit_code == 0
    assert _state(runner, db, "example.ru", "2024-01-15T12:00:00Z")["state"] == "blocked"
    assert _state(runner, db, "example", "2024-06-02")["orders"] == []
    assert run(runner, db, "record", "platform-registered", "example.org", "--at",
               "2024-06-01", "--source", "s", "--name", "E", "--target",
               "example.org").exit_code == 0
    before = count(db)
    later = _dump(tmp_path / "e.csv", "2024-01-16 10:00:00 +0000",
                  [*FIRST[:1], ";news.example.org;;org;N-1;2020-01-01"])
    error = one_line_error(run(runner, db, "import-registry", *RU, later), 1)
    assert "example.org, exists only from 2024-06-01" in error and "e.csv, line 3" in error
    assert count(db) == before


def test_a_hand_made_check_is_not_the_registrys(runner, db, tmp_path):
    """A registry-checked recorded by hand (an operator's, or one copied from another
    registry) dates no snapshot of the registry: a snapshot older than it is imported as
    the latest, not refused or placed before it."""
    files = _three(tmp_path)
    assert run(runner, db, "import-registry", *RU, files[0]).exit_code == 0
    digest = json.loads(run(runner, db, "import-registry", *RU, files[0], "--json").stdout)[
        "snapshots"][0]["sha256"]
    assert run(runner, db, "record", "registry-checked", "ru-roskomnadzor-by-hand", "--at",
               "2024-02-01", "--registry", "ru-roskomnadzor", "--authority", "Roskomnadzor",
               "--jurisdiction", "RU", "--source-title", "d9.csv", "--source-sha256",
               digest).exit_code == 0
    done = json.loads(run(runner, db, "import-registry", *RU, files[1], "--json").stdout)
    assert "backfilled_before" not in done["snapshots"][0]
    assert done["snapshots"][0]["orders"] == 1
