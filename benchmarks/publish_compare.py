"""publish of one ledger by two checkouts of blockledger, alternating, against export.

    python benchmarks/publish_compare.py LEDGER KEY BEFORE_DIR AFTER_DIR [ROUNDS]

BEFORE_DIR and AFTER_DIR are trees of the project (``git archive REV | tar -x -C DIR``);
each round publishes a fresh copy of LEDGER with each (a fresh site each time: a
publication keeps its checkpoint in the ledger it publishes, so publishing LEDGER itself
would give each run one more kept checkpoint than the last) and exports it, and the best
of the rounds is kept, in wall time and in CPU time (user and system of the process): on
a shared machine only figures taken moments apart compare, and the CPU time moves less
with the load. Make LEDGER with ``run.long_platform`` and ``synthetic.events`` as
``run.measure_publish`` does.
"""

from __future__ import annotations

import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cli(version: str, db: str, *args: str) -> tuple[float, float]:
    """The wall and CPU seconds of ``blockledger --db DB ARGS`` run by ``version``."""
    code = (f"import sys; sys.path.insert(0, {version!r}); from cli import main; "
            "sys.argv[0] = 'blockledger'; main()")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "--db", db, *args], check=True,
                   capture_output=True, cwd=version)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _best(best: dict[str, float], name: str, seconds: tuple[float, float]) -> None:
    for kind, value in zip(("s", "cpu_s"), seconds, strict=True):
        best[f"{name}_{kind}"] = min(best.get(f"{name}_{kind}", float("inf")), value)


def main() -> None:
    db, key, before, after = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name, version in (("before", before), ("after", after)):
                out, copy = Path(tmp) / name, Path(tmp) / "ledger.db"
                shutil.rmtree(out, ignore_errors=True)
                shutil.copyfile(db, copy)
                _best(best, f"publish_{name}", cli(version, str(copy), "publish", str(out),
                                                   "--key", key))
                target = Path(tmp) / "export.jsonl"
                target.unlink(missing_ok=True)
                _best(best, f"export_{name}", cli(version, str(copy), "export", "-o",
                                                  str(target)))
                best[f"largest_page_{name}_kb"] = max(
                    p.stat().st_size for p in out.rglob("*.html")) / 1024
    for name in ("before", "after"):
        best[f"publish_vs_export_{name}"] = best[f"publish_{name}_s"] / best[f"export_{name}_s"]
        best[f"publish_vs_export_{name}_cpu"] = (best[f"publish_{name}_cpu_s"]
                                                 / best[f"export_{name}_cpu_s"])
    print(json.dumps({k: round(v, 2) for k, v in best.items()}))


if __name__ == "__main__":
    main()
