"""A read-only PostgreSQL role (docs/auditor-role.md): it reads and verifies everything, and
every write fails in one line with nothing written."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from ledger import encryption
from ledger.application import open_ledger
from ledger.storage import parse_target
from tests.clitools import count, one_line_error, run, run_json
from tests.facts import fact

pytestmark = pytest.mark.postgres

DOC = Path(__file__).resolve().parent.parent / "docs" / "auditor-role.md"


def grant_statements(role: str, dbname: str) -> list[str]:
    """The SQL of docs/auditor-role.md, for ``role`` on ``dbname``: what the doc says is
    what the tests run."""
    [block] = re.findall(r"```sql\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    sql = re.sub(r"\bauditor\b", f'"{role}"', block)
    sql = re.sub(r"\bDATABASE ledger\b", f'DATABASE "{dbname}"', sql)
    return [s.strip() for s in sql.split(";") if s.strip()]


def as_role(url: str, role: str) -> str:
    """``url`` with ``role`` as its user (trust authentication on the test server)."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{role}@{parts.netloc.rpartition('@')[2]}").geturl()


@pytest.fixture
def make_auditor(pg_url: str) -> Iterator[Callable[[], str]]:
    """Makes a uniquely named read-only role on this test's database, as the doc says, and
    returns its ledger URL; every role made is dropped afterwards."""
    dbname = urlsplit(pg_url).path.lstrip("/")
    made: list[str] = []

    def make() -> str:
        role = f"bl_auditor_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            for statement in grant_statements(role, dbname):
                conn.execute(statement)
        made.append(role)
        return as_role(pg_url, role)

    yield make
    with psycopg.connect(pg_url, autocommit=True) as conn:
        for role in made:
            conn.execute(f'DROP OWNED BY "{role}"')  # its grants here and on the database
            conn.execute(f'DROP ROLE "{role}"')


@pytest.fixture
def owner(runner, pg_url: str, example: Path, tmp_path: Path) -> str:
    """The 2017 case, recorded by the owner, with a checkpoint kept in the ledger."""
    assert run(runner, pg_url, "import", str(example)).exit_code == 0
    assert run(runner, pg_url, "checkpoint", "-o", str(tmp_path / "cp.txt")).exit_code == 0
    return pg_url


@pytest.fixture
def auditor(owner: str, make_auditor: Callable[[], str]) -> str:
    """A read-only role made after the ledger was filled."""
    return make_auditor()


def footprint(db: str) -> tuple:
    """What a write would change: events, checkpoints, the views' positions and rows."""
    with psycopg.connect(db) as conn:
        return tuple(conn.execute(statement).fetchall() for statement in (
            "SELECT COUNT(*) FROM blockledger_events",
            "SELECT COUNT(*) FROM blockledger_events_checkpoints",
            "SELECT application_name, notification_id FROM blockledger_tracking ORDER BY 1",
            "SELECT COUNT(*) FROM bl_view_history",
            "SELECT COUNT(*) FROM bl_view_status"))


class TestReads:
    @pytest.mark.parametrize("command", [
        ("status",), ("status", "telegram", "--as-of", "2017-07-20"),
        ("status", "telegram", "--as-known-at", "2030-01-01"), ("history", "telegram"),
        ("history", "kominfo-2017-07-14")], ids=" ".join)
    def test_the_auditor_reads_what_the_owner_reads(self, runner, owner, auditor, command):
        """status and history answer the same for the auditor as for the owner."""
        assert run_json(runner, auditor, *command) == run_json(runner, owner, *command)

    def test_the_auditor_exports_the_same_lines(self, runner, owner, auditor):
        """export: the same lines, hashes included."""
        result = run(runner, auditor, "export")
        assert result.exit_code == 0, result.stderr
        assert result.stdout == run(runner, owner, "export").stdout

    def test_the_auditor_gets_a_provenance_report(self, runner, owner, auditor):
        """report provenance cites the checkpoint kept in the ledger, with proofs."""
        result = run(runner, auditor, "report", "provenance", "telegram", "--format", "json")
        assert result.exit_code == 0, result.stderr
        report = json.loads(result.stdout)
        expected = json.loads(run(runner, owner, "report", "provenance", "telegram",
                                  "--format", "json").stdout)
        assert report["checkpoint"] == expected["checkpoint"]
        assert len(report["events"]) == len(expected["events"]) > 0
        markdown = run(runner, auditor, "report", "provenance", "telegram")
        assert markdown.exit_code == 0 and markdown.stdout

    def test_the_auditor_verifies_the_ledger_and_a_checkpoint(self, runner, owner, auditor,
                                                            tmp_path):
        """verify, and verify --against a checkpoint kept outside the ledger."""
        result = run(runner, auditor, "verify", "--json")
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["ok"] is True
        result = run(runner, auditor, "verify", "--against", str(tmp_path / "cp.txt"))
        assert result.exit_code == 0, result.stderr

    def test_the_auditor_writes_a_checkpoint_kept_outside_the_ledger(self, runner, owner,
                                                                     auditor, tmp_path):
        """checkpoint --no-keep only reads; the auditor verifies against it later."""
        before = footprint(owner)
        saved = tmp_path / "auditor-cp.txt"
        result = run(runner, auditor, "checkpoint", "--no-keep", "-o", str(saved))
        assert result.exit_code == 0, result.stderr
        assert footprint(owner) == before
        result = run(runner, auditor, "verify", "--against", str(saved))
        assert result.exit_code == 0, result.stderr

    def test_the_auditor_sees_the_projections_positions(self, runner, owner, auditor):
        """projections status only reads."""
        lag = run_json(runner, auditor, "projections", "status")
        assert lag["history"]["lag"] == 0

    def test_reads_replay_the_log_when_the_views_lag(self, runner, owner, auditor):
        """Events the views have not taken in yet (nobody caught them up) are in the
        auditor's answers: the read replays the log, writes nothing, and raises nothing."""
        with open_ledger(parse_target(owner)) as ledger:
            ledger.record([fact("platform-registered", "signal", at="2020-01-01",
                                data={"name": "Signal", "targets": ["signal.org"]})],
                          operator="owner")
        before = footprint(owner)
        status = run_json(runner, auditor, "status")
        assert "signal" in [item["platform"] for item in status]
        assert run_json(runner, auditor, "status", "signal")["state"] == "accessible"
        events = run_json(runner, auditor, "history", "signal")["events"]
        assert [e["type"] for e in events] == ["platform-registered"]
        assert run_json(runner, auditor, "projections", "status")["history"]["lag"] == 1
        assert footprint(owner) == before

    def test_a_role_made_before_init_reads_the_tables_made_later(self, runner, pg_url,
                                                                  make_auditor, example):
        """The default privileges of the doc cover tables the owner creates afterwards."""
        auditor = make_auditor()
        assert run(runner, pg_url, "import", str(example)).exit_code == 0
        assert run_json(runner, auditor, "status", "telegram")["platform"] == "telegram"
        assert run(runner, auditor, "verify").exit_code == 0

    def test_a_role_without_select_may_not_read(self, runner, owner, pg_url):
        """A role that may connect but not select: one line naming the role, exit 1."""
        role = f"bl_nobody_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{role}" LOGIN')
            conn.execute(f'GRANT USAGE ON SCHEMA public TO "{role}"')
        try:
            line = one_line_error(run(runner, as_role(pg_url, role), "status"), 1)
            assert line.startswith(f"error: the role '{role}' may not read this ledger")
            assert "permission denied for table" in line
        finally:
            with psycopg.connect(pg_url, autocommit=True) as conn:
                conn.execute(f'DROP OWNED BY "{role}"')
                conn.execute(f'DROP ROLE "{role}"')


WRITES = {
    "init": ("init",),
    "record": ("record", "platform-registered", "signal", "--at", "2020-01-01",
               "--source", "https://signal.org", "--name", "Signal", "--target", "signal.org"),
    "import": ("import", "-"),
    "import --batch-commit": ("import", "--batch-commit", "-"),
    "checkpoint": ("checkpoint",),
    "projections rebuild": ("projections", "rebuild"),
    "projections rebuild history": ("projections", "rebuild", "history"),
    "demo": ("demo",),
}


class TestWrites:
    @pytest.mark.parametrize("command", WRITES.values(), ids=WRITES.keys())
    def test_every_write_fails_in_one_line_and_writes_nothing(self, runner, owner, auditor,
                                                              example, command):
        """The database refuses the role; the command says so in one line, exit 1."""
        before = footprint(owner)
        more = example.read_text().replace("telegram", "telegrem")  # new ids would land
        result = run(runner, auditor, *command, input=more)
        line = one_line_error(result, 1)
        role = urlsplit(auditor).username
        assert line.startswith(f"error: the role '{role}' may not write to this ledger")
        assert "permission denied" in line
        assert footprint(owner) == before

    def test_the_owner_still_writes_afterwards(self, runner, owner, auditor):
        """The refused writes left nothing half-done: the owner records as before."""
        one_line_error(run(runner, auditor, *WRITES["record"]), 1)
        before = count(owner)
        assert run(runner, owner, *WRITES["record"]).exit_code == 0
        assert count(owner) == before + 1
        assert run_json(runner, auditor, "status", "signal")["state"] == "accessible"


def test_an_auditor_of_an_encrypted_ledger_needs_the_key(runner, monkeypatch, pg_url,
                                                          make_auditor, example):
    """The role decides what the auditor may change, the key whether they may read."""
    key = encryption.new_key()
    monkeypatch.setenv(encryption.KEY_VARIABLE, key)
    assert run(runner, pg_url, "import", str(example)).exit_code == 0
    auditor = make_auditor()
    assert run(runner, auditor, "verify").exit_code == 0
    assert run_json(runner, auditor, "status", "telegram")["platform"] == "telegram"
    one_line_error(run(runner, auditor, *WRITES["record"]), 1)
    monkeypatch.delenv(encryption.KEY_VARIABLE)
    line = one_line_error(run(runner, auditor, "verify"), 2)
    assert "this ledger is encrypted: verify needs BLOCKLEDGER_CIPHER_KEY" in line
