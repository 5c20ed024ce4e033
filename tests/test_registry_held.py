"""What a registry's diff reads of the ledger (sources.registry_held, sources.holders) is
what the rules' own fold of every event gives: the fast paths (an order's registry-only
events folded as a set difference, a platform's lone registration taken from its row, an
IPv4 address kept as written, an event id computed without ``uuid``) are held equal to the
slow ones, including after hand-made events that the fast paths must hand to the rules."""

from __future__ import annotations

import ipaddress
import json
import random
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.errors import BadInput
from domain.identifiers import check_target
from ledger.application import open_ledger
from ledger.storage import parse_target
from projections.book import Book
from sources.holders import Holders, read_holders
from sources.registry import Registry
from sources.registry_held import Held, held_in
from sources.snapshots import _target
from tests.clitools import run, run_json
from tests.test_import_registry import FIRST, RU, _dump, _three

REGISTRY = Registry("RU", "Roskomnadzor")


def _reference(ledger, registry: Registry, at: datetime | None) -> dict:
    """What the registry holds at ``at``, the slow way: one book of every event, every
    order of the registry folded by the rules (as the import did before its fast paths)."""
    book = Book(ledger.entries())
    keys: dict = {}
    probe = Held(registry)
    for ref in book.refs("order"):
        facts = book.facts("order", ref)
        if not ref.startswith(registry.name + "-") or not registry.wrote(facts[0]):
            continue
        state = book.state("order", ref, at)
        for target in sorted(state.held) if state is not None else ():
            keys[(probe.base(ref), target)] = ref
    return keys


def _times() -> list[datetime | None]:
    return [None, *(datetime(2024, 1, day, hour, tzinfo=UTC)
                    for day in (14, 15, 16, 17, 18) for hour in (9, 10, 12))]


def _holds_as_the_rules_fold(db: str) -> None:
    with open_ledger(parse_target(db)) as ledger:
        for at in _times():
            assert held_in(ledger, REGISTRY, at).keys == _reference(ledger, REGISTRY, at), at


def test_registry_only_orders_are_read_as_the_rules_fold_them(runner, db, tmp_path):
    """Three snapshots (additions, removals, a re-added entry): held at every time."""
    assert run(runner, db, "import-registry", *RU, *_three(tmp_path)).exit_code == 0
    _holds_as_the_rules_fold(db)


def test_hand_made_events_on_the_registrys_orders_go_to_the_rules(runner, db, tmp_path):
    """A lift by hand, a temporary lift, a ruling, a retraction of the registry's own lift
    and an observation, each on one of the registry's orders: what the diff reads is still
    what the rules fold."""
    files = _three(tmp_path)
    assert run(runner, db, "import-registry", *RU, *files).exit_code == 0
    orders = sorted({o["ref"] for row in run_json(runner, db, "status")
                     for o in row["orders"]})
    example_ru, casino, ip_only, cyrillic = (
        next(o for o in orders if key in o)
        for key in ("2971-15-", "2016-06-23-79-", "1-", "2-123-2019"))
    lift = next(e for e in run_json(runner, db, "history", casino)["events"]
                if e["type"] == "unblocked")
    steps = [
        ["unblocked", example_ru, "--at", "2024-01-15T12:00:00Z", "--target", "1.2.3.5"],
        ["unblocked", cyrillic, "--at", "2024-01-15T11:00:00Z", "--until",
         "2024-01-16T11:00:00Z"],
        ["ruling", ip_only, "--at", "2024-01-16T09:00:00Z", "--court", "c", "--outcome",
         "suspended", "--summary", "s"],
        ["retraction", casino, "--at", "2024-01-18", "--target", lift["id"],
         "--reason", "misread"],
        ["access-observed", example_ru, "--at", "2024-01-15T11:00:00Z", "--target",
         "example.ru", "--not-accessible"],
    ]
    for step in steps:
        result = run(runner, db, "record", *step, "--source", "s")
        assert result.exit_code == 0, result.output
    _holds_as_the_rules_fold(db)


def test_a_hand_made_order_under_the_registrys_prefix_is_not_its(runner, db, tmp_path):
    """An order the registry's imports did not make is not read as the registry's, even
    when a later event on it cites a snapshot's digest."""
    assert run(runner, db, "import-registry", *RU, _dump(
        tmp_path / "d.csv", "2024-01-15 10:00:00 +0000", FIRST[:1])).exit_code == 0
    assert run(runner, db, "record", "blocked", "ru-roskomnadzor-by-hand", "--at",
               "2024-01-15T11:00:00Z", "--platform", "example.ru", "--authority", "R",
               "--target", "example.ru", "--reason", "r", "--source", "s").exit_code == 0
    with open_ledger(parse_target(db)) as ledger:
        held = held_in(ledger, REGISTRY, None)
        assert "ru-roskomnadzor-by-hand" in held.taken
        assert "ru-roskomnadzor-by-hand" not in held.orders
        assert held.keys == _reference(ledger, REGISTRY, None)


def test_platforms_with_more_than_a_registration_are_folded(runner, db, tmp_path):
    """A platform given, and relieved of, targets after its registration (and one whose
    registration is corrected) is found as the rules fold it; lone registrations as
    ``add_platform`` takes them."""
    steps = [
        ["platform-registered", "a", "--at", "2020-01-01", "--name", "A", "--target",
         "a.example", "--target", "a.example"],
        ["platform-registered", "b", "--at", "2020-01-01", "--name", "B", "--target",
         "b.example"],
        ["targets-added", "b", "--at", "2021-01-01", "--target", "c.example"],
        ["targets-removed", "b", "--at", "2022-01-01", "--target", "b.example"],
        ["platform-registered", "d", "--at", "2020-01-01", "--name", "D", "--target",
         "d.example"],
    ]
    for step in steps:
        assert run(runner, db, "record", *step, "--source", "s").exit_code == 0
    first = run_json(runner, db, "history", "d")["events"][0]["id"]
    assert run(runner, db, "record", "correction", "d", "--at", "2024-01-01", "--data",
               json.dumps({"target": first, "set": {"targets": ["e.example"]},
                           "reason": "r"}), "--source", "s").exit_code == 0
    with open_ledger(parse_target(db)) as ledger:
        fast = read_holders(ledger)
        slow = Holders()
        book = Book(ledger.entries())
        for ref in book.refs("platform"):
            slow.add_platform(ref, book.facts("platform", ref))
    assert fast._spans == slow._spans and fast.platforms == slow.platforms
    assert "e.example" in fast._spans and "d.example" not in fast._spans


def test_an_event_id_as_text_is_the_uuid5(tmp_path):
    for registry in (REGISTRY, Registry("ID", "Kominfo – Ditjen Aptika")):
        for digest in ("0" * 64, "f" * 64):
            for kind, subject in (("blocked", "ru-roskomnadzor-x"), ("unblocked", "é")):
                assert registry.id_text(digest, kind, subject) == str(
                    registry.event_id(digest, kind, subject))
                assert uuid.UUID(registry.id_text(digest, kind, subject)).version == 5


def test_an_ipv4_address_is_kept_as_ipaddress_writes_it():
    """Canonical dotted quads skip ``ipaddress``; every other spelling goes the slow way
    and comes out as it did (or is refused as it was)."""
    rng = random.Random(15)
    written = [str(ipaddress.IPv4Address(rng.getrandbits(32))) for _ in range(2000)]
    odd = ["0.0.0.0", "255.255.255.255", "010.1.1.1", "1.2.3", "256.1.1.1", "1.2.3.04",
           "01.2.3.4", "1.2.3.4.5", " 1.2.3.4", "1.2.3.4/32", "1.2.3.0/24", "1..2.3",
           "\u0661.2.3.4", "1.2.3.\uff14", "1\u0660.0.0.1"]  # other scripts' digits
    for value in written + odd:
        try:
            expected = check_target(value, "ip")
        except BadInput:
            with pytest.raises(BadInput):
                _target(value, Path("f"), 2, "ip")
            continue
        assert _target(value, Path("f"), 2, "ip") == expected, value


def test_holders_read_for_wanted_hosts_answer_as_all(runner, db, tmp_path):
    """``read_holders(ledger, wanted)`` finds, for every host whose candidates are wanted,
    what the full read finds, at every time; other hosts are not held in it."""
    from sources.domains import parents

    assert run(runner, db, "import-registry", *RU, *_three(tmp_path)).exit_code == 0
    hosts = ["news.example.org", "casino.example.com", "1.2.3.4", "www.example.ru",
             "example.ru", "xn--d1abbgf6aiiy.xn--p1ai", "9.9.9.9"]
    wanted = {h for host in hosts for h in (host, *parents(host))}
    with open_ledger(parse_target(db)) as ledger:
        every, some = read_holders(ledger), read_holders(ledger, wanted)
    assert some.platforms == every.platforms
    for host in hosts:
        for at in _times()[1:]:
            assert some.find(host, at) == every.find(host, at), (host, at)
    assert every.find("5.6.7.8", _times()[-1]) is not None
    assert some.find("5.6.7.8", _times()[-1]) is None


def test_address_shortcuts_answer_as_ipaddress(monkeypatch):
    """``sources.domains._is_address`` and ``sources.registry.new_platform`` skip
    ``ipaddress`` for a canonical dotted quad and for a name no address is written with:
    each answers as parsing every value would (``new_platform`` itself with its shortcut
    off: a pattern that matches nothing, so every home is parsed)."""
    import re

    from sources import domains
    from sources.domains import _is_address
    from sources.registry import new_platform

    def slow_platform(home: str) -> str:
        with monkeypatch.context() as patched:
            patched.setattr(domains, "_NOT_DOTTED", re.compile(r"(?!)"))
            return new_platform(home)

    def slow_address(host: str) -> bool:
        if ":" in host:
            return True
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True

    values = ["1.2.3.4", "0.0.0.0", "255.255.255.255", "01.2.3.4", "1.2.3", "1.2.3.256",
              "10.0.0.0/8", "10.0.0.0/255.0.0.0", "10.0.0.1/24", "2001:db8::1",
              "2001:db8::/32", "fe80::1%eth0", "site1.ru", "1.ru", "a.b.example.co.uk",
              "xn--80ak6aa92e.com", "\u0661.2.3.4", "1.2.3.\uff14", "1e3", "123", "1.2.3.4.5",
              "localhost", "ru", "app:android:org.telegram.messenger", "x" * 120 + ".ru"]
    for value in values:
        assert _is_address(value) == slow_address(value), value
        if not value.startswith("app:"):
            assert new_platform(value) == slow_platform(value), value
