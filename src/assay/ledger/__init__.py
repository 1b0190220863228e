"""The evidence ledger: an RFC 9162 Merkle log with C2SP signed checkpoints.

Every capability writes evidence through :meth:`Ledger.append` (or the
:class:`Batcher` for high-rate writers); auditors verify with
:mod:`assay.ledger.verify` and a public key alone.
"""

from assay.ledger._layout import SIGNING_KEY, open_ledger
from assay.ledger.batcher import Batcher
from assay.ledger.evidence import EVIDENCE_TYPES, Evidence, Subject
from assay.ledger.log import InclusionProof, Ledger, Receipt, StoredEntry, VerifyReport

__all__ = [
    "EVIDENCE_TYPES",
    "SIGNING_KEY",
    "Batcher",
    "Evidence",
    "InclusionProof",
    "Ledger",
    "Receipt",
    "StoredEntry",
    "Subject",
    "VerifyReport",
    "open_ledger",
]
