"""A rebuild empties a view under the views' write lock (``ledger.views.ViewStore.drop``).

Left by the eighth session: ``drop`` did not take the lock. On PostgreSQL, where that lock
is an advisory one and not the database's, a writer catching up at the same moment read
the view's position before the rows were deleted, added its own after it, and moved the
position to its end: the view lost every row before, and said it was caught up. Now the
emptying waits for a writer that holds the lock, and a writer after it starts from zero.
"""

from __future__ import annotations

import threading

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
