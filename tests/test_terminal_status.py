"""Human status: everything --json says for one platform, and one row per platform."""

from __future__ import annotations

import pytest

from tests.clitools import one_line_error, run, run_json

SOURCE = ("--source", "https://example.org/notice")
DIVERGENT = ("t.me", "venus.web.telegram.org", "pluto.web.telegram.org",
             "flora.web.telegram.org", "flora-1.web.telegram.org")


@pytest.fixture
def ledger_2017(runner, sqlite_path, example):
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    return sqlite_path


def record(runner, db, *args):
    result = run(runner, db, "record", *args, *SOURCE)
    assert result.exit_code == 0, result.output


@pytest.fixture
def three_platforms(runner, sqlite_path):
    """alpha blocked by X, beta partially blocked by Y, gamma accessible."""
    for name, targets in (("alpha", ["a.example"]), ("beta", ["b.example", "b.app"]),
                          ("gamma", ["c.example"])):
        record(runner, sqlite_path, "platform-registered", name, "--at", "2017-01-01",
               "--name", name.title(), *[x for t in targets for x in ("--target", t)])
    record(runner, sqlite_path, "blocked", "order-a", "--at", "2018-03-01", "--platform",
           "alpha", "--authority", "X", "--reason", "r", "--target", "a.example")
    record(runner, sqlite_path, "blocked", "order-b", "--at", "2017-05-01", "--platform",
           "beta", "--authority", "Y", "--reason", "r", "--target", "b.example")
    return sqlite_path


class TestOnePlatform:
    def test_the_2017_case_names_divergent_targets_and_the_disputed_email(
            self, runner, ledger_2017, monkeypatch):
        """Human status says what --json says: observations, the five divergent targets
        with network and time, the disputed email and its claim, the order's from -> to."""
        monkeypatch.setenv("COLUMNS", "100")
        output = run(runner, ledger_2017, "status", "telegram").output
        for target in DIVERGENT:
            assert f"DIVERGENT {target}: unreachable at 2017-08-10 on some Indonesian ISPs" \
                in output
        assert "disputed: email-sent of 2016-03-29" in output
        assert "claim: viva.co.id also reports" in output
        assert ("order kominfo-2017-07-14 by Kominfo in ID: lifted, in force 2017-07-14 "
                "04:00 -> 2017-08-10") in " ".join(output.split())
        assert "request telegram-id-2017: granted" in output and "local-office waived" in output

    def test_during_the_block(self, runner, ledger_2017, monkeypatch):
        """As of 20 July: 11 of 13 targets blocked since 11:00 WIB, the order in effect."""
        monkeypatch.setenv("COLUMNS", "100")
        output = run(runner, ledger_2017, "status", "telegram", "--as-of", "2017-07-20",
                     "--tz", "Asia/Jakarta").output
        assert "partially-blocked since 2017-07-14 11:00" in output
        assert "blocked (11 of 13 targets)" in output
        assert "in-effect since 2017-07-14 11:00" in output

    def test_a_temporary_lift_shows_its_end(self, runner, sqlite_path, three_platforms):
        """A temporary lift names its targets and until when."""
        record(runner, sqlite_path, "unblocked", "order-b", "--at", "2019-06-01", "--until",
               "2019-06-20", "--target", "b.example")
        output = run(runner, sqlite_path, "status", "beta", "--as-of", "2019-06-10").output
        assert "temporarily-lifted" in output
        assert "temporarily lifted 2019-06-01 until 2019-06-20: b.example" in output

    def test_an_unexplained_divergence_says_so(self, runner, sqlite_path, three_platforms):
        """A platform's own observation of an unreachable target no order named."""
        record(runner, sqlite_path, "access-observed", "gamma", "--at", "2019-01-01",
               "--target", "c.example", "--not-accessible", "--network", "AS1")
        output = run(runner, sqlite_path, "status", "gamma").output
        assert ("DIVERGENT c.example: unreachable at 2019-01-01 on AS1 (unreachable, and no "
                "order named it then)") in " ".join(output.split())

    def test_selecting_options_need_no_platform(self, runner, ledger_2017):
        """--limit with a PLATFORM is bad usage: exit 2, one line."""
        one_line_error(run(runner, ledger_2017, "status", "telegram", "--limit", "1"), 2)


class TestSummary:
    def test_one_row_per_platform(self, runner, three_platforms, monkeypatch):
        """Without a platform: a row each with state, since, blocked/registered, orders."""
        monkeypatch.setenv("COLUMNS", "80")
        lines = run(runner, three_platforms, "status").output.splitlines()
        assert lines[0].split() == ["platform", "state", "blocked", "in", "effect", "since"]
        assert max(len(line) for line in lines) <= 80
        monkeypatch.setenv("COLUMNS", "120")
        lines = run(runner, three_platforms, "status").output.splitlines()
        assert lines[0].split()[-1] == "flags"
        beta = next(line for line in lines if line.startswith("beta"))
        assert "partially-blocked" in beta and "2017-05-01" in beta and "1/2" in beta
        assert "1 of 1 (Y)" in beta

    def test_filters_sort_and_limit(self, runner, three_platforms):
        """--state, --authority, --sort and --limit choose and order the rows."""
        def platforms(*args):
            return [s["platform"] for s in run_json(runner, three_platforms, "status", *args)]

        assert platforms() == ["alpha", "beta", "gamma"]
        assert platforms("--state", "blocked") == ["alpha"]
        assert platforms("--state", "blocked", "--state", "accessible") == ["alpha", "gamma"]
        assert platforms("--authority", "y") == ["beta"]
        assert platforms("--sort", "since") == ["gamma", "beta", "alpha"]
        assert platforms("--sort", "state", "--limit", "2") == ["gamma", "alpha"]
        csv_rows = run(runner, three_platforms, "status", "--format", "csv", "--sort",
                       "since").output.splitlines()
        assert csv_rows[1].startswith("gamma,Gamma,accessible,2017-01-01")

    def test_nothing_matches(self, runner, three_platforms):
        """A filter that keeps nothing says so."""
        assert "no platforms match" in run(runner, three_platforms, "status", "--authority",
                                           "nobody").output
