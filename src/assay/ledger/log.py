"""The evidence log: batched append, signed checkpoints, proofs, erasure, self-check.

One sequencer through the database: every append runs in a serialised
transaction (SQLite ``BEGIN IMMEDIATE``, PostgreSQL advisory lock), reads the
current size and the right edge of the tree, and inserts the batch's entries
and the new complete-subtree nodes. Sequence numbers are contiguous and the
log never forks, however many processes append.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from assay.errors import AssayError, Conflict, NotFound, UsageError, VerificationFailed
from assay.ledger.blobs import BlobStore, salted_digest
from assay.ledger.evidence import (
    ERASURE,
    Evidence,
    Subject,
    canonical_json,
    check_entry_size,
    format_time,
    parse_entry,
)
from assay.ledger.merkle import (
    NodeReader,
    ProofError,
    consistency_proof,
    hash_children,
    hash_leaf,
    inclusion_proof,
    needed_nodes,
    subtree_root,
    verify_consistency,
)
from assay.ledger.note import (
    Checkpoint,
    NoteError,
    NoteSigner,
    format_checkpoint_body,
    open_note,
    parse_checkpoint_body,
    sign_note,
    verify_note,
)
from assay.ledger.verify import (
    CompactRange,
    LogVerifier,
    SequenceError,
    verify_checkpoint,
    verify_entry_inclusion,
)
from assay.store import (
    LedgerCheckpoint,
    LedgerCosignature,
    LedgerEntry,
    LedgerNode,
    PayloadSalt,
    Store,
)

__all__ = ["InclusionProof", "Ledger", "Receipt", "StoredEntry", "VerifyReport"]

_READ_CHUNK = 5000


@dataclass(frozen=True)
class Receipt:
    """Proof of acceptance: the entry's position and leaf hash."""

    seq: int
    leaf_hash: bytes


@dataclass(frozen=True)
class StoredEntry:
    """An entry as stored: position, canonical bytes, leaf hash, and its indexed fields."""

    seq: int
    entry: bytes
    leaf_hash: bytes
    type: str = ""
    system: str | None = None
    observed_at: str = ""

    def decoded(self) -> dict[str, Any]:
        return parse_entry(self.entry)


@dataclass(frozen=True)
class InclusionProof:
    """Leaf ``seq`` is in the tree signed by ``checkpoint`` (RFC 9162 audit path)."""

    seq: int
    tree_size: int
    leaf_hash: bytes
    path: tuple[bytes, ...]
    checkpoint: str

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "path": [h.hex() for h in self.path],
            "checkpoint": self.checkpoint,
        }


@dataclass
class VerifyReport:
    """What ``assay ledger verify`` found."""

    entries: int
    checkpoints: int
    problems: list[str]
    unsigned_tail: int

    @property
    def ok(self) -> bool:
        return not self.problems


class Ledger:
    """The append-only evidence log of one workspace."""

    def __init__(self, store: Store, blobs: BlobStore, signer: NoteSigner) -> None:
        self.store = store
        self.blobs = blobs
        self.signer = signer

    @property
    def origin(self) -> str:
        return self.signer.name

    # -- append ---------------------------------------------------------------

    def append(
        self, items: Sequence[Evidence], *, also: Callable[[Session], None] | None = None
    ) -> list[Receipt]:
        """Append a batch in one transaction; all or nothing.

        ``also`` runs inside the same transaction first, so a record change and
        the evidence of that change commit together or not at all.
        """
        for item in items:
            item.check()
        now = datetime.now(UTC)
        now_text = format_time(now)
        prepared = [self._prepare(item, now_text) for item in items]
        if not prepared:
            return []
        with self.store.serialized() as session:
            if also is not None:
                also(session)
            size = _size(session)
            cache = _frontier(session, size)
            entries, nodes, salts, receipts = [], [], [], []
            for offset, (entry, salt_row, item, observed) in enumerate(prepared):
                seq = size + offset
                leaf = hash_leaf(entry)
                receipts.append(Receipt(seq, leaf))
                entries.append(_entry_row(seq, leaf, entry, item, observed, now))
                nodes.extend(_grow(cache, seq, leaf))
                if salt_row is not None:
                    salts.append(salt_row)
            # Core inserts (the tables, not the mapped classes): the same SQL without the
            # ORM's bulk bookkeeping, which was a third of an append's CPU
            if salts:
                session.execute(insert(_table(PayloadSalt)), salts)
            session.execute(insert(_table(LedgerEntry)), entries)
            session.execute(insert(_table(LedgerNode)), nodes)
        return receipts

    def _prepare(
        self, item: Evidence, now_text: str
    ) -> tuple[bytes, dict[str, object] | None, Evidence, str]:
        payload: dict[str, object] | None = None
        salt_row: dict[str, object] | None = None
        if item.payload is not None:
            salt, salt_id = secrets.token_bytes(32), secrets.token_hex(16)
            digest = salted_digest(salt, item.payload)
            self.blobs.put(digest, item.payload)
            payload = {
                "digest": digest,
                "salt_id": salt_id,
                "size": len(item.payload),
                "media_type": item.payload_media_type,
            }
            salt_row = {"salt_id": salt_id, "salt": salt, "erased_at": None}
        observed = format_time(item.observed_at) if item.observed_at else now_text
        entry = {
            "type": item.type,
            "subject": _subject_json(item.subject),
            "controls": list(item.controls),
            "observed_at": observed,
            "actor": item.actor,
            "summary": dict(item.summary),
            "payload": payload,
        }
        data = canonical_json(entry)
        check_entry_size(data)
        return data, salt_row, item, observed

    # -- checkpoints ------------------------------------------------------------

    def checkpoint(self) -> str:
        """Sign a checkpoint over the current tree (reusing the latest if nothing changed)."""
        with self.store.serialized() as session:
            size = _size(session)
            latest = session.scalars(
                select(LedgerCheckpoint).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)
            ).first()
            if latest is not None and latest.tree_size == size:
                return latest.note
            root = _root(session, size)
            if latest is not None:
                self._check_extends(session, latest.note, size, root)
            body = format_checkpoint_body(Checkpoint(self.origin, size, root))
            note = sign_note(body, self.signer)
            session.add(
                LedgerCheckpoint(
                    tree_size=size, root_hash=root, note=note, created_at=datetime.now(UTC)
                )
            )
            return note

    def _check_extends(self, session: Session, note: str, size: int, root: bytes) -> None:
        """Refuse to sign a tree that does not extend the last signed checkpoint.

        RFC 9162 §2.1.4: a consistency proof from the last checkpoint to the new root,
        built from the stored nodes, must verify; and the new root, recomputed from the
        last checkpoint's complete subtrees and the entries appended since, must equal
        the stored tree's (issue #19 item 14: a damaged node is never signed).
        """
        try:
            old = parse_checkpoint_body(verify_note(note, self.signer.verifier))
        except NoteError as exc:
            raise _refuse(f"the last checkpoint does not verify ({exc})") from exc
        if old.tree_size > size:
            raise _refuse(
                f"the log has {size} entries but the last checkpoint signed {old.tree_size} "
                "(entries were deleted)"
            )
        reader = _reader(session, lambda r: consistency_proof(r, old.tree_size, size))
        proof = consistency_proof(reader, old.tree_size, size)
        try:
            verify_consistency(old.tree_size, size, old.root_hash, root, proof)
        except ProofError as exc:
            raise _refuse(f"the tree does not extend checkpoint {old.tree_size} ({exc})") from exc
        if _recomputed_root(session, old, size) != root:
            raise _refuse(
                f"the stored tree nodes do not match the entries appended after checkpoint "
                f"{old.tree_size}"
            )

    def latest_checkpoint(self) -> str | None:
        with self.store.session() as session:
            return session.scalars(
                select(LedgerCheckpoint.note).order_by(LedgerCheckpoint.tree_size.desc()).limit(1)
            ).first()

    def latest_cosigned(self) -> str | None:
        """The latest checkpoint with every witness cosignature stored for it."""
        note = self.latest_checkpoint()
        if note is None:
            return None
        return self.checkpoint_at(parse_checkpoint_body(open_note(note)[0]).tree_size)

    def checkpoint_at(self, tree_size: int) -> str:
        with self.store.session() as session:
            row = session.get(LedgerCheckpoint, tree_size)
            if row is None:
                raise NotFound(
                    f"no checkpoint at tree size {tree_size}",
                    hint="list them with `assay ledger tail`",
                )
            cosigs = session.scalars(
                select(LedgerCosignature.line)
                .where(LedgerCosignature.tree_size == tree_size)
                .order_by(LedgerCosignature.id)
            ).all()
        return row.note + "".join(line + "\n" for line in cosigs)

    def add_cosignature(self, note_with_cosig: str, witness: str) -> None:
        """Store a witness's cosignature line for a checkpoint this log signed."""
        body, lines = open_note(note_with_cosig)
        checkpoint = parse_checkpoint_body(body)
        signed = self.checkpoint_at(checkpoint.tree_size)
        if open_note(signed)[0] != body:
            raise VerificationFailed("the cosigned checkpoint is not one this log signed")
        matching = [line for line in lines if line.name == witness]
        if not matching:
            raise VerificationFailed(f"the note carries no signature line by {witness}")
        with self.store.session() as session:
            for line in matching:
                session.add(
                    LedgerCosignature(
                        tree_size=checkpoint.tree_size,
                        witness=witness,
                        key_id=line.key_id.hex(),
                        line=line.raw,
                        created_at=datetime.now(UTC),
                    )
                )

    # -- reading and proofs -----------------------------------------------------

    def size(self) -> int:
        with self.store.session() as session:
            return _size(session)

    def get(self, seq: int) -> StoredEntry:
        with self.store.session() as session:
            row = session.get(LedgerEntry, seq)
            if row is None:
                raise NotFound(f"no ledger entry {seq}: the log has {_size(session)} entries")
            return _stored(row)

    def iter_entries(self, start: int = 0, end: int | None = None) -> Iterator[StoredEntry]:
        """Entries ``start`` up to ``end`` (exclusive) in sequence order, read in chunks."""
        limit = None if end is None else max(0, end - start)  # sequence numbers are dense
        yield from self.entries(after=start - 1, limit=limit)

    def entries(
        self,
        type: str | Collection[str] | None = None,
        *,
        system: str | None = None,
        org_wide: bool = False,
        since: datetime | str | None = None,
        after: int = -1,
        newest_first: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> Iterator[StoredEntry]:
        """Entries matching every filter given, in sequence order (``newest_first`` reversed).

        ``type``: one type URI or several; ``system``: entries about that system,
        and with ``org_wide`` also those about no system; ``since``: observed at or
        after this moment (a string compares with the stored ``observed_at``, in
        :func:`~assay.ledger.evidence.format_time`'s layout); ``after``: sequence
        numbers above it. Read in chunks, so a whole-log scan holds one chunk in memory.
        """
        query = select(*_COLUMNS).where(*_where(type, system, org_wide, since))
        key = LedgerEntry.seq
        query = query.where(key > after).order_by(key.desc() if newest_first else key)
        left = limit
        while left is None or left > 0:
            chunk = _READ_CHUNK if left is None else min(_READ_CHUNK, left)
            with self.store.session() as session:
                rows = session.execute(query.offset(offset).limit(chunk)).all()
            yield from (_stored(row) for row in rows)
            if len(rows) < chunk:
                return
            left = None if left is None else left - len(rows)
            offset, last = 0, rows[-1].seq
            query = query.where(key < last if newest_first else key > last)

    def count(
        self,
        type: str | Collection[str] | None = None,
        *,
        system: str | None = None,
        since: datetime | str | None = None,
    ) -> int:
        """How many entries match (the filters of :meth:`entries`)."""
        query = select(func.count()).select_from(LedgerEntry)
        query = query.where(*_where(type, system, since=since))
        with self.store.session() as session:
            return int(session.scalar(query) or 0)

    def count_by_type(self, since: datetime | str | None = None) -> dict[str, int]:
        """Entries per type (observed at or after ``since``)."""
        query = select(LedgerEntry.type, func.count()).where(*_where(None, since=since))
        with self.store.session() as session:
            return {t: int(n) for t, n in session.execute(query.group_by(LedgerEntry.type))}

    def latest_by_type(self) -> dict[str, str]:
        """The newest ``observed_at`` of each type."""
        query = select(LedgerEntry.type, func.max(LedgerEntry.observed_at))
        with self.store.session() as session:
            return {t: str(at) for t, at in session.execute(query.group_by(LedgerEntry.type))}

    def verified_checkpoint(self, tree_size: int | None = None) -> Checkpoint:
        """The newest signed checkpoint (or the one at ``tree_size``), its signature checked."""
        note = self.latest_checkpoint() if tree_size is None else self.checkpoint_at(tree_size)
        if note is None:
            raise NotFound("no signed checkpoint yet", hint="run `assay ledger checkpoint`")
        try:
            return verify_checkpoint(note, self.signer.verifier)
        except NoteError as exc:
            raise VerificationFailed(
                f"the checkpoint does not verify ({exc})", hint="run `assay ledger verify`"
            ) from exc

    def verified_inclusion(self, seq: int, checkpoint: Checkpoint | None = None) -> InclusionProof:
        """Entry ``seq`` as stored, proven into a verified signed checkpoint.

        Verifies the checkpoint (the newest unless one already verified is
        given), proves the entry into it and checks the proof against the
        signed root. Raises :class:`NotFound` (no checkpoint or entry),
        :class:`Conflict` (the entry is newer than the checkpoint) or
        :class:`VerificationFailed`.
        """
        signed = checkpoint or self.verified_checkpoint()
        size = signed.tree_size
        if not 0 <= seq < size:
            raise Conflict(
                f"entry {seq} is newer than checkpoint {size}", hint="sign a checkpoint"
            )
        proof = self.prove(seq, size)
        try:
            verify_entry_inclusion(self.get(seq).entry, seq, size, proof.path, signed.root_hash)
        except ProofError as exc:
            raise VerificationFailed(
                f"entry {seq} fails its inclusion proof ({exc})", hint="run `assay ledger verify`"
            ) from exc
        return proof

    def prove(self, seq: int, tree_size: int | None = None) -> InclusionProof:
        """Inclusion proof of entry ``seq`` against a signed checkpoint."""
        note = self.latest_checkpoint() if tree_size is None else self.checkpoint_at(tree_size)
        if note is None:
            raise NotFound("no checkpoint yet", hint="run `assay ledger checkpoint` first")
        size = parse_checkpoint_body(open_note(note)[0]).tree_size
        if not 0 <= seq < size:
            raise Conflict(
                f"entry {seq} is not covered by the checkpoint at size {size}",
                hint="run `assay ledger checkpoint` and try again",
            )
        with self.store.session() as session:
            reader = _reader(session, lambda r: (r(0, seq), inclusion_proof(r, seq, size)))
            path = inclusion_proof(reader, seq, size)
            leaf = reader(0, seq)
        return InclusionProof(seq, size, leaf, tuple(path), note)

    def consistency(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 consistency proof between two tree sizes."""
        if not 0 <= old_size <= new_size:
            raise UsageError(
                f"cannot prove {old_size} -> {new_size}: give the older (smaller) size first"
            )
        with self.store.session() as session:
            if new_size > _size(session):
                raise NotFound(f"the log has fewer than {new_size} entries")
            reader = _reader(session, lambda r: consistency_proof(r, old_size, new_size))
            return consistency_proof(reader, old_size, new_size)

    # -- erasure ----------------------------------------------------------------

    def erase(self, seq: int, actor: str, reason: str) -> Receipt:
        """Delete entry ``seq``'s payload and salt; record an erasure entry."""
        entry = self.get(seq).decoded()
        payload = entry.get("payload")
        if not isinstance(payload, dict):
            raise Conflict(f"entry {seq} has no payload to erase")
        digest, salt_id = str(payload["digest"]), str(payload["salt_id"])
        with self.store.session() as session:
            session.execute(
                update(PayloadSalt)
                .where(PayloadSalt.salt_id == salt_id)
                .values(salt=None, erased_at=datetime.now(UTC))
            )
        self.blobs.delete(digest)
        subject = entry.get("subject")
        system = subject.get("system") if isinstance(subject, dict) else None
        (receipt,) = self.append(
            [
                Evidence(
                    type=ERASURE,
                    actor=actor,
                    subject=Subject(str(system)) if system else None,
                    summary={"erased_seq": seq, "digest": digest, "reason": reason},
                )
            ]
        )
        return receipt

    def erase_older_than(
        self, cutoff: datetime, actor: str, reason: str, types: Sequence[str] = ()
    ) -> list[int]:
        """Retention: erase every payload observed before ``cutoff`` (optionally of ``types``).

        Returns the sequence numbers whose payloads were erased; entries already
        erased are skipped, so running it on a schedule is safe.
        """
        limit = format_time(cutoff)
        query = select(LedgerEntry.seq, LedgerEntry.entry).where(LedgerEntry.observed_at < limit)
        if types:
            query = query.where(LedgerEntry.type.in_(list(types)))
        with self.store.session() as session:
            candidates = session.execute(query.order_by(LedgerEntry.seq)).all()
            live = set(
                session.scalars(
                    select(PayloadSalt.salt_id).where(PayloadSalt.salt.is_not(None))
                ).all()
            )
        erased = []
        for seq, data in candidates:
            payload = parse_entry(data).get("payload")
            if isinstance(payload, dict) and payload.get("salt_id") in live:
                self.erase(seq, actor, reason)
                erased.append(seq)
        return erased

    def payload(self, seq: int) -> bytes | None:
        """The payload content of entry ``seq`` (None if erased or absent)."""
        payload = self.get(seq).decoded().get("payload")
        if not isinstance(payload, dict):
            return None
        return self.blobs.get(str(payload["digest"]))

    # -- self-check ---------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Recompute every leaf, node and checkpoint root; name what is wrong."""
        verifier = LogVerifier(self.signer.verifier)
        with self.store.session() as session:
            notes = session.scalars(
                select(LedgerCheckpoint.note).order_by(LedgerCheckpoint.tree_size)
            ).all()
        sizes = [parse_checkpoint_body(open_note(n)[0]).tree_size for n in notes]
        verifier.expect_checkpoints(sizes)
        tree = _TreeCheck(verifier.problems)
        try:
            for chunk in _chunks(self.iter_entries()):
                self._check_nodes(chunk, verifier, tree)
        except SequenceError:
            pass
        for note in notes:
            verifier.check_checkpoint(note)
        signed = max(sizes, default=0)
        return VerifyReport(
            entries=verifier.size,
            checkpoints=len(notes),
            problems=verifier.problems,
            unsigned_tail=max(0, verifier.size - signed),
        )

    def _check_nodes(
        self, chunk: list[StoredEntry], verifier: LogVerifier, tree: _TreeCheck
    ) -> None:
        with self.store.session() as session:
            stored = _closed_nodes(session, chunk[0].seq, chunk[-1].seq)
        for item in chunk:
            tree.add(item.seq, verifier.add_entry(item.seq, item.entry, item.leaf_hash), stored)


class _TreeCheck:
    """Recompute every complete subtree (all levels) from the entries; compare with storage.

    RFC 9162 §2.1.1: node ``(level, idx)`` is MTH of its leaves. A node whose children
    already differ is not reported again, so one modified entry yields one problem.
    """

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self._cache: dict[tuple[int, int], bytes] = {}
        self._bad: set[tuple[int, int]] = set()

    def add(self, seq: int, leaf: bytes, stored: dict[tuple[int, int], bytes]) -> None:
        for level, idx, node in _close(self._cache, seq, leaf):
            found = stored.get((level, idx))
            if found == node:
                continue
            children = {(level - 1, 2 * idx), (level - 1, 2 * idx + 1)}
            inherited = level > 0 and bool(children & self._bad)
            self._bad.add((level, idx))
            if not inherited:
                self.problems.append(_node_problem(level, idx, missing=found is None))


def _node_problem(level: int, idx: int, *, missing: bool) -> str:
    if level == 0:
        if missing:
            return f"entry {idx} has no tree node: it was inserted outside the ledger"
        return (
            f"entry {idx} does not match the tree built at append time "
            "(modified, moved or swapped)"
        )
    first, last = idx << level, ((idx + 1) << level) - 1
    state = "is missing" if missing else "does not match the entries below it"
    return (
        f"tree node (level {level}, index {idx}) over entries {first}..{last} {state}: "
        "proofs and the next checkpoint would use it"
    )


def _closed_nodes(session: Session, first: int, last: int) -> dict[tuple[int, int], bytes]:
    """Stored nodes of every level completed by leaves ``first..last``."""
    ranges = []
    level = 0
    while (last + 1) >> level:
        low = ((first + 1 + (1 << level) - 1) >> level) - 1
        high = ((last + 1) >> level) - 1
        if low <= high:
            ranges.append(and_(LedgerNode.level == level, LedgerNode.idx.between(low, high)))
        level += 1
    rows = session.execute(
        select(LedgerNode.level, LedgerNode.idx, LedgerNode.hash).where(or_(*ranges))
    ).all()
    return {(int(lv), int(ix)): bytes(node) for lv, ix, node in rows}


def _refuse(reason: str) -> AssayError:
    return AssayError(
        f"refusing to sign a checkpoint: {reason}; run `assay ledger verify` to find the damage"
    )


def _recomputed_root(session: Session, old: Checkpoint, size: int) -> bytes:
    """MTH of the new tree from the old checkpoint's complete subtrees and the new entries."""
    keys = [
        (level, (old.tree_size >> level) - 1)
        for level in reversed(range(old.tree_size.bit_length()))
        if old.tree_size >> level & 1
    ]
    nodes = _fetch(session, keys)
    tree = CompactRange.resume(old.tree_size, [nodes[key] for key in keys])
    if tree.root() != old.root_hash:
        raise _refuse(f"the stored tree no longer hashes to checkpoint {old.tree_size}")
    position = old.tree_size
    while position < size:
        rows = session.execute(
            select(LedgerEntry.seq, LedgerEntry.entry)
            .where(LedgerEntry.seq >= position)
            .order_by(LedgerEntry.seq)
            .limit(_READ_CHUNK)
        ).all()
        if not rows:
            raise _refuse(f"entries {position}..{size - 1} are missing")
        for seq, entry in rows:
            if seq != tree.size:
                raise _refuse(f"entry {tree.size} is missing")
            tree.append(hash_leaf(entry))
        position = rows[-1][0] + 1
    return tree.root()


_COLUMNS = (
    LedgerEntry.seq,
    LedgerEntry.entry,
    LedgerEntry.leaf_hash,
    LedgerEntry.type,
    LedgerEntry.system,
    LedgerEntry.observed_at,
)


def _stored(row: Any) -> StoredEntry:
    return StoredEntry(
        row.seq, row.entry, row.leaf_hash, row.type, row.system, str(row.observed_at)
    )


def _where(
    types: str | Collection[str] | None,
    system: str | None = None,
    org_wide: bool = False,
    since: datetime | str | None = None,
) -> list[ColumnElement[bool]]:
    """The conditions of :meth:`Ledger.entries`' filters."""
    found: list[ColumnElement[bool]] = []
    if isinstance(types, str):
        found.append(LedgerEntry.type == types)
    elif types is not None:
        found.append(LedgerEntry.type.in_(list(types)))
    if system is not None:
        about = LedgerEntry.system == system
        found.append(or_(about, LedgerEntry.system.is_(None)) if org_wide else about)
    if since:
        moment = format_time(since) if isinstance(since, datetime) else since
        found.append(LedgerEntry.observed_at >= moment)
    return found


def _chunks(entries: Iterator[StoredEntry]) -> Iterator[list[StoredEntry]]:
    chunk: list[StoredEntry] = []
    for entry in entries:
        chunk.append(entry)
        if len(chunk) == _READ_CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _subject_json(subject: Subject | None) -> dict[str, str | None] | None:
    if subject is None:
        return None
    return {"system": subject.system, "version": subject.version}


def _entry_row(
    seq: int, leaf: bytes, entry: bytes, item: Evidence, observed: str, now: datetime
) -> dict[str, object]:
    return {
        "seq": seq,
        "leaf_hash": leaf,
        "entry": entry,
        "type": item.type,
        "system": item.subject.system if item.subject else None,
        "observed_at": observed,
        "appended_at": now,
    }


def _table(model: type[Any]) -> Table:
    """The Core table behind a mapped class."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _size(session: Session) -> int:
    last = session.scalar(select(func.max(LedgerEntry.seq)))
    return 0 if last is None else int(last) + 1


def _frontier(session: Session, size: int) -> dict[tuple[int, int], bytes]:
    """The complete subtrees on the tree's right edge: all a new leaf can merge with."""
    keys = [(level, (size >> level) - 1) for level in range(size.bit_length()) if size >> level & 1]
    return _fetch(session, keys)


def _grow(cache: dict[tuple[int, int], bytes], seq: int, leaf: bytes) -> list[dict[str, object]]:
    """Add leaf ``seq`` and every complete subtree it closes; return the new node rows."""
    return [{"level": lv, "idx": ix, "hash": node} for lv, ix, node in _close(cache, seq, leaf)]


def _close(
    cache: dict[tuple[int, int], bytes], seq: int, leaf: bytes
) -> list[tuple[int, int, bytes]]:
    """Leaf ``seq`` and every complete subtree it closes, as ``(level, idx, hash)``."""
    level, idx, node = 0, seq, leaf
    cache[(0, seq)] = leaf
    closed = [(0, seq, leaf)]
    while idx & 1:
        node = hash_children(cache.pop((level, idx - 1)), node)
        del cache[(level, idx)]
        level, idx = level + 1, idx >> 1
        cache[(level, idx)] = node
        closed.append((level, idx, node))
    return closed


def _fetch(session: Session, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
    """Nodes by (level, idx): point lookups on the primary key, a few hundred per query.

    Plain SQL on purpose: building an expression tree per proof costs more than the
    lookups themselves, and proofs must stay well under a millisecond.
    """
    found: dict[tuple[int, int], bytes] = {}
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    for start in range(0, len(keys), 400):
        part = keys[start : start + 400]
        where = " OR ".join([f"(level = {mark} AND idx = {mark})"] * len(part))
        params = tuple(value for key in part for value in key)
        rows = connection.exec_driver_sql(
            f"SELECT level, idx, hash FROM ledger_nodes WHERE {where}",  # noqa: S608
            params,
        ).all()
        found.update({(int(level), int(idx)): bytes(node) for level, idx, node in rows})
    missing = set(keys) - set(found)
    if missing:
        raise VerificationFailed(
            f"the ledger's tree nodes are incomplete ({len(missing)} missing)",
            hint="run `assay ledger verify` to find the damage",
        )
    return found


def _reader(session: Session, prove: Callable[[NodeReader], object]) -> NodeReader:
    """A node reader preloaded (in one query) with every node ``prove`` will ask for."""
    nodes = _fetch(session, sorted(needed_nodes(prove)))
    return lambda level, idx: nodes[(level, idx)]


def _root(session: Session, size: int) -> bytes:
    reader = _reader(session, lambda r: subtree_root(r, 0, size))
    return subtree_root(reader, 0, size)
