"""blockledger publish: the static site, its pages and downloads, from the ledger's folds;
bad input refused in one line with nothing written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.clitools import key_pair, one_line_error, run

DATA = re.compile(r'<script type="application/json" id="bl-data">(.*?)</script>', re.S)


def page_data(path: Path) -> dict:
    """The JSON data a page embeds for its verifier."""
    return json.loads(DATA.search(path.read_text(encoding="utf-8")).group(1))


@pytest.fixture
def case(runner, sqlite_path, example, tmp_path):
    """The 2017 case in a ledger, and a signing key."""
    assert run(runner, sqlite_path, "import", str(example)).exit_code == 0
    private, public = key_pair(tmp_path, "publisher")
    return sqlite_path, private, public


def publish(runner, case, out: Path, *more: str):
    db, private, _ = case
    return run(runner, db, "publish", str(out), "--key", private, *more)


def publish_plain(runner, case, tmp_path: Path) -> Path:
    """The case published without --jurisdiction, into a directory of its own."""
    out = tmp_path / "plain"
    assert publish(runner, case, out).exit_code == 0
    return out


class TestPublish:
    def test_writes_home_platform_order_request_pages_and_downloads(self, runner, case,
                                                                    tmp_path):
        """One command writes every page and download, linked both ways."""
        out = tmp_path / "site"
        result = publish(runner, case, out)
        assert result.exit_code == 0, result.stderr
        for name in ("index.html", "platform/telegram.html", "order/kominfo-2017-07-14.html",
                     "request/telegram-id-2017.html", "downloads/index.html",
                     "downloads/export.jsonl", "downloads/intervals.csv",
                     "downloads/provenance-telegram.json", "checkpoint.txt", "key.pub",
                     "static/verify.js", "static/page.js", "static/noble-ed25519.js",
                     "static/LICENSE-noble-ed25519.txt"):
            assert (out / name).is_file(), name
        platform = (out / "platform/telegram.html").read_text()
        assert 'href="../order/kominfo-2017-07-14.html"' in platform
        assert 'href="../request/telegram-id-2017.html"' in platform
        assert 'href="../platform/telegram.html"' in (out / "order/kominfo-2017-07-14.html"
                                                      ).read_text()
        assert len((out / "downloads/export.jsonl").read_text().splitlines()) == 33
        csv = (out / "downloads/intervals.csv").read_text().splitlines()
        assert csv[0] == "platform,order,authority,state,from,to,blocked"
        assert csv[1].startswith("telegram,kominfo-2017-07-14,Kominfo,in-effect,")

    def test_the_intervals_download_is_guarded_against_formulas(self, runner, sqlite_path,
                                                                  example, tmp_path):
        """An authority named as a spreadsheet formula is text in the download, as in every
        CSV of the ledger (``projections.formats.spreadsheet_safe``)."""
        import csv as csv_module

        hostile = '=HYPERLINK("http://evil.example/","Kominfo")'
        source = tmp_path / "hostile.jsonl"
        source.write_text(example.read_text().replace(
            '"authority": "Kominfo"', '"authority": ' + json.dumps(hostile)))
        assert run(runner, sqlite_path, "import", str(source)).exit_code == 0
        private, _ = key_pair(tmp_path, "publisher")
        out = tmp_path / "site"
        assert run(runner, sqlite_path, "publish", str(out), "--key", private).exit_code == 0
        with (out / "downloads/intervals.csv").open(newline="") as f:
            rows = list(csv_module.DictReader(f))
        assert rows and {row["authority"] for row in rows} == {"'" + hostile}

    def test_the_provenance_download_verifies_with_verify_proof(self, runner, case, tmp_path):
        """The downloaded report is a proven report signed by the publishing key."""
        out = tmp_path / "site"
        assert publish(runner, case, out).exit_code == 0
        report = out / "downloads/provenance-telegram.json"
        result = run(runner, case[0], "verify-proof", str(report), "--public-key", case[2])
        assert result.exit_code == 0, result.stderr
        assert "checkpoint signature valid" in result.stdout

    def test_the_checkpoint_verifies_against_the_ledger(self, runner, case, tmp_path):
        """The published checkpoint is one that verify --against accepts."""
        out = tmp_path / "site"
        assert publish(runner, case, out).exit_code == 0
        result = run(runner, case[0], "verify", "--against", str(out / "checkpoint.txt"))
        assert result.exit_code == 0, result.stderr

    def test_snapshots_are_the_status_folds_at_each_change(self, runner, case, tmp_path):
        """The slider's snapshots: partially-blocked with the 11 web names from 14 July
        2017, accessible from 10 August, as status --as-of says."""
        out = tmp_path / "site"
        assert publish(runner, case, out).exit_code == 0
        data = page_data(out / "platform/telegram.html")
        snaps = data["snapshots_now"]["snapshots"]

        def on(day: str) -> tuple[dict, dict]:
            status = json.loads(run(runner, case[0], "status", "telegram", "--as-of", day,
                                    "--json").stdout)
            last = [s for s in snaps if s["at"][:10] <= day][-1]  # the last change by then
            return status, last["status"]

        for day in ("2017-07-20", "2017-08-20", "2017-08-01"):
            status, shown = on(day)
            assert shown["state"] == status["state"]
            assert shown["blocked_targets"] == status["blocked_targets"]
        assert on("2017-07-20")[1]["state"] == "partially-blocked"
        assert len(on("2017-07-20")[1]["blocked_targets"]) == 11
        assert on("2017-08-20")[1]["state"] == "accessible"

    def test_each_event_ships_its_hashed_bytes_and_proof(self, runner, case, tmp_path):
        """A page ships, per event, the canonical bytes whose SHA-256 is its hash (and its
        operator signature, none in this ledger)."""
        import hashlib

        out = tmp_path / "site"
        assert publish(runner, case, out).exit_code == 0
        events = page_data(out / "platform/telegram.html")["events"]
        assert len(events) == 33
        for item in events:
            assert set(item) == {"n", "hash", "canonical", "leaf_index", "proof", "signature"}
            assert item["signature"] is None
            assert hashlib.sha256(item["canonical"].encode()).hexdigest() == item["hash"]


    def test_the_site_jurisdiction_is_preselected_and_signed(self, runner, case, tmp_path):
        """--jurisdiction ID: the home's filter starts on ID, and the site's jurisdiction
        is in what the publisher signs for the home and the platform pages."""
        out = tmp_path / "site"
        assert publish(runner, case, out, "--jurisdiction", "ID").exit_code == 0
        home = (out / "index.html").read_text()
        assert "<option selected>ID</option>" in home
        assert 'data-jurisdiction="ID"' in home
        assert page_data(out / "index.html")["jurisdiction"] == "ID"
        assert page_data(out / "platform/telegram.html")["jurisdiction"] == "ID"
        assert page_data(publish_plain(runner, case, tmp_path) / "index.html"
                         )["jurisdiction"] is None

    def test_penalties_in_snapshots_without_what_they_accrued(self, runner, case, tmp_path):
        """A penalty's state is in the slider's snapshots; its accrued amount, which grows
        between change points, is not."""
        more = tmp_path / "penalty.jsonl"
        more.write_text(json.dumps({
            "type": "penalty-imposed", "subject": "telegram", "occurred_at": "2017-07-20",
            "sources": [{"title": "t"}], "data": {"authority": "Kominfo", "amount": "1000",
                                                  "currency": "IDR", "per": "day",
                                                  "reason": "test"}}) + "\n")
        assert run(runner, case[0], "import", str(more)).exit_code == 0
        out = tmp_path / "site"
        assert publish(runner, case, out).exit_code == 0
        snaps = page_data(out / "platform/telegram.html")["snapshots_now"]["snapshots"]
        imposed = next(s for s in snaps if s["at"].startswith("2017-07-20"))
        [penalty] = imposed["status"]["penalties"]
        assert penalty["state"] == "running" and "accrued" not in penalty


    def test_the_published_checkpoint_is_kept_unless_no_keep(self, runner, case, tmp_path):
        """Like checkpoint: a copy in the ledger, or none with --no-keep (read-only roles)."""
        assert publish(runner, case, tmp_path / "a", "--no-keep").exit_code == 0
        assert run(runner, case[0], "checkpoint", "--list").stdout == ""
        assert publish(runner, case, tmp_path / "b").exit_code == 0
        kept = run(runner, case[0], "checkpoint", "--list").stdout
        assert kept == (tmp_path / "b" / "checkpoint.txt").read_text()  # byte for byte


@pytest.mark.postgres
def test_publish_from_postgresql(runner, pg_url, example, tmp_path):
    """The same site from a PostgreSQL ledger, and again after one more event."""
    assert run(runner, pg_url, "import", str(example)).exit_code == 0
    private, _ = key_pair(tmp_path, "publisher")
    out = tmp_path / "site"
    result = run(runner, pg_url, "publish", str(out), "--key", private)
    assert result.exit_code == 0, result.stderr
    assert len(page_data(out / "platform/telegram.html")["events"]) == 33
    more = tmp_path / "more.jsonl"
    more.write_text(json.dumps({"type": "statement-issued", "subject": "telegram",
                                "occurred_at": "2017-08-11", "sources": [{"title": "t"}],
                                "data": {"by": "Telegram", "summary": "Thanks."}}) + "\n")
    assert run(runner, pg_url, "import", str(more)).exit_code == 0
    result = run(runner, pg_url, "publish", str(out), "--key", private)
    assert result.exit_code == 0, result.stderr
    assert len(page_data(out / "index.html")["archive"]) == 1


class TestRefused:
    def test_without_a_key_exit_2_nothing_written(self, runner, case, tmp_path, monkeypatch):
        """A publication must be signed: no key is one line, exit 2."""
        monkeypatch.delenv("BLOCKLEDGER_SIGNING_KEY", raising=False)
        out = tmp_path / "site"
        result = run(runner, case[0], "publish", str(out))
        assert "--key" in one_line_error(result, 2)
        assert not out.exists()

    def test_a_directory_of_other_files_exit_2(self, runner, case, tmp_path):
        """A directory that is not a publication is never written over."""
        out = tmp_path / "site"
        out.mkdir()
        (out / "notes.txt").write_text("mine")
        assert "checkpoint.txt" in one_line_error(publish(runner, case, out), 2)
        assert [p.name for p in out.iterdir()] == ["notes.txt"]

    def test_a_bad_jurisdiction_exit_2(self, runner, case, tmp_path):
        """--jurisdiction must be an ISO 3166 code."""
        out = tmp_path / "site"
        assert "jurisdiction" in one_line_error(publish(runner, case, out, "--jurisdiction",
                                                        "indonesia"), 2)
        assert not out.exists()

    def test_no_ledger_exit_2(self, runner, tmp_path):
        """No ledger at --db: one line, nothing written."""
        private, _ = key_pair(tmp_path, "publisher")
        out = tmp_path / "site"
        result = run(runner, str(tmp_path / "none.db"), "publish", str(out), "--key", private)
        one_line_error(result, 2)
        assert not out.exists()
        assert not (tmp_path / "none.db").exists()

    def test_a_ledger_that_does_not_verify_exit_3(self, runner, case, tmp_path):
        """Publishing vouches for the history, as a checkpoint does: a damaged ledger is
        refused, nothing written."""
        import sqlite3

        with sqlite3.connect(case[0]) as db:
            db.execute("UPDATE stored_events SET state = replace(state, 'Kominfo', 'Kominfa') "
                       "WHERE rowid = 5")
        out = tmp_path / "site"
        assert "does not verify" in one_line_error(publish(runner, case, out), 3)
        assert not out.exists()


class TestDaily:
    def test_the_last_change_of_each_day_and_of_each_side_of_now(self):
        """One fold a day is enough for a day slider; today splits at now."""
        from datetime import UTC, datetime

        from website.snapshots import daily

        def at(text: str) -> datetime:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)

        now = at("2026-12-06T12:00:00")
        instants = [at("2017-07-14T04:00:00"), at("2017-07-14T09:00:00"),
                    at("2017-07-17T00:00:00"), at("2026-12-06T10:00:00"),
                    at("2026-12-06T11:00:00"), at("2026-12-06T20:00:00")]
        assert daily(instants, now) == [at("2017-07-14T09:00:00"), at("2017-07-17T00:00:00"),
                                        at("2026-12-06T11:00:00"), at("2026-12-06T20:00:00")]


def test_a_write_while_publishing_stays_out_of_the_signed_statuses(runner, case, tmp_path,
                                                                  monkeypatch):
    """An event recorded after the checkpoint is taken, while publish runs, must not
    slip into the statuses signed as the checkpoint's (the folds read only its tree)."""
    import uuid

    from domain.fact import Fact
    from website import gather

    made = gather.checkpoint_note

    def then_a_write(ledger, **kwargs):
        note = made(ledger, **kwargs)
        late = Fact.from_json({
            "id": str(uuid.uuid4()), "type": "blocked", "subject": "late-order",
            "occurred_at": "2017-09-01", "sources": [{"title": "s"}],
            "data": {"platform": "telegram", "authority": "Late", "reasons": ["r"],
                     "targets": ["t.me"]}})
        ledger.record([late], operator="someone")
        return note

    monkeypatch.setattr(gather, "checkpoint_note", then_a_write)
    out = tmp_path / "site"
    result = publish(runner, case, out)
    assert result.exit_code == 0, result.output
    page = (out / "platform" / "telegram.html").read_text(encoding="utf-8")
    assert "late-order" not in page and "Late" not in page


def test_a_home_in_parts_writes_each_parts_rows_and_the_filters_index(
        runner, case, tmp_path, monkeypatch):
    """With two platforms a part, each part's rows are also home/N.js (exactly the page's
    rows, filed under its number), their SHA-256 signed in every part's statement
    (``part_digests``), and home/filters.js holds each filter value's parts as lists of
    ``[value, parts]`` (no value is a key), its SHA-256 signed in every part; a home of
    one part has neither (its statement says null for both)."""
    import hashlib

    from ledger.canonical import canonical
    from website import home

    db = case[0]
    for ref in ("viber", "wechat"):
        line = {"type": "platform-registered", "subject": ref, "occurred_at": "2017-01-01",
                "sources": [{"title": "A registry"}],
                "data": {"name": ref.title(), "targets": [f"{ref}.com"]}}
        (tmp_path / "more.jsonl").write_text(json.dumps(line) + "\n")
        assert run(runner, db, "import", str(tmp_path / "more.jsonl")).exit_code == 0
    monkeypatch.setattr(home, "HOME_PAGE", 2)
    out = tmp_path / "site"
    assert publish(runner, case, out).exit_code == 0
    pages = [page_data(out / "index.html"), page_data(out / "home/2.html")]
    assert [[r["ref"] for r in p["rows"]] for p in pages] == [["telegram", "viber"], ["wechat"]]
    digests = [hashlib.sha256(canonical(data["rows"])).hexdigest() for data in pages]
    for n, data in enumerate(pages, 1):
        text = (out / f"home/{n}.js").read_text()
        filed = json.loads(text.split(f"globalThis.BL_HOME_PARTS[{n}] = ", 1)[1].rstrip(";\n"))
        assert filed == data["rows"]
        assert data["part_digests"] == digests
    index = json.loads((out / home.FILTERS).read_text().split("globalThis.BL_FILTERS = ", 1)[1]
                       .rstrip(";\n"))
    assert index == {"state": [["accessible", [1, 2]]], "authority": [["Kominfo", [1]]],
                     "jurisdiction": [["-", [1, 2]], ["ID", [1]]]}
    assert pages[0]["filters"] == pages[1]["filters"] == {
        "digest": hashlib.sha256(canonical(index)).hexdigest()}
    monkeypatch.setattr(home, "HOME_PAGE", 500)
    single = tmp_path / "single"
    assert publish(runner, case, single).exit_code == 0
    assert page_data(single / "index.html")["filters"] is None
    assert page_data(single / "index.html")["part_digests"] is None
    assert not (single / "home").exists()


def test_a_home_of_one_part_makes_no_filters_index(runner, case, tmp_path, monkeypatch):
    """The filters' index is written and signed only for a home in parts: a home of one
    part does not compute it (it did, for every publication, and threw it away); in parts
    it is computed once."""
    from website import home

    made = []
    real = home.filter_index
    monkeypatch.setattr(home, "filter_index", lambda chunks: made.append(len(chunks))
                        or real(chunks))
    single = tmp_path / "single"
    assert publish(runner, case, single).exit_code == 0
    assert made == []
    assert page_data(single / "index.html")["filters"] is None
    assert not (single / home.FILTERS).exists()
    monkeypatch.setattr(home, "HOME_PAGE", 1)
    db = case[0]
    line = {"type": "platform-registered", "subject": "viber", "occurred_at": "2017-01-01",
            "sources": [{"title": "A registry"}],
            "data": {"name": "Viber", "targets": ["viber.com"]}}
    (tmp_path / "more.jsonl").write_text(json.dumps(line) + "\n")
    assert run(runner, db, "import", str(tmp_path / "more.jsonl")).exit_code == 0
    parts = tmp_path / "parts"
    assert publish(runner, case, parts).exit_code == 0
    assert made == [2]
    assert (parts / home.FILTERS).exists()


def test_statements_are_signed_bound_to_the_whole_checkpoint(runner, case, tmp_path):
    """The home's rows, a platform's snapshots and an order's headline are each signed
    (version 2) over the statement and the SHA-256 of the checkpoint's signed text: its
    size, root and time, so that no other checkpoint of the same tree verifies them."""
    import base64
    import hashlib

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    from ledger.canonical import canonical
    from ledger.checkpoint import Checkpoint, encode_hash

    out = publish_plain(runner, case, tmp_path)
    public = load_pem_public_key((out / "key.pub").read_bytes())
    home = page_data(out / "index.html")
    checkpoint = Checkpoint.parse(home["checkpoint"])[0]
    bound = hashlib.sha256(checkpoint.body()).hexdigest()
    platform = page_data(out / "platform/telegram.html")
    order = page_data(out / "order/kominfo-2017-07-14.html")
    for prefix, statement, signature in (
            (b"blockledger site home v2\n",
             {k: home[k] for k in ("rows", "part", "parts", "jurisdiction", "search", "filters",
                                   "part_digests")}, home["rows_signature"]),
            (b"blockledger site snapshots v2\n",
             {"platform": "telegram", "name": platform["name"],
              "chunks": platform["snapshots"], "jurisdiction": None},
             platform["snapshots_signature"]),
            (b"blockledger site subject v2\n", order["headline"], order["headline_signature"])):
        raw = base64.b64decode(signature)
        public.verify(raw, prefix + canonical({**statement, "checkpoint": bound}))
        with pytest.raises(InvalidSignature):  # no longer over the root alone
            public.verify(raw, prefix + canonical(
                {**statement, "root": encode_hash(checkpoint.root_hash)}))
