"""The benchmark harness still runs (N = 2,000). It asserts nothing about speed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def test_the_harness_runs_and_reports_every_figure():
    """A small run produces every figure the benchmark README documents."""
    import run

    figures = run.run(2_000, samples=2)
    assert figures["events"] == 2_000
    for key in ("import_events_per_s", "baseline_library_events_per_s",
                "baseline_raw_sqlite_rows_per_s", "import_vs_library", "import_vs_raw",
                "rebuild_events_per_s", "baseline_read_rows_per_s", "rebuild_vs_read",
                "status_p50_ms", "status_p99_ms", "asof_p99_ms", "verify_events_per_s",
                "baseline_read_hash_rows_per_s", "verify_vs_read_hash", "peak_rss_mb"):
        assert figures[key] > 0, key
