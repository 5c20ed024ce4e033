"""The publish benchmark still runs (a few platforms and a long one of 100 events). It
asserts nothing about speed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def test_publish_against_export_runs_and_reports_every_figure():
    import run

    figures = run.measure_publish(120, long=100)
    assert figures["publish_events"] > 200
    for key in ("publish_s", "export_s", "publish_vs_export", "publish_largest_page_kb",
                "publish_pages_mb"):
        assert figures[key] > 0, key


def test_the_long_platform_joins_the_synthetic_ledger_without_a_clash():
    """Its references and ids are its own: none is one of synthetic.events'."""
    import run
    from synthetic import events

    long = list(run.long_platform(60))
    ours = list(events(400))
    assert {e["subject"] for e in long} == {"long-platform", "long-order"}
    assert not {e["id"] for e in long} & {e["id"] for e in ours}
