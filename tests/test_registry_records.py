"""A plan's records (``sources.registry_records``) against a tampered ledger (issue 15,
review of regmem, finding 1): a platform reference read back from the ledger holding a
record's separator is refused in one line naming the file, line and field (``BadInput``,
exit 2), as main refused it when it wrote the order, not with a ``ValueError`` traceback
from ``packed``. Failed before its fix (a bare ``ValueError``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from domain.errors import BadInput
from sources.holders import Holders
from sources.registry import Plan, Registry
from sources.registry_held import Held
from sources.registry_records import packed
from sources.snapshots import read_snapshot


@pytest.mark.parametrize("separator", ["\x1f", "\x1e"])
def test_a_held_platform_with_a_separator_is_refused_naming_the_field(tmp_path, separator):
    path = tmp_path / "d.csv"
    path.write_text("Updated: 2024-01-15 10:00:00 +0000\n"
                    "1.2.3.4;example.ru;;Суд;D-1;2020-01-01\n", encoding="utf-8")
    holders = Holders()
    holders.add_registered(f"forged{separator}ref", datetime(2020, 1, 1, tzinfo=UTC),
                           ["example.ru", "1.2.3.4"])
    registry = Registry("RU", "Roskomnadzor")
    plan = Plan(read_snapshot(path, "rkn"), registry=registry, held=Held(registry),
                holders=holders)
    with pytest.raises(BadInput) as raised:
        plan.diff()
    assert raised.value.field == "data.platform"
    assert raised.value.message.startswith("d.csv, line 2: ")
    assert "is not a reference" in raised.value.message
    assert "\n" not in str(raised.value)


def test_a_record_counts_its_separators():
    assert packed(("1", "a", "b"), 2) == b"1\x1fa\x1fb"
    with pytest.raises(ValueError):
        packed(("1", "a\x1fb"), 1)
    with pytest.raises(ValueError):
        packed(("1", "a\x1eb"), 1)
