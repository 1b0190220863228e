"""Offline verification: inclusion, consistency, checkpoint signatures, witness policy.

Depends only on ``hashlib`` and ``cryptography`` (via :mod:`merkle` and :mod:`note`),
never on the store or the writer, so an auditor can verify with a public key
and the data alone. :class:`LogVerifier` checks a whole log in one streaming
pass with O(log n) memory.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field

from assay.ledger._members import Member, MemberError, printable, read_members
from assay.ledger.merkle import (
    EMPTY_ROOT,
    ProofError,
    hash_children,
    hash_leaf,
    verify_consistency,
    verify_inclusion,
)
from assay.ledger.note import (
    COSIGNATURE_TYPE,
    Checkpoint,
    NoteError,
    Verifier,
    open_note,
    parse_checkpoint_body,
    verify_cosignature,
    verify_note,
)

__all__ = [
    "MANIFEST_NOTE_HEADER",
    "PACK_FORMAT",
    "CompactRange",
    "LogVerifier",
    "PackReport",
    "ProofError",
    "SequenceError",
    "WitnessPolicy",
    "verify_checkpoint",
    "verify_consistency",
    "verify_entry_inclusion",
    "verify_extension",
    "verify_inclusion",
    "verify_pack",
]


@dataclass(frozen=True)
class WitnessPolicy:
    """Require at least ``quorum`` valid cosignatures from ``witnesses``."""

    witnesses: tuple[Verifier, ...] = ()
    quorum: int = 0


def verify_checkpoint(
    note: str, log_key: Verifier, policy: WitnessPolicy = WitnessPolicy()
) -> Checkpoint:
    """The checkpoint if the log signed it and enough witnesses cosigned it."""
    body = verify_note(note, log_key)
    checkpoint = parse_checkpoint_body(body)
    if checkpoint.origin != log_key.name:
        raise NoteError(f"checkpoint origin {checkpoint.origin!r} is not the log {log_key.name!r}")
    if policy.quorum:
        _, lines = open_note(note)
        good: set[str] = set()
        for witness in policy.witnesses:
            if witness.sig_type != COSIGNATURE_TYPE:
                raise NoteError(f"witness key {witness.name} is not a cosignature (0x04) key")
            for line in lines:
                if line.name == witness.name and line.key_id == witness.key_id:
                    verify_cosignature(body, line, witness)
                    good.add(str(witness))
        if len(good) < policy.quorum:
            raise NoteError(
                f"checkpoint has {len(good)} valid witness cosignature(s), "
                f"policy requires {policy.quorum}"
            )
    return checkpoint


class CompactRange:
    """The right edge of a growing tree: its root at any size in O(log n) memory."""

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[bytes] = []  # complete subtree roots, largest first

    @classmethod
    def resume(cls, size: int, peaks: Sequence[bytes]) -> CompactRange:
        """The range of a tree of ``size`` leaves from its complete subtrees, largest first."""
        if len(peaks) != size.bit_count():
            raise ValueError(f"a tree of size {size} has {size.bit_count()} complete subtrees")
        resumed = cls()
        resumed.size, resumed._peaks = size, list(peaks)
        return resumed

    def append(self, leaf_hash: bytes) -> None:
        self._peaks.append(leaf_hash)
        self.size += 1
        merges = (self.size & -self.size).bit_length() - 1  # trailing zero bits
        for _ in range(merges):
            right = self._peaks.pop()
            self._peaks[-1] = hash_children(self._peaks[-1], right)

    def root(self) -> bytes:
        if not self._peaks:
            return EMPTY_ROOT
        root = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            root = hash_children(peak, root)
        return root


class SequenceError(Exception):
    """Streaming stopped: positions after a gap or reorder are meaningless."""


@dataclass
class LogVerifier:
    """Feed every entry in order, then every checkpoint; collect named problems."""

    log_key: Verifier
    policy: WitnessPolicy = field(default_factory=WitnessPolicy)
    problems: list[str] = field(default_factory=list)
    _range: CompactRange = field(default_factory=CompactRange)
    _roots: dict[int, bytes] = field(default_factory=dict)
    _wanted: set[int] = field(default_factory=set)

    def expect_checkpoints(self, sizes: Sequence[int]) -> None:
        """Sizes whose roots must be remembered while streaming entries."""
        self._wanted.update(sizes)

    def add_entry(self, seq: int, entry: bytes, stored_leaf: bytes | None = None) -> bytes:
        """Recompute the leaf of ``entry`` at ``seq``; returns its hash."""
        if seq != self._range.size:
            if seq > self._range.size:
                missing = f"{self._range.size}" + (
                    f"..{seq - 1}" if seq - 1 > self._range.size else ""
                )
                self.problems.append(f"entry {missing} missing: sequence jumps to {seq}")
            else:
                self.problems.append(f"entry {seq} out of order after {self._range.size - 1}")
            raise SequenceError
        leaf = hash_leaf(entry)
        if stored_leaf is not None and stored_leaf != leaf:
            self.problems.append(
                f"entry {seq} was modified: its content no longer matches its hash"
            )
        self._range.append(leaf)
        if self._range.size in self._wanted:
            self._roots[self._range.size] = self._range.root()
        return leaf

    @property
    def size(self) -> int:
        return self._range.size

    def check_checkpoint(self, note: str) -> Checkpoint | None:
        """Verify the signature and that the recomputed root matches."""
        try:
            checkpoint = verify_checkpoint(note, self.log_key, self.policy)
        except NoteError as exc:
            self.problems.append(f"checkpoint: {exc}")
            return None
        size = checkpoint.tree_size
        if size == 0:
            if checkpoint.root_hash != EMPTY_ROOT:
                self.problems.append("checkpoint at size 0: its root is not the empty tree's")
            return checkpoint
        root = self._roots.get(size)
        if root is None and size == self._range.size:
            root = self._range.root()
        if root is None:
            self.problems.append(f"checkpoint at size {size}: the log has only {self.size} entries")
        elif root != checkpoint.root_hash:
            self.problems.append(
                f"checkpoint at size {size}: entries 0..{size - 1} do not hash to its signed "
                "root (an entry was modified, reordered, inserted or removed)"
            )
        return checkpoint

    def run(self, entries: Sequence[tuple[int, bytes]]) -> None:
        """Convenience for in-memory lists of ``(seq, entry)``."""
        try:
            for seq, entry in entries:
                self.add_entry(seq, entry)
        except SequenceError:
            pass


def verify_entry_inclusion(
    entry: bytes, seq: int, tree_size: int, proof: Sequence[bytes], root: bytes
) -> None:
    """The entry bytes are leaf ``seq`` of the tree with ``root``."""
    verify_inclusion(hash_leaf(entry), seq, tree_size, proof, root)


def verify_extension(old: Checkpoint, new: Checkpoint, proof: Sequence[bytes]) -> None:
    """``new`` is an append-only extension of ``old``."""
    if old.origin != new.origin:
        raise ProofError(f"checkpoints are from different logs ({old.origin} vs {new.origin})")
    verify_consistency(old.tree_size, new.tree_size, old.root_hash, new.root_hash, proof)


PACK_FORMAT = "assay-pack/v1"
MANIFEST_NOTE_HEADER = "assay.dev/pack-manifest/v1"


@dataclass
class PackReport:
    """What :func:`verify_pack` checked; ``problems`` name the file at fault."""

    origin: str = ""
    tree_size: int = 0
    entries: int = 0
    payloads: int = 0
    files: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: str) -> None:
        """Record a problem, control characters escaped (names come from the pack)."""
        self.problems.append(printable(problem))


#: The members the verifier parses (every other member is only hashed).
_PARSED = frozenset({"manifest.json", "manifest.sig", "checkpoint.txt", "entries.jsonl",
                     "proofs.jsonl", "consistency.json"})
#: What parsing a damaged member may raise; each is reported with the member's name.
_DAMAGE = (ValueError, KeyError, TypeError, AttributeError, IndexError)


def _parsed(name: str) -> bool:
    return name in _PARSED or name.startswith("payloads/")


def verify_pack(
    path: str, log_key: Verifier, policy: WitnessPolicy = WitnessPolicy()
) -> PackReport:
    """Verify an audit pack with the log's public key alone (no workspace, no network).

    A damaged or crafted pack yields problems naming the file at fault, never an
    exception (issue #19 item 16); see :mod:`assay.ledger._members` for duplicate
    names, zip bombs and escaped names.
    """
    report = PackReport()
    try:
        with zipfile.ZipFile(path) as archive:
            members = read_members(archive, _parsed)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add(f"{path}: not a readable zip file ({exc})")
        return report
    except MemberError as exc:
        report.add(str(exc))
        return report
    files = {name: m.content for name, m in members.items() if m.content is not None}
    if _check_manifest(members, files, log_key, report) is None:
        return report
    checkpoint = _check_pack_checkpoint(files, log_key, policy, report)
    if checkpoint is None:
        return report
    for name, check in (("entries.jsonl", _check_pack_entries),
                        ("consistency.json", _check_pack_consistency)):
        try:
            check(files, checkpoint, log_key, report)
        except _DAMAGE as exc:
            report.add(f"{name}: damaged ({type(exc).__name__}: {exc})")
    return report


def _check_manifest(
    members: dict[str, Member], files: dict[str, bytes], log_key: Verifier, report: PackReport
) -> dict[str, object] | None:
    for required in ("manifest.json", "manifest.sig"):
        if required not in files:
            report.add(f"{required}: missing from the pack")
            return None
    try:
        text = verify_note(files["manifest.sig"].decode(), log_key)
    except (NoteError, UnicodeDecodeError) as exc:
        report.add(f"manifest.sig: {exc} (is the pack from another log?)")
        return None
    signed = members["manifest.json"].sha256
    if text != f"{MANIFEST_NOTE_HEADER}\n{log_key.name}\nsha256:{signed}\n":
        report.add("manifest.json: modified after it was signed")
        return None
    try:
        manifest = json.loads(files["manifest.json"])
        listed = {str(k): str(v) for k, v in manifest.get("files", {}).items()}
    except _DAMAGE as exc:
        report.add(f"manifest.json: damaged ({exc})")
        return None
    if manifest.get("format") != PACK_FORMAT:
        report.add(f"manifest.json: unknown format {manifest.get('format')!r}")
        return None
    report.origin = printable(str(manifest.get("origin")))
    for name, member in members.items():
        if name in ("manifest.json", "manifest.sig"):
            continue
        expected = listed.get(name)
        if expected is None:
            report.add(f"{name}: not listed in the manifest (added after export)")
        elif member.sha256 != expected:
            report.add(f"{name}: content does not match the manifest hash")
    for name in listed:
        if name not in members:
            report.add(f"{name}: listed in the manifest but missing")
    report.files = len(listed)
    return dict(manifest)


def _check_pack_checkpoint(
    files: dict[str, bytes], log_key: Verifier, policy: WitnessPolicy, report: PackReport
) -> Checkpoint | None:
    try:
        checkpoint = verify_checkpoint(files["checkpoint.txt"].decode(), log_key, policy)
    except (KeyError, NoteError, UnicodeDecodeError) as exc:
        report.add(f"checkpoint.txt: {exc}")
        return None
    except _DAMAGE as exc:
        report.add(f"checkpoint.txt: damaged ({exc})")
        return None
    report.tree_size = checkpoint.tree_size
    return checkpoint


def _check_pack_entries(
    files: dict[str, bytes], checkpoint: Checkpoint, _key: Verifier, report: PackReport
) -> None:
    entries = files.get("entries.jsonl", b"").splitlines()
    proofs = files.get("proofs.jsonl", b"").splitlines()
    if len(entries) != len(proofs):
        report.add("proofs.jsonl: not one proof per entry in entries.jsonl")
        return
    try:
        salts = json.loads(files.get("payloads/salts.json", b"{}"))
        salts = {str(k): str(v) for k, v in salts.items()}
    except _DAMAGE as exc:
        report.add(f"payloads/salts.json: damaged ({exc})")
        salts = {}
    for line, (entry, proof_line) in enumerate(zip(entries, proofs, strict=True), start=1):
        try:
            _check_pack_entry(files, salts, checkpoint, entry, proof_line, line, report)
        except _DAMAGE as exc:
            report.add(f"entries.jsonl/proofs.jsonl line {line}: damaged ({exc})")


def _check_pack_entry(files: dict[str, bytes], salts: dict[str, str], checkpoint: Checkpoint,
                      entry: bytes, proof_line: bytes, line: int, report: PackReport) -> None:
    proof = json.loads(proof_line)
    seq = int(proof["seq"])
    try:
        verify_entry_inclusion(
            entry,
            seq,
            checkpoint.tree_size,
            [bytes.fromhex(h) for h in proof["path"]],
            checkpoint.root_hash,
        )
    except (ProofError, ValueError) as exc:
        report.add(f"entries.jsonl line {line} (entry {seq}): {exc}")
        return
    report.entries += 1
    payload = json.loads(entry).get("payload")
    if isinstance(payload, dict):
        _check_payload(files, salts, payload, seq, report)


def _check_payload(
    files: dict[str, bytes],
    salts: dict[str, str],
    payload: dict[str, object],
    seq: int,
    report: PackReport,
) -> None:
    digest = str(payload.get("digest"))
    name = f"payloads/{digest.removeprefix('sha256:')}"
    if name not in files:
        return  # not exported (or erased): the entry alone is still proven
    try:
        salt = bytes.fromhex(salts.get(digest, ""))
    except ValueError:
        report.add(f"payloads/salts.json: the salt of {digest} is not hex")
        return
    if "sha256:" + hashlib.sha256(salt + files[name]).hexdigest() != digest:
        report.add(f"{name}: does not match the digest in entry {seq}")
    else:
        report.payloads += 1


def _check_pack_consistency(
    files: dict[str, bytes], checkpoint: Checkpoint, log_key: Verifier, report: PackReport
) -> None:
    if "consistency.json" not in files:
        return
    data = json.loads(files["consistency.json"])
    try:
        old = verify_checkpoint(str(data["old_checkpoint"]), log_key)
        verify_extension(old, checkpoint, [bytes.fromhex(h) for h in data["proof"]])
    except (NoteError, ProofError, KeyError, ValueError) as exc:
        report.add(f"consistency.json: {exc}")
