"""import-registry's memory (issue 15: a first snapshot of 500,000 entries under 500 MB):
what a snapshot holds once read, what a plan holds while its events are written, and the
size of the states a bulk write holds. Measured with tracemalloc, whose counts are the
same from run to run; the figures themselves are ``benchmarks/registry.py``'s."""

from __future__ import annotations

import gc
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sources.snapshots import Entry, read_snapshot


def _dump(path: Path, n: int, *, newline: str = "\n", encoding: str = "cp1251") -> Path:
    lines = [f"10.0.{i >> 8 & 255}.{i & 255};site{i}.ru;http://site{i}.ru/;Генпрокуратура;"
             f"27-31-2015/Ид{i // 2}-15;2015-11-20" for i in range(n)]
    path.write_bytes(newline.join(["Updated: 2024-01-15 10:00:00 +0000", *lines, ""])
                     .encode(encoding))
    return path


def _peak(call):
    gc.collect()
    tracemalloc.start()
    try:
        kept = call()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return kept, current, peak


def test_a_snapshot_read_holds_its_bytes_not_its_entries(tmp_path):
    # Before: the file's bytes, its decoded text (two bytes a Cyrillic character), its
    # list of lines and every Entry, all at once: a peak of 10x the file, 4.9x kept. Now
    # its bytes, and the checks' caches of recurring fields (bounded, full at 20,000).
    path = _dump(tmp_path / "d.csv", 20_000)
    size = path.stat().st_size
    snapshot, kept, peak = _peak(lambda: read_snapshot(path, "rkn"))
    assert len(snapshot.entries) == 20_000
    assert kept < 2 * size, kept / size
    assert peak < 2.5 * size, peak / size


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
@pytest.mark.parametrize("encoding", ["cp1251", "utf-8", "utf-8-sig"])
def test_entries_are_read_again_alike_and_numbered_as_the_file(tmp_path, newline, encoding):
    path = _dump(tmp_path / "d.csv", 5, newline=newline, encoding=encoding)
    snapshot = read_snapshot(path, "rkn")
    first, again = list(snapshot.entries), list(snapshot.entries)
    assert first == again
    assert [e.line for e in first] == [2, 3, 4, 5, 6]
    assert first[0] == Entry(2, "27-31-2015/Ид0-15", "2015-11-20", "Генпрокуратура",
                             ("site0.ru", "10.0.0.0"))
    assert snapshot.encoding == ("windows-1251" if encoding == "cp1251" else "utf-8")


def test_lines_split_as_the_whole_text_splits_them(tmp_path):
    # str.splitlines knows more separators than the newline (a lone CR, U+2028): a line is
    # numbered as the whole text's splitlines numbers it, whatever was read a piece at a time.
    path = tmp_path / "l.txt"
    text = "a.ru\r\nb.ru\rc.ru\u2028d.ru\n\ne.ru\x85f.ru"
    path.write_bytes(text.encode("utf-8"))
    snapshot = read_snapshot(path, "domains", at=datetime(2024, 1, 1, tzinfo=UTC))
    numbered = [(e.line, e.targets[0]) for e in snapshot.entries]
    expected = [(n, line) for n, line in enumerate(text.splitlines(), start=1) if line]
    assert numbered == expected


def test_a_byte_neither_encoding_has_is_named_at_its_offset(tmp_path):
    from domain.errors import BadInput

    path = tmp_path / "b.csv"
    path.write_bytes(b"Updated: 2024-01-15 10:00:00 +0000\n"
                     + "1.2.3.4;a.ru;;орг;D-1;2020-01-01\n".encode("cp1251") + b"x\x98y\n")
    with pytest.raises(BadInput) as raised:
        read_snapshot(path, "rkn")
    offset = path.read_bytes().index(b"\x98") + 1
    assert raised.value.message.endswith(f"(byte 0x98 at byte {offset})")


def test_a_platform_of_many_targets_is_registered_with_all_of_them_in_order(tmp_path):
    # A registered platform is one tuple grown by copying while short, then a list: past
    # the switch, nothing is lost or reordered.
    from sources.holders import Holders
    from sources.registry import Plan, Registry
    from sources.registry_held import Held

    names = [f"s{i}.example.ru" for i in range(100)]
    path = tmp_path / "d.csv"
    path.write_bytes(("Updated: 2024-01-15 10:00:00 +0000\n" + "".join(
        f"10.0.0.{i};{name};;org;D-{i % 7};2020-01-01\n" for i, name in enumerate(names)))
        .encode("cp1251"))
    registry = Registry("RU", "Roskomnadzor")
    plan = Plan(read_snapshot(path, "rkn"), registry=registry, held=Held(registry),
                holders=Holders())
    [registered] = [fact for _, fact in plan.facts() if fact.type == "platform-registered"]
    expected = [t for d in range(7) for i, name in enumerate(names) if i % 7 == d
                for t in (name, f"10.0.0.{i}")]
    assert registered.subject == "example.ru"
    assert list(registered.data.targets) == expected


@pytest.mark.parametrize("batch_commit", [False, True])
def test_a_batch_is_let_go_before_the_next_is_drawn(tmp_path, batch_commit):
    # A registry's snapshot makes its facts as the import draws them: a batch of 20,000
    # orders still held (by the import's loop and the views' facts of the batch taken)
    # while the next was made was a second batch alive, 28 MB at the peak of 100,000.
    import sys
    import weakref

    import orjson

    from ledger.application import open_ledger
    from ledger.interchange import read_facts
    from ledger.storage import parse_target
    from projections.importing import import_facts

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from synthetic import events

    lines = [orjson.dumps(o) + b"\n" for o in events(600)]
    alive: list[weakref.ref] = []
    held: list[int] = []

    def drawn():
        for i, (number, fact) in enumerate(read_facts(iter(lines))):
            if i and i % 200 == 0:
                # (the last one drawn is still this loop's own)
                held.append(sum(ref() is not None for ref in alive[:-1]))
                alive.clear()
            alive.append(weakref.ref(fact))
            yield number, fact

    with open_ledger(parse_target(str(tmp_path / "l.db")), create=True) as ledger:
        done = import_facts(ledger, drawn(), operator="t", batch_size=200,
                            batch_commit=batch_commit)
        assert done.recorded == ledger.count() == 600
    assert held == [0, 0], held


def _planned(path: Path):
    from sources.holders import Holders
    from sources.registry import Plan, Registry
    from sources.registry_held import Held

    registry = Registry("RU", "Roskomnadzor")
    plan = Plan(read_snapshot(path, "rkn"), registry=registry, held=Held(registry),
                holders=Holders())
    plan.diff()
    return plan


def test_a_plan_holds_each_order_and_platform_as_one_record(tmp_path):
    # A plan held per order a tuple of a Listing, two tuples and their strings, and per
    # platform a tuple, its line and its targets' strings: 479 bytes an entry at 5,000
    # entries of the benchmark's shape (one domain and one address each, two a decision).
    # Now one bytes record each: 315, the rest mostly the orders' references and the
    # platforms' names, the dicts' keys. (The domain caches are filled by a first diff.)
    path = _dump(tmp_path / "d.csv", 5_000)
    _planned(path)
    plan, kept, _ = _peak(lambda: _planned(path))
    assert len(plan.orders) == 2_500 and len(plan.registered) == 5_000
    assert kept / 5_000 < 360, kept / 5_000


def test_a_plan_lets_go_of_what_it_has_written(tmp_path):
    # The same events with ``let_go``; each record let go once its event is made, so the
    # import's last batches (its peak) do not hold the plan beside them.
    path = _dump(tmp_path / "d.csv", 300)
    kept = list(_planned(path).facts())
    plan = _planned(path)
    orders = list(plan.ordered())
    made: list = []
    for line, fact in plan.facts(let_go=True):
        if made and made[-1][1].type == "blocked":  # let go as the next is made
            assert plan.orders[made[-1][1].subject] is None
        if made and made[-1][1].type == "platform-registered":
            assert plan.registered[made[-1][1].subject] is None
        made.append((line, fact))
    assert made == kept
    assert len(orders) == len(plan.orders) == 150 and len(plan.registered) == 300
    assert set(plan.orders.values()) == set(plan.registered.values()) == {None}
    with pytest.raises(ValueError, match="let go"):
        list(plan.ordered())
