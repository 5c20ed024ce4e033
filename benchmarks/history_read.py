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

Round two (same day). Measured with ``--compare RUNS`` (the oracle and the code now in
one process, alternating, CPU time by ``time.process_time``, best of RUNS; the read
baseline's CPU time between them) and the plain run above; load average 5-6 on the 2
cores:

    python benchmarks/history_read.py /tmp/hist2/l200k.db --compare 2
    200,000 events:   read 0.33 s CPU; oracle 3.46 s (0.096); round one 2.05-2.26 s
                      (0.15); now 1.97-2.09 s (0.159)
    python benchmarks/history_read.py /tmp/hist2/l1m.db --compare 2
    1,000,000 events: read 1.65 s CPU; oracle 18.03 s (0.092); round one 10.85 s
                      (0.161, same harness, its code in a fresh process); now 9.93-10.58 s
                      (0.156-0.176)
    python benchmarks/history_read.py /tmp/hist2/l1m.db
    1,000,000 events: history 10.44 s, read-and-decode 1.79 s: history_all_vs_read 0.171

Still not met (0.3). What the round did (each shortcut held to the general code by
tests/test_history_fastpaths.py): replaying a stored correction reads its valid time
through ``stored_when`` and evolves its target by a constructor call (``effective`` of a
block and its correction 16 -> 5 us on a quiet core); ``Effective.links`` builds its lists
directly (2.4 -> 1.6 us); ``displayed`` returns printable ASCII at once; the joined read
takes plain tuples from SQLite (0.30 -> 0.25 s at 200,000).

Where the time goes now (200,000 events, CPU under load, instrumented in place): reading
the joined rows 0.25-0.38 s, ``orjson.loads`` 0.20 s, ``orjson.dumps`` and the write
0.25 s; the events amendments touch (16,220 lines, 8% of the events) ~0.6-0.9 s: their
facts 15 us each in place (5-7 us in a tight loop: the code and data are cold when it
runs once a platform), ``effective`` 15 us a correction, each row 20 us (``to_json`` 3.5
us, twice for a corrected event, the links, the changed fields); the plain events ~0.8 s
(4 us each: the shape check and valid time ~0.6 us, the description ~1 us, the sort,
filter and five keys). The cyclic garbage collector is 4-5% of it (gc.disable() in the
same process: 2.19 -> 2.09, 1.99 -> 1.87 s).

Why 0.3 is out of reach of such steps: at 200,000 events 0.3 means 1.1 s of CPU in all,
and the reading, decoding and encoding that any dict-based history pays are already
0.7 s, leaving 1.7 us an event for everything else, less than a plain event's description
alone. Measured next levers: (1) the amended events are a third of the time for 8% of
them: working on the decoded dicts (``effective``, ``changed_fields`` and the row rules
refactored to take a stored object, one implementation for both) would remove their
facts and ``to_json``; (2) msgspec: decoding into a per-type struct checks the shape in C
(decode plus check 0.32 -> 0.24 s at 200,000) and gives the description its fields
without ``_PAYLOADS``, but the rows would no longer be the decoded dicts, so their keys'
order and absent fields would need their own proof of byte identity; (3) JSON Lines from
the stored bytes spliced (every stored body is orjson's compact form: 200,000 of 200,000
round-trip exactly) instead of ``orjson.dumps`` of the dict: 0.12 -> 0.07 s, small.

Round three (2026-12-06, evening; a 2-core machine shared with other helpers' test suites,
load average 4-7, so the CPU times compare only within one run). The levers (1)-(3) above:
the events amendments touch are amended as stored objects (``effective_stored``: one rule
set, ``domain.amendments.applied``, folds facts and stored objects; ``interchange`` lays a
stored object out as ``to_json`` would); every stored event is decoded into the msgspec
struct of its type (``projections.history_stream.STORED``, derived from the declarations:
the shape check in C, the description read from the struct); and JSON Lines
(``ledger_lines``, what ``history --format jsonl`` and this benchmark write) splice each
plain row's keys into its stored bytes (the bytes ``verify`` hashes; a test holds every
line to its row's ``orjson.dumps``):

    python benchmarks/history_read.py /tmp/histfast/l200k.db --compare 3
    200,000 events:   before the round (same harness, load 5.2): read 0.35 s CPU, oracle
                      5.06 s (0.070), code 2.97 s (0.119); after (load 4.7): read 0.34 s,
                      oracle 4.47 s (0.076), now 2.00 s (0.171)
    python benchmarks/history_read.py /tmp/histfast/l200k.db
    200,000 events:   history 4.07 s, read-and-decode 0.66 s: 0.162 (wall, load 4.7)
    python benchmarks/history_read.py /tmp/histfast/l1m.db --compare 1
    1,000,000 events: read 2.02 s CPU; oracle 22.86 s (0.088); now 11.94 s (0.169), load 6.7
    python benchmarks/history_read.py /tmp/histfast/l1m.db
    1,000,000 events: history 26.14 s, read-and-decode 4.21 s: 0.161 (wall, load 5-6)

Still not met (0.3). In memory at 200,000 (the rows read first, then each platform's
rows timed alone, CPU): the joined read 0.41 s (the read-and-decode baseline is 0.33 s in
all), each platform's rows 1.14-1.22 s (1.38-1.53 s before the round, and 0.15-0.17 s more
for ``orjson.dumps``, now 0.06 s to write the lines), of which the touched events (8%)
still take about a third (line_profiler: their decode and layout, their descriptions,
``effective_stored``), and a plain event ~3 us (decode 1, the description and the splice
1.2, its keys, sort and filter the rest). 0.3 means about 1.1 s in all at 200,000: the
read alone is 0.4 of it, so every event's own work would have to fit in 3.5 us with the
decode. Not taken: keeping each event's rendered row in the history view (a cache any
holder of the database can edit): ``verify`` would have to render every row again to
check it (1-2 s of CPU at 200,000, against its 0.5 s walk today), collapsing its own
figure, and an encrypted ledger would have to encrypt every rendered row.

Round four (issue 13, the review's findings; 2026-12-06, night): every stored event is now
read by the one rule ``verify`` and a subject's history apply too (``domain.stored.read``:
its struct, typed sources, no unknown key, no null or empty value ``to_json`` leaves out,
the bytes exactly msgspec's encoding of the struct, ids and times in their written form),
where round three's structs skipped unknown keys and kept the sources as raw bytes. What it
costs, measured against main in fresh processes, alternating (``/tmp`` scripts, not kept):

    instructions (callgrind, deterministic), JSON Lines of the first 20,000 events of
    /tmp/histfast/l200k.jsonl: 55,900 an event before, 71,800 after (+28%)
    CPU (time.process_time, best of 2, three alternations, load 2-4), 200,000 events:
    before 1.43-1.69 s, after 1.91-2.06 s (+30-35%)
    python benchmarks/history_read.py /tmp/histfast/l200k.db --compare 2
    before: read 0.33 s CPU, oracle 3.78 s (0.087), now 1.51 s (0.217), load 3.5
    after:  read 0.33 s CPU, oracle 3.46-3.56 s (0.093-0.096), now 2.14-2.28 s
            (0.144-0.154), load 2-4

The other readers that build facts pay the rule once per fact (``ledger.entry.load_fact``),
callgrind at 20,000 events, before and after: ``blockledger verify`` 488,000 and 552,000
instructions an event (+13%: the log pass and the status pass each read every fact); a
views rebuild 246,700 and 277,400 (+12%); ``import`` of 5,000 events 652,700 and 654,400
(+0.3%). ``verify_vs_read_hash`` (the hash walk, which reads no JSON) does not move:
``python benchmarks/run.py --events 100000 --json``, before and after in turn, 0.469 and
0.469, then 0.394 and 0.377 (the other figures of those runs moved with the machine's load
both ways: import_vs_library 1.05/0.55, then 0.76/0.58, where callgrind sees no change).

Where the added 16,000 instructions an event go (cProfile and a tight loop over the
bodies): decoding typed sources instead of skipping them, encoding the struct back and
comparing (0.6 us on a quiet core), the id and record time pattern with ``fromisoformat``
(0.4 us), dispatch by the type at the end of the bytes (0.3 us). Measured and not taken:
``orjson.loads`` with ``canonical`` and ``msgspec.convert`` (1.3 us more than the decode
alone); ``uuid.UUID`` fields (msgspec accepts capitals: the encoding writes them back
lower-case, so the round trip would check the form for free, but each UUID costs more to
decode than the pattern, and hashes in Python where history keys by id); a pattern in
``msgspec.Meta`` (slower than the same pattern called from Python). Next lever: reading the
struct once for all a process's readers (the fact built from it, not from
``orjson.loads`` and ``Fact.from_stored`` again), which ``verify`` and a rebuild would
gain most from.

Round five (2026-12-07, 00:00-01:20; the 2 cores shared with other work the whole time,
load average 3-11, so CPU times moved 15-20% between runs: only instruction counts and
ratios within one run compare). Two steps, the first kept:

(1) One process, fewer instructions (kept). ``read`` checks an id, an event reference
and a record time by translating their characters to shapes (``bytes.translate``: each
hex digit, or digit, to 0; the result one of the forms' shapes) instead of ``re``
patterns, whose character classes cost 0.5 us an id; a valid time already found in its
written form is looked up by its text (at most 65,536 held). ``_platform_rows`` finds an
event's name, rank, role, subject kind and ``describe`` in one lookup by its struct's
class, and the whole history without as-of or filter has a loop of its own. Callgrind,
instructions an event (20,019 events of the 200k ledger): ``read`` 32,316 -> 29,114
(-10%); the per-platform work 60,628 -> 56,337 (-7%). In CPU time inside the noise:
``--compare 2`` alternating, load 3-4: before 2.38-2.48 s, after 2.33-2.53 s, read
0.39-0.43 s (0.170-0.185).

(2) Every core (tried on a branch, not merged). A pool of forked workers, one a core,
each reading a group of platforms on its own SQLite connection and making its lines with
the same ``_platform_rows``, the lines given out in order. At 1M, alternating, load 3.8:
one process 18.79 s wall (13.13 s CPU), the pool 11.56 s wall (13.71 s CPU in all);
``history_read.py`` gave 0.230 by wall, and 0.120 under heavier load (the other cores
busy). Not merged: it costs 4-25% more CPU for a wall gain only when a core is idle, does
not reach 0.3 even then (0.19-0.26 estimated on an idle machine), and each worker reading
on its own connection is one more reader whose snapshot must be proven to be the
parent's; the ledger's answers first.

Still not met (0.3; 0.15-0.18 by CPU at 200,000). What is left, by CPU: ``read``
(decode, encode and compare, the shapes: ~2.5-3 us an event, the checks the rule
requires, against a baseline of ~1.7 us for the read and decode together), the
description (~1 us), and the events amendments touch (a quarter of the rest: their
interchange objects, ``effective_stored``, the correction's payload loaded for its
description). 0.3 needs about 5.5 us an event in all, which the check alone nearly
spends: the next levers are outside this loop (a verified, signed digest of each event's
well-formedness that history could trust instead of re-deriving it, or a compiled
canonical-JSON check from a kept library).

Round six (2026-12-07, 03:10-03:44, its last commit, not 04:40 as first written; the 2
cores shared, load average 1.3-3.6 through it, so CPU and wall times moved 20-30% between
runs of the same code: the decisions are by instruction counts). Callgrind,
``_platform_rows`` alone (the rows of platforms 2-760 of /tmp/bench/l200k.db read into
memory first, 20,262 events, JSON Lines, a /tmp script not kept), instructions an event:

    before the round                                    55,875
    (1) an amendment's row describes its stored data    54,688 (no payload load: uuid.UUID
        and the payload class; a correction's description 51,000 -> 21,200 instructions)
    (2) touched events laid out from their structs      53,004 (``stored.interchange_of``,
        not ``orjson.loads`` and ``interchange`` again)
    (3) a plain line: bytes + formatted keys            52,735 (-5.6% in all)

The split first written here ("read 27,300; the rest 29,135", the rest -11.8%) did not add
up (56,435, not 55,875; the review of histfast2). Re-measured so (after the review; load
3.2-4.3): platforms 2-760 of the same ledger as ``platform_bodies`` reads them now (22,330
events: not the round's set, whose script was not kept), pickled; each commit's code in a
copy of its own (git archive); ``_platform_rows`` (JSON Lines) less the load of the pickle,
and ``read`` alone over the same bodies, in a loop of its own, less the same load; the round
does not change ``read``. Instructions an event:

    before the round (166ee86)     56,520 (read 30,430; the rest 26,090)
    after it (b4a061a)             53,080 (read 30,430; the rest 22,655, -13.2%), -6.1%

The round's levers one at a time (an operation repeated in a loop: callgrind; and by CPU
the review's figures, process_time best of 5, /tmp/rev-histfast2/micro.py, its load not
recorded; run again here at load 3.2 the times were 1.5-1.9 times these):
``interchange_of`` 17,700-22,700 instructions (1.9-2.6 us) where ``orjson.loads`` and
``interchange`` took 35,100-46,300 (it saves 1.6-1.9 us, not the 3 us first written in
``domain.stored``); a correction's description 51,000 -> 21,200 (6.6 -> 2.5 us: 4.1 us
saved, not 6); a 430-byte plain line 4,390 -> 3,650 (438 -> 349 ns).

    python benchmarks/history_read.py /tmp/bench/l200k.db, this branch and main alternating:
        this branch 0.149 and 0.238, main 0.157 and 0.158 (load 2.3-2.8)
    python benchmarks/history_read.py /tmp/bench/l1m.db, the same:
        this branch 0.153 (16.78 s, read 2.56 s) and 0.253 (13.62 s, read 3.45 s),
        main 0.173 (16.32 s) and 0.215 (20.25 s) (load 3.0-3.6)
    python benchmarks/history_read.py /tmp/bench/l1m.db --compare 1 (load 2.4-3.0):
        read 2.23 s CPU, oracle 28.75 s (0.078), now 19.10 s (0.117)
    python benchmarks/history_read.py /tmp/bench/l200k.db --compare 2 (load 2.4-3.0):
        read 0.47 s CPU, oracle 6.05 s (0.077), now 3.14 s (0.148)

Still not met (0.3): the wall figure swings 0.15-0.25 with the load for the same code (the
baseline's best of three and history's best of two are taken minutes apart), and by CPU
history is still 6-8 times the read. Where an event's 52,700 instructions go now: ``read``
27,000 on the round's set (30,430 in a loop of its own on the set above: msgspec's decode
~10,000 and encode-and-compare ~5,500, the rest the id, record time and valid time checks
and the dispatch); then, by line_profiler's shares of the whole (which understate ``read``,
38% there), ``_amended`` 16% and the touched rows 7% (8% of the events: ``interchange_of``
1.9-2.6 us each in a loop of its own, not the 4.6 us first written here,
``effective_stored``, their descriptions, ``dumps``), the plain descriptions and their
``dumps`` 15% (an observation's 1.1 us: ``displayed`` and three ``_opt``), the plain lines
5%, keys, sort and filter the rest. Measured and not taken: the cyclic collector off
(-1,700 instructions an event, -3%: a process-wide switch); a read of a platform's events
at once, the ids and the record times checked as one joined text each (one ``translate``,
the count of separators proving no value holds one): 27,400 -> 24,100 instructions a read
(-12% of ``read``, ~6% of the whole), at the price of a second form of the rule that every
reader applies. 0.3 by CPU needs 40-50% of what history spends now: more than removing
every touched event's extra and every description would give, and more than a free
well-formedness check would: ``read`` without its checks (the dispatch and the decode
alone) is 12,400 instructions an event, which would leave ~38,000 in ``_platform_rows``
(-28%, about 0.2 by CPU). Next lever, as round five said, is outside this loop, and must be
more than the check: the check done once (in C, a kept canonical-JSON validator, or a
verified digest of well-formedness that readers trust), and the per-event keying,
description and line in compiled code too, or 0.3 is the wrong target for a history that
proves every event.

Round eight (2026-12-07, 09:25-10:15, a quiet machine, load 0.3-1.5; one process,
``BLOCKLEDGER_JOBS=1``). py-spy at 1M events (``py-spy record -r 500 -f raw``; 6.39 s,
read 1.28 s: 0.200 at the start) found three costs that are not reading, checking or
writing an event:

(1) A reference cycle. ``_amended``'s ``kind_of`` was a recursive closure, so each
    amended platform's entries (three quarters of the platforms here) stayed in a cycle
    until the collector found them: 10,034 objects after three groups of the 200k ledger;
    with the collector off, 7.8-10 s instead of 5.6. Now a loop (``_kind_of``): 5.6 ->
    5.2 s of CPU.
(2) ``read``'s calls, one event at a time. ``domain.stored.read_many`` applies the rule to
    a group's 1,500 events with its calls made once: the bytes (the structs' list encoded
    against the bodies joined), the ids and the record times (joined), then the valid times
    and the data fields as ``read`` does; None unless all are well-formed, and then each
    platform is read event by event, so the first damaged one is named as before. Held to
    ``read`` by tests (every form the form tests try, at three places in a batch; bodies
    cut, joined, padded; 300 hypothesis batches of random damage). Round six measured the
    joined checks and did not take them, for a second form of the rule; it is taken now
    with the tests that hold the two forms to one answer. 5.2 -> 4.8 s.
(3) The cyclic collector. A group's thousands of tuples, held until its lines are made,
    set off a collection every 700 allocations, each going through them all again
    (1,742 collections a run, 14 of them full). It is paused while a group is made and
    restored after (not process-wide, as round six tried it), and a test holds that
    making a group leaves no cycle. 4.8 -> 4.45 s.

Then, by callgrind (20k events, ``PYTHONHASHSEED=0``, three runs less one, halved), an
observation's description in one f-string, the touched events laid out with loops rather
than comprehensions, a touched event's description from its stored data: 58,315 ->
56,516 instructions an event. (Each amendment's target found by ``list.index`` was in that
figure; the review found it quadratic in a platform's amendments, 24,000 corrections of one
platform 2.4 -> 5.8 s, and each platform with amendments now indexes its ids in one dict,
which also refuses an id held twice: 56,644.)

    python benchmarks/history_read.py /tmp/bench/l1m.db   (1,000,000 events)
    one process:  history 4.23-4.56 s, read 1.19-1.25 s: 0.267-0.293
    two workers on the two idle cores: 3.45-4.05 s, read 1.21-1.22 s: 0.300-0.353

Still not met in one process. Where the 4.4 s go now (``process_time`` around each part,
1M): the joined reads 0.70 s, ``read_many`` 1.24 s (the decode 0.45, encode and compare
0.28, the type of each 0.16), the platforms' rows 2.02 s (the events amendments touch
0.47 s in ``_amended`` and ~0.2 s in their rows: 8% of the events, a quarter of the
rows' time: 14 us an amendment, a third of it their interchange objects), and 0.46 s
around them (a group's tuples, its deallocation, the join and the write). Tried and not
kept: columns instead of a tuple an event (+1.5% instructions); a plain line in two pieces
joined once and counted by its line breaks (+4.5%); every id of a platform in a dict
(+0.15%); ``read_many`` a platform at a time (+2%, and slower by the clock); groups of 200
platforms (+20% by the clock) or 20 (+5%); SQLite's ``mmap_size`` or a larger page cache
(no gain); Python 3.12 (0.266-0.280, no faster). Next levers: the amended events'
bookkeeping (their interchange objects and ``effective_stored`` for a correction of one
field; a third of the gap), and the per-event check in compiled code from a kept library.

Round nine (2026-12-07, fourth session, another machine of the kind: 2 MiB of L2 a core):
one process 5.30-5.34 s against a read of 1.32-1.35 s (0.248-0.254; the last head, 110032a,
0.242-0.254 here); two workers on the two idle cores 0.340-0.357. Profile, ablations and
what was tried are in benchmarks/README.md ("Round nine"): even with the events amendments
touch made free, one process would be about 0.31 here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def history_seconds(db: str, rows_of: Any = None) -> tuple[float, int]:
    """Seconds to stream the whole history as JSON Lines to /dev/null (``ledger_lines``,
    as ``history --format jsonl`` does), and its rows (``rows_of``: another ``ledger_rows``,
    the oracle's, say)."""
    return _history(db, rows_of)[:2]


def history_cpu(db: str, rows_of: Any = None) -> float:
    """CPU seconds (``time.process_time``) of the same: on a shared machine the wall time
    follows the load, the CPU time much less."""
    return _history(db, rows_of)[2]


def _history(db: str, rows_of: Any) -> tuple[float, int, float]:
    from ledger.application import open_ledger
    from ledger.storage import parse_target
    from projections.formats import write_jsonl
    from projections.history import ledger_lines
    from projections.views import Views

    with open_ledger(parse_target(db)) as ledger, open(os.devnull, "wb") as out:
        views = Views(ledger)
        views.catch_up()
        start, cpu = time.perf_counter(), time.process_time()
        # (as ``history --format jsonl`` writes it: a group's lines in one piece)
        rows = write_jsonl(rows_of(views) if rows_of else ledger_lines(views, joined=True),
                           out)
        return time.perf_counter() - start, rows, time.process_time() - cpu


def measure_history(db: str, read_s: float, events: int) -> dict[str, Any]:
    """The figures for run.py: history's rate and its ratio to the read baseline."""
    seconds = min(history_seconds(db)[0] for _ in range(2))
    return {"history_events_per_s": events / seconds, "history_all_vs_read": read_s / seconds}


def compare(db: str, runs: int) -> dict[str, Any]:
    """The oracle (``tests/history_oracle.py``, the code before the first round) and the
    code now, in one process, alternating, with the read baseline between them: best CPU
    time of ``runs`` each, and each one's ratio to the read's CPU time."""
    from run import measure_read

    from tests import history_oracle

    def read_cpu() -> float:
        start = time.process_time()
        measure_read(db, hash_rows=False)
        return time.process_time() - start

    read, before, now = [read_cpu()], [], []
    for _ in range(runs):
        before.append(history_cpu(db, history_oracle.ledger_rows))
        now.append(history_cpu(db))
        read.append(read_cpu())
    base = min(read)
    return {"read_cpu_s": round(base, 3), "oracle_cpu_s": round(min(before), 2),
            "now_cpu_s": round(min(now), 2), "oracle_vs_read": round(base / min(before), 3),
            "now_vs_read": round(base / min(now), 3),
            "load": [round(x, 1) for x in os.getloadavg()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db")
    parser.add_argument("--profile", action="store_true", help="cProfile, top 25 by tottime")
    parser.add_argument("--compare", type=int, metavar="RUNS",
                        help="CPU time of the oracle and of the code now, alternating")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from run import measure_read

    if args.compare:
        print(compare(args.db, args.compare))
        return
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
