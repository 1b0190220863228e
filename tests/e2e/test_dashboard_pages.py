"""End to end in Chromium: demo scan with verified evidence, four-eyes SoA approval, every page."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from assay.ledger.keys import load_verifier
from assay.ledger.verify import verify_pack
from assay.workspace import open_workspace

SCREENSHOTS = Path(__file__).parents[2] / "test-artifacts" / "screenshots"
PAGES = (
    "/",
    "/systems",
    "/systems/support-bot",
    "/risks",
    "/risks?basis=residual",
    "/impact",
    "/impact/IA-001",
    "/soa",
    "/objectives",
    "/objectives/OBJ-001",
    "/audits",
    "/audits/AUD-001",
    "/capa",
    "/capa/CAPA-001",
    "/reviews",
    "/reviews/MR-001",
    "/controls",
    "/redteam",
    "/guard",
    "/drift",
    "/evidence",
    "/evidence/0",
    "/exports",
)


def _seed() -> ModuleType:
    path = Path(__file__).parents[1] / "unit" / "web" / "seed.py"
    spec = importlib.util.spec_from_file_location("web_seed", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _log_out(page) -> None:  # type: ignore[no-untyped-def]
    """With the keyboard: a pointer click after an element screenshot of the report's
    sandboxed iframe can land in the frame (Playwright cannot hit-test into it)."""
    page.get_by_role("button", name="Log out").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/login.*"))


def test_scan_soa_four_eyes_pack_and_every_page(
    browser, server, login, shot, accessibility, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    login(page, "compliance")
    page.get_by_label("ID").fill("support-bot")
    page.get_by_label("Name").fill("Customer support chatbot")
    page.get_by_label("Owner").fill("CX team")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"{server.url}/systems/support-bot")

    # The compliance officer generates the SoA, and may not approve their own version.
    page.goto(f"{server.url}/soa")
    shot(page, "soa-empty")
    page.get_by_role("button", name="Generate the Statement of Applicability").click()
    assert "generated from the risk register" in page.locator("#notice").inner_text()
    page.get_by_role("button", name="Approve version 1").click()
    refusal = page.locator("#form-error")
    assert "four-eyes is on" in refusal.inner_text()
    shot(page, "soa-four-eyes-refused")
    _log_out(page)

    # The engineer runs a demo scan from the dashboard and watches it finish.
    login(page, "engineer", "/redteam")
    page.get_by_label("Evidence about system").select_option("support-bot")
    page.get_by_role("button", name="Start demo scan").click()
    page.wait_for_url(re.compile(r".*/redteam/runs/rt-.*"))
    page.locator("#run-evidence a").wait_for(timeout=30_000)
    assert "complete" in page.locator("#run-status").inner_text()
    report = page.frame_locator("iframe.report")
    assert "Red-team scan" in report.locator("h1").inner_text()
    page.wait_for_load_state("networkidle")
    shot(page, "redteam-run")
    frame = page.locator("iframe.report")
    frame.scroll_into_view_if_needed()
    frame.screenshot(path=str(SCREENSHOTS / "redteam-report.png"))
    run_url = page.url
    _log_out(page)

    # A second person approves the SoA.
    login(page, "admin", "/soa")
    page.get_by_role("button", name="Approve version 1").click()
    assert "was approved" in page.locator("#notice").inner_text()
    assert "approved" in page.locator("#soa-status").inner_text()
    shot(page, "soa-approved")
    _log_out(page)

    # The auditor sees the scan's evidence proven into the signed checkpoint and exports a pack.
    login(page, "auditor", "/")
    assert "not yet signed" in page.locator("#unsigned").inner_text()
    page.get_by_role("button", name="Sign a checkpoint now").click()
    assert "A checkpoint was signed" in page.locator("#notice").inner_text()
    page.goto(run_url)
    page.locator("#run-evidence a").click()
    assert "verified in the signed checkpoint" in page.locator("#verification").inner_text()
    shot(page, "redteam-evidence")
    page.goto(f"{server.url}/exports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download audit pack", exact=True).click()
    pack = tmp_path / "pack.zip"
    download.value.save_as(pack)
    key = load_verifier((server.workspace / "keys" / "ledger.pub").read_text().strip())
    assert verify_pack(str(pack), key).ok

    # Fill every register, then screenshot every page.
    seed = _seed()
    ws = open_workspace(server.workspace)
    try:
        seed.seed_aims(ws, "support-bot")
        seed.seed_activity(ws, "support-bot")
        seed.seed_runs(ws, "support-bot")
    finally:
        ws.close()
    errors: list[str] = []
    violations: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(f"{page.url}: {m.text}"))
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))
    for path in PAGES:
        page.set_viewport_size({"width": 1400, "height": 900})
        response = page.goto(server.url + path)
        assert response is not None and response.status == 200, path
        assert page.locator("h1").count() == 1, path
        name = path.strip("/").replace("/", "_").replace("?", "-").replace("=", "-") or "overview"
        shot(page, f"page-{name}-1400")
        violations.extend(accessibility(page))
        page.set_viewport_size({"width": 800, "height": 900})
        shot(page, f"page-{name}-800")
    assert not errors, errors
    assert not violations, "\n".join(violations)
