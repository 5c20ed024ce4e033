"""publish, per jurisdiction: the home lists a row per platform and jurisdiction, each the
ledger's own answer there (``status --jurisdiction``); the slider's snapshots answer per
jurisdiction; ``--jurisdiction CC`` chooses what the site shows first and is no default
for orders that name none (the ledger's own default, a signed event, is)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ledger.application import open_ledger
from ledger.storage import parse_target
from tests.clitools import key_pair, one_line_error, run, run_json
from tests.test_publish import page_data

#: Brazil's Supreme Court's order of 18 March 2022 against Telegram, kept in force here.
BRAZIL = ["record", "blocked", "stf-2022-03-18", "--at", "2022-03-18", "--platform",
          "telegram", "--authority", "Supreme Federal Court", "--target", "t.me",
          "--target", "telegram.org", "--jurisdiction", "BR", "--reason",
          "failure to comply with court orders", "--source", "https://example.org/stf"]


def two_jurisdictions(runner, db: str, example: Path) -> None:
    """The 2017 case (Indonesia's order, lifted) and Brazil's order of 2022."""
    assert run(runner, db, "import", str(example)).exit_code == 0
    result = run(runner, db, *BRAZIL)
    assert result.exit_code == 0, result.output


@pytest.fixture
def ledger(runner, sqlite_path, example, tmp_path):
    two_jurisdictions(runner, sqlite_path, example)
    private, _ = key_pair(tmp_path, "publisher")
    return sqlite_path, private


def published(runner, ledger, out: Path, *more: str) -> Path:
    db, private = ledger
    result = run(runner, db, "publish", str(out), "--key", private, *more)
    assert result.exit_code == 0, result.stderr
    return out


def rows(site: Path) -> dict:
    return {(r["ref"], r["jurisdiction"]): r for r in page_data(site / "index.html")["rows"]}


class TestHome:
    def test_a_row_per_platform_and_jurisdiction_as_status_answers(self, runner, ledger,
                                                                 tmp_path):
        """Telegram: accessible in Indonesia (lifted in 2017), partially blocked in
        Brazil; each row the state and targets of status's answer there."""
        site = published(runner, ledger, tmp_path / "site")
        found = rows(site)
        assert set(found) == {("telegram", "ID"), ("telegram", "BR")}
        status = run_json(runner, ledger[0], "status", "telegram")
        for code in ("ID", "BR"):
            there = status["jurisdictions"][code]
            assert found[("telegram", code)]["state"] == there["state"]
            assert found[("telegram", code)]["blocked"] == len(there["blocked_targets"])
        assert found[("telegram", "ID")]["state"] == "accessible"
        assert found[("telegram", "ID")]["authorities"] == ["Kominfo"]
        assert found[("telegram", "BR")]["state"] == "partially-blocked"
        assert found[("telegram", "BR")]["authorities"] == ["Supreme Federal Court"]
        assert "since 2022-03-18" in found[("telegram", "BR")]["since"]
        assert found[("telegram", "ID")]["since"] is None

    def test_the_site_jurisdiction_has_a_row_even_without_an_order_there(
            self, runner, ledger, tmp_path):
        """--jurisdiction DE: a row for Germany, what status --jurisdiction DE answers
        (nothing binds there: accessible); a subdivision holds its country's orders."""
        found = rows(published(runner, ledger, tmp_path / "de", "--jurisdiction", "DE"))
        assert found[("telegram", "DE")]["state"] == run_json(
            runner, ledger[0], "status", "telegram", "--jurisdiction", "DE")["state"]
        assert found[("telegram", "DE")]["state"] == "accessible"
        found = rows(published(runner, ledger, tmp_path / "sp", "--jurisdiction", "BR-SP"))
        assert found[("telegram", "BR-SP")]["state"] == "partially-blocked"

    def test_a_bad_code_is_refused_naming_it(self, runner, ledger, tmp_path):
        """UK is not ISO 3166's code for the United Kingdom: exit 2, nothing written."""
        db, private = ledger
        result = run(runner, db, "publish", str(tmp_path / "s"), "--key", private,
                     "--jurisdiction", "UK")
        assert "GB" in one_line_error(result, 2)
        assert not (tmp_path / "s").exists()


class TestSnapshots:
    @pytest.mark.parametrize("day", ["2017-07-20", "2017-08-20", "2022-03-17", "2022-03-19"])
    def test_each_jurisdiction_answers_as_status_does(self, runner, ledger, tmp_path, day):
        """The slider's snapshot of a day answers in ID and in BR what status --as-of
        that day --jurisdiction says (null: the same as the whole answer)."""
        site = published(runner, ledger, tmp_path / "site")
        data = page_data(site / "platform/telegram.html")
        snaps = data["snapshots_now"]["snapshots"]
        last = [s for s in snaps if s["at"][:10] <= day][-1]["status"]
        for code in ("ID", "BR"):
            status = run_json(runner, ledger[0], "status", "telegram", "--as-of", day,
                              "--jurisdiction", code)
            shown = last["jurisdictions"][code] or last
            assert shown["state"] == status["state"], (day, code)
            assert shown["blocked_targets"] == status["blocked_targets"], (day, code)
            assert [o["ref"] for o in shown["orders"]] == [o["ref"] for o in status["orders"]]


class TestNotADefault:
    @pytest.fixture
    def unnamed(self, runner, sqlite_path, example, tmp_path):
        """The 2017 case with every jurisdiction taken out, in a ledger with no default."""
        source = tmp_path / "unnamed.jsonl"
        with source.open("w") as out:
            for line in example.read_text().splitlines():
                event = json.loads(line)
                event.get("data", {}).pop("jurisdiction", None)
                out.write(json.dumps(event) + "\n")
        assert run(runner, sqlite_path, "import", str(source)).exit_code == 0
        private, _ = key_pair(tmp_path, "publisher")
        return sqlite_path, private

    def test_it_is_refused_where_an_order_binds_no_jurisdiction(self, runner, unnamed,
                                                                 tmp_path):
        """--jurisdiction ID over an order that names none, with no default: it would
        not count in ID's answer, so exit 2 says how to record the default; nothing is
        written, not even the checkpoint kept in the ledger."""
        db, private = unnamed
        result = run(runner, db, "publish", str(tmp_path / "s"), "--key", private,
                     "--jurisdiction", "ID")
        error = one_line_error(result, 2)
        assert "kominfo-2017-07-14" in error and "init --jurisdiction ID" in error
        assert not (tmp_path / "s").exists()
        with open_ledger(parse_target(db)) as kept:
            assert kept.recorder.select_checkpoints() == []

    def test_without_it_the_row_names_no_jurisdiction(self, runner, unnamed, tmp_path):
        """Without --jurisdiction: one row, of no jurisdiction, with the whole answer;
        once the ledger records ID as its default, an ID row instead."""
        found = rows(published(runner, unnamed, tmp_path / "a"))
        assert list(found) == [("telegram", None)]
        assert found[("telegram", None)]["state"] == "accessible"
        assert found[("telegram", None)]["authorities"] == ["Kominfo"]
        assert run(runner, unnamed[0], "init", "--jurisdiction", "ID").exit_code == 0
        found = rows(published(runner, unnamed, tmp_path / "b", "--jurisdiction", "ID"))
        assert list(found) == [("telegram", "ID")]
