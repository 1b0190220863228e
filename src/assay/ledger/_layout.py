"""Where a workspace keeps the ledger's files, and the ledger built from them.

The one place that composes a :class:`~assay.ledger.log.Ledger` from a workspace
folder: the workspace (for every command and server) and the evidence writer's
child process (which must not import the workspace, the composition root) both
open their ledger here.
"""

from __future__ import annotations

from pathlib import Path

from assay.ledger.blobs import BlobStore
from assay.ledger.keys import load_signer
from assay.ledger.log import Ledger
from assay.store import Store

__all__ = ["SIGNING_KEY", "open_ledger"]

SIGNING_KEY = "keys/ledger.key"
"""The log's Ed25519 signing key, relative to the workspace folder."""


def open_ledger(store: Store, root: Path, origin: str) -> Ledger:
    """The ledger of the workspace at ``root``: its store, payload blobs and signing key."""
    return Ledger(store, BlobStore(root / "blobs"), load_signer(root / SIGNING_KEY, origin))
