"""Human status: everything --json says for one platform, and one row per platform."""

from __future__ import annotations

from pathlib import Path

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


    def test_a_lifted_for_a_while_or_suspended_order_says_since_when_it_is(
            self, runner, sqlite_path, monkeypatch):
        """The state's own start, and the block beside it: before, "suspended since" and
        "temporarily-lifted since" gave the day the order was made."""
        monkeypatch.setenv("COLUMNS", "120")
        record(runner, sqlite_path, "platform-registered", "xp", "--at", "2022-01-01",
               "--name", "X", "--target", "a.x", "--target", "b.x")
        record(runner, sqlite_path, "blocked", "o1", "--at", "2022-03-01", "--platform", "xp",
               "--authority", "A1", "--reason", "r", "--target", "a.x")
        record(runner, sqlite_path, "unblocked", "o1", "--at", "2022-04-01", "--target", "a.x",
               "--until", "2022-04-15")
        record(runner, sqlite_path, "blocked", "o2", "--at", "2022-05-01", "--platform", "xp",
               "--authority", "A2", "--reason", "r", "--target", "b.x")
        record(runner, sqlite_path, "ruling", "o2", "--at", "2022-06-01", "--court", "Court Z",
               "--outcome", "suspended", "--summary", "held")
        during = run(runner, sqlite_path, "status", "xp", "--as-of", "2022-04-05").output
        assert ("order o1 by A1: temporarily-lifted since 2022-04-01, in force from "
                "2022-03-01") in during
        now = run(runner, sqlite_path, "status", "xp").output
        assert "order o1 by A1: in-effect since 2022-03-01" in now
        assert "order o2 by A2: suspended since 2022-06-01, in force from 2022-05-01" in now


class TestSummary:
    def test_one_row_per_platform(self, runner, three_platforms, monkeypatch):
        """Without a platform: a row each with state, since, blocked/registered, orders."""
        monkeypatch.setenv("COLUMNS", "80")
        lines = run(runner, three_platforms, "status").output.splitlines()
        assert lines[0].split() == ["platform", "state", "blocked", "in", "effect", "since",
                                    "authority"]  # (no flags anywhere: no flags column)
        assert max(len(line) for line in lines) <= 80
        monkeypatch.setenv("COLUMNS", "120")
        lines = run(runner, three_platforms, "status").output.splitlines()
        beta = next(line for line in lines if line.startswith("beta"))
        assert "partially-blocked" in beta and "2017-05-01" in beta and "1/2" in beta
        assert "1 of 1" in beta and beta.split()[-1] == "Y"

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

    def test_an_order_disputed_alone_flags_its_platform(self, runner, three_platforms,
                                                        monkeypatch):
        """The flags column says what the CSV's ``disputed`` says: a dispute of an order
        alone flags its platform (before, the table looked at the platform's own events
        only, and said nothing where the CSV said true)."""
        history = run_json(runner, three_platforms, "history", "order-b")["events"]
        record(runner, three_platforms, "dispute", "order-b", "--at", "2017-05-01",
               "--target", history[0]["id"], "--claim", "it was never made")
        monkeypatch.setenv("COLUMNS", "120")
        lines = run(runner, three_platforms, "status").output.splitlines()
        assert "flags" in lines[0].split()
        assert "disputed" in next(line for line in lines if line.startswith("beta"))
        assert "disputed" not in next(line for line in lines if line.startswith("alpha"))
        rows = run(runner, three_platforms, "status", "--format", "csv").output.splitlines()
        header = rows[0].split(",")
        beta = next(r for r in rows if r.startswith("beta")).split(",")
        assert beta[header.index("disputed")] == "true"

    def test_nothing_matches(self, runner, three_platforms):
        """A filter that keeps nothing says so: piped, on stderr, so that stdout is the
        tab-separated header alone (the note was a row of stdout's); the same for history."""
        result = run(runner, three_platforms, "status", "--authority", "nobody")
        assert result.exit_code == 0
        assert "no platforms match" in result.stderr
        assert result.stdout.splitlines() == [result.stdout.splitlines()[0]]
        assert result.stdout.startswith("platform\t")
        result = run(runner, three_platforms, "history", "--type", "condition-met")
        assert result.exit_code == 0 and "no events match" in result.stderr
        assert len(result.stdout.splitlines()) <= 1


CASES = sorted(p.stem for p in (Path(__file__).resolve().parent.parent / "examples").glob(
    "*.jsonl"))


def words_of(statuses: list[dict]) -> list[str]:
    """Every word the summary should show whole: references, names (where they are not
    the reference again), states, and the authorities of the orders in effect."""
    from projections.formats import IN_EFFECT

    out = []
    for s in statuses:
        authorities = ", ".join(sorted({o["authority"] for o in s["orders"]
                                        if o["state"] in IN_EFFECT}))
        name = s["name"].split() if s["name"].casefold() != s["platform"].casefold() else []
        out += [s["platform"], s["state"], *name, *authorities.split()]
    return out


class TestSummaryWidths:
    """The summary at 80 and 120 columns on the bundled cases (now, and on days their
    blocks were in force): no line wider than the screen, no word split; what does not
    fit beside the row is written under it."""

    @pytest.mark.parametrize("width", [80, 120])
    @pytest.mark.parametrize("case", CASES)
    def test_no_word_is_split(self, runner, sqlite_path, monkeypatch, case, width):
        assert run(runner, sqlite_path, "demo", "--case", case).exit_code == 0
        monkeypatch.setenv("COLUMNS", str(width))
        shown_authority = False
        for as_of in ((), ("--as-of", "2017-07-20"), ("--as-of", "2018-01-01")):
            statuses = run_json(runner, sqlite_path, "status", *as_of)
            output = run(runner, sqlite_path, "status", *as_of).output
            lines = output.splitlines()
            assert max(len(line) for line in lines) <= width, output
            shown = set(output.split())
            missing = [word for word in words_of(statuses) if word not in shown]
            assert not missing, output
            shown_authority |= any(o["state"] == "in-effect" for s in statuses
                                   for o in s["orders"])
        assert shown_authority  # each case has a day with an order in force

    def test_the_long_authority_of_2020_goes_under_its_row_at_80(self, runner, sqlite_path,
                                                                 monkeypatch):
        """At 80 columns the authority is written whole under each row; at 120 beside it."""
        assert run(runner, sqlite_path, "demo", "--case", "india-apps-2020").exit_code == 0
        authority = "Ministry of Electronics and Information Technology (MeitY)"
        monkeypatch.setenv("COLUMNS", "80")
        lines = run(runner, sqlite_path, "status").output.splitlines()
        assert lines[0].split()[-1] == "since"
        assert lines[1].startswith("baidu-map Baidu Map") and "1 of 1" in lines[1]
        assert lines[2] == f"  by {authority}"
        monkeypatch.setenv("COLUMNS", "120")
        lines = run(runner, sqlite_path, "status").output.splitlines()
        assert lines[0].split()[-1] == "authority"
        at = lines[0].index("authority")
        assert " ".join((lines[1][at:] + " " + lines[2][at:]).split()) == authority
        assert not lines[2][:at].strip()  # the second line of the cell, in its column

    def test_an_overturned_order_is_not_in_effect(self, runner, sqlite_path):
        """Turkey's block was overturned by the Constitutional Court: 0 of 1 in effect,
        in the table and in the csv's orders_in_effect."""
        assert run(runner, sqlite_path, "demo", "--case", "turkey-wikipedia-2017").exit_code == 0
        [row] = run(runner, sqlite_path, "status").output.splitlines()[1:]
        assert "0 of 1" in row
        text = run(runner, sqlite_path, "status", "--format", "csv").output
        assert text.splitlines()[1].split(",")[6] == ""  # orders_in_effect
        during = run(runner, sqlite_path, "status", "--as-of", "2018-01-01").output
        assert "1 of 1" in during

    def test_a_word_longer_than_its_column_goes_under_the_row(self, runner, sqlite_path,
                                                              monkeypatch):
        """An authority of one 60-character word at 80 columns: whole, under the row."""
        word = "Telekomunikasyonvebilgiteknolojileriuzmanlikkurumubaskanligi"
        record(runner, sqlite_path, "platform-registered", "alpha", "--at", "2017-01-01",
               "--name", "Alpha", "--target", "a.example")
        record(runner, sqlite_path, "blocked", "order-a", "--at", "2018-03-01", "--platform",
               "alpha", "--authority", word, "--reason", "r", "--target", "a.example")
        monkeypatch.setenv("COLUMNS", "80")
        output = run(runner, sqlite_path, "status").output
        assert f"  by {word}" in output.splitlines()
        assert max(len(line) for line in output.splitlines()) <= 80


def test_a_subject_the_ledger_does_not_hold_is_exit_1_on_every_read(runner, three_platforms,
                                                                     tmp_path):
    """status, history and report of a name the ledger has not: one line naming it, exit 1
    (README: as grep finding nothing; a malformed name is exit 2), nothing written."""
    out = tmp_path / "r.html"
    for args in (("status", "nosuch"), ("status", "nosuch", "--json"), ("history", "nosuch"),
                 ("report", "provenance", "nosuch", "-o", str(out))):
        result = run(runner, three_platforms, *args)
        assert result.exit_code == 1, (args, result.output)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "nosuch" in lines[0], (args, lines)
    assert not out.exists()


def test_a_malformed_name_is_exit_2_on_every_read(runner, three_platforms, tmp_path):
    """A name no subject could have ('Bad Name!', empty) is bad input on every read: one
    line naming it, exit 2 (status and history said 'not registered', exit 1; review)."""
    for name in ("Bad Name!", ""):
        for args in (("status", name), ("history", name),
                     ("report", "provenance", name, "-o", str(tmp_path / "r.html"))):
            result = run(runner, three_platforms, *args)
            assert result.exit_code == 2, (args, result.output)
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and "is not a reference" in lines[0], (args, lines)
