"""The register workflows end to end in Chromium, through the forms only (issue #22 item 1):
risks adopted, treated and accepted by a second person; a system classified under the EU AI
Act; a FRIA started, answered and signed off; an audit planned and sampled, its finding taken
to a corrective action; a management review decided and held. Each form page is checked with
axe-core and for console errors."""

from __future__ import annotations

import re

from assay.aims.impact import QUESTIONS


def test_register_workflows_through_the_forms(
    browser, server, login, shot, accessibility
) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    errors: list[str] = []
    violations: list[str] = []
    refused = "the server responded with a status of 400"  # a form sent back with its errors

    def console(message) -> None:  # type: ignore[no-untyped-def]
        if message.type == "error" and refused not in message.text:
            errors.append(f"{page.url}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"{page.url}: {e}"))

    def check(name: str) -> None:
        assert page.locator("h1").count() == 1, page.url
        violations.extend(accessibility(page))
        shot(page, f"form-{name}")

    login(page, "compliance")
    page.get_by_label("ID").fill("support-bot")
    page.get_by_label("Name").fill("Customer support chatbot")
    page.get_by_label("Owner").fill("CX team")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"{server.url}/systems/support-bot")

    # Risks: adopt the templates, treat one; the same person may not accept it.
    page.goto(f"{server.url}/risks")
    page.get_by_role("link", name="Adopt risk templates").click()
    check("risks-adopt")
    page.get_by_label("AI system").select_option("support-bot")
    page.get_by_role("button", name="Adopt").click()
    assert "adopted" in page.locator("#notice").inner_text()
    page.get_by_role("link", name="Treat").first.click()
    check("risk-treat")
    page.locator("#f-treatment").select_option("mitigate")
    page.get_by_label("Residual likelihood").select_option("2")
    page.get_by_label("Residual impact").select_option("2")
    page.get_by_label("Treatment plan").fill("Guard in front; red-team before release.")
    page.get_by_role("button", name="Record treatment").click()
    assert "treatment was recorded" in page.locator("#notice").inner_text()
    page.get_by_role("link", name="Accept").first.click()
    page.get_by_label("Why the residual risk is acceptable").fill("Within appetite.")
    page.get_by_role("button", name="Accept residual risk").click()
    refusal = page.locator("[role=alert]").first
    assert "four-eyes" in refusal.inner_text() or "another" in refusal.inner_text()
    shot(page, "risk-accept-refused")
    accept_url = page.url

    # EU AI Act classification with its reasoning.
    page.goto(f"{server.url}/systems/support-bot")
    page.get_by_role("link", name="classify it").click()
    check("classify")
    page.get_by_label("creditworthiness evaluation").check()
    page.get_by_label("interacts directly with natural persons").check()
    page.get_by_role("button", name="Classify").click()
    assert "Classified: high-risk" in page.locator("#result-h").inner_text()
    shot(page, "classified")

    # A FRIA: started, answered, signed off.
    page.goto(f"{server.url}/impact")
    page.get_by_role("link", name="Start an impact assessment or FRIA").click()
    check("impact-new")
    page.get_by_label("AI system").select_option("support-bot")
    page.locator("#f-title").fill("Credit decisions FRIA")
    page.get_by_label("fundamental rights impact assessment").check()
    page.get_by_role("button", name="Start assessment").click()
    page.wait_for_url(re.compile(r".*/impact/IA-\d+/answers"))
    check("impact-answers")
    for question in QUESTIONS:
        if question.required:
            page.get_by_label(question.text).fill(f"Our answer on {question.id}.")
    page.get_by_label("Affected groups").fill("loan applicants\nguarantors")
    page.get_by_label("Severity").select_option("high")
    page.get_by_label("Likelihood").select_option("low")
    page.get_by_role("button", name="Save answers").click()
    assert "answers were saved" in page.locator("#notice").inner_text()
    page.get_by_role("button", name=re.compile("Sign off")).click()
    assert "signed off" in page.locator("#status").inner_text()
    page.get_by_role("button", name="Log out").click()

    # A second person accepts the residual risk.
    login(page, "admin", accept_url.removeprefix(server.url))
    page.get_by_label("Why the residual risk is acceptable").fill("Within appetite.")
    page.get_by_role("button", name="Accept residual risk").click()
    assert "was accepted" in page.locator("#notice").inner_text()
    page.get_by_role("button", name="Log out").click()

    # The auditor plans an audit and draws a reproducible sample as a checklist.
    login(page, "auditor", "/audits")
    page.get_by_role("link", name="Plan an audit").click()
    check("audit-plan")
    page.locator("#f-title").fill("Stage 2 rehearsal")
    page.locator("#f-auditor").fill("internal-audit")
    page.get_by_label("support-bot").check()
    page.get_by_role("button", name="Plan audit").click()
    assert "was planned" in page.locator("#notice").inner_text()
    page.goto(f"{server.url}/audits/sample")
    check("audit-sample")
    page.get_by_label("Seed").fill("stage2-2026")
    page.get_by_role("button", name="Draw sample").click()
    first = page.locator("table.checklist").first.inner_text()
    page.get_by_role("button", name="Draw sample").click()
    assert page.locator("table.checklist").first.inner_text() == first  # same seed, same draw
    shot(page, "audit-sample-drawn")
    page.goto(f"{server.url}/audits/AUD-001")
    page.get_by_label("Description").fill("No red-team record for release 2.1.")
    page.get_by_role("button", name="Record finding").click()
    assert "finding was recorded" in page.locator("#notice").inner_text()
    page.get_by_role("button", name="Log out").click()

    # The compliance officer takes the finding to a closed corrective action, then holds a
    # management review with a decision.
    login(page, "compliance", "/audits/AUD-001")
    page.get_by_role("link", name="open one").click()
    check("capa-open")
    page.locator("#f-title").fill("Red-team every release in CI")
    page.get_by_role("button", name="Open corrective action").click()
    assert "corrective action was opened" in page.locator("#notice").inner_text()
    page.goto(f"{server.url}/reviews")
    page.get_by_label("Title").fill("Q4 management review")
    page.get_by_role("button", name="Prepare the pack").click()
    page.get_by_role("link", name="Record a decision").click()
    check("review-decide")
    page.get_by_label("Decision").fill("Keep the guard in blocking mode.")
    page.get_by_role("button", name="Record decision").click()
    assert "decision was recorded" in page.locator("#notice").inner_text()
    page.get_by_role("link", name="record the meeting").click()
    page.get_by_label("Chair").fill("ceo")
    page.get_by_label("Attendees").fill("ciso, cto")
    page.get_by_role("button", name="Record the meeting").click()
    assert "recorded as held" in page.locator("#notice").inner_text()
    assert not errors, errors
    assert not violations, "\n".join(violations)
