"""RFC 9162 hashing and proofs, cross-checked against pymerkle (an independent implementation)."""

from __future__ import annotations

import random
import warnings

import pytest
from pymerkle import InmemoryTree

from assay.ledger.merkle import (
    ProofError,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    root_from_leaves,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)


class Tree:
    """Every complete subtree in memory: a NodeReader for tests."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.levels = [leaves]
        while len(self.levels[-1]) > 1:
            b = self.levels[-1]
            self.levels.append([hash_children(b[i], b[i + 1]) for i in range(0, len(b) - 1, 2)])

    def node(self, level: int, idx: int) -> bytes:
        return self.levels[level][idx]


def _pymerkle(n: int) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")
    for i in range(n):
        tree.append_entry(f"entry-{i}".encode())
    return tree


def _leaves(n: int) -> list[bytes]:
    return [hash_leaf(f"entry-{i}".encode()) for i in range(n)]


def _pm_root(tree: InmemoryTree, size: int) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return bytes(tree.get_state(size))


def test_roots_match_pymerkle_for_every_size_up_to_1024() -> None:
    pm = _pymerkle(1024)
    leaves = _leaves(1024)
    tree = Tree(leaves)
    for size in range(1, 1025):
        expected = _pm_root(pm, size)
        assert root_from_leaves(leaves[:size]) == expected, size
        assert subtree_root(tree.node, 0, size) == expected, size


def test_inclusion_paths_equal_pymerkle() -> None:
    pm = _pymerkle(300)
    tree = Tree(_leaves(300))
    rng = random.Random(7)
    for size in range(1, 301):
        for index in rng.sample(range(size), min(size, 6)):
            theirs = [
                bytes.fromhex(h) for h in pm.prove_inclusion(index + 1, size).serialize()["path"]
            ]
            assert inclusion_proof(tree.node, index, size) == theirs[1:]


@pytest.mark.parametrize("size", list(range(1, 130)))
def test_every_inclusion_and_consistency_proof_verifies(size: int) -> None:
    leaves = _leaves(size)
    tree = Tree(leaves)
    root = subtree_root(tree.node, 0, size)
    for index in range(size):
        verify_inclusion(leaves[index], index, size, inclusion_proof(tree.node, index, size), root)
    for old in range(0, size + 1):
        old_root = subtree_root(tree.node, 0, old)
        verify_consistency(old, size, old_root, root, consistency_proof(tree.node, old, size))


def test_random_large_sizes_against_pymerkle_roots() -> None:
    rng = random.Random(11)
    n = 100_000
    leaves = _leaves(n)
    tree = Tree(leaves)
    pm = _pymerkle(n)
    for size in [n, *rng.sample(range(1025, n), 4)]:
        root = _pm_root(pm, size)
        assert subtree_root(tree.node, 0, size) == root
        for index in rng.sample(range(size), 20):
            verify_inclusion(
                leaves[index], index, size, inclusion_proof(tree.node, index, size), root
            )
        old = rng.randrange(1, size)
        old_root = _pm_root(pm, old)
        verify_consistency(old, size, old_root, root, consistency_proof(tree.node, old, size))


def _flip(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def test_every_single_bit_mutation_of_an_inclusion_proof_fails() -> None:
    size, index = 1000, 613
    leaves = _leaves(size)
    tree = Tree(leaves)
    root = subtree_root(tree.node, 0, size)
    proof = inclusion_proof(tree.node, index, size)
    for i, node in enumerate(proof):
        for bit in range(256):
            bad = list(proof)
            bad[i] = _flip(node, bit)
            with pytest.raises(ProofError):
                verify_inclusion(leaves[index], index, size, bad, root)
    for bit in range(256):
        with pytest.raises(ProofError):
            verify_inclusion(_flip(leaves[index], bit), index, size, proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index, size, proof, _flip(root, bit))
    for bit in range(10):
        with pytest.raises(ProofError):
            verify_inclusion(leaves[index], index ^ (1 << bit), size, proof, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, size, proof[:-1], root)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[index], index, size, [*proof, root], root)


def test_every_single_bit_mutation_of_a_consistency_proof_fails() -> None:
    old, new = 437, 1000
    tree = Tree(_leaves(new))
    old_root, new_root = subtree_root(tree.node, 0, old), subtree_root(tree.node, 0, new)
    proof = consistency_proof(tree.node, old, new)
    for i, node in enumerate(proof):
        for bit in range(256):
            bad = list(proof)
            bad[i] = _flip(node, bit)
            with pytest.raises(ProofError):
                verify_consistency(old, new, old_root, new_root, bad)
    for bit in range(256):
        with pytest.raises(ProofError):
            verify_consistency(old, new, _flip(old_root, bit), new_root, proof)
        with pytest.raises(ProofError):
            verify_consistency(old, new, old_root, _flip(new_root, bit), proof)
    with pytest.raises(ProofError):
        verify_consistency(old + 1, new, old_root, new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(new, old, new_root, old_root, proof)
