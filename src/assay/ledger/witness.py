"""The witness protocol: check a log's checkpoint, then cosign it (C2SP tlog-witness).

A witness cosigns only a checkpoint the log signed, and, when it remembers
the last checkpoint it cosigned, only one that extends it (an RFC 9162
consistency proof). Faces (``assay ledger witness``) read the files and call
:func:`cosign`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from assay.errors import Invalid, VerificationFailed
from assay.ledger.merkle import ProofError
from assay.ledger.note import Checkpoint, NoteError, NoteSigner, Verifier, cosign_checkpoint
from assay.ledger.verify import verify_checkpoint, verify_extension

__all__ = ["cosign"]


def cosign(
    note: str,
    witness: NoteSigner,
    log_key: Verifier,
    *,
    previous: str | None = None,
    proof: Sequence[bytes] | None = None,
    timestamp: int | None = None,
) -> str:
    """The witness's cosignature line for ``note``, after checking it.

    ``previous``: the checkpoint this witness last cosigned; ``note`` must then
    be the same tree or extend it, shown by ``proof``. Raises
    :class:`VerificationFailed` (a bad signature, a log that is not append-only)
    or :class:`Invalid` (a grown tree without a proof).
    """
    current = _verified(note, log_key)
    if previous is not None:
        _check_extends(_verified(previous, log_key), current, proof)
    return cosign_checkpoint(note, witness, int(time.time()) if timestamp is None else timestamp)


def _verified(note: str, log_key: Verifier) -> Checkpoint:
    try:
        return verify_checkpoint(note, log_key)
    except NoteError as exc:
        raise VerificationFailed(f"refusing to cosign: {exc}") from exc


def _check_extends(old: Checkpoint, current: Checkpoint, proof: Sequence[bytes] | None) -> None:
    if old.tree_size == current.tree_size and old.root_hash == current.root_hash:
        return
    if current.tree_size < old.tree_size:
        raise VerificationFailed(
            f"refusing to cosign: the log rolled back from size {old.tree_size} to "
            f"{current.tree_size} since the last cosignature"
        )
    if current.tree_size == old.tree_size:
        raise VerificationFailed(
            f"refusing to cosign: the log forked (a different root at size {old.tree_size})"
        )
    if proof is None:
        raise Invalid("the checkpoint grew since the last cosignature", hint="pass --proof")
    try:
        verify_extension(old, current, proof)
    except ProofError as exc:
        raise VerificationFailed(
            f"refusing to cosign: the log is not append-only ({exc})"
        ) from exc
