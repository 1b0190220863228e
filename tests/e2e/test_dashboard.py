"""End to end in Chromium: log in, register a system, see verified evidence, export a pack."""

from __future__ import annotations

from pathlib import Path

from assay.ledger.keys import load_verifier
from assay.ledger.verify import verify_pack


def test_compliance_officer_and_auditor_journey(
    browser, server, login, shot, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    login(page, "compliance")
    shot(page, "systems-empty")
    page.get_by_label("ID").fill("support-bot")
    page.get_by_label("Name").fill("Customer support chatbot")
    page.get_by_label("Owner").fill("CX team")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"{server.url}/systems/support-bot")
    assert page.get_by_role("heading", name="Customer support chatbot (support-bot)").is_visible()
    shot(page, "system")
    page.goto(f"{server.url}/")
    shot(page, "overview")
    page.get_by_role("link", name="Evidence", exact=True).click()
    page.get_by_role("link", name="0", exact=True).click()
    assert "not yet covered" in page.locator("#verification").inner_text()
    page.get_by_role("button", name="Log out").click()

    page = browser.new_page()
    login(page, "auditor")
    page.goto(f"{server.url}/evidence")
    page.get_by_role("button", name="Verify every entry and checkpoint").click()
    assert page.locator("#verify-result").inner_text().startswith("OK")
    shot(page, "verify")
    page.goto(f"{server.url}/exports")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download audit pack").click()
    pack = tmp_path / "pack.zip"
    download.value.save_as(pack)
    shot(page, "exports")
    page.goto(f"{server.url}/evidence/1")
    assert "verified in the signed checkpoint" in page.locator("#verification").inner_text()
    shot(page, "entry")
    key = load_verifier((server.workspace / "keys" / "ledger.pub").read_text().strip())
    assert verify_pack(str(pack), key).ok
    for path in ("/frameworks", "/frameworks/iso42001", "/requirements/iso42001:A.6.2.4"):
        page.goto(server.url + path)
        shot(page, path.strip("/").replace("/", "_").replace(":", "-"))
    # The auditor cannot register systems: the form is not offered.
    page.goto(f"{server.url}/systems")
    assert page.get_by_role("button", name="Register").count() == 0
