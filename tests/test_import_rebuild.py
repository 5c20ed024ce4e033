"""A ``projections rebuild`` while an import runs (a second review, 2026-12-08).

On PostgreSQL an import's transaction held the events table's lock, and the views' lock only
from its first ``take``. Where its catch-up took none (an encrypted ledger's views already
current), a rebuild could empty the history view while the import checked its batch; the
batch's rows went into the emptied view and its position to their end, and the rebuild's own
catch-up then skipped every row before: the view lacked every event before the import and
said it was at the head (and a write checked through it let a retraction stranding an order
through; ``verify`` named the views). Now ``ledger.bulk.one_transaction`` takes the views'
lock with the events table's where the views' recorder is lent: the rebuild waits for the
import. (The drop is run in a thread: it waits for the import's commit.)
"""

from __future__ import annotations

import threading

import pytest

from ledger.application import open_ledger
from ledger.encryption import new_key
from ledger.storage import parse_target
from projections import importing
from projections.views import Views
from tests.test_dependents import _event, _facts

PLATFORMS = [_event(f"p-{n}", "platform-registered", n, "2020-01-01",
                    {"name": n, "targets": [f"{n}.example"]}) for n in ("foo", "bar", "baz")]


@pytest.mark.parametrize("encrypted", [False, True])
@pytest.mark.parametrize("batch_commit", [False, True])
def test_a_rebuild_during_an_import_leaves_the_history_view_whole(pg_url, monkeypatch,
                                                                  batch_commit, encrypted):
    """(A plain ledger's catch-up copies in SQL under the views' lock even with nothing to
    copy, so its import holds that lock from its start and the drop waits; an encrypted
    one's decodes in Python and takes no lock when caught up: the window is open.)"""
    key = new_key() if encrypted else ""
    target = parse_target(pg_url, cipher_key=key)
    with open_ledger(target, create=True) as one, open_ledger(target) as rebuilder:
        one.record(_facts(PLATFORMS), operator="op")
        Views(one).catch_up()
        assert one.view_store().position("history") == 3
        real_take = Views.take
        done = []

        def take(self, batch):  # the rebuild's first step lands while the batch is checked
            if not done:
                thread = threading.Thread(target=lambda: (
                    rebuilder.view_store().drop("history"), done.append("dropped")))
                done.append(thread)
                thread.start()
                thread.join(1)  # (blocked: the import holds the views' lock, no race)
            return real_take(self, batch)

        monkeypatch.setattr(Views, "take", take)
        mail = _facts([_event("m", "email-sent", "foo", "2020-04-01",
                              {"sender": "A", "recipient": "B", "summary": "s"})])
        importing.import_facts(one, enumerate(mail, start=1), operator="op",
                               batch_commit=batch_commit)
        monkeypatch.undo()
        done[0].join(60)
        Views(rebuilder).catch_up()  # (the rebuild goes on: catch_up after its drop)
        store = one.view_store()
        head = one.recorder.max_notification_id()
        rows = store.history_between(0, 2**62)
        assert store.position("history") == head
        assert len(rows) == 4, f"history view holds {len(rows)} of 4 events at position {head}"

