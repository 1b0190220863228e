"""static/proof.js, the in-browser proof check, against proofs made by assay.ledger.

Runs the module under node (WebCrypto with Ed25519, as in the browser) on every
leaf of a 13-leaf tree (paths of every shape RFC 9162's split makes), then on
forgeries: each must fail, naming the check.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from assay.ledger import Evidence, Subject
from assay.ledger.evidence import NOTE
from assay.web.queries import entry_view
from assay.workspace import Workspace

PROOF_JS = Path(__file__).parents[3] / "src" / "assay" / "web" / "static" / "proof.js"
RUNNER = """
import { checkEntry } from "./proof.mjs";
const cases = JSON.parse(await new Promise((ok) => {
  let text = "";
  process.stdin.on("data", (c) => (text += c));
  process.stdin.on("end", () => ok(text));
}));
const out = [];
for (const c of cases) out.push(await checkEntry(c.data, c.key));
console.log(JSON.stringify(out));
"""


def _node(tmp_path: Path, cases: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    shutil.copyfile(PROOF_JS, tmp_path / "proof.mjs")
    (tmp_path / "run.mjs").write_text(RUNNER, encoding="utf-8")
    done = subprocess.run(
        [node, "run.mjs"],
        cwd=tmp_path,
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: list[list[dict[str, Any]]] = json.loads(done.stdout)
    return result


def _case(ws: Workspace, at: int, **changes: Any) -> dict[str, Any]:
    data = dict(entry_view(ws, at, show_payload=False)["browser"])
    key = data["public_key"]
    key = changes.pop("key", key)
    data.update(changes)
    return {"data": data, "key": key}


def _failed(checks: list[dict[str, Any]]) -> list[str]:
    return [f"{c['name']}: {c['detail']}" for c in checks if c["ok"] is False]


def test_every_leaf_of_a_tree_verifies_and_forgeries_fail(
    workspace: Workspace, tmp_path: Path
) -> None:
    ledger = workspace.ledger
    for i in range(13):
        ledger.append([Evidence(NOTE, "test", {"n": i, "text": "é ✓"}, Subject("bot"))])
    ledger.checkpoint()
    honest = [_case(workspace, seq) for seq in range(13)]
    good = _case(workspace, 6)["data"]
    other_key = "other+00000000+AQ" + "A" * 42 + "="
    forged = [
        _case(workspace, 6, path=[*good["path"][:-1], "00" * 32]),
        _case(workspace, 6, seq=7),
        _case(workspace, 6, path=good["path"][:-1]),
        _case(workspace, 6, tree_size=12),
        _case(workspace, 6, leaf_hash="11" * 32),
        _case(workspace, 6, checkpoint=good["checkpoint"].replace("\n13\n", "\n14\n", 1)),
        _case(workspace, 6, key=other_key),
    ]
    results = _node(tmp_path, honest + forged)
    for seq, checks in enumerate(results[:13]):
        assert [c["ok"] for c in checks] == [True] * 4, (seq, checks)
    failures = [_failed(checks) for checks in results[13:]]
    assert "does not lead to the signed root" in failures[0][0]
    assert "does not lead to the signed root" in failures[1][0]
    assert "shorter than the tree requires" in failures[2][0]
    assert "the checkpoint signs 13" in failures[3][0]
    assert failures[4][0].startswith("Leaf hash") and "the server states 1111" in failures[4][0]
    assert "does not verify" in failures[5][0]
    assert failures[6][0].startswith("Public key")
