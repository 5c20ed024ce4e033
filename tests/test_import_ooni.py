"""import-ooni: OONI Web Connectivity measurements (fixtures written from ooni/spec
df-000-base and ts-017-web-connectivity) become observations of the platforms holding the
measured hosts, through the one import path: idempotent, all or nothing, named errors."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import orjson
import pytest

from domain.errors import BadInput
from domain.fact import Fact
from sources.domains import candidates, host_of, platform_slug, registrable
from sources.holders import AMBIGUOUS, Held, Holders
from sources.ooni import explorer_url, measurement, observation_id
from tests.clitools import blockledger, count, one_line_error, run, run_json

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ooni"
JULY = FIXTURES / "web-connectivity-id-2017-07.jsonl"
AUGUST = FIXTURES / "web-connectivity-id-2017-08.jsonl.gz"
BRITAIN = FIXTURES / "web-connectivity-gb-2021-03.jsonl"


def lines(path: Path) -> list[dict[str, Any]]:
    """The measurements of a fixture, plain or gzip."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


def write(path: Path, measurements: list[Any], *, gz: bool = False) -> Path:
    body = b"".join(orjson.dumps(m) + b"\n" for m in measurements)
    path.write_bytes(gzip.compress(body, mtime=0) if gz else body)
    return path


def observations(db: str) -> dict[str, dict[str, Any]]:
    """The ledger's access-observed events, by the URL their source cites."""
    from ledger.application import open_ledger
    from ledger.storage import parse_target

    with open_ledger(parse_target(db)) as ledger:
        found = [e.fact.evolve(recorded_at=None).to_json() for e in ledger.entries()]
    return {o["sources"][0]["url"]: o for o in found if o["type"] == "access-observed"
            and "explorer.ooni.org" in o["sources"][0].get("url", "")}


def imported(runner, db: str, *args: str, input: bytes | None = None) -> dict[str, Any]:
    result = run(runner, db, "import-ooni", *args, "--json", input=input)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def explorer(m: dict[str, Any]) -> str:
    return explorer_url(m["report_id"], m["input"])


@pytest.fixture
def telegram(runner, db, example) -> str:
    """The 2017 case (Telegram, its 11 web domains blocked 14 July to 10 August)."""
    assert run(runner, db, "import", str(example)).exit_code == 0
    return db


@pytest.fixture
def telegram_sqlite(runner, sqlite_path, example) -> str:
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


class TestWhatEachFieldBecomes:
    def test_each_blocking_value_becomes_its_method(self, runner, telegram):
        """dns, tcp_ip, http-failure and http-diff are kept; another string or null with
        accessible false is 'other'; reachable has no method; on both stores."""
        imported(runner, telegram, str(JULY))
        got = observations(telegram)
        by_input = {m["input"]: got.get(explorer(m)) for m in lines(JULY)
                    if m["test_name"] == "web_connectivity"}
        method = {url: (o["data"].get("method"), o["data"]["accessible"])
                  for url, o in by_input.items() if o is not None}
        assert method == {
            "http://web.telegram.org/": ("dns", False),
            "https://t.me/": ("tcp_ip", False),
            "https://telegram.org/": ("http-failure", False),
            "http://telegram.me/": ("http-diff", False),
            "https://core.telegram.org/": (None, True),
            "https://desktop.telegram.org/": ("other", False),  # "quic": not a known value
            "https://zeta.web.telegram.org/": ("dns", False),
            "https://pluto.web.telegram.org/": ("other", False),  # blocking null
        }

    def test_network_jurisdiction_time_and_source(self, runner, telegram):
        """probe_asn and probe_network_name, probe_cc, the start time in UTC, and the
        Explorer address titled with report_id and input."""
        imported(runner, telegram, str(JULY))
        first = lines(JULY)[0]
        fact = observations(telegram)[explorer(first)]
        assert fact["id"] == str(observation_id(first["report_id"], first["input"]))
        assert fact["subject"] == "telegram"
        assert fact["occurred_at"] == "2017-07-20T08:15:02+00:00"
        assert fact["data"] == {"target": "web.telegram.org", "accessible": False,
                                "network": "AS7713 (PT Telekomunikasi Indonesia)",
                                "jurisdiction": "ID", "method": "dns"}
        (source,) = fact["sources"]
        assert source["url"] == ("https://explorer.ooni.org/measurement/"
                                 f"{first['report_id']}?input=http%3A%2F%2Fweb.telegram.org%2F")
        assert first["report_id"] in source["title"] and first["input"] in source["title"]
        assert source["quote"] == 'test_keys.accessible: false, test_keys.blocking: "dns"'

    def test_an_unshared_network_gives_none_and_an_unshared_country_is_skipped(
            self, runner, telegram_sqlite, tmp_path):
        """AS0 and ZZ are OONI's 'not shared': no network; a measurement from nowhere in
        particular is evidence about no jurisdiction, and is skipped."""
        summary = imported(runner, telegram_sqlite, str(AUGUST))
        assert summary["skipped"] == {"country-not-shared": 1}
        unshared = {**lines(AUGUST)[0], "probe_cc": "ID", "report_id": "as0"}
        imported(runner, telegram_sqlite, str(write(tmp_path / "m.jsonl", [unshared])))
        data = observations(telegram_sqlite)[explorer(unshared)]["data"]
        assert data == {"target": "t.me", "accessible": True, "jurisdiction": "ID"}

    def test_a_subdomain_is_observed_at_the_parent_its_platform_holds(self, runner,
                                                                      telegram_sqlite):
        """zeta.web.telegram.org is no target of Telegram; web.telegram.org is: the
        observation is of web.telegram.org, and its source keeps the URL measured."""
        summary = imported(runner, telegram_sqlite, str(JULY))
        zeta = next(m for m in lines(JULY) if m["input"] == "https://zeta.web.telegram.org/")
        fact = observations(telegram_sqlite)[explorer(zeta)]
        assert fact["data"]["target"] == "web.telegram.org"
        assert "zeta.web.telegram.org" in fact["sources"][0]["title"]
        assert summary["matched_by_parent_domain"] == 1


class TestWhatIsSkipped:
    def test_skipped_by_reason_and_unknown_hosts_listed(self, runner, telegram_sqlite):
        """Other tests, accessible null and 'down for OONI's control too' are counted by
        reason; www.example.org, which no platform holds, is listed."""
        summary = imported(runner, telegram_sqlite, str(JULY))
        assert summary["measurements"] == 13
        assert summary["imported"] == 8
        assert summary["skipped"] == {"accessible-null": 1, "other-test": 2, "site-down": 1}
        assert summary["unknown_hosts"] == {
            "hosts": 1, "measurements": 1, "more": 0,
            "listed": [{"host": "www.example.org", "measurements": 1}]}
        venus = next(m for m in lines(JULY) if "venus" in m["input"])
        assert explorer(venus) not in observations(telegram_sqlite)

    def test_unknown_hosts_are_capped_with_a_count(self, runner, telegram_sqlite, tmp_path):
        """25 unknown hosts: the 20 most measured are listed, 5 more counted."""
        base = lines(JULY)[0]
        many = [{**base, "report_id": f"r{i}", "input": f"https://h{i:02d}.example/"}
                for i in range(25)]
        many += [{**base, "report_id": "again", "input": "https://h24.example/"}]
        summary = imported(runner, telegram_sqlite, str(write(tmp_path / "m.jsonl", many)))
        unknown = summary["unknown_hosts"]
        assert (unknown["hosts"], unknown["measurements"], unknown["more"]) == (25, 26, 5)
        assert unknown["listed"][0] == {"host": "h24.example", "measurements": 2}
        assert len(unknown["listed"]) == 20
        human = run(runner, telegram_sqlite, "import-ooni", str(tmp_path / "m.jsonl")).stdout
        assert "26 measurements of 25 hosts no platform holds" in human
        assert "... and 5 more hosts" in human

    def test_a_host_two_platforms_hold_is_skipped(self, runner, telegram_sqlite, tmp_path):
        """Which platform was observed cannot be told: skipped, counted, not guessed."""
        assert run(runner, telegram_sqlite, "record", "platform-registered", "mirror",
                   "--at", "2016-01-01", "--source", "x", "--name", "A mirror", "--target",
                   "t.me").exit_code == 0
        t_me = next(m for m in lines(JULY) if m["input"] == "https://t.me/")
        summary = imported(runner, telegram_sqlite, str(write(tmp_path / "m.jsonl", [t_me])))
        assert summary["skipped"] == {"ambiguous-host": 1} and summary["imported"] == 0


class TestInputs:
    def test_gz_plain_directory_and_stdin_give_the_same_events(self, runner, tmp_path,
                                                               example):
        """The files one by one, their directory (nested, with another file beside), and
        stdin (plain, and gzip) record the same events."""
        nested = tmp_path / "bucket" / "2017-08"
        nested.mkdir(parents=True)
        (tmp_path / "bucket" / "2017-07.jsonl").write_bytes(JULY.read_bytes())
        (nested / "ID.jsonl.gz").write_bytes(AUGUST.read_bytes())
        (tmp_path / "bucket" / "README.txt").write_text("not a measurement file")
        ways = {"files": [[str(JULY)], [str(AUGUST)]],
                "directory": [[str(tmp_path / "bucket")]],
                "stdin": [["-", JULY.read_bytes()], ["-", AUGUST.read_bytes()]]}
        seen = {}
        for name, calls in ways.items():
            db = str(tmp_path / f"{name}.db")
            assert run(runner, db, "import", str(example)).exit_code == 0
            for call in calls:
                data = call[1] if len(call) > 1 else None
                summary = imported(runner, db, call[0], input=data)
            if name == "directory":
                assert (summary["files"], summary["other_files"]) == (2, 1)
            seen[name] = observations(db)
        assert len(seen["files"]) == 9
        assert seen["files"] == seen["directory"] == seen["stdin"]

    def test_a_directory_is_read_in_sorted_order(self, tmp_path):
        """Nested folders and files, by their relative path."""
        from sources.measurements import files_of

        for name in ("b/2.jsonl.gz", "a/9.json", "a/10.jsonl", "c.jsonl", "b/1.jsonl",
                     "b/x.csv"):
            (tmp_path / name).parent.mkdir(exist_ok=True)
            (tmp_path / name).write_text("")
        files, others = files_of(str(tmp_path))
        assert [str(f.relative_to(tmp_path)) for f in files] == [
            "a/10.jsonl", "a/9.json", "b/1.jsonl", "b/2.jsonl.gz", "c.jsonl"]
        assert others == 1

    def test_a_missing_path_is_bad_input(self, runner, sqlite_path):
        line = one_line_error(run(runner, sqlite_path, "import-ooni", "nowhere.jsonl.gz"), 2)
        assert "'nowhere.jsonl.gz' does not exist" in line


class TestIdempotence:
    def test_importing_again_adds_nothing(self, runner, telegram):
        """Ids derive from report_id and input: the second import skips every observation,
        on both stores."""
        first = imported(runner, telegram, str(JULY), )
        events = count(telegram)
        again = imported(runner, telegram, str(JULY))
        assert (first["imported"], first["already_present"]) == (8, 0)
        assert (again["imported"], again["already_present"]) == (0, 8)
        assert count(telegram) == events
        human = run(runner, telegram, "import-ooni", str(JULY)).stdout
        assert "imported 0 observations (8 already in the ledger, skipped)" in human

    def test_the_id_is_uuid5_of_report_id_and_input(self):
        a = observation_id("r1", "https://t.me/")
        assert a == observation_id("r1", "https://t.me/")
        assert a != observation_id("r1", "https://t.me/x") != observation_id("r2",
                                                                            "https://t.me/")
        assert a.version == 5 and isinstance(a, uuid.UUID)
        from sources.ooni import _observation_id_text

        for rid, url in (("r1", "https://t.me/"), ("é/?#", "http://x.example/\u00e9")):
            assert _observation_id_text(rid, url) == str(observation_id(rid, url))


class TestRegister:
    def test_one_platform_per_registrable_domain(self, runner, db):
        """www.example.co.uk and shop.example.co.uk make one platform, example.co.uk (co.uk
        is a public suffix), registered as of its earliest measurement; co.uk itself and
        an IP address stay unknown; blog.example.org.uk makes example.org.uk."""
        summary = imported(runner, db, str(BRITAIN), "--register")
        assert summary["registered"] == ["example.co.uk", "example.org.uk"]
        assert summary["imported"] == 4
        assert [h["host"] for h in summary["unknown_hosts"]["listed"]] == ["192.0.2.7",
                                                                            "co.uk"]
        history = run_json(runner, db, "history", "example.co.uk")["events"]
        registered = next(e for e in history if e["type"] == "platform-registered")
        assert registered["occurred_at"] == "2021-03-01T07:00:00+00:00"
        assert registered["data"]["targets"] == ["example.co.uk"]
        status = run_json(runner, db, "status", "example.co.uk")
        assert status["observed"]["example.co.uk"]["accessible"] is False
        assert status["divergence"] == {"example.co.uk": "unexplained"}
        again = imported(runner, db, str(BRITAIN), "--register")
        assert (again["registered"], again["imported"], again["already_present"]) == (
            [], 0, 4)

    def test_register_from_stdin_reads_it_twice(self, runner, sqlite_path):
        summary = imported(runner, sqlite_path, "-", "--register",
                           input=BRITAIN.read_bytes())
        assert summary["registered"] == ["example.co.uk", "example.org.uk"]
        assert summary["imported"] == 4

    def test_a_taken_reference_is_not_registered(self, runner, sqlite_path):
        """A platform called example.co.uk that holds other targets keeps them; the hosts
        stay unknown."""
        assert run(runner, sqlite_path, "record", "platform-registered", "example.co.uk",
                   "--at", "2020-01-01", "--source", "x", "--name", "Other",
                   "--target", "other.example").exit_code == 0
        summary = imported(runner, sqlite_path, str(BRITAIN), "--register")
        assert summary["registered"] == ["example.org.uk"]
        assert "example.co.uk" in [h["host"] for h in summary["unknown_hosts"]["listed"]]


def test_an_encrypted_ledger_is_read_and_written_sealed(runner, tmp_path, example,
                                                      monkeypatch):
    """With a cipher key, the platforms' targets are read through the blinded views, and
    no measured host or network reaches the database in plaintext."""
    from ledger.encryption import new_key

    monkeypatch.setenv("BLOCKLEDGER_CIPHER_KEY", new_key())
    db = str(tmp_path / "sealed.db")
    assert run(runner, db, "import", str(example)).exit_code == 0
    summary = imported(runner, db, str(JULY), "--register")
    # www.example.org, reachable, is matched at example.org: skipped (reachable-subdomain)
    assert summary["imported"] == 8 and summary["registered"] == ["example.org"]
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("sealed"))
    for plain in (b"telegram.org", b"Telekomunikasi", b"example.org", b"explorer.ooni"):
        assert plain not in raw


class TestStatusRoundTrip:
    def test_a_measurement_reachable_while_ordered_blocked_is_a_divergence(self, runner,
                                                                            telegram):
        """core.telegram.org, measured reachable on 25 July 2017 while Kominfo's order
        held it blocked: status shows the observation and the divergence."""
        imported(runner, telegram, str(JULY))
        status = run_json(runner, telegram, "status", "telegram", "--as-of", "2017-07-31")
        assert status["observed"]["core.telegram.org"] == {
            "accessible": True, "network": "AS7713 (PT Telekomunikasi Indonesia)",
            "at": "2017-07-25T12:00:00+00:00", "jurisdiction": "ID"}
        assert status["divergence"]["core.telegram.org"] == "reachable-while-blocked"
        assert status["observed"]["t.me"]["accessible"] is False
        assert "t.me" not in status["divergence"]  # unreachable while blocked: agreed


class TestBadInput:
    @pytest.mark.parametrize(("change", "field"), [
        ({"test_keys": {"accessible": "yes", "blocking": "dns"}}, "test_keys.accessible"),
        ({"test_keys": {"accessible": False, "blocking": 7}}, "test_keys.blocking"),
        ({"test_keys": []}, "test_keys"),
        ({"test_name": None}, "test_name"),
        ({"probe_cc": "id"}, "probe_cc"),
        ({"probe_asn": 7713}, "probe_asn"),
        ({"probe_network_name": "evil\u202ename"}, "probe_network_name"),
        ({"input": "ftp://t.me/"}, "input"),
        ({"input": "https://t_me.example/"}, "input"),
        ({"input": "https://t.me/" + "a" * 5000}, "input"),
        ({"measurement_start_time": "2017-07-20T08:15:02+07:00"}, "measurement_start_time"),
        ({"measurement_start_time": "2017-02-30 08:15:02"}, "measurement_start_time"),
        ({"report_id": "line\nbreak"}, "report_id"),
        ({"report_id": ""}, "report_id"),
    ])
    def test_a_malformed_measurement_is_named_and_nothing_is_written(
            self, runner, telegram_sqlite, tmp_path, change, field):
        """The file, the line and the field; exit 2; the good lines before it are not
        written either."""
        good = lines(JULY)[:4]
        bad = {**good[0], "report_id": "bad-one", **change}
        path = write(tmp_path / "bad.jsonl", [*good, bad])
        before = count(telegram_sqlite)
        line = one_line_error(run(runner, telegram_sqlite, "import-ooni", str(path)), 2)
        assert f"line 5 of {path}, field {field!r}" in line, line
        assert count(telegram_sqlite) == before

    @pytest.mark.parametrize(("raw", "says"), [
        (b"{not json\n", "not valid JSON"),
        (b"[1, 2]\n", "expected a JSON object (a measurement), got a list"),
        (b'{"test_name": "web_connectivity", "x": "\xff"}\n', "not valid UTF-8"),
    ])
    def test_a_line_that_is_no_measurement(self, runner, sqlite_path, tmp_path, raw, says):
        path = tmp_path / "m.jsonl"
        path.write_bytes(JULY.read_bytes() + raw)
        line = one_line_error(run(runner, sqlite_path, "import-ooni", str(path)), 2)
        assert f"line 14 of {path}" in line and says in line

    def test_a_field_given_twice_is_refused(self, runner, sqlite_path, tmp_path):
        """"accessible" twice in test_keys: which one is meant? Refused, not guessed; the
        same name as a text (a value) is no repeat."""
        first = orjson.dumps(lines(JULY)[0])
        twice = first.replace(b'"accessible":false', b'"accessible":true,"accessible":false')
        in_text = first.replace(b'"requests":[]', b'"requests":[{"kind":"input"}]')
        assert twice != first and in_text != first and in_text.count(b'"input"') == 2
        path = tmp_path / "m.jsonl"
        path.write_bytes(in_text + b"\n" + twice + b"\n")
        line = one_line_error(run(runner, sqlite_path, "import-ooni", str(path)), 2)
        assert f"line 2 of {path}, field 'accessible': given twice in one object" in line

    def test_a_truncated_gzip_file_is_a_clean_error(self, runner, telegram_sqlite, tmp_path):
        whole = gzip.compress(JULY.read_bytes() * 3, mtime=0)
        path = tmp_path / "cut.jsonl.gz"
        path.write_bytes(whole[: len(whole) // 2])
        before = count(telegram_sqlite)
        line = one_line_error(run(runner, telegram_sqlite, "import-ooni", str(path)), 2)
        assert f"{path} ends before the end of its gzip stream (truncated)" in line
        assert count(telegram_sqlite) == before

    def test_a_huge_line_is_refused_unread(self, runner, sqlite_path, tmp_path, monkeypatch):
        import sources.measurements

        monkeypatch.setattr(sources.measurements, "MAX_LINE", 1000)
        line = one_line_error(run(runner, sqlite_path, "import-ooni", str(JULY)), 2)
        assert f"line 1 of {JULY}" in line and "one line is one measurement" in line

    def test_odd_characters_in_report_id_stay_inside_the_address(self, runner,
                                                                 telegram_sqlite, tmp_path):
        """A report_id with '/', '?', '#', spaces and non-ASCII is percent-encoded: the
        address still names the measurement page, and the title keeps the text."""
        odd = {**lines(JULY)[0], "report_id": "../x?input=evil#frag é"}
        imported(runner, telegram_sqlite, str(write(tmp_path / "odd.jsonl", [odd])))
        (fact,) = observations(telegram_sqlite).values()
        url = fact["sources"][0]["url"]
        assert url.startswith("https://explorer.ooni.org/measurement/..%2Fx%3Finput%3Devil"
                              "%23frag%20%C3%A9?input=")
        assert "../x?input=evil#frag é" in fact["sources"][0]["title"]


class TestRules:
    def test_a_measurement_before_the_platform_existed_is_skipped(self, runner,
                                                                  telegram_sqlite, tmp_path):
        """Telegram was registered on 14 August 2013: nobody held t.me in 2012, so a
        measurement of it then is no observation of Telegram: skipped and counted
        (not-held-then), the rest imported."""
        early = {**lines(JULY)[1], "measurement_start_time": "2012-05-01 00:00:00"}
        path = write(tmp_path / "early.jsonl", [lines(JULY)[0], early])
        summary = imported(runner, telegram_sqlite, str(path))
        assert summary["imported"] == 1 and summary["skipped"] == {"not-held-then": 1}
        assert explorer(early) not in observations(telegram_sqlite)

    def test_a_measurement_in_the_future_is_refused(self, runner, telegram_sqlite, tmp_path):
        future = {**lines(JULY)[1], "measurement_start_time": "2999-01-01 00:00:00"}
        line = one_line_error(run(runner, telegram_sqlite, "import-ooni",
                                  str(write(tmp_path / "f.jsonl", [future]))), 1)
        assert "line 1 of" in line and "future" in line

    def test_batch_commit_keeps_the_batches_before_a_refusal(self, runner, db, example,
                                                             tmp_path):
        """Batches of 2: the refusal at the fifth observation keeps the first two batches;
        the default writes nothing; a re-run of the fixed file adds the rest."""
        assert run(runner, db, "import", str(example)).exit_code == 0
        good = [m for m in lines(JULY) if m["test_keys"].get("accessible") is not None
                and m["input"] != "https://www.example.org/"][:6]
        bad = {**good[4], "measurement_start_time": "2999-01-01 00:00:00"}
        path = write(tmp_path / "m.jsonl", [*good[:4], bad, good[5]])
        before = count(db)
        assert run(runner, db, "import-ooni", str(path), "--batch-size", "2").exit_code == 1
        assert count(db) == before
        assert run(runner, db, "import-ooni", str(path), "--batch-size", "2",
                   "--batch-commit").exit_code == 1
        assert count(db) == before + 4
        fixed = write(tmp_path / "fixed.jsonl", good)
        summary = imported(runner, db, str(fixed), "--batch-size", "2", "--batch-commit")
        assert (summary["imported"], summary["already_present"]) == (2, 4)


class TestDomains:
    def test_the_host_of_a_url_is_a_target(self):
        assert host_of("https://WEB.Telegram.ORG.:443/path?q") == "web.telegram.org"
        assert host_of("http://bücher.example/") == "xn--bcher-kva.example"
        assert host_of("http://[2001:DB8::1]:80/") == "2001:db8::1"
        for bad in ("t.me", "https:///x", "mailto:a@b.c", "http://[::1/", 42):
            with pytest.raises(BadInput):
                host_of(bad)

    def test_registrable_domains_by_the_bundled_public_suffix_list(self):
        assert registrable("www.example.co.uk") == "example.co.uk"
        assert registrable("web.telegram.org") == "telegram.org"
        assert registrable("co.uk") is None
        assert registrable("192.0.2.7") is None and registrable("2001:db8::1") is None
        assert registrable("someone.blogspot.com") == "someone.blogspot.com"  # private

    def test_candidates_stop_at_the_registrable_domain(self):
        assert candidates("a.b.example.co.uk") == ["a.b.example.co.uk", "b.example.co.uk",
                                                   "example.co.uk"]
        assert candidates("co.uk") == ["co.uk"]
        assert candidates("192.0.2.7") == ["192.0.2.7"]

    def test_a_long_domain_gets_a_short_distinct_slug(self):
        long_a = "a" * 60 + "." + "b" * 60 + ".example"
        long_b = "a" * 60 + "." + "b" * 61 + ".example"
        assert len(platform_slug(long_a)) <= 100
        assert platform_slug(long_a) != platform_slug(long_b)
        assert platform_slug("example.co.uk") == "example.co.uk"


class TestHolders:
    def _fact(self, type_: str, at: str, targets: list[str], ref: str = "p") -> Fact:
        data: dict[str, Any] = {"targets": targets}
        if type_ == "platform-registered":
            data["name"] = ref
        return Fact.from_json({"type": type_, "subject": ref, "occurred_at": at,
                               "sources": ["x"], "data": data})

    def test_targets_are_held_over_valid_time(self):
        """Registered with a.example in 2020, b.example added in 2021, a.example removed in
        2022: who holds what, when, found without a fold per question."""
        from datetime import UTC, datetime

        holders = Holders()
        holders.add_platform("p", [
            self._fact("platform-registered", "2020-01-01", ["a.example"]),
            self._fact("targets-removed", "2022-01-01", ["a.example"]),
            self._fact("targets-added", "2021-01-01", ["b.example"]),
        ])

        def at(year: int) -> datetime:
            return datetime(year, 6, 1, tzinfo=UTC)

        assert holders.find("a.example", at(2020)) == Held("p", "a.example", False)
        assert holders.find("www.a.example", at(2021)) == Held("p", "a.example", True)
        assert holders.find("a.example", at(2023)) is None  # removed: nobody holds it
        assert holders.find("b.example", at(2020)) == Held("p", "b.example", False, later=True)
        assert holders.find("c.example", at(2021)) is None
        holders.add_platform("q", [self._fact("platform-registered", "2020-01-01",
                                              ["b.example"], ref="q")])
        assert holders.find("b.example", at(2021)) == AMBIGUOUS

    def test_an_observation_is_the_fact_the_interchange_format_makes_of_it(self):
        """observation_fact, built directly, equals Fact.from_json of the interchange object,
        for every fixture measurement that makes one (each blocking value, with and without
        network and jurisdiction, an odd report_id)."""
        from sources.ooni import observation, observation_fact

        odd = {**lines(JULY)[0], "report_id": "../x?input=evil#frag \u00e9"}
        made = 0
        for obj in [*lines(JULY), *lines(AUGUST), *lines(BRITAIN), odd]:
            m = measurement(obj)
            if isinstance(m, str):
                continue
            held = Held("some-platform", m.host, False)
            assert observation_fact(m, held) == Fact.from_json(observation(m, held))
            made += 1
        assert made == 18

    def test_measurement_reads_only_what_it_needs_of_other_tests(self):
        assert measurement({"test_name": "dnscheck", "input": 5}) == "other-test"
        assert measurement({"test_name": "web_connectivity",
                            "test_keys": {"accessible": None}}) == "accessible-null"


def test_the_command_accepts_json_before_it(runner, telegram_sqlite):
    """--json given before the command, as for every command with a JSON mode."""
    result = run(runner, telegram_sqlite, "--json", "import-ooni", str(AUGUST))
    assert result.exit_code == 0 and json.loads(result.stdout)["imported"] == 1


@pytest.mark.e2e
def test_end_to_end_through_the_installed_command(tmp_path, example):
    """The installed blockledger: import the case, a gzip bucket file and stdin, then
    status, as an operator runs them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKLEDGER_")}
    env.update(BLOCKLEDGER_OPERATOR="e2e", BLOCKLEDGER_DB=str(tmp_path / "l.db"))

    def sh(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([blockledger(), *args], cwd=tmp_path, env=env, input=input,
                              capture_output=True, timeout=120)

    assert sh("import", str(example)).returncode == 0
    done = sh("import-ooni", str(AUGUST))
    assert done.returncode == 0, done.stderr
    assert b"imported 1 observation\n" in done.stdout
    assert b"www.example.org  1" in done.stdout
    piped = sh("import-ooni", "-", input=JULY.read_bytes())
    assert piped.returncode == 0 and b"imported 8 observations" in piped.stdout
    status = json.loads(sh("status", "telegram", "--json", "--as-of", "2017-07-31").stdout)
    assert status["divergence"]["core.telegram.org"] == "reachable-while-blocked"
    bad = sh("import-ooni", "-", input=b'{"test_name": "web_connectivity", '
             b'"test_keys": {"accessible": 1}}\n')
    assert bad.returncode == 2
    assert bad.stderr.decode().strip() == ("error: line 1 of stdin, field "
                                           "'test_keys.accessible': expected true, false or "
                                           "null, got a number")


def test_the_benchmark_runs_and_reports_its_figures():
    """benchmarks/ooni.py at 300 measurements: every figure, both sides writing the same
    events. It asserts nothing about speed."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from ooni import measure_ooni

    figures = measure_ooni(300)
    assert figures["ooni_measurements"] == figures["ooni_observations"] == 300
    for key in ("ooni_measurements_per_s", "ooni_baseline_import_events_per_s",
                "ooni_vs_import", "ooni_bytes_per_measurement"):
        assert figures[key] > 0, key
