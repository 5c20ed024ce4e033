"""The rules between subjects from the other side (``domain.dependents``), as a hostile
review of its first version found them broken (2026-12-07), each held here:

- an order's jurisdiction cleared (or a correction that set it retracted) left its own
  observation against the ledger's default, on every path (F1, CRITICAL);
- with the views' tables dropped by hand, the record path found nothing that named what
  it changed: the tables came back empty while the tracking rows said "at the head" (F2);
- the "already broken in the same words" exemption let a write break a second target,
  order or platform of the same fact (F3); one record call and the same import disagreed
  (F4); a partial repair of an older ledger was refused (F6): a fact is now blamed only
  for ways it breaks the rules that it did not before (``domain.references.new_errors``),
  and only if the write touched neither it nor its amendments;
- the refusal named the first fact of the write that changed the subject, often an
  innocent line: now the last, and how many there were (F5);
- a position read twice across two chunks of 500 (``ViewReads.platform_rows``) was
  refused as two events stored there, which the record path's catch-up of the views
  turned into a refused write (F7).

``oracle``: ``check_references`` of every fact that names another subject, as it counts.
"""

from __future__ import annotations

import sqlite3

import pytest

from domain.amendments import effective
from domain.checked import check_references
from domain.errors import LedgerError, RuleBroken, SubjectNotFound
from domain.subjects import AGGREGATES
from ledger.application import open_ledger
from ledger.storage import parse_target
from tests.test_dependents import _amend, _event, _fine, _order, _reg, _write

NAMING = {"penalty-imposed", "normalization-requested", "blocked", "access-observed"}


def oracle(db: str, key: str = "") -> list[str]:
    """Every fact naming another subject, as it counts, checked as a new one is."""
    found = []
    with open_ledger(parse_target(db, cipher_key=key)) as ledger:
        names = {e.fact.subject for e in ledger.entries()}
        for name in sorted(names):
            for kind in AGGREGATES:
                subject = ledger.subject(kind, name)
                if subject is None:
                    continue
                for fact in effective(subject.facts).facts:
                    if fact.type not in NAMING:
                        continue
                    if fact.type == "access-observed" and kind != "order":
                        continue
                    try:
                        check_references(fact, ledger.subject)
                    except (RuleBroken, SubjectNotFound) as error:
                        found.append(f"{kind} {name}: {fact.type} {fact.occurred_at}: {error}")
    return found


#: (the writer of tests.test_dependents, every path)
write = _write


def attempt(db, objects, how, key="", **kw):
    try:
        write(db, objects, how, key=key, **kw)
        return "TAKEN"
    except LedgerError as error:
        return "REFUSED: " + str(error)




def _obs(name, subject, at, where):
    return _event(name, "access-observed", subject, at,
                  {"target": "foo.com", "accessible": False, "network": "AS1",
                   "jurisdiction": where})


def _blocked(name, at, **more):
    return _event(name, "blocked", name, at, {"platform": "foo", "authority": "A",
                                              "reasons": ["r"], "targets": ["foo.com"],
                                              **more})


DEFAULT_RU = _event("def", "jurisdiction-default", "ledger", "2020-01-01",
                    {"jurisdiction": "RU"})

#: F1: the order's own observation falls back to the ledger's default when the order's
#: jurisdiction is taken away; nothing checks it against the default.
CLEARED = {
    "correction clears the order's jurisdiction": (
        [_reg("foo", ["foo.com"]), DEFAULT_RU, _blocked("ob", "2020-02-01", jurisdiction="BR"),
         _obs("seen", "ob", "2020-03-02", "BR")],
        [_amend("x", "correction", "ob", "ob", "2020-02-01", set={"jurisdiction": None})]),
    "retraction of the correction that had set it": (
        [_reg("foo", ["foo.com"]), DEFAULT_RU, _blocked("ob", "2020-02-01"),
         _amend("c", "correction", "ob", "ob", "2020-02-01", set={"jurisdiction": "BR"}),
         _obs("seen", "ob", "2020-03-02", "BR")],
        [_amend("x", "retraction", "ob", "c", "2020-02-01")]),
}


@pytest.mark.parametrize("how", ["record", "call", "import", "batch"])
@pytest.mark.parametrize("case", sorted(CLEARED))
def test_an_orders_jurisdiction_cleared_under_its_observation_is_refused(sqlite_path, how,
                                                                          case):
    base, change = CLEARED[case]
    if how == "batch":
        out = attempt(sqlite_path, base + change, "batch")
    else:
        write(sqlite_path, base, "import")
        assert oracle(sqlite_path) == []
        out = attempt(sqlite_path, change, how)
    left = oracle(sqlite_path)
    assert out != "TAKEN" or left == [], f"taken, and the ledger now holds: {left}"


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgres",
                                                          marks=pytest.mark.postgres)])
@pytest.mark.parametrize("how", ["record", "import"])
@pytest.mark.parametrize("dropped", [("bl_view_history", "bl_view_status", "bl_view_moves"),
                                     ("bl_view_history",)])
def test_views_tables_dropped_by_hand_are_rebuilt_before_the_check(request, tmp_path, store,
                                                                   how, dropped):
    """The views' tables dropped by hand: the tracking rows still said "at the head", so
    the tables came back empty and the record path found nothing that names what it
    changes (the import path crashed). Now a missing table resets the views, which are
    rebuilt from the log, and the write is refused."""
    db = str(tmp_path / "v.db") if store == "sqlite" else request.getfixturevalue("pg_url")
    req = _event("rq", "normalization-requested", "rq", "2020-03-01",
                 {"platform": "foo", "orders": ["o2"], "requested_by": "P"})
    write(db, [_reg("foo", ["foo.com"]), _reg("bar", ["bar.com"]),
               _order("o2", "bar", "2020-02-01", ["bar.com"]),
               _amend("c", "correction", "o2", "o2", "2020-02-01",
                      set={"platform": "foo", "targets": ["foo.com"]}), req], "import")
    if store == "sqlite":
        con = sqlite3.connect(db)
        for table in dropped:
            con.execute(f"DROP TABLE {table}")
        con.commit()
        con.close()
    else:
        import psycopg

        with psycopg.connect(db, autocommit=True) as con:
            for table in dropped:
                con.execute(f"DROP TABLE {table}")
    out = attempt(db, [_amend("x", "retraction", "o2", "c", "2020-02-01")], how)
    assert "would leave normalization-requested of 2020-03-01" in out, out
    assert oracle(db) == []


def _req(name, orders):
    return _event(name, "normalization-requested", name, "2020-03-01",
                  {"platform": "foo", "orders": orders, "requested_by": "P"})


#: F3: (base, what a ledger written before the check did, the new write): the new write
#: makes the already-broken fact worse, and the words stay the same.
HIDDEN = {
    "a second target of an order taken away": (
        [_reg("foo", ["foo.com", "foo.net", "foo.org"]),
         _order("o", "foo", "2020-02-01", ["foo.com", "foo.net"])],
        [_amend("old", "correction", "foo", "reg-foo", "2020-01-01",
                set={"targets": ["foo.net", "foo.org"]})],
        [_event("x", "targets-removed", "foo", "2020-01-15", {"targets": ["foo.net"]})]),
    "a request's second order retracted": (
        [_reg("foo", ["foo.com"]), _order("o1", "foo", "2020-02-01", ["foo.com"]),
         _order("o2", "foo", "2020-02-01", ["foo.com"]), _req("rq", ["o1", "o2"])],
        [_amend("old", "retraction", "o1", "o1", "2020-02-01")],
        [_amend("x", "retraction", "o2", "o2", "2020-02-01")]),
}


@pytest.mark.parametrize("case", sorted(HIDDEN))
def test_an_old_breakage_made_worse_behind_the_same_first_words_is_refused(sqlite_path, case):
    base, old, change = HIDDEN[case]
    write(sqlite_path, base, "import")
    write(sqlite_path, old, "record", old=True)
    out = attempt(sqlite_path, change, "import")
    assert out != "TAKEN", "a write that breaks a second target/order of the fact is taken"


def test_one_record_call_and_the_same_import_agree(tmp_path):
    """An older ledger with order ``o`` stranded; one write: a ruling on ``o`` and an
    unrelated targets-removed on its platform. One record call refused it (blaming the
    removal for the old breakage), the same write imported took it: both take it now."""
    outs = {}
    for how in ("call", "import"):
        db = str(tmp_path / f"{how}.db")
        write(db, [_reg("foo", ["foo.com", "foo.net", "foo.org"]),
                   _order("o", "foo", "2020-02-01", ["foo.com"])], "import")
        write(db, [_amend("old", "correction", "foo", "reg-foo", "2020-01-01",
                          set={"targets": ["foo.net", "foo.org"]})], "record", old=True)
        outs[how] = attempt(db, [
            _event("ru", "ruling", "o", "2020-04-01",
                   {"court": "C", "outcome": "upheld", "summary": "s"}),
            _event("x", "targets-removed", "foo", "2020-05-01", {"targets": ["foo.org"]})],
            how)
    assert outs["call"] == outs["import"].removeprefix("line 2: ")


def test_the_refusal_names_the_last_change_not_an_innocent_line(sqlite_path):
    """The whole import: line 2 gives foo.org (what makes the order valid), line 4 takes
    it away. The refusal named line 2; it names line 4."""
    steps = [_reg("foo", ["foo.com"]),
             _amend("w", "correction", "foo", "reg-foo", "2020-01-01",
                    set={"targets": ["foo.com", "foo.org"]}),
             _order("o1", "foo", "2020-02-01", ["foo.org"]),
             _amend("x", "retraction", "foo", "w", "2020-01-01")]
    out = attempt(sqlite_path, steps, "batch")
    assert out.startswith("REFUSED: line 4:"), out


def test_a_partial_repair_of_an_older_ledger_is_taken(sqlite_path):
    """Both targets of ``o`` missing (an older ledger); one given back: nothing is broken
    that was not before, so it is taken (it was refused, naming the other target)."""
    write(sqlite_path, [_reg("foo", ["foo.com", "foo.net", "foo.org"]),
                        _order("o", "foo", "2020-02-01", ["foo.com", "foo.net"])], "import")
    write(sqlite_path, [_amend("old", "correction", "foo", "reg-foo", "2020-01-01",
                               set={"targets": ["foo.org"]})], "record", old=True)
    out = attempt(sqlite_path, [_amend("x", "correction", "foo", "reg-foo", "2020-01-01",
                                       set={"targets": ["foo.com", "foo.org"]})], "record")
    assert out == "TAKEN", "gives back one of two missing targets; nothing new is broken"


def test_a_position_in_two_chunks_is_not_read_as_two_events(tmp_path):
    """The status view's catch-up read a position twice across two chunks of 500
    (``ViewReads.platform_rows``) after a settings change on a ledger of two platforms and
    over 500 events, and refused it as two events stored there; the record path, which
    catches the views up inside the write, refused a valid write as if altered."""
    db = str(tmp_path / "v.db")
    orders = [_event(f"o{i}", "blocked", f"o{i}", "2020-02-01",
                     {"platform": "foo", "authority": "A", "reasons": ["r"],
                      "targets": ["foo.com"], "jurisdiction": "BR"}) for i in range(600)]
    write(db, [_reg("foo", ["foo.com", "foo.net"]), _reg("bar", ["bar.com"]),
               _order("bo", "bar", "2020-02-01", ["bar.com"]), *orders], "batch")
    assert attempt(db, [_event("def", "jurisdiction-default", "ledger", "2020-01-01",
                               {"jurisdiction": "BR"})], "call") == "TAKEN"
    out = attempt(db, [_event("rm", "targets-removed", "foo", "2020-05-01",
                              {"targets": ["foo.net"]})], "call")
    assert out == "TAKEN", out


def test_the_exemption_is_per_fact(sqlite_path):
    """The exemption is per fact: a second order stranded by the same write is refused."""
    write(sqlite_path, [_reg("foo", ["foo.com", "foo.net"]),
                        _order("o", "foo", "2020-02-01", ["foo.com"]),
                        _order("p", "foo", "2020-02-01", ["foo.net"])], "import")
    write(sqlite_path, [_amend("old", "correction", "foo", "reg-foo", "2020-01-01",
                               set={"targets": ["foo.net"]})], "record", old=True)
    with pytest.raises(LedgerError, match="of order p against the rules"):
        write(sqlite_path, [_event("x", "targets-removed", "foo", "2020-01-15",
                                   {"targets": ["foo.net"]})], "import")


@pytest.mark.parametrize("how", ["call", "batch"])
def test_the_blame_falls_on_the_change_that_alone_breaks_it(sqlite_path, how):
    """A second review: an order's date corrected (harmless) and the default set to
    another state (the cause) in one write: the refusal named the correction (its error
    reads "order ob binds RU"); it names the default, on line 2 of an import."""
    write(sqlite_path, [_reg("foo", ["foo.com", "foo.net"]), _blocked("ob", "2020-02-01"),
                        _obs("seen", "ob", "2020-03-02", "BR")], "import")
    out = attempt(sqlite_path, [
        _amend("redate", "correction", "ob", "ob", "2020-02-01",
               set={"occurred_at": "2020-02-02"}),
        _event("def", "jurisdiction-default", "ledger", "2020-01-01",
               {"jurisdiction": "RU"})], how)
    assert out.startswith("REFUSED: " + ("line 2: " if how == "batch" else "")
                          + "refused: jurisdiction-default of 2020-01-01"), out


def test_a_fine_before_its_order_moved_nearer_is_taken(sqlite_path):
    """A second review: an older ledger's fine before its order (moved after it); the order
    moved nearer (still after the fine) was refused, its date being in the words; a way of
    breaking the rules is now the rule and what it is about, so it is taken, as is the
    full repair."""
    write(sqlite_path, [_reg("foo", ["foo.com"]), _order("o", "foo", "2020-02-01", ["foo.com"]),
                        _fine("f", "foo", "2020-03-01", "o")], "import")
    write(sqlite_path, [_amend("old", "correction", "o", "o", "2020-02-01",
                               set={"occurred_at": "2020-05-01"})], "record", old=True)
    for name, day in (("x", "2020-04-01"), ("y", "2020-02-15")):
        assert attempt(sqlite_path, [_amend(name, "correction", "o", "o", "2020-05-01",
                                            set={"occurred_at": day})], "record") == "TAKEN"
    assert oracle(sqlite_path) == []
