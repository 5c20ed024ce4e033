"""How ``Ledger.record`` stamps and retries a write, beside other writers.

CI, 2026-12-08: ``operator revoke`` during a long ``import --batch-commit`` on PostgreSQL
was refused "this writer's clock is behind the ledger's" after 30 tries. A writer stamped
its events as its check made them, before it waited for the store's lock, and the import
stamps each batch while it holds the lock: a writer that stamped while a batch was being
written found, once it had the lock, that batch's later stamps before its own
(``RecordTimeBehind``), and retried, stamping again while the next batch held the lock.

Now a write is stamped once the lock is held, so no other writer's stamp can overtake
it. And a write whose optimistic try is refused because another writer wrote what it read
(``ledger.write_guard``) is tried again with the lock taken first, then checked, stamped
and stored: nobody can come between, whatever the other writers do (before, it was
retried unlocked up to 30 times, and could lose every race). (A writer whose clock is
behind the ledger's is told so: ``tests/test_tamper_matrix.py``.)
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import eventsourcing.domain as library
import pytest

import ledger.application as application
import ledger.record_time as record_time
from ledger.application import Ledger, open_ledger
from ledger.storage import parse_target
from ledger.write_guard import HeadMoved
from tests.test_dependents import _event, _facts, _id

PLATFORMS = [_event(f"p-{name}", "platform-registered", name, "2020-01-01",
                    {"name": name, "targets": [f"{name}.example"]})
             for name in ("foo", "bar")]


def _email(n: int, platform: str) -> dict:
    return _event(f"mail-{n}", "email-sent", platform, "2020-04-01",
                  {"sender": "A", "recipient": "B", "summary": f"notice {n}"})


@pytest.mark.parametrize(("other", "tries"), [("bar", [False]), ("foo", [False, True])])
def test_a_writer_overtaken_at_every_unlocked_try_is_stored(db, monkeypatch, other, tries):
    """Between the check and the store of each of the first writer's tries, another writer
    records an email and commits it, unless the first writer holds the lock: then the
    other waits, and is stored after it. An email on another platform changes nothing the
    first write read: it is stored at its first try, stamped after the email (before,
    refused as "clock behind" at every try). One on the same platform does: the second
    try takes the lock first, and is stored."""
    real = Ledger._store
    with open_ledger(parse_target(db), create=True) as one, \
            open_ledger(parse_target(db), create=True) as two:
        two.record(_facts(PLATFORMS), operator="op")
        waited: list[bool] = []
        others: list[threading.Thread] = []
        failed: list[BaseException] = []

        def email(n: int) -> None:
            try:
                two.record(_facts([_email(n, other)]), operator="op")
            except BaseException as error:  # (reported by the test)
                failed.append(error)

        def save(self: Ledger, events: list, *args: object, **kwargs: object) -> None:
            if self is one:
                thread = threading.Thread(target=email, args=(len(waited),))
                thread.start()
                thread.join(timeout=1.5)  # done at once, unless the first holds the lock
                waited.append(thread.is_alive())
                others.append(thread)
            return real(self, events, *args, **kwargs)

        monkeypatch.setattr(Ledger, "_store", save)
        try:
            outcome = one.record(_facts([_event("mail-foo", "email-sent", "foo",
                                                "2020-04-02", {"sender": "A",
                                                               "recipient": "B",
                                                               "summary": "s"})]),
                                 operator="op")
        finally:
            for thread in others:
                thread.join(timeout=60)
        assert not failed, failed
        assert len(outcome.recorded) == 1
        assert waited == tries
        monkeypatch.undo()
        stamps = [entry.fact.recorded_at for entry in one.entries()]
        assert stamps == sorted(stamps)
        # Each email the first writer waited for is stored after its write.
        order = [str(entry.fact.id) for entry in one.entries()][-len(tries) - 1:]
        assert order == [_id("mail-0"), _id("mail-foo"), _id("mail-1")][:len(tries) + 1]



SKEW = timedelta(milliseconds=300)


class _Ahead(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return datetime.now(tz) + SKEW


def _mail(name: str) -> list:
    return _facts([_event(name, "email-sent", "foo", "2020-04-01",
                          {"sender": "A", "recipient": "B", "summary": name})])


def test_a_writer_a_little_behind_another_is_stored_at_its_record_time(db, monkeypatch):
    """A review (2026-12-08): writer A's clock 300 ms ahead of B's, far inside the tolerance;
    A records, then B at once. The 30 retries of before outlasted the difference; one retry
    under the lock did not, and B was refused "clock is behind" 5 times in 5. Now B's
    events take A's record time (``ledger.record_time.stamp``): the ledger learned them no
    earlier."""
    real_now = library.datetime_now_with_tzinfo
    with open_ledger(parse_target(db), create=True) as a, open_ledger(parse_target(db)) as b:
        a.record(_facts(PLATFORMS), operator="op")
        for i in range(5):
            monkeypatch.setattr(application, "datetime", _Ahead)
            monkeypatch.setattr(record_time, "datetime", _Ahead)
            monkeypatch.setattr(library, "datetime_now_with_tzinfo", lambda: real_now() + SKEW)
            a.record(_mail(f"a{i}"), operator="op")
            monkeypatch.undo()
            b.record(_mail(f"b{i}"), operator="op")
        stamps = [entry.fact.recorded_at for entry in b.entries()]
    assert stamps == sorted(stamps)
    assert stamps[-1] == stamps[-2]  # (b4 at a4's time)


def test_a_long_check_under_the_lock_is_stamped_when_stored(pg_url, monkeypatch):
    """A review (2026-12-08): the locked retry stamped its events with the rules' now,
    taken before a check that may catch the views up under the lock: a check longer than
    PostgreSQL's clock tolerance (cut to 1 s here, the check made 2 s long) was refused as
    a wrong clock, the clocks being right. Now the stamp is taken when the events are
    stored."""
    monkeypatch.setattr(record_time, "CLOCK_TOLERANCE", timedelta(seconds=1))
    real_check, real_store = Ledger._check, Ledger._store
    tries: list[int] = []

    def check(self: Ledger, *args: object) -> object:
        out = real_check(self, *args)
        if tries:
            time.sleep(2)  # the locked check: e.g. catching the views up under the lock
        return out

    def store(self: Ledger, *args: object, **kwargs: object) -> None:
        if not tries:
            tries.append(1)
            raise HeadMoved("another writer came between")
        real_store(self, *args, **kwargs)

    with open_ledger(parse_target(pg_url), create=True) as one:
        monkeypatch.setattr(Ledger, "_check", check)
        monkeypatch.setattr(Ledger, "_store", store)
        outcome = one.record(_facts(PLATFORMS[:1]), operator="op")
    assert len(outcome.recorded) == 1 and tries == [1]


FAST = timedelta(minutes=4)


class _Fast(datetime):
    @classmethod
    def now(cls, tz=None):  # type: ignore[override]
        return datetime.now(tz) + FAST


def test_a_fast_writers_future_time_is_not_lent_to_an_honest_one(db, monkeypatch):
    """A second review (2026-12-08): with the store's 5-minute tolerance as the window, a
    writer whose clock ran 4 minutes fast lent its future record time to every honest
    writer after it, silently (the fact then missing from ``--as-known-at`` answers while
    the ledger held it). The window is 2 s (``STAMP_CATCH_UP``): further behind, the honest
    writer is told that its clock is behind the ledger's, and writes nothing."""
    from domain.errors import LedgerError

    real_now = library.datetime_now_with_tzinfo
    with open_ledger(parse_target(db), create=True) as ledger:
        monkeypatch.setattr(application, "datetime", _Fast)
        monkeypatch.setattr(record_time, "datetime", _Fast)
        monkeypatch.setattr(library, "datetime_now_with_tzinfo", lambda: real_now() + FAST)
        ledger.record(_facts(PLATFORMS[:1]), operator="op")
        monkeypatch.undo()
        before = ledger.recorder.max_notification_id()
        with pytest.raises(LedgerError, match="clock is behind the ledger's"):
            ledger.record(_mail("m"), operator="op")
        assert ledger.recorder.max_notification_id() == before
