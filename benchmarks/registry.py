"""``registry_first_vs_import`` and ``registry_diff_vs_first``: a national registry's first
snapshot and a day's churn, against the import of the same events.

    python benchmarks/registry.py [--entries N] [--repeat R] [--no-import] [--batch-size B]

A synthetic ``rkn`` dump of N entries (default 500,000), each a domain of its own
registrable domain with one or two IP addresses, two entries a decision; the second
snapshot drops 0.5% of the entries and adds as many new ones (1% churn).

- ``registry_first_vs_import``: the import of the events the first snapshot makes
  (exported as JSON Lines, into an empty ledger) against ``import-registry`` of the
  snapshot: target >= 0.8.
- ``registry_diff_vs_first``: the second snapshot against the first: target <= 0.1.
- ``registry_first_peak_mb``: the peak memory of the process that imports the first
  snapshot: target <= 500.

Each side runs in a process of its own (``blockledger`` as a user runs it), so that peak
memory is that command's.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY = ["--format", "rkn", "--authority", "Roskomnadzor", "--jurisdiction", "RU"]


def write_dump(path: Path, updated: str, entries: range, extra: range = range(0)) -> None:
    """Entries ``entries`` (and ``extra``) of the synthetic registry, Windows-1251."""
    with path.open("w", encoding="cp1251", newline="\n") as out:
        out.write(f"Updated: {updated}\n")
        for i in (*entries, *extra):
            ips = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
            if i % 3 == 0:
                ips += f" | 172.16.{i >> 8 & 255}.{i & 255}"
            out.write(f"{ips};site{i}.ru;http://site{i}.ru/;Генпрокуратура;"
                      f"27-31-2015/Ид{i // 2}-15;2015-11-20\n")


#: Runs blockledger, then says its own peak memory (KB) as the last line on stderr: the
#: children's maximum (RUSAGE_CHILDREN) is the largest of every child so far, not this one's.
_PEAK = """import resource, runpy, sys
sys.argv = ["blockledger", *sys.argv[1:]]
code = 0
try:
    runpy.run_module("blockledger", run_name="__main__")
except SystemExit as done:
    code = done.code
used = resource.getrusage(resource.RUSAGE_SELF)
print(used.ru_utime + used.ru_stime, used.ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def timed(*args: str, env: dict[str, str]) -> tuple[float, float, float]:
    """Seconds, peak MB and CPU seconds (user and system) of one ``blockledger`` command
    in a process of its own. CPU time is what a loaded machine stretches least: the
    ratios are given in both."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _PEAK, *args], check=True, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    cpu, peak = done.stderr.strip().splitlines()[-1].split()
    return seconds, int(peak) / 1024, float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=500_000)
    parser.add_argument("--repeat", type=int, default=1,
                        help="Run the three sides this many times, alternating, and keep "
                        "each one's best (a shared machine's load comes and goes).")
    parser.add_argument("--no-import", action="store_true",
                        help="Leave out the import of the same events (the first snapshot "
                        "and the diff alone: at 500,000 the import takes as long again).")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="Give both imports this --batch-size (default: theirs).")
    args = parser.parse_args()
    n = args.entries
    sized = [] if args.batch_size is None else ["--batch-size", str(args.batch_size)]
    churn = max(1, n // 200)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    firsts, imports, diffs = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_dump(d / "d1.csv", "2024-01-15 10:00:00 +0000", range(n))
        write_dump(d / "d2.csv", "2024-01-16 10:00:00 +0000", range(churn, n),
                   range(n, n + churn))
        for run in range(args.repeat):
            first_db, import_db = str(d / f"first{run}.db"), str(d / f"import{run}.db")
            firsts.append(timed("--db", first_db, "import-registry", *REGISTRY, *sized,
                                str(d / "d1.csv"), env=env))
            if run == 0 and not args.no_import:
                subprocess.run([sys.executable, "-m", "blockledger", "--db", first_db,
                                "export", "-o", str(d / "events.jsonl")], check=True,
                               env=env, stderr=subprocess.DEVNULL)
            if not args.no_import:
                imports.append(timed("--db", import_db, "import", *sized,
                                     str(d / "events.jsonl"), env=env))
            diffs.append(timed("--db", first_db, "import-registry", *REGISTRY,
                               str(d / "d2.csv"), env=env))
            for name in (first_db, import_db):
                Path(name).unlink(missing_ok=True)
    first_s, first_mb, first_cpu = min(firsts)
    diff_s, diff_mb, diff_cpu = min(diffs)
    first_cpu, diff_cpu = min(r[2] for r in firsts), min(r[2] for r in diffs)
    if args.no_import:
        print({"entries": n, "repeat": args.repeat, "batch_size": args.batch_size,
               "registry_first_s": round(first_s, 2),
               "registry_diff_s": round(diff_s, 2),
               "registry_diff_vs_first": round(diff_s / first_s, 3),
               "registry_first_peak_mb": round(first_mb), "registry_diff_peak_mb":
               round(diff_mb), "cpu_s": {"first": round(first_cpu, 2),
                                         "diff": round(diff_cpu, 2)},
               "registry_diff_vs_first_cpu": round(diff_cpu / first_cpu, 3)})
        return
    import_s, import_mb, _ = min(imports)
    import_cpu = min(r[2] for r in imports)
    print({"entries": n, "repeat": args.repeat, "batch_size": args.batch_size,
           "registry_first_s": round(first_s, 2),
           "import_same_events_s": round(import_s, 2), "registry_diff_s": round(diff_s, 2),
           "registry_first_vs_import": round(import_s / first_s, 3),
           "registry_diff_vs_first": round(diff_s / first_s, 3),
           "registry_first_peak_mb": round(first_mb), "import_peak_mb": round(import_mb),
           "cpu_s": {"first": round(first_cpu, 2), "import": round(import_cpu, 2),
                     "diff": round(diff_cpu, 2)},
           "registry_first_vs_import_cpu": round(import_cpu / first_cpu, 3),
           "registry_diff_vs_first_cpu": round(diff_cpu / first_cpu, 3)})


if __name__ == "__main__":
    main()
