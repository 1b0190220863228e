"""End to end in Chromium: an evidence entry's proof checked by the browser's own WebCrypto.

The page embeds the entry's stored bytes, its RFC 9162 audit path and the signed
checkpoint; static/proof.js recomputes the path and verifies the Ed25519 signature
against the published key. A test fixture (a Playwright route) serves tampered pages:
the browser must say the check failed and which one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from assay.ledger import Evidence, Subject
from assay.ledger.evidence import NOTE
from assay.workspace import open_workspace

DATA = re.compile(r'(<script type="application/json" id="proof-data">)(.*?)(</script>)', re.S)


def _record_entry(workspace: Any) -> int:
    """A note with controls and a JSON payload, covered by a fresh signed checkpoint."""
    ws = open_workspace(workspace)
    try:
        seq = ws.ledger.size()
        ws.ledger.append(
            [
                Evidence(
                    NOTE,
                    "compliance@web",
                    {"title": "Model card reviewed", "reviewers": ["ana", "li"], "pages": 12},
                    Subject("support-bot", "1.4"),
                    controls=("iso42001:A.6.2.4",),
                    payload=json.dumps({"card": "…", "detail": "only-for-auditors"}).encode(),
                    payload_media_type="application/json",
                )
            ]
        )
        ws.ledger.checkpoint()
    finally:
        ws.close()
    return seq


def _tampering(page: Any, url: str, change: Callable[[dict[str, Any]], None]) -> None:
    """Serve ``url`` with its embedded proof data changed by ``change`` (the server lying)."""

    def handle(route: Any) -> None:
        response = route.fetch()
        body = response.text()
        match = DATA.search(body)
        assert match is not None
        data = json.loads(match.group(2))
        change(data)
        body = body.replace(match.group(2), html.escape(json.dumps(data), quote=False))
        route.fulfill(response=response, body=body)

    page.route(url, handle)


def _forge_entry(data: dict[str, Any]) -> None:
    """Another entry, with a leaf hash that matches it: only the path can tell."""
    entry = base64.b64decode(data["entry"]).replace(b'"pages":12', b'"pages":13')
    data["entry"] = base64.b64encode(entry).decode()
    data["leaf_hash"] = hashlib.sha256(b"\x00" + entry).hexdigest()


def _forge_root(data: dict[str, Any]) -> None:
    """The same checkpoint with another root hash: only the signature can tell."""
    lines = data["checkpoint"].split("\n")
    lines[2] = base64.b64encode(hashlib.sha256(b"forged").digest()).decode()
    data["checkpoint"] = "\n".join(lines)


def test_entry_page_proof_checked_in_the_browser_and_tampering_caught(
    browser, server, login, shot
) -> None:  # type: ignore[no-untyped-def]
    seq = _record_entry(server.workspace)
    url = f"{server.url}/evidence/{seq}"
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    login(page, "auditor", f"/evidence/{seq}")

    verdict = page.locator("#browser-verdict")
    verdict.filter(has_text="Verified in your browser").wait_for()
    checks = page.locator("#browser-checks li")
    assert checks.count() == 5
    assert all("passed" in text for text in checks.all_inner_texts())
    assert "verified in the signed checkpoint" in page.locator("#verification").inner_text()
    # Labelled fields, controls with titles, and the payload for a role that may see it.
    assert page.locator('[data-field="subject.version"]').inner_text() == "1.4"
    assert "reviewers" in page.locator("#summary").inner_text()
    assert "ana, li" in page.locator("#summary").inner_text()
    assert re.search(r"iso42001:A\.6\.2\.4 — \w", page.locator("#controls").inner_text())
    assert "only-for-auditors" in page.locator("#payload").inner_text()
    shot(page, "evidence-entry-verified-1400")
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "evidence-entry-verified-800")

    # A key the auditor pastes that is not the log's: the signature check fails.
    other_key = "other+00000000+" + base64.b64encode(b"\x01" + b"k" * 32).decode()
    page.get_by_label("Log public key").fill(other_key)
    page.get_by_role("button", name="Check again with this key").click()
    verdict.filter(has_text="FAILED in your browser").wait_for()
    assert "key ID does not match" in page.locator("#browser-checks").inner_text()

    _tampering(page, url, _forge_entry)
    page.goto(url)
    verdict.filter(has_text="FAILED in your browser").wait_for()
    failed = page.locator("#browser-checks li.status-bad").all_inner_texts()
    assert any("Audit path" in t and "does not lead to the signed root" in t for t in failed)
    shot(page, "evidence-entry-tampered")
    page.unroute(url)

    _tampering(page, url, _forge_root)
    page.goto(url)
    verdict.filter(has_text="FAILED in your browser").wait_for()
    failed = page.locator("#browser-checks li.status-bad").all_inner_texts()
    assert any("Checkpoint signature" in t and "does not verify" in t for t in failed)
    page.unroute(url)
    assert not errors, errors


def test_payload_hidden_from_roles_that_may_not_see_it(browser, server, login) -> None:  # type: ignore[no-untyped-def]
    seq = _record_entry(server.workspace)
    page = browser.new_page()
    login(page, "engineer", f"/evidence/{seq}")
    assert "may not see payload content" in page.locator("#payload").inner_text()
    assert "only-for-auditors" not in page.content()
    page.locator("#browser-verdict").filter(has_text="Verified in your browser").wait_for()
    response = page.request.get(f"{server.url}/evidence/{seq}/payload")
    assert response.status == 403


def test_gap_closed_through_the_evidence_form(
    browser, server, login, accessibility, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    login(page, "compliance", "/controls?framework=nist-ai-rmf&status=gap")
    link = page.locator("a.next-form").first
    href = link.get_attribute("href") or ""
    ref = re.search(r"control=([^&]+)", href)
    assert ref is not None
    link.click()
    page.wait_for_url(re.compile(r".*/evidence/new\?.*"))
    controls = page.get_by_label("Controls it is evidence for")
    assert controls.input_value() == unquote(ref.group(1))

    # A typo is refused beside its field, and nothing else is lost.
    page.get_by_label("Title").fill("Quarterly attestation")
    controls.fill(f"{controls.input_value()} iso42001:A.99")
    page.get_by_role("button", name="Record in the ledger").click()
    assert "A.99" in page.locator("#err-controls").inner_text()
    assert not accessibility(page)
    assert page.get_by_label("Title").input_value() == "Quarterly attestation"

    controls.fill(controls.input_value().replace(" iso42001:A.99", ""))
    evidence = tmp_path / "attestation.txt"
    evidence.write_text("Signed by the CISO", encoding="utf-8")
    page.get_by_label("File").set_input_files(str(evidence))
    page.get_by_role("button", name="Record in the ledger").click()
    page.wait_for_url(re.compile(r".*/evidence/\d+\?notice=recorded"))
    assert "was recorded in the ledger" in page.locator("#notice").inner_text()
    assert "Signed by the CISO" in page.locator("#payload").inner_text()
    assert "compliance@web" in page.locator('[data-field="actor"]').inner_text()
