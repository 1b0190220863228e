"""The witness protocol as a service: cosign only a signed checkpoint that extends the last."""

from __future__ import annotations

from pathlib import Path

import pytest

from assay.errors import Invalid, VerificationFailed
from assay.ledger import Evidence
from assay.ledger.evidence import NOTE
from assay.ledger.keys import generate_key_files, load_signer
from assay.ledger.note import COSIGNATURE_TYPE
from assay.ledger.witness import cosign
from assay.workspace import Workspace


def test_cosign_checks_signature_and_extension(workspace: Workspace, tmp_path: Path) -> None:
    generate_key_files(tmp_path / "w.key", "w.example/1", COSIGNATURE_TYPE)
    witness = load_signer(tmp_path / "w.key", "w.example/1", COSIGNATURE_TYPE)
    ledger, log_key = workspace.ledger, workspace.ledger.signer.verifier
    ledger.append([Evidence(NOTE, "t", {"i": 0})])
    first = ledger.checkpoint()
    assert cosign(first, witness, log_key, timestamp=1).startswith("— w.example/1 ")
    ledger.append([Evidence(NOTE, "t", {"i": 1}), Evidence(NOTE, "t", {"i": 2})])
    second = ledger.checkpoint()
    with pytest.raises(Invalid) as no_proof:
        cosign(second, witness, log_key, previous=first)
    assert no_proof.value.hint == "pass --proof"
    proof = ledger.consistency(1, 3)
    assert cosign(second, witness, log_key, previous=first, proof=proof)
    with pytest.raises(VerificationFailed, match="not append-only"):
        cosign(second, witness, log_key, previous=first, proof=[b"\0" * 32])
    lines = second.split("\n")
    forged = "\n".join([lines[0], "4", *lines[2:]])  # a tree size the log never signed
    with pytest.raises(VerificationFailed, match="refusing to cosign"):
        cosign(forged, witness, log_key)
