"""Issue 14, item 7: what the existing cases showed wrong.

A retracted ``blocked`` and its retraction stay in the platform's history and report,
marked; on one bare date the order's ``blocked`` folds after the day's notices and
silences; ``history --as-known-at`` words a subject not yet recorded then as ``status``
does.
"""

from __future__ import annotations

from domain.timeline import in_valid_order
from tests.clitools import one_line_error, run, run_json
from tests.facts import blocked, email, no_response, registered, unblocked

SRC = ("--source", "https://example.org/doc")
EMAIL_ID = "11111111-1111-4111-8111-111111111111"
BLOCK_ID = "44444444-4444-4444-8444-444444444444"
RETRACT_ID = "66666666-6666-4666-8666-666666666666"


def ok(runner, db, *args):
    result = run(runner, db, *args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def one_day(runner, db):
    """telegram registered; on 14 July an email, no response, and the block, recorded with
    the block first (as documents surfaced)."""
    ok(runner, db, "record", "platform-registered", "telegram", "--at", "2017-01-01", *SRC,
       "--name", "Telegram", "--target", "t.me", "--target", "web.telegram.org")
    ok(runner, db, "record", "blocked", "k1", "--at", "2017-07-14", *SRC, "--id", BLOCK_ID,
       "--platform", "telegram", "--authority", "Kominfo", "--reason", "terrorism",
       "--target", "t.me")
    ok(runner, db, "record", "email-sent", "telegram", "--at", "2017-07-14", *SRC,
       "--id", EMAIL_ID, "--sender", "Kominfo", "--recipient", "abuse@telegram.org",
       "--summary", "remove the channels")
    ok(runner, db, "record", "no-response", "telegram", "--at", "2017-07-14", *SRC,
       "--regarding", EMAIL_ID)


def history_types(runner, db, *args):
    return [(e["type"], e["id"]) for e in
            run_json(runner, db, "history", "telegram", *args)["events"]]


class TestRetractedCreationStaysInThePlatformsHistory:
    """A retracted ``blocked`` counts nowhere, but the platform's history and report show
    it, marked, with its retraction."""

    def retract(self, runner, db):
        one_day(runner, db)
        ok(runner, db, "record", "retraction", "k1", "--at", "2017-07-20", *SRC,
           "--id", RETRACT_ID, "--target", BLOCK_ID, "--reason", "wrong order number")

    def test_history_of_the_platform_keeps_the_retracted_block_and_its_retraction(
            self, runner, db):
        """Both axes: now, and as known now with --as-known-at (the book path)."""
        self.retract(runner, db)
        for extra in ((), ("--as-known-at", "2100-01-01")):
            events = run_json(runner, db, "history", "telegram", *extra)["events"]
            by_id = {e["id"]: e for e in events}
            assert by_id[BLOCK_ID]["retracted_by"] == [RETRACT_ID], extra
            assert by_id[RETRACT_ID]["type"] == "retraction", extra

    def test_the_whole_ledgers_history_keeps_it_too(self, runner, db):
        """The streamed history of every platform (the views' rows, without a book)."""
        self.retract(runner, db)
        events = run_json(runner, db, "history")["events"]
        by_id = {e["id"]: e for e in events}
        assert by_id[BLOCK_ID]["retracted_by"] == [RETRACT_ID]
        assert RETRACT_ID in by_id
        assert [e["type"] for e in events][:4] == [
            "platform-registered", "email-sent", "no-response", "blocked"]

    def test_the_status_does_not_count_it(self, runner, db):
        self.retract(runner, db)
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-07-15")
        assert status["state"] == "accessible"
        assert status["orders"] == []

    def test_the_provenance_report_marks_it(self, runner, db):
        self.retract(runner, db)
        report = ok(runner, db, "report", "provenance", "telegram", "--format", "md").stdout
        assert BLOCK_ID in report and RETRACT_ID in report
        assert "[RETRACTED]" in report

    def test_unretracted_it_counts(self, runner, db):
        """The same case without the retraction: the order is in force."""
        one_day(runner, db)
        status = run_json(runner, db, "status", "telegram", "--as-of", "2017-07-15")
        assert status["state"] == "partially-blocked"


class TestSameDayRanking:
    """On one bare date: notices and silences, then the block that creates the order."""

    def test_history_orders_email_no_response_then_block(self, runner, db):
        one_day(runner, db)
        types = [t for t, _ in history_types(runner, db)]
        assert types == ["platform-registered", "email-sent", "no-response", "blocked"]

    def test_fold_order_is_the_same_whatever_the_recording_order(self):
        """Given the block recorded before the day's email and no-response, when folded,
        then the block comes last; its own lift on that day still comes after it."""
        reg = registered()
        block = blocked(at="2017-07-14")
        mail = email(at="2017-07-14", id=EMAIL_ID)
        silence = no_response(at="2017-07-14", regarding=EMAIL_ID)
        lift = unblocked(at="2017-07-14")
        assert [f.type for f in in_valid_order([reg, block, lift, mail, silence])] == [
            "platform-registered", "email-sent", "no-response", "blocked", "unblocked"]


class TestHistoryAsKnownAtBeforeTheSubject:
    """``history S --as-known-at K`` for a subject recorded after K says so."""

    def test_it_names_the_record_time(self, runner, db):
        one_day(runner, db)
        for subject in ("telegram", "k1"):
            result = run(runner, db, "history", subject, "--as-known-at", "2000-01-01")
            line = one_line_error(result, 1)
            assert f"no subject {subject} in the ledger as known at 2000-01-01" in line

    def test_without_as_known_at_the_wording_is_unchanged(self, runner, db):
        one_day(runner, db)
        line = one_line_error(run(runner, db, "history", "nothing"), 1)
        assert line.endswith("no subject nothing in the ledger")

    def test_status_words_it_alike(self, runner, db):
        one_day(runner, db)
        line = one_line_error(run(runner, db, "status", "telegram", "--as-known-at",
                                  "2000-01-01"), 1)
        assert "as known at 2000-01-01" in line


class TestLedgersKeptByAnOlderRelease:
    """Status rows kept before ``divergence`` and ``penalties`` existed: reads fold afresh
    and ``verify`` does not call them altered (no read answers from them)."""

    def test_old_shaped_status_rows(self, runner, db, monkeypatch):
        import projections.views as views

        fold = views.platform_status

        def older(*args, **kwargs):
            status = fold(*args, **kwargs)
            for key in views.NEWER_KEYS:
                del status[key]
            return status

        monkeypatch.setattr(views, "platform_status", older)
        one_day(runner, db)
        monkeypatch.setattr(views, "platform_status", fold)
        status = run_json(runner, db, "status", "telegram")
        assert status["divergence"] == {} and status["penalties"] == []
        result = run(runner, db, "verify")
        assert result.exit_code == 0, (result.stdout, result.stderr)
