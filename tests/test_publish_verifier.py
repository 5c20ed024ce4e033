"""The browser's verifier (website/static/verify.js) against the Python side's own test
vectors: it must agree with ledger.merkle, ledger.checkpoint and ledger.canonical on every
case, the corrupted ones included (STYLE: "the same test vectors as the Python side")."""

from __future__ import annotations

import base64
import os
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from domain.errors import LedgerError
from ledger.canonical import canonical
from ledger.checkpoint import Checkpoint, verify_signature
from ledger.merkle import MerkleTree, verify_consistency, verify_inclusion
from tests.test_merkle import (
    CONSISTENCY_PROOFS,
    INCLUSION_PROOFS,
    LEAVES,
    ROOTS,
    SOME_HASH,
    _inclusion_corruptions,
    h,
)

sync_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = Path("/usr/bin/chromium")
STATIC = Path(__file__).parent.parent / "website" / "static"
pytestmark = pytest.mark.skipif(not CHROMIUM.exists() and not os.environ.get("CI"),
                                reason="needs Debian's chromium")

RUN = """async (cases) => {
  const bytes = (x) => Uint8Array.from(x.match(/../g) || [], (b) => parseInt(b, 16));
  const out = [];
  for (const [kind, args] of cases) {
    if (kind === "inclusion") {
      const [leaf, index, size, proof, root] = args;
      out.push(await BL.verifyInclusion(bytes(leaf), index, size, proof.map(bytes), bytes(root)));
    } else {
      const [m, n, r1, r2, proof] = args;
      out.push(await BL.verifyConsistency(m, n, bytes(r1), bytes(r2), proof.map(bytes)));
    }
  }
  return out;
}"""


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> Iterator[Any]:
    """A blank page from file:// (a secure context) with the verifier loaded."""
    here = tmp_path_factory.mktemp("verifier")
    (here / "verify.js").write_text((STATIC / "verify.js").read_text())
    (here / "index.html").write_text('<!DOCTYPE html><title>t</title><script src="verify.js">'
                                     '</script>')
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto((here / "index.html").as_uri())
        yield page
        browser.close()


def _hex(args: tuple) -> list:
    return [a.hex() if isinstance(a, bytes) else [p.hex() for p in a] if isinstance(a, list)
            else a for a in args]


def agree(page: Any, cases: list[tuple[str, tuple]]) -> None:
    """JavaScript gives what Python gives, case by case."""
    python = [verify_inclusion(*args) if kind == "inclusion" else verify_consistency(*args)
              for kind, args in cases]
    browser = page.evaluate(RUN, [[kind, _hex(args)] for kind, args in cases])
    differ = [(kind, args, py) for (kind, args), py, js in zip(cases, python, browser,
                                                               strict=True) if py != js]
    assert not differ, differ[:3]


def test_the_ct_inclusion_vectors_and_their_corruptions(page):
    """RFC 6962 / transparency-dev inclusion vectors: true as given, false corrupted."""
    cases = []
    for index, size, path in INCLUSION_PROOFS:
        proof = [h(x) for x in path]
        cases.append(("inclusion", (LEAVES[index], index, size, proof, ROOTS[size])))
        cases += [("inclusion", args) for _, args in
                  _inclusion_corruptions(index, size, proof, LEAVES[index], ROOTS[size])]
    agree(page, cases)


def test_the_ct_consistency_vectors_and_their_corruptions(page):
    """The consistency vectors, and the corruptions of test_merkle, agree."""
    cases = []
    for old, new, path in CONSISTENCY_PROOFS:
        proof = [h(x) for x in path]
        r1, r2 = ROOTS[old], ROOTS[new]
        cases.append(("consistency", (old, new, r1, r2, proof)))
        probes = [(old - 1, new, r1, r2, proof), (old + 1, new, r1, r2, proof),
                  (old, new * 2, r1, r2, proof), (old, new, SOME_HASH, r2, proof),
                  (old, new, r2, r1, proof), (old, new, r1, r2, []),
                  (old, new, r1, r2, [*proof, b""]), (old, new, r1, r2, [*proof, r2]),
                  (old, new, r1, r2, [r1, *proof]), (old, new, r1, r2, proof[:-1])]
        for i in range(len(proof)):
            probes.append((old, new, r1, r2, [*proof[:i], bytes([proof[i][0] ^ 16])
                                              + proof[i][1:], *proof[i + 1:]]))
        cases += [("consistency", args) for args in probes]
    agree(page, cases)


def test_every_proof_of_random_trees_up_to_24_leaves(page):
    """Every inclusion and consistency proof of trees of 1 to 24 leaves, and each with one
    bit flipped."""
    rng = random.Random(9162)
    leaves = [rng.randbytes(32) for _ in range(24)]
    tree = MerkleTree(leaves)
    cases = []
    for size in range(1, 25):
        root = tree.root(size)
        for index in range(size):
            proof = tree.inclusion_proof(index, size)
            cases.append(("inclusion", (leaves[index], index, size, proof, root)))
            if proof:
                bad = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
                cases.append(("inclusion", (leaves[index], index, size, bad, root)))
        for old in range(0, size + 1):
            proof = tree.consistency_proof(old, size)
            cases.append(("consistency", (old, size, tree.root(old), root, proof)))
            if proof:
                bad = [*proof[:-1], bytes([proof[-1][0] ^ 1]) + proof[-1][1:]]
                cases.append(("consistency", (old, size, tree.root(old), root, bad)))
    agree(page, cases)


def _notes(version: int = 1) -> tuple[str, list[tuple[str, str]], Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    cp = Checkpoint("example.org/log", 33, bytes(range(32)), bytes(32), "2026-12-06T12:00:00Z",
                    33, bytes(range(1, 33)), version)
    note = cp.to_note(key)
    lines = note.split("\n")
    mutations = [
        ("no final newline", note[:-1]),
        ("a stray blank line", note.replace("\ntime", "\n\ntime")),
        ("a leading zero", note.replace("\n33\n", "\n033\n", 1)),
        ("upper-case chain", note.replace("chain " + "00" * 32, "chain " + "0A" * 32)),
        ("a control character", note.replace("example.org", "example\x07org")),
        ("no dash", note.replace("\u2014 ", "- ")),
        ("a short root", note.replace(lines[2], base64.b64encode(bytes(31)).decode())),
        ("seven lines", note.replace("time ", "extra 1\ntime ")),
        ("a bad time", note.replace("12:00:00Z", "12:00:00+00:00")),
        ("non-canonical base64", note.replace(lines[2], lines[2][:-2] + "Q=")),
        ("signature cut", note[:-10] + "\n"),
        ("an index version unknown", note.replace(f"\nindex {version} ", "\nindex 4 ")),
        ("version 1 spelt as an index line", note.replace("\nplatforms ", "\nindex 1 ")),
    ]
    return note, mutations, key


@pytest.mark.parametrize("version", [1, 2, 3])
def test_notes_parse_and_verify_as_python_says(page, tmp_path, version):
    """A note (of each index line version) and its mutations: parsed and verified, or
    refused, as ledger.checkpoint does."""
    note, mutations, key = _notes(version)
    from ledger.signatures import raw_public_key

    public = base64.b64encode(raw_public_key(key.public_key())).decode()
    from ledger.checkpoint import key_id

    signer = {"name": "example.org/log", "public_key": public,
              "key_id": key_id("example.org/log", key.public_key()).hex()}
    for what, text in [("the note", note), *mutations]:
        try:
            python = verify_signature(text, key.public_key())
        except LedgerError:
            python = False
        js = page.evaluate("""async ([text, signer]) => {
            try { await BL.checkSignature(BL.parseNote(text), signer); return true; }
            catch (e) { if (e instanceof BL.Failure) return false; throw e; } }""",
                           [text, signer])
        assert js == python, what
    assert page.evaluate("([t]) => BL.parseNote(t).treeSize", [note]) == 33


def test_canonical_json_agrees_with_the_ledgers(page):
    """What JSON.parse then BL.canonical gives is byte for byte ledger.canonical."""
    values = [{"b": "z\u00e9\U0001f600\u2028\\\"\x00\x1f\x7f", "a": [1, True, None, -3],
               "c": {"y": [], "x": {}}, "d": 9007199254740991},
              {"note": "</script><script>alert(1)</script>", "type": "x"}]
    for value in values:
        text = canonical(value).decode()
        assert page.evaluate("([t]) => BL.canonical(JSON.parse(t))", [text]) == text
