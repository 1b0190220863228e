"""Merkle tree hashing, inclusion and consistency proofs exactly as RFC 9162 §2.1.

Pure functions, standard library only: the offline verifier imports this module.
Trees are addressed by *complete subtrees*: node ``(level, idx)`` is the hash of
leaves ``[idx * 2**level, (idx + 1) * 2**level)``. Proof generation asks a
``NodeReader`` for such nodes, so a store that keeps them answers any proof with
O(log n) reads; :func:`needed_nodes` lists them up front for one batched query.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "NodeReader",
    "ProofError",
    "consistency_proof",
    "hash_children",
    "hash_leaf",
    "inclusion_proof",
    "needed_nodes",
    "root_from_leaves",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

NodeReader = Callable[[int, int], bytes]
"""``reader(level, idx)`` returns the hash of a complete subtree."""

EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify; the message says which check failed."""


def hash_leaf(data: bytes) -> bytes:
    """Leaf hash: SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """Interior node hash: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    """The largest power of two strictly smaller than ``size`` (size >= 2)."""
    return 1 << ((size - 1).bit_length() - 1)


def subtree_root(reader: NodeReader, start: int, end: int) -> bytes:
    """MTH(D[start:end]) for a range whose start is aligned as RFC 9162 recursion makes it."""
    size = end - start
    if size <= 0:
        return EMPTY_ROOT
    if size & (size - 1) == 0 and start % size == 0:
        level = size.bit_length() - 1
        return reader(level, start >> level)
    k = _split(size)
    return hash_children(
        subtree_root(reader, start, start + k), subtree_root(reader, start + k, end)
    )


def inclusion_proof(reader: NodeReader, index: int, size: int) -> list[bytes]:
    """PATH(index, D[size]): sibling hashes from the leaf up to the root."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            path.append(subtree_root(reader, start + k, end))
            end = start + k
        else:
            path.append(subtree_root(reader, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(reader: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(old_size, D[new_size]) per RFC 9162 §2.1.4.1."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"cannot prove {old_size} -> {new_size}: sizes must grow")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, whole = 0, new_size, True
    while old_size != end:
        k = _split(end - start)
        if old_size - start <= k:
            proof.append(subtree_root(reader, start + k, end))
            end = start + k
        else:
            proof.append(subtree_root(reader, start, start + k))
            start, whole = start + k, False
    if not whole:
        proof.append(subtree_root(reader, start, end))
    proof.reverse()
    return proof


def needed_nodes(prove: Callable[[NodeReader], object]) -> set[tuple[int, int]]:
    """The complete-subtree nodes a proof computation reads, found by a dry run."""
    seen: set[tuple[int, int]] = set()

    def record(level: int, idx: int) -> bytes:
        seen.add((level, idx))
        return EMPTY_ROOT

    prove(record)
    return seen


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (already hashed with :func:`hash_leaf`), O(n)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = [hash_children(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def verify_inclusion(
    leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2; raises :class:`ProofError` unless the leaf is at ``index``."""
    if index >= size or index < 0:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes("leaf hash", [leaf_hash])
    _check_hashes("root hash", [root])
    _check_hashes("proof hash", proof)
    fn, sn, r = index, size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof is longer than the tree allows")
        if fn & 1 or fn == sn:
            r = hash_children(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            r = hash_children(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("inclusion proof is shorter than the tree requires")
    if r != root:
        raise ProofError("inclusion proof does not lead to the root hash")


def _check_hashes(what: str, hashes: Sequence[bytes]) -> None:
    """Every hash in a proof is one SHA-256 output (RFC 9162 §2.1: HASH_SIZE = 32)."""
    for value in hashes:
        if not isinstance(value, bytes) or len(value) != 32:
            raise ProofError(f"a {what} must be 32 bytes (SHA-256)")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2; raises :class:`ProofError` unless new extends old."""
    if old_size < 0 or new_size < 0:
        raise ProofError(f"tree sizes {old_size} and {new_size} cannot be negative")
    if old_size > new_size:
        raise ProofError(f"tree shrank from {old_size} to {new_size}")
    _check_hashes("root hash", [old_root, new_root])
    _check_hashes("proof hash", proof)
    if old_size == 0:
        # Every tree extends the empty one, but only if the old root *is* the empty root.
        if proof or old_root != EMPTY_ROOT:
            raise ProofError("a proof from the empty tree is empty and starts at the empty root")
        return
    if old_size == new_size:
        if proof or old_root != new_root:
            raise ProofError("same size but different roots (or a non-empty proof)")
        return
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is longer than the trees allow")
        if fn & 1 or fn == sn:
            fr, sr = hash_children(c, fr), hash_children(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn, sn = fn >> 1, sn >> 1
        else:
            sr = hash_children(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ProofError("consistency proof is shorter than the trees require")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")
