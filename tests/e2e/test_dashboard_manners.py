"""End to end in Chromium: the page uses the width, times are local, tables sort and
filter from the keyboard."""

from __future__ import annotations

import re
from typing import Any

from assay.ledger import Evidence, Subject
from assay.ledger.evidence import NOTE
from assay.workspace import open_workspace


def _notes(workspace: Any, n: int) -> None:
    ws = open_workspace(workspace)
    try:
        ws.ledger.append(
            [Evidence(NOTE, "setup", {"n": i}, Subject(f"sys-{i % 3}")) for i in range(n)]
        )
    finally:
        ws.close()


def test_layout_local_times_and_tables_by_keyboard(browser, server, login) -> None:  # type: ignore[no-untyped-def]
    _notes(server.workspace, 12)
    context = browser.new_context(
        timezone_id="Asia/Kolkata", viewport={"width": 1400, "height": 900}
    )
    page = context.new_page()
    login(page, "engineer", "/evidence")

    # The page uses the width of a wide screen.
    main = page.locator("main").bounding_box()
    assert main is not None and main["width"] > 1300

    # Times: local to the second, the exact stored value on hover.
    first = page.locator("td time.when").first
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+05:30", first.inner_text())
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first.get_attribute("title") or "")

    # Keyboard: the skip link comes first and moves focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    # Sorting from the keyboard: Enter on a column's button, aria-sort says the order.
    seq = page.locator("th", has_text="Seq")
    seq.get_by_role("button").focus()
    page.keyboard.press("Enter")
    assert seq.get_attribute("aria-sort") == "ascending"
    assert page.locator("tbody tr td:first-child").first.inner_text() == "0"
    page.keyboard.press("Enter")
    assert seq.get_attribute("aria-sort") == "descending"
    assert page.locator("tbody tr td:first-child").first.inner_text() == "15"

    # Filtering: rows that do not hold every word typed are hidden, and the count is said.
    page.get_by_label("Filter rows").fill("sys-1 note")
    assert page.locator("tbody tr:visible").count() == 4
    assert "4 of 16 rows" in page.locator(".table-filter").inner_text()
    context.close()
