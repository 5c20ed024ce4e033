"""publish of one ledger by two checkouts of blockledger, alternating, against export.

    python benchmarks/publish_compare.py LEDGER KEY BEFORE_DIR AFTER_DIR [ROUNDS]

BEFORE_DIR and AFTER_DIR are trees of the project (``git archive REV | tar -x -C DIR``);
each round publishes LEDGER with each (a fresh site each time) and exports it, and the
best of the rounds is kept: on a shared machine only figures taken moments apart compare.
Make LEDGER with ``run.long_platform`` and ``synthetic.events`` as ``run.measure_publish``
does.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cli(version: str, db: str, *args: str) -> float:
    code = (f"import sys; sys.path.insert(0, {version!r}); from cli import main; "
            "sys.argv[0] = 'blockledger'; main()")
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "--db", db, *args], check=True,
                   capture_output=True, cwd=version)
    return time.perf_counter() - start


def main() -> None:
    db, key, before, after = sys.argv[1:5]
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 2
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(rounds):
            for name, version in (("before", before), ("after", after)):
                out = Path(tmp) / name
                shutil.rmtree(out, ignore_errors=True)
                seconds = cli(version, db, "publish", str(out), "--key", key)
                best[f"publish_{name}_s"] = min(best.get(f"publish_{name}_s", 1e9), seconds)
                target = Path(tmp) / "export.jsonl"
                target.unlink(missing_ok=True)
                seconds = cli(version, db, "export", "-o", str(target))
                best[f"export_{name}_s"] = min(best.get(f"export_{name}_s", 1e9), seconds)
                best[f"largest_page_{name}_kb"] = max(
                    p.stat().st_size for p in out.rglob("*.html")) / 1024
    for name in ("before", "after"):
        best[f"publish_vs_export_{name}"] = best[f"publish_{name}_s"] / best[f"export_{name}_s"]
    print(json.dumps({k: round(v, 2) for k, v in best.items()}))


if __name__ == "__main__":
    main()
