"""The RFC 9162 Merkle tree: the published CT vectors, and a literal reference on random trees.

The vectors are the ones every CT implementation tests against, from transparency-dev/merkle
(formerly Trillian's merkle package): ``testonly/constants.go`` (leaves, node and root
hashes), ``testonly/reference_test.go`` (inclusion and consistency proofs),
``proof/verify_test.go`` (more consistency proofs) and ``rfc6962/rfc6962_test.go`` (the
hasher). Their leaves are arbitrary bytes, not 32-byte hashes, which the module accepts.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger import merkle
from ledger.merkle import (
    EMPTY_ROOT,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
    verify_inclusion,
)


def h(hex_digest: str) -> bytes:
    return bytes.fromhex(hex_digest)


# testonly/constants.go: LeafInputs, RootHashes (indexed by tree size) and NodeHashes
# (indexed by level, then position).
LEAVES = [h(x) for x in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                         "606162636465666768696a6b6c6d6e6f")]
ROOTS = [h(x) for x in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
NODE_HASHES = [[h(x) for x in level] for level in (
    ("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
     "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
     "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
     "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
     "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
     "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
     "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1"),
    ("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
     "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
    ("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
    ("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",),
)]

# testonly/reference_test.go, TestRefInclusionProof: (leaf index, tree size, audit path).
INCLUSION_PROOFS = [
    (0, 1, []),
    (0, 2, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"]),
    (1, 2, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

# proof/verify_test.go, consistencyProofs: (old size, new size, proof).
CONSISTENCY_PROOFS = [
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

# proof/verify_test.go: an arbitrary hash that is no root of anything here.
SOME_HASH = h("abacaba000000000000000000000000000000000000000000060061e00123456")


# -- the reference: RFC 9162 §2.1 definitions, recursive and literal ---------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def ref_split(n: int) -> int:
    """The largest power of two smaller than n (n > 1), by counting, no bit tricks."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def ref_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]), §2.1.1."""
    if not d:
        return sha256(b"")
    if len(d) == 1:
        return sha256(b"\x00" + d[0])
    k = ref_split(len(d))
    return sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:]))


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), §2.1.3.1."""
    if len(d) == 1:
        return []
    k = ref_split(len(d))
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), §2.1.4.1."""
    if m == len(d):
        return [] if b else [ref_mth(d)]
    k = ref_split(len(d))
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


def ref_proof(m: int, d: list[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m < n; empty at the edges, which need no proof."""
    return ref_subproof(m, d, True) if 0 < m < len(d) else []


# -- published vectors -------------------------------------------------------------------------


def test_hasher_vectors():
    """rfc6962_test.go: the empty root, an empty leaf, a leaf and a node."""
    assert h("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") == EMPTY_ROOT
    assert leaf_hash(b"") == h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d")
    assert leaf_hash(b"L123456") == h(
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    assert node_hash(b"N123", b"N456") == h(
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")


@pytest.mark.parametrize("size", range(9))
def test_roots(size):
    """Every published root, by the one-pass function, the tree, and a tree of all 8."""
    assert merkle.root(LEAVES[:size]) == ROOTS[size]
    assert MerkleTree(LEAVES[:size]).root() == ROOTS[size]
    assert MerkleTree(LEAVES).root(size) == ROOTS[size]
    assert ref_mth(LEAVES[:size]) == ROOTS[size]


def test_node_hashes():
    """Each complete subtree of the 8-leaf tree has its published hash."""
    tree = MerkleTree(LEAVES)
    for level, hashes in enumerate(NODE_HASHES):
        width = 2**level
        for i, expected in enumerate(hashes):
            assert merkle.root(LEAVES[i * width : (i + 1) * width]) == expected
            if level == 0:
                assert tree.leaf_hash(i) == expected


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_PROOFS)
def test_inclusion_vectors(index, size, path):
    proof = [h(x) for x in path]
    assert merkle.inclusion_proof(LEAVES[:size], index) == proof
    assert MerkleTree(LEAVES).inclusion_proof(index, size) == proof
    assert ref_path(index, LEAVES[:size]) == proof
    assert verify_inclusion(LEAVES[index], index, size, proof, ROOTS[size])


def _inclusion_corruptions(index, size, proof, leaf, root):
    """Wrong inputs that must all fail, after proof/verify_test.go's corruptInclusionProof."""
    yield "index - 1", (leaf, index - 1, size, proof, root)
    yield "index + 1", (leaf, index + 1, size, proof, root)
    yield "index ^ 2", (leaf, index ^ 2, size, proof, root)
    yield "size * 2", (leaf, index, size * 2, proof, root)
    yield "size // 2", (leaf, index, size // 2, proof, root)
    yield "wrong leaf", (b"WrongLeaf", index, size, proof, root)
    yield "empty root", (leaf, index, size, proof, EMPTY_ROOT)
    yield "random root", (leaf, index, size, proof, SOME_HASH)
    yield "trailing garbage", (leaf, index, size, [*proof, b""], root)
    yield "trailing root", (leaf, index, size, [*proof, root], root)
    yield "preceding garbage", (leaf, index, size, [b"", *proof], root)
    yield "preceding root", (leaf, index, size, [root, *proof], root)
    for i in range(len(proof)):
        flipped = bytes([proof[i][0] ^ 8]) + proof[i][1:]
        yield f"proof[{i}] bit flipped", (leaf, index, size, [*proof[:i], flipped,
                                                                 *proof[i + 1 :]], root)
    if proof:
        yield "removed last", (leaf, index, size, proof[:-1], root)
    if len(proof) > 1:
        yield "inserted", (leaf, index, size, [proof[0], SOME_HASH, *proof[1:]], root)


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION_PROOFS)
def test_inclusion_vectors_reject_corruptions(index, size, path):
    proof = [h(x) for x in path]
    for what, args in _inclusion_corruptions(index, size, proof, LEAVES[index], ROOTS[size]):
        assert not verify_inclusion(*args), what


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY_PROOFS)
def test_consistency_vectors(old, new, path):
    proof = [h(x) for x in path]
    assert merkle.consistency_proof(LEAVES[:new], old) == proof
    assert MerkleTree(LEAVES).consistency_proof(old, new) == proof
    assert ref_proof(old, LEAVES[:new]) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)


@pytest.mark.parametrize(("old", "new", "path"), [v for v in CONSISTENCY_PROOFS if v[2]])
def test_consistency_vectors_reject_corruptions(old, new, path):
    """After proof/verify_test.go's corruptConsistencyProof."""
    proof = [h(x) for x in path]
    r1, r2 = ROOTS[old], ROOTS[new]
    probes = {
        "old - 1": (old - 1, new, r1, r2, proof),
        "old + 1": (old + 1, new, r1, r2, proof),
        "old ^ 2": (old ^ 2, new, r1, r2, proof),
        "new * 2": (old, new * 2, r1, r2, proof),
        "new // 2": (old, new // 2, r1, r2, proof),
        "wrong old root": (old, new, SOME_HASH, r2, proof),
        "wrong new root": (old, new, r1, SOME_HASH, proof),
        "swapped roots": (old, new, r2, r1, proof),
        "empty proof": (old, new, r1, r2, []),
        "trailing garbage": (old, new, r1, r2, [*proof, b""]),
        "trailing old root": (old, new, r1, r2, [*proof, r1]),
        "trailing new root": (old, new, r1, r2, [*proof, r2]),
        "preceding garbage": (old, new, r1, r2, [b"", *proof]),
        "preceding old root": (old, new, r1, r2, [r1, *proof]),
        "preceding new root": (old, new, r1, r2, [r2, *proof]),
        "preceding proof[0]": (old, new, r1, r2, [proof[0], *proof]),
        "truncated": (old, new, r1, r2, proof[:-1]),
    }
    for i in range(len(proof)):
        flipped = bytes([proof[i][0] ^ 16]) + proof[i][1:]
        probes[f"proof[{i}] bit flipped"] = (old, new, r1, r2,
                                             [*proof[:i], flipped, *proof[i + 1 :]])
    for what, args in probes.items():
        assert not verify_consistency(*args), what


def test_consistency_edges():
    """The sizes the RFC's algorithm leaves to the caller (after TestVerifyConsistency)."""
    r1, r2 = ROOTS[1], ROOTS[2]
    # Equal sizes: equal roots and no proof.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(1, 1, r1, r2, [])
    assert not verify_consistency(1, 1, r1, r1, [EMPTY_ROOT])
    # From the empty tree: always consistent, but its root is the empty root.
    assert verify_consistency(0, 2, EMPTY_ROOT, r2, [])
    assert not verify_consistency(0, 2, SOME_HASH, r2, [])
    assert not verify_consistency(0, 2, EMPTY_ROOT, r2, [EMPTY_ROOT])
    # Time travel, and a missing proof.
    assert not verify_consistency(2, 1, r2, r1, [])
    assert not verify_consistency(1, 0, r1, EMPTY_ROOT, [])
    assert not verify_consistency(1, 2, r1, r2, [])
    # Hashes of the wrong length are never accepted.
    assert not verify_consistency(1, 1, r1[:31], r1[:31], [])


def test_inclusion_edges():
    """After TestVerifyInclusion and TestVerifyInclusionSingleEntry."""
    for index, size in [(0, 0), (0, 1), (1, 0), (2, 1)]:
        assert not verify_inclusion(b"data", index, size, [], SOME_HASH)
        assert not verify_inclusion(b"data", index, size, [], EMPTY_ROOT)
    # A one-leaf tree: the root is the leaf hash and the proof is empty.
    assert verify_inclusion(b"data", 0, 1, [], leaf_hash(b"data"))
    assert not verify_inclusion(b"other", 0, 1, [], leaf_hash(b"data"))
    assert not verify_inclusion(b"data", 0, 1, [], b"")


def test_bad_arguments_raise():
    tree = MerkleTree(LEAVES)
    for index, size in [(-1, None), (8, None), (3, 3), (0, 0)]:
        with pytest.raises(ValueError):
            tree.inclusion_proof(index, size)
    with pytest.raises(ValueError):
        merkle.inclusion_proof([], 0)
    for old, new in [(-1, None), (9, None), (5, 4), (0, 9)]:
        with pytest.raises(ValueError):
            tree.consistency_proof(old, new)
    with pytest.raises(ValueError):
        merkle.consistency_proof(LEAVES[:3], 4)
    for size in (-1, 9):
        with pytest.raises(ValueError):
            tree.root(size)
    with pytest.raises(ValueError):
        tree.leaf_hash(8)


# -- consistency on every pair of sizes up to 40 -----------------------------------------------

EVENT_HASHES = [sha256(b"event %d" % i) for i in range(40)]
TREE_40 = MerkleTree(EVENT_HASHES)


def _with_leaf_changed(j: int) -> list[bytes]:
    changed = list(EVENT_HASHES)
    changed[j] = sha256(b"edited " + changed[j])
    return changed


# One tree per edited position, over all 40 leaves: its prefixes are the edited ledgers.
EDITED_TREES = [MerkleTree(_with_leaf_changed(j)) for j in range(40)]


@pytest.mark.parametrize("new", range(41))
def test_consistency_every_pair_of_sizes(new):
    new_root = TREE_40.root(new)
    assert new_root == merkle.root(EVENT_HASHES[:new])
    for old in range(new + 1):
        old_root = TREE_40.root(old)
        proof = TREE_40.consistency_proof(old, new)
        assert proof == merkle.consistency_proof(EVENT_HASHES[:new], old)
        assert verify_consistency(old, new, old_root, new_root, proof)
        if old == 0:
            continue
        # The checkpoint's root altered.
        altered = bytes([old_root[0] ^ 1]) + old_root[1:]
        assert not verify_consistency(old, new, altered, new_root, proof)
        for j in range(old):
            edited = EDITED_TREES[j]
            # A leaf the old checkpoint covers was changed afterwards: the rewritten ledger
            # cannot prove it extends the checkpoint, with its own proof or the true one.
            assert not verify_consistency(old, new, old_root, edited.root(new),
                                          edited.consistency_proof(old, new))
            assert not verify_consistency(old, new, old_root, edited.root(new), proof)
            # Nor does a checkpoint taken over the edited leaves match the true ledger.
            assert not verify_consistency(old, new, edited.root(old), new_root, proof)


# -- the module against the reference, on random trees -----------------------------------------

leaf_data = st.lists(st.binary(max_size=40), max_size=70)


@settings(max_examples=300, deadline=None)
@given(leaf_data, st.data())
def test_against_the_reference(leaves, data):
    """Roots, audit paths and consistency proofs equal the RFC's recursive definitions."""
    n = len(leaves)
    tree = MerkleTree(leaves)
    expected_root = ref_mth(leaves)
    assert merkle.root(leaves) == expected_root
    assert tree.root() == expected_root

    if n:
        index = data.draw(st.integers(0, n - 1), label="index")
        path = ref_path(index, leaves)
        assert merkle.inclusion_proof(leaves, index) == path
        assert tree.inclusion_proof(index) == path
        assert verify_inclusion(leaves[index], index, n, path, expected_root)
        # Against an earlier checkpoint of the same ledger.
        size = data.draw(st.integers(index + 1, n), label="size")
        assert tree.inclusion_proof(index, size) == ref_path(index, leaves[:size])
        assert verify_inclusion(leaves[index], index, size, tree.inclusion_proof(index, size),
                                ref_mth(leaves[:size]))

    old = data.draw(st.integers(0, n), label="old")
    proof = ref_proof(old, leaves)
    assert merkle.consistency_proof(leaves, old) == proof
    assert tree.consistency_proof(old) == proof
    assert verify_consistency(old, n, ref_mth(leaves[:old]), expected_root, proof)
    # Between two earlier sizes.
    new = data.draw(st.integers(old, n), label="new")
    assert tree.root(new) == ref_mth(leaves[:new])
    assert tree.consistency_proof(old, new) == ref_proof(old, leaves[:new])


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 70), st.data())
def test_random_paths_verify_only_where_they_belong(n, data):
    """A valid audit path proves its own leaf at its own index, and nothing else."""
    leaves = [sha256(b"%d" % i) for i in range(n)]
    tree = MerkleTree(leaves)
    index = data.draw(st.integers(0, n - 1), label="index")
    proof = tree.inclusion_proof(index)
    assert verify_inclusion(leaves[index], index, n, proof, tree.root())
    other = data.draw(st.integers(0, n - 1).filter(lambda i: i != index), label="other")
    assert not verify_inclusion(leaves[other], index, n, proof, tree.root())
    assert not verify_inclusion(leaves[index], other, n, proof, tree.root())


def test_a_larger_tree_agrees_with_itself():
    """Prefix roots and proofs on a tree deeper than the random ones (13 levels)."""
    leaves = [sha256(b"%d" % i) for i in range(5000)]
    tree = MerkleTree(leaves)
    sizes = [1, 2, 3, 1023, 1024, 1025, 2047, 2048, 3333, 4095, 4096, 4999, 5000]
    for size in sizes:
        root = tree.root(size)
        assert root == merkle.root(leaves[:size])
        for index in {0, size // 3, size - 1}:
            proof = tree.inclusion_proof(index, size)
            assert verify_inclusion(leaves[index], index, size, proof, root)
        for old in sizes:
            if old <= size:
                assert verify_consistency(old, size, tree.root(old), root,
                                          tree.consistency_proof(old, size))
