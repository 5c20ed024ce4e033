"""An event holding the id of an earlier one (the ledger writes each id once, so only a
damaged or forged ledger holds two): every reader that resolves what an amendment targets
refuses it in one line naming the later event's position (exit 3), where which of the two
is the target would be a guess. (The review of the bulk read found the whole ledger's
history resolving such a target to the first where it had resolved it to the last, and an
order's events dropped from the history of a ledger ``verify`` refuses.)"""

from __future__ import annotations

import orjson
import pytest

from ledger.canonical import canonical
from tests.clitools import one_line_error, run
from tests.test_history_damage import WHOLE, ledger  # noqa: F401 (a fixture)
from tests.test_integrity import Store


def _targeted_and_later(db: str) -> tuple[int, int, str]:
    """The position of an event a correction targets, of a later event of the same
    subject that is not an amendment, and the target's id."""
    store = Store(db)
    objs = {p: orjson.loads(store.state(p))
            for (p,) in store.sql(f"SELECT {store.pos} FROM {store.events}")}
    for _, obj in sorted(objs.items()):
        if obj["type"] == "correction":
            target = obj["data"]["target"]
            at = next(q for q, o in objs.items() if o["id"] == target)
            later = next(q for q, o in sorted(objs.items()) if q > at
                         and o["subject"] == objs[at]["subject"]
                         and o["type"] not in ("correction", "retraction", "dispute"))
            return at, later, target
    raise AssertionError("the example has no correction")


@pytest.mark.parametrize("rechain", [False, True], ids=["damaged", "forged"])
def test_a_repeated_id_is_refused_by_every_reader(runner, ledger, rechain):  # noqa: F811
    at, later, target = _targeted_and_later(ledger)
    store = Store(ledger)
    obj = orjson.loads(store.state(later))
    obj["id"] = target
    store.set_state(later, canonical(obj))
    if rechain:
        store.rechain()
    assert run(runner, ledger, "verify").exit_code == 3
    subject = obj["subject"]
    for args in [*WHOLE, [subject], [subject, "--format", "jsonl"], ["telegram"]]:
        error = one_line_error(run(runner, ledger, "history", *args), 3)
        assert error == (f"error: the event at position {later} is damaged: its id {target} "
                         f"is the id of the event at position {at}; run 'blockledger "
                         "verify'"), (args, error)


def test_a_repeated_id_on_a_platform_no_amendment_touches_is_refused(runner, ledger,  # noqa: F811
                                                                      tmp_path):
    """Where nothing targets the id, the whole ledger's history showed both events (a
    platform's history and ``verify`` refused); it refuses too now, in every format."""
    from pathlib import Path

    turkey = Path(__file__).parent.parent / "examples" / "turkey-wikipedia-2017.jsonl"
    assert run(runner, ledger, "import", str(turkey)).exit_code == 0
    store = Store(ledger)
    objs = {p: orjson.loads(store.state(p))
            for (p,) in store.sql(f"SELECT {store.pos} FROM {store.events}")}
    order = sorted(p for p, obj in objs.items() if obj["subject"] == "btk-2017-04-29")
    first, later = order[0], order[1]
    obj = objs[later]
    obj["id"] = objs[first]["id"]
    store.set_state(later, canonical(obj))
    store.rechain()
    assert run(runner, ledger, "verify").exit_code == 3
    for args in [*WHOLE, ["wikipedia"]]:
        error = one_line_error(run(runner, ledger, "history", *args), 3)
        assert error == (f"error: the event at position {later} is damaged: its id "
                         f"{obj['id']} is the id of the event at position {first}; run "
                         "'blockledger verify'"), (args, error)


def test_an_order_over_several_platforms_is_no_repeated_id(runner, sqlite_path, monkeypatch):
    """Review M1: an order over several platforms comes once with each platform's events,
    and the group's set of ids counted it as an id held twice: every such group read event
    by event (a third slower). An id held twice is one held at two positions."""
    from pathlib import Path

    from projections import history_stream

    india = Path(__file__).parent.parent / "examples" / "india-apps-2020.jsonl"
    assert run(runner, sqlite_path, "import", str(india)).exit_code == 0
    lines = run(runner, sqlite_path, "history", "--format", "jsonl").stdout.splitlines()
    shown = [orjson.loads(line)["position"] for line in lines]
    assert len(shown) > len(set(shown))  # (the example has an event in two platforms)

    def each(*args):  # pragma: no cover (reached only by the regression)
        raise AssertionError("a well-formed group read event by event")

    monkeypatch.setattr(history_stream, "_read_each", each)
    again = run(runner, sqlite_path, "history", "--format", "jsonl")
    assert again.exit_code == 0 and again.stdout.splitlines() == lines
