"""Two imports of one registry at once (issue 15, review finding M9): what the registry
holds is read under the ledger's write lock, so the second import diffs against the
first one's result (or is refused, as older); before, both read before either wrote and
the second wrote a diff against a state that was no longer the ledger's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.clitools import run
from tests.test_import_registry import RU, _dump
from tests.test_registry_backfill import _answers

pytestmark = pytest.mark.trial  # races two writers

#: Runs ``blockledger ARGS...`` after making the registry's read wait (up to 5 s) until
#: the other process has read too: before the fix, both diffs read the same state.
RACER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import sources.registry_held as held
    mine, other = Path(sys.argv[1]), Path(sys.argv[2])
    read = held.held_in
    def waiting(*args, **kwargs):
        found = read(*args, **kwargs)
        mine.touch()
        until = time.monotonic() + 5
        while not other.exists() and time.monotonic() < until:
            time.sleep(0.05)
        return found
    held.held_in = waiting
    from cli import main
    sys.argv = ["blockledger", *sys.argv[3:]]
    main()
""")


@pytest.mark.parametrize("batch", [False, True])
def test_two_imports_of_one_registry_at_once(runner, db, tmp_path, batch):
    a = _dump(tmp_path / "a.csv", "2024-01-15 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    s1 = _dump(tmp_path / "s1.csv", "2024-01-16 10:00:00 +0000",
               [";x.example.ru;;o;D-1;", ";y.example.org;;o;D-2;"])
    s2 = _dump(tmp_path / "s2.csv", "2024-01-17 10:00:00 +0000", [";x.example.ru;;o;D-1;"])
    assert run(runner, db, "import-registry", *RU, a).exit_code == 0
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOCKLEDGER_")}
    env["BLOCKLEDGER_OPERATOR"] = "tester"
    extra = ["--batch-commit", "--batch-size", "1"] if batch else []
    flags = [tmp_path / "read-1", tmp_path / "read-2"]
    racers = [subprocess.Popen(
        [sys.executable, "-c", RACER, str(flags[i]), str(flags[1 - i]), "--db", db,
         "import-registry", *RU, *extra, "--json", path], env=env, cwd=Path(__file__).parent.parent,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, path in enumerate((s1, s2))]
    outcomes = [(*racer.communicate(timeout=120), racer.returncode) for racer in racers]
    accepted = []
    for path, (_out, err, code) in zip((s1, s2), outcomes, strict=True):
        assert code in (0, 1, 2) and "Traceback" not in err, err
        if code == 0:
            accepted.append(path)
        else:
            assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert accepted, outcomes
    in_order = str(tmp_path / "in-order.db")
    assert run(runner, in_order, "import-registry", *RU, a, *accepted).exit_code == 0
    assert _answers(runner, db) == _answers(runner, in_order), outcomes
    assert json.loads(run(runner, db, "verify", "--json").stdout)["ok"] is True
