"""A registry snapshot's events in an order the bulk import keeps close (issue 15): each
order comes just after the registrations and targets-added of its platforms, so that the
import still keeps them when it checks the order. Registrations all first, then orders,
had each order read its platforms back from the store once they had left the subjects
kept (``ledger.bulk.REMEMBERED``): 250,000 read-backs through a WAL of 1.1 GB at 500,000
entries, the growth of the first snapshot's peak (benchmarks/README.md)."""

from __future__ import annotations

from pathlib import Path

from domain.values import aggregate_id
from ledger.application import open_ledger
from ledger.bulk import Bulk
from ledger.storage import parse_target
from projections.importing import import_facts
from sources.holders import Holders, read_holders
from sources.registry import Plan, Registry
from sources.registry_held import Held, held_in
from sources.snapshots import read_snapshot

REGISTRY = Registry("RU", "Roskomnadzor")
HEAD = "Updated: 2024-01-15 10:00:00 +0000\n"


def _snapshot(path: Path, lines: list[str], head: str = HEAD):
    path.write_bytes((head + "\n".join(lines) + "\n").encode("cp1251"))
    return read_snapshot(path, "rkn")


def _lines(n: int) -> list[str]:
    # Two entries a decision; every fifth a subdomain of one shared platform (of many
    # targets, named by many orders); addresses shared by neighbouring decisions.
    return [f"10.0.{i // 7 >> 8 & 255}.{i // 7 & 255};"
            + (f"s{i}.shared.ru" if i % 5 == 0 else f"site{i}.ru")
            + f";;Генпрокуратура;D-{i // 2};2015-11-20" for i in range(n)]


def _in_order(facts) -> None:
    """Every order after its platforms' registration and targets-added, each of those
    once and just before the first order naming its platform."""
    seen: set[str] = set()
    since: list[str] = []  # platforms' events since the last order
    for fact in facts:
        if fact.type in ("platform-registered", "targets-added"):
            assert (fact.type, fact.subject) not in seen, fact.subject
            seen.add((fact.type, fact.subject))
            since.append(fact.subject)
        elif fact.type == "blocked":
            named = fact.data.platforms or (fact.data.platform,)
            assert set(since) <= set(named), (since, named)
            assert all(("platform-registered", p) in seen or ("targets-added", p) in seen
                       or p.startswith("existing") for p in named)
            since = []


def test_each_order_comes_just_after_its_platforms(tmp_path):
    plan = Plan(_snapshot(tmp_path / "d.csv", _lines(400)), registry=REGISTRY,
                held=Held(REGISTRY), holders=Holders())
    facts = [fact for _, fact in plan.facts()]
    _in_order(facts)
    kinds = [f.type for f in facts]
    assert kinds.count("blocked") == 200 and kinds.count("platform-registered") == 321
    # the summary's counts are read from the plan after its facts
    assert len(plan.registered) == 321 and len(plan.orders) == 200


def test_a_first_snapshot_larger_than_the_subjects_kept_reads_none_back(tmp_path,
                                                                        monkeypatch):
    read: list = []
    stored = Bulk._stored_facts

    def counted(self, key):
        facts = stored(self, key)
        if facts:  # read back (a subject with no events yet is looked up, not read)
            read.append(key)
        return facts

    monkeypatch.setattr(Bulk, "_stored_facts", counted)
    plan = Plan(_snapshot(tmp_path / "d.csv", _lines(600)), registry=REGISTRY,
                held=Held(REGISTRY), holders=Holders())
    with open_ledger(parse_target(str(tmp_path / "l.db")), create=True) as ledger:
        done = import_facts(ledger, plan.facts(), operator="t", batch_size=50,
                            remembered=20)
        assert done.recorded == ledger.count() == 481 + 300 + 1
    platforms = {aggregate_id("platform", ref) for ref in plan.registered}
    # None read back, the shared platform (named by every fifth order) included. Before,
    # 481 (every platform, registrations all first); with the orders after their
    # platforms but each batch's 50 new subjects pushing the 20 kept out, 27 (the shared
    # platform once a batch, and a platform registered at the end of a batch).
    assert not [key for key in read if key in platforms], len(read)


def test_a_second_snapshot_adds_targets_just_before_the_order(tmp_path):
    first = _snapshot(tmp_path / "a.csv", ["1.1.1.1;old.ru;;суд;D-0;2015-11-20"],
                      head="Updated: 2024-01-14 10:00:00 +0000\n")
    with open_ledger(parse_target(str(tmp_path / "l.db")), create=True) as ledger:
        plan = Plan(first, registry=REGISTRY, held=Held(REGISTRY), holders=Holders())
        import_facts(ledger, plan.facts(), operator="t")
        second = _snapshot(tmp_path / "b.csv", [
            "1.1.1.1;old.ru;;суд;D-0;2015-11-20", "2.2.2.2;new.ru;;суд;D-1;2015-11-20",
            "3.3.3.3;x.old.ru;;суд;D-2;2015-11-20", "4.4.4.4;y.new.ru;;суд;D-3;2015-11-20"])
        held = held_in(ledger, REGISTRY, second.updated)
        plan = Plan(second, registry=REGISTRY, held=held,
                    holders=lambda wanted: read_holders(ledger, wanted))
        facts = [fact for _, fact in plan.facts()]
        assert [(f.type, f.subject) for f in facts[:-1]] == [
            ("platform-registered", "new.ru"), ("blocked", facts[1].subject),
            ("targets-added", "old.ru"), ("blocked", facts[3].subject),
            ("blocked", facts[4].subject)]
        done = import_facts(ledger, iter([(1, f) for f in facts]), operator="t",
                            batch_size=2, remembered=1)
        assert done.recorded == 6
