"""``history_all_vs_read``: the whole ledger's history written as JSON Lines (as
``blockledger history --format jsonl > /dev/null`` does it), against the baseline of
reading and json-decoding every stored row (``run.measure_read``). Target: >= 0.3.

Alone, on a ledger that exists (its views caught up first, as the command does):

    python benchmarks/history_read.py LEDGER.db [--profile]

Figures (2026-12-06, SQLite, the synthetic ledger of run.py's write_file, imported by
run.py's measure_import; a 2-core machine shared with two test suites, so best of two):

    100,000 events: history 1.14 s, read-and-decode 0.13 s: 0.116 (0.09-0.13 under load)
    1,000,000 events: history 11.35 s, read-and-decode 1.33 s: 0.118 (0.15 under load,
                      where the baseline slows more than history)

The target (>= 0.3) is not met. Profile at 100,000 events: reading each platform's rows
(the view's index, then the bodies by position, 500 a query) ~17%; describing the events
(an observation's target shown through IDNA, domain.identifiers.displayed) ~14%; decoding
and the stored-shape check ~10%; the per-event sort and filter ~15%; facts for the events
an amendment touches (8% of them) ~15%; JSON out ~4%. Building a fact for every event, as
history first did, cost 20 us an event (0.063).

Later the same day, the code before (``tests/history_oracle.py``, kept as the oracle the
faster path must match byte for byte) and after, in one process, alternating (read best of
3, each history best of 2; load average 8-11 on the 2 cores, so the absolute times are
three to four times a quiet machine's and only the ratios compare; /tmp script, not kept):

    200,000 events:   read 1.17 s; history before 9.34 s (0.125), after 7.39 s (0.158)
    1,000,000 events: read 4.74 s; history before 43.8 s (0.108), after 33.2 s (0.143)
    CPU time (time.process_time), 200,000 events, same process, alternating:
                      read 0.31 s; before 3.5-4.5 s (0.08), after 2.2-2.8 s (0.12-0.14)

Still not met. What the change did: each group of platforms is read in two joined queries
(``platform_bodies`` of the view store: the view's rows and the moved subjects', with
their bodies) instead of the index and then the bodies 500 positions a query (0.68 -> 0.23
s of CPU at 200,000, alone); each platform's events are checked, keyed and given their
subject's kind in one pass, not seven; a plain event's description reads its data as a
namespace of its fields (``_PAYLOADS``), where ``__getattr__`` raised and caught
AttributeError for every field read (11 -> 1.1 us an observation); the amendments are
walked from where they are, and their entries replaced in place.

Profile after (cProfile and line_profiler, 200,000 events): of the per-platform work, the
events an amendment touches (8% of them: 8,110 corrections and their targets) take 40%:
their facts (``Fact.from_stored``, 10-19 us each under this load), ``effective``,
``to_json`` (twice for a corrected one), the links; describing the plain events 18%
(observations: ``displayed`` checks each target); ``orjson.loads`` 8%; the shape check of
each stored object 9%, its valid time 3%. Reading (the joined queries) is about a fifth of
the whole, ``orjson.dumps`` and the write 5%. What is left per plain event is the decode
the baseline pays too, the description and a few dictionary operations: 0.3 would need the
amended events' domain objects three times cheaper and a plain event's description and
check halved, which is work outside Python (or in the domain's code, not history's).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def history_seconds(db: str) -> tuple[float, int]:
    """Seconds to stream the whole history as JSON Lines to /dev/null, and its rows."""
    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from projections.formats import write_jsonl
    from projections.history import ledger_rows
    from projections.views import Views

    with open_ledger(parse_target(db)) as ledger, open(os.devnull, "wb") as out:
        views = Views(ledger)
        views.catch_up()
        start = time.perf_counter()
        rows = write_jsonl(ledger_rows(views), out)
        return time.perf_counter() - start, rows


def measure_history(db: str, read_s: float, events: int) -> dict[str, Any]:
    """The figures for run.py: history's rate and its ratio to the read baseline."""
    seconds = min(history_seconds(db)[0] for _ in range(2))
    return {"history_events_per_s": events / seconds, "history_all_vs_read": read_s / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db")
    parser.add_argument("--profile", action="store_true", help="cProfile, top 25 by tottime")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import measure_read

    read_s = min(measure_read(args.db, hash_rows=False) for _ in range(3))
    if args.profile:
        import cProfile
        import pstats

        profile = cProfile.Profile()
        profile.enable()
        seconds, rows = history_seconds(args.db)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(25)
    else:
        seconds, rows = min(history_seconds(args.db) for _ in range(2))
    print({"events": rows, "history_s": round(seconds, 2), "read_s": round(read_s, 2),
           "history_all_vs_read": round(read_s / seconds, 3)})


if __name__ == "__main__":
    main()
