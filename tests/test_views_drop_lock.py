"""A rebuild empties a view under the views' write lock (``ledger.views.ViewStore.drop``).

Left by the eighth session: ``drop`` did not take the lock. On PostgreSQL, where that lock
is an advisory one and not the database's, a writer catching up at the same moment read
the view's position before the rows were deleted, added its own after it, and moved the
position to its end: the view lost every row before, and said it was caught up. Now the
emptying waits for a writer that holds the lock, and a writer after it starts from zero.

A review (2026-12-08) found that was not enough: a writer reads the view's position before it
takes the lock, makes its rows, then writes them under the lock. A drop committed in between
left the view emptied, then given that writer's rows alone, its position at the head:
``status`` listed one platform of three and exited 0. Now the writer says which positions
its rows follow (``write_in``'s ``history_from``, ``status_from``), and a view found behind
them under the lock is refused (an ``IntegrityError``): the catch-up starts again.
"""

from __future__ import annotations

import threading

import pytest

from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.views import Views
from tests.test_dependents import _event, _facts


def test_a_view_is_emptied_only_once_no_writer_of_the_views_holds_their_lock(db):
    target = parse_target(db)
    with open_ledger(target, create=True) as one, open_ledger(target) as two:
        one.record(_facts([_event("p", "platform-registered", "foo", "2020-01-01",
                                  {"name": "Foo", "targets": ["foo.example"]})]),
                   operator="op")
        Views(one).catch_up()
        holder = two.view_store()
        dropped = threading.Event()

        def drop() -> None:
            one.view_store().drop("history")
            dropped.set()

        with holder.datastore.transaction(commit=True) as c:
            holder._lock(c)  # a writer of the views at work
            thread = threading.Thread(target=drop)
            thread.start()
            assert not dropped.wait(1.0), "the view was emptied under another writer"
        thread.join(timeout=60)
        assert dropped.is_set()
        assert one.view_store().position("history") == 0
        Views(one).catch_up()
        assert one.view_store().position("history") == 1


PLATFORMS = [_event(f"p-{n}", "platform-registered", n, "2020-01-01",
                    {"name": n, "targets": [f"{n}.example"]}) for n in ("foo", "bar", "baz")]


def test_a_view_emptied_while_a_writer_makes_its_rows_is_caught_up_whole(db):
    target = parse_target(db)
    with open_ledger(target, create=True) as one, open_ledger(target) as two:
        one.record(_facts(PLATFORMS), operator="op")
        Views(one).catch_up()
        assert len(one.view_store().status_rows()) == 3
        two.record(_facts([_event("m1", "email-sent", "foo", "2020-04-01",
                                  {"sender": "A", "recipient": "B", "summary": "s"})]),
                   operator="op")
        store = two.view_store()
        real = store.write
        dropped: list[int] = []

        def write(history, status, **kwargs):
            if kwargs.get("status_to") is not None and not dropped:
                dropped.append(1)
                one.view_store().drop("status")  # projections rebuild's first step
            return real(history, status, **kwargs)

        store.write = write
        Views(two).catch_up()
        del store.write
        assert dropped
        assert len(one.view_store().status_rows()) == 3
        assert Views(one).lag()["status"]["lag"] == 0


def test_a_write_checked_while_the_views_are_emptied_is_checked_again(db, monkeypatch):
    """A review (2026-12-08): the facts that name what a write changes are found through
    the history view (``ledger.dependents.finder``). Emptied by ``projections rebuild`` in
    another process while the write was checked, it found none, and a ``targets-removed``
    was stored while an order still blocked the target (``verify`` named it). Now the
    count of emptyings is read before and after the check: changed, the check is made
    again on the views caught up, and the write is refused."""
    import ledger.dependents as dependents
    from domain.errors import LedgerError
    from tests.test_dependents import _write
    from tests.test_dependents_review import oracle
    from tests.test_write_guard import _ledger

    _write(db, _ledger(), "call")
    target = parse_target(db)
    with open_ledger(target) as one:
        one.record(_facts([_event("o2", "blocked", "o2", "2020-02-10",
                                  {"platform": "foo", "authority": "A", "reasons": ["r"],
                                   "targets": ["foo.io"]})]), operator="op")
        Views(one).catch_up()
    real = dependents.check_write
    dropped: list[int] = []

    def check_write(ledger, *args, **kwargs):
        if not dropped:
            dropped.append(1)
            with open_ledger(target) as other:  # projections rebuild's first step
                other.view_store().drop("history")
        return real(ledger, *args, **kwargs)

    monkeypatch.setattr(dependents, "check_write", check_write)
    with open_ledger(target) as two, pytest.raises(
            LedgerError, match="would leave blocked of 2020-02-10"):
        two.record(_facts([_event("x", "targets-removed", "foo", "2020-01-15",
                                  {"targets": ["foo.io"]})]), operator="op")
    monkeypatch.undo()
    assert dropped and oracle(db) == []
