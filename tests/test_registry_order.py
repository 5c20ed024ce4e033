"""What a registry snapshot makes is a function of the set of its entries, not of the order
of its lines (review M7): the platform an address shared by two entries goes to, and the
entry an order's data come from, were the first line's. Two files listing the same
entries in another order make the same ledger; only the events' order, ids and sources
(the file's digest) differ."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sources.holders import Holders
from sources.registry import Plan, Registry
from sources.registry_held import Held
from sources.snapshots import read_snapshot
from tests.clitools import run

RU = ["--format", "rkn", "--authority", "Roskomnadzor", "--jurisdiction", "RU"]
REGISTRY = Registry("RU", "Roskomnadzor")
#: Entries that share addresses and registrable domains, decisions over several lines of
#: different bodies and dates, entries of addresses alone and of a URL without a domain.
SHARED = [
    "1.2.3.4 | 1.2.3.5;a.example.ru;;Генпрокуратура;D-1;2015-11-20",
    "1.2.3.4;b.example.ru;;ФНС;D-2;2016-01-01",
    "1.2.3.5;;http://c.example.ru/x;суд;D-3;2017-01-01",
    "7.7.7.7;other.ru;;суд;D-1;2015-11-20",
    "7.7.7.7;;;суд;D-4;2017-01-01",
    "1.2.3.4;zeta.ru;;ФНС;D-1;2015-11-19",
]

_lines = st.builds(
    lambda ips, domain, decision, body, day: (
        f"{' | '.join(ips)};{domain};;{body};{decision};2015-11-{day:02d}"),
    st.lists(st.sampled_from(["1.2.3.4", "1.2.3.5", "7.7.7.7", "10.0.0.0/8"]),
             max_size=2, unique=True),
    st.sampled_from(["a.example.ru", "b.example.ru", "other.ru", "zeta.ru", ""]),
    st.sampled_from(["D-1", "D-2", "D-3"]),
    st.sampled_from(["суд", "ФНС", "Генпрокуратура"]),
    st.integers(1, 3),
).filter(lambda line: not line.startswith(";;"))  # an entry with no target


def _made(lines: list[str]) -> set[tuple[str, str, Any]]:
    """The facts a first snapshot of ``lines`` makes, as a set, each list as a sorted
    tuple (their order follows the file), without ids and sources (and the check's
    subject, which names the file's digest)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        path.write_bytes(("Updated: 2024-01-15 10:00:00 +0000\n" + "\n".join(lines)
                          + "\n").encode("cp1251"))
        plan = Plan(read_snapshot(path, "rkn"), registry=REGISTRY, held=Held(REGISTRY),
                    holders=Holders())
        facts = [fact for _, fact in plan.facts()]
    made = set()
    for fact in facts:
        data = fact.to_json()["data"]
        if "platform" in data:
            data["platforms"] = [data.pop("platform")]
        subject = "the check" if fact.type == "registry-checked" else fact.subject  # digest
        made.add((fact.type, subject, tuple(sorted(
            (k, tuple(sorted(v)) if isinstance(v, list) else v) for k, v in data.items()))))
    return made


def test_shared_addresses_go_to_the_same_platform_whatever_the_order():
    made = _made(SHARED)
    assert _made(SHARED[::-1]) == made
    owners = {subject: dict(data) for kind, subject, data in made
              if kind == "platform-registered"}
    # 1.2.3.5 and 7.7.7.7 are entries of their own (D-3, D-4): their own platforms;
    # 1.2.3.4, listed by a.example.ru, b.example.ru and zeta.ru, goes to the least.
    assert owners["ip-1.2.3.5"]["targets"] == ("1.2.3.5", "c.example.ru")
    assert owners["ip-7.7.7.7"]["targets"] == ("7.7.7.7",)
    assert "1.2.3.4" in owners["example.ru"]["targets"]
    assert owners["zeta.ru"]["targets"] == ("zeta.ru",)
    # D-1's data come from its earliest decision date, whichever line comes first
    [d1] = [dict(data) for kind, subject, data in made
            if kind == "blocked" and subject.startswith("ru-roskomnadzor-d-1-")]
    assert d1["instrument"] == "registry entry: decision D-1 of 2015-11-19 (ФНС)"


@settings(max_examples=60, deadline=None)
@given(st.lists(_lines, min_size=1, max_size=8).flatmap(
    lambda lines: st.tuples(st.just(lines), st.permutations(lines))))
def test_the_same_entries_in_any_order_make_the_same_facts(pair):
    lines, shuffled = pair
    assert _made(shuffled) == _made(lines)


def test_two_files_of_the_same_entries_give_the_same_ledger(runner, tmp_path):
    """Through the command, over a second snapshot diffed against the first (lifts, a
    target given to a platform that exists): the intervals exported are the same."""
    second = [*SHARED[1:], "1.2.3.4;new.example.ru;;ФНС;D-9;2016-01-01"]
    exported = []
    for name, order in (("forward", lambda x: x), ("backward", lambda x: x[::-1])):
        db = str(tmp_path / f"{name}.db")
        for day, lines in (("15", SHARED), ("16", second)):
            path = tmp_path / f"{name}-{day}.csv"
            path.write_bytes((f"Updated: 2024-01-{day} 10:00:00 +0000\n"
                              + "\n".join(order(lines)) + "\n").encode("cp1251"))
            assert run(runner, db, "import-registry", *RU, str(path)).exit_code == 0
        result = run(runner, db, "export", "intervals")
        assert result.exit_code == 0
        exported.append(sorted(result.stdout.splitlines()))
    assert exported[0] == exported[1]
    assert any(line.startswith("example.ru,1.2.3.4,") for line in exported[0])
