"""Forged amendments whose target is not an earlier event of the subject they are stored
under (the review of histfast2): the rules never record one and ``verify`` refuses it, so
every reader refuses it alike, in one line naming its position (exit 3).

Before: a correction re-chained to target the retraction that retracts it looped in the
whole ledger's history (``RecursionError``, every format); a dispute re-chained to target a
later correction was a ``KeyError`` in every ``Book`` (the history as known at a time, a
subject's, ``status``) and an answer in the whole ledger's history.
"""

from __future__ import annotations

import json

import orjson
import pytest

from ledger.canonical import canonical
from tests import facts
from tests.clitools import one_line_error, run
from tests.test_history_damage import refused_by_every_reader
from tests.test_integrity import Store

ORDER = "kominfo-2017-07-14"
BLOCK = "8aecbeb8-f79b-576e-b93a-2f1140c95680"  # the example's block of ORDER
CORRECTION = 32  # the example's correction (of BLOCK), its id:
CORRECTION_ID = "82c5172f-b9c7-5e68-b01c-8be887fb6030"
DISPUTE = 33  # the example's dispute (of an email to telegram)


@pytest.fixture
def ledger(runner, sqlite_path, example, tmp_path) -> str:
    """The example, then a retraction of its correction (34) and a second correction of
    the block (35)."""
    more = [facts.retraction(ORDER, target=CORRECTION_ID),
            facts.correction(ORDER, target=BLOCK, set={"note": "as the gazette says"})]
    path = tmp_path / "amended.jsonl"
    path.write_text(example.read_text() + "".join(json.dumps(f.to_json()) + "\n"
                                                  for f in more))
    assert run(runner, sqlite_path, "import", str(path)).exit_code == 0
    return sqlite_path


def _id(db: str, at: int) -> str:
    """The id of the event at position ``at``."""
    return orjson.loads(Store(db).state(at))["id"]


def forge(db: str, at: int, **changes) -> None:
    """Re-write the event at ``at`` with ``changes`` (``target``: its data's), re-hashed
    and re-chained."""
    store = Store(db)
    obj = orjson.loads(store.state(at))
    if "target" in changes:
        obj["data"]["target"] = changes.pop("target")
    obj.update(changes)
    store.set_state(at, canonical(obj))
    store.rechain()


def refused(runner, db: str, at: int) -> None:
    """``verify`` names ``at``; every history, ``status`` and the provenance report refuse
    it in one line naming it (the report may name another fault of it first)."""
    refused_by_every_reader(runner, db, at)
    for args in [["status"], ["status", "--as-known-at", "2100-01-01"],
                 ["report", "provenance", "telegram"]]:
        error = one_line_error(run(runner, db, *args), 3)
        assert f"the event at position {at} " in error, (args, error)


def test_the_example_as_amended_reads(runner, ledger):
    assert _id(ledger, CORRECTION) == CORRECTION_ID
    assert orjson.loads(Store(ledger).state(34))["data"]["target"] == CORRECTION_ID
    assert run(runner, ledger, "verify").exit_code == 0
    assert run(runner, ledger, "history", "--format", "jsonl").exit_code == 0


def test_a_correction_of_the_retraction_that_retracts_it(runner, ledger):
    """Each targets the other: read on, a loop."""
    forge(ledger, CORRECTION, target=_id(ledger, 34))
    refused(runner, ledger, CORRECTION)


def test_a_dispute_of_a_later_correction(runner, ledger):
    forge(ledger, DISPUTE, target=_id(ledger, 35), subject=ORDER)
    refused(runner, ledger, DISPUTE)


def test_a_correction_of_itself(runner, ledger):
    forge(ledger, CORRECTION, target=CORRECTION_ID)
    refused(runner, ledger, CORRECTION)


def test_a_correction_of_an_earlier_event_of_another_subject(runner, ledger):
    """Earlier, and of the same platform, but another subject's (the platform's own
    registration): before, the whole ledger's history, the platform's and ``status``
    answered (exit 0) where ``verify`` refused it."""
    assert orjson.loads(Store(ledger).state(1))["subject"] == "telegram"
    forge(ledger, 35, target=_id(ledger, 1))
    refused(runner, ledger, 35)
