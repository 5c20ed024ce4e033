"""The RFC 9162 (Certificate Transparency v2) Merkle tree over the ledger's event hashes.

The leaves are the 32-byte event hashes in the ledger's global order, but every function
here takes any bytes as leaf data, so that the published RFC 6962 / RFC 9162 test vectors
(whose leaves are of arbitrary length) apply unchanged.

Hashing (RFC 9162 §2.1.1):

- empty tree: ``SHA-256(b"")``;
- leaf: ``SHA-256(0x00 || leaf)``;
- interior node: ``SHA-256(0x01 || left || right)``.

The distinct prefixes keep a leaf from ever being passed off as an interior node (a second
preimage attack on the tree). The tree over ``n`` leaves splits at the largest power of two
below ``n``: the left subtree is always complete, which is what lets a tree grow by
appending without ever rehashing its complete subtrees.

Building level by level, an odd node at the end of a level is carried up unchanged. That
gives the same root as the RFC's recursive definition: the node stored at height ``h`` and
index ``i`` is exactly ``MTH(D[i*2**h : min((i+1)*2**h, n)])``, and every subtree the
RFC's recursion visits has that form. ``MerkleTree`` keeps those levels, so each proof is
a few lookups instead of a pass over the leaves.

Proofs are lists of 32-byte hashes, ordered as RFC 9162 produces them: from the leaf (or
the smaller tree) up to the root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

#: The size of every hash in the tree.
HASH_SIZE = 32

_sha256 = hashlib.sha256

#: The root of the tree with no leaves: SHA-256 of the empty string.
EMPTY_ROOT = _sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf: SHA-256(0x00 || leaf)."""
    return _sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly below ``n`` (``n >= 2``): where MTH splits."""
    return 1 << ((n - 1).bit_length() - 1)


def _leaf_level(leaves: Sequence[bytes]) -> list[bytes]:
    # A list comprehension with the hash function bound locally: the per-leaf cost is
    # dominated by Python call overhead, so this is the fast way in CPython.
    sha, prefix = _sha256, _LEAF_PREFIX
    return [sha(prefix + leaf).digest() for leaf in leaves]


def _level_up(level: list[bytes]) -> list[bytes]:
    """The next level up: pairs hashed together, an odd last node carried up unchanged."""
    sha, prefix = _sha256, _NODE_PREFIX
    pairs = iter(level)
    # zip over one iterator walks the level two at a time; strict=False on purpose, since
    # an odd last node is left over and carried up below.
    up = [sha(prefix + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
    if len(level) & 1:
        up.append(level[-1])
    return up


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash (RFC 9162 §2.1.1) of ``leaves``.

    Hashes level by level and keeps only the current level, so it runs in one pass over
    the leaves; use ``MerkleTree`` when proofs are needed as well.
    """
    if len(leaves) == 0:
        return EMPTY_ROOT
    level = _leaf_level(leaves)
    while len(level) > 1:
        level = _level_up(level)
    return level[0]


class MerkleTree:
    """A Merkle tree over ``leaves`` that keeps every level, for many cheap proofs.

    Besides the whole tree, it answers for any earlier size (a prefix of the leaves): the
    root a checkpoint of that size recorded, inclusion proofs against it and consistency
    proofs from it. Each level is kept as one bytes object (32 bytes a node), about 64 MB
    for a million leaves, rather than a list of a million small objects.
    """

    __slots__ = ("_levels", "_size")

    def __init__(self, leaves: Sequence[bytes]) -> None:
        """Hash ``leaves`` (any bytes each) and keep every level of the tree."""
        self._size = len(leaves)
        level = _leaf_level(leaves)
        self._levels: list[bytes] = [b"".join(level)]
        while len(level) > 1:
            level = _level_up(level)
            self._levels.append(b"".join(level))

    @property
    def size(self) -> int:
        """The number of leaves."""
        return self._size

    def __len__(self) -> int:
        return self._size

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf ``index``: SHA-256(0x00 || leaf)."""
        self._check_index(index, self._size)
        return self._node(0, index)

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree over the first ``size`` leaves (default: all of them)."""
        size = self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return self._range_hash(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """The audit path for leaf ``index`` in the tree of ``size`` leaves (RFC 9162 §2.1.3.1).

        ``PATH(m, D[n])``: the sibling subtree hashes from the leaf up to the root.
        Raises ``ValueError`` unless ``0 <= index < size``.
        """
        size = self._check_size(size)
        self._check_index(index, size)
        # The RFC's recursion, unrolled: descend from the root towards the leaf, noting
        # the subtree on the other side at each split; the RFC lists them leaf first.
        path: list[bytes] = []
        start, end = 0, size
        while end - start > 1:
            mid = start + _split(end - start)
            if index < mid:
                path.append(self._range_hash(mid, end))
                end = mid
            else:
                path.append(self._range_hash(start, mid))
                start = mid
        path.reverse()
        return path

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """The proof that the tree of ``new_size`` leaves extends that of ``old_size``.

        RFC 9162 §2.1.4.1 ``PROOF(m, D[n]) = SUBPROOF(m, D[n], true)``. It is empty when
        ``old_size`` is 0 or equal to ``new_size`` (nothing to prove; the verifier checks
        the roots). Raises ``ValueError`` unless ``0 <= old_size <= new_size <= size``.
        """
        new_size = self._check_size(new_size)
        if not 0 <= old_size <= new_size:
            raise ValueError(f"old size {old_size} is not between 0 and {new_size}")
        if old_size in (0, new_size):
            return []
        # SUBPROOF(m, D[start:end], b), unrolled the same way as the audit path: m is the
        # old size relative to ``start``, b whether the old root is the verifier's own.
        proof: list[bytes] = []
        m, start, end, known = old_size, 0, new_size, True
        while True:
            n = end - start
            if m == n:
                # The old tree's root (or a complete subtree of it) sits here. The
                # verifier already has the old root; any other subtree must be given.
                if not known:
                    proof.append(self._range_hash(start, end))
                break
            k = _split(n)
            if m <= k:
                proof.append(self._range_hash(start + k, end))
                end = start + k
            else:
                proof.append(self._range_hash(start, start + k))
                m, start, known = m - k, start + k, False
        proof.reverse()
        return proof

    # -- internals --------------------------------------------------------------------------

    def _node(self, height: int, index: int) -> bytes:
        offset = index * HASH_SIZE
        return self._levels[height][offset : offset + HASH_SIZE]

    def _range_hash(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a subtree the RFC's recursion visits, in O(log n).

        Such a range starts on a multiple of 2**h, where 2**h is the smallest power of two
        at least its length. A complete subtree, or one that ends where the whole tree
        ends, is a stored node. One that ends inside the tree (the right edge of a smaller,
        earlier tree) is split the way MTH splits it: a complete left half and the rest.
        """
        length = end - start
        height = (length - 1).bit_length()
        if end == self._size or length == 1 << height:
            return self._node(height, start >> height)
        half = 1 << (height - 1)
        return node_hash(self._node(height - 1, start >> (height - 1)),
                         self._range_hash(start + half, end))

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if not 0 <= size <= self._size:
            raise ValueError(f"tree size {size} is not between 0 and {self._size}")
        return size

    @staticmethod
    def _check_index(index: int, size: int) -> None:
        if not 0 <= index < size:
            raise ValueError(f"leaf index {index} is not in a tree of {size} leaves")


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path (RFC 9162 §2.1.3.1) for leaf ``index`` in the tree over ``leaves``.

    Builds the whole tree; for several proofs over the same leaves, build one
    ``MerkleTree`` and ask it.
    """
    return MerkleTree(leaves).inclusion_proof(index)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """The consistency proof (RFC 9162 §2.1.4.1) from the first ``old_size`` leaves to all.

    Empty when ``old_size`` is 0 or ``len(leaves)``.
    """
    return MerkleTree(leaves).consistency_proof(old_size)


def _hashes_ok(*hashes: bytes) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf: bytes, index: int, tree_size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    """Whether ``proof`` shows leaf data ``leaf`` at ``index`` in the tree with ``root``.

    The RFC 9162 §2.1.3.2 algorithm, on the leaf's data (it is hashed here with the 0x00
    prefix). Never raises on a bad proof: any malformed input is simply not a proof.
    """
    proof = list(proof)
    if not 0 <= index < tree_size or not _hashes_ok(root, *proof):
        return False
    fn, sn = index, tree_size - 1
    r = leaf_hash(leaf)
    for p in proof:
        if sn == 0:
            # More path than the tree is high.
            return False
        if fn & 1 or fn == sn:
            # We are a right child, or the last node of a level with no right sibling
            # (carried up): the proof element is on the left.
            r = node_hash(p, r)
            if not fn & 1:
                # Skip the levels where this node was carried up without a sibling.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # sn == 0: the path reached the root, neither short nor long.
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows that the newer tree head extends the older one.

    The RFC 9162 §2.1.4.2 algorithm for ``0 < old_size < new_size``. The RFC leaves the
    edges to the caller; here equal sizes need equal roots and an empty proof, and an old
    size of 0 needs the empty tree's root and an empty proof. Never raises on a bad proof.
    """
    proof = list(proof)
    if not 0 <= old_size <= new_size or not _hashes_ok(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one, so the proof leaves out its
        # root, which the verifier has.
        proof.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    # Climb past the levels where the old tree's last node is a right child: the proof
    # starts at the first subtree the two trees share whole.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            # A left sibling: part of both trees.
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            # A right sibling: only in the new tree.
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
