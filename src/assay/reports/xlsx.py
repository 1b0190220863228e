"""SoA and gap report as an Excel workbook (openpyxl), for auditors who work in spreadsheets.

Sheets: ``Summary`` (framework, scope, readiness %, counts, the signed
checkpoint the evidence was proven against), ``Status`` (every requirement),
``Gaps`` (prohibited, failing, partial, stale and gap items with their next action) and, when a
Statement of Applicability exists, ``SoA`` (the 38 Annex A controls with
applicability, justification, implementation status, risks and readiness).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from assay.aims.readiness import ItemStatus, Readiness
from assay.aims.soa import SoA
from assay.errors import AssayError

__all__ = ["readiness_workbook"]

_STATUS_FILL = {
    "prohibited": "8B0000",
    "failing": "FF5050",
    "met": "C6EFCE",
    "partial": "FFEB9C",
    "stale": "FCD5B4",
    "gap": "FFC7CE",
    "not_applicable": "D9D9D9",
}


def _openpyxl() -> tuple[Any, Any]:
    """``(openpyxl, openpyxl.styles)``, or an error naming the extra to install."""
    try:
        import openpyxl  # type: ignore[import-untyped,unused-ignore]
        import openpyxl.styles  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:
        raise AssayError(
            "XLSX export needs openpyxl: install the reports extra (pip install 'assay[reports]')"
        ) from exc
    return openpyxl, openpyxl.styles


def _evidence(item: ItemStatus) -> str:
    return ", ".join(
        f"#{c.seq} {c.type.split('/')[1]}"
        + (f" via {c.supports} ({c.relation})" if c.relation else "")
        + ("" if c.fresh else " [expired]")
        + ("" if c.verified else " [unproven]")
        for c in item.evidence
    )


#: A text cell starting with one of these is read as a formula by spreadsheet programs.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _literal(value: Any) -> Any:
    """``value``, with text that a spreadsheet would run as a formula quoted (a leading
    apostrophe, OWASP "CSV injection"): a justification ``=HYPERLINK(…)`` stays text
    (issue #19 item 13). Numbers and other values are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _sheet(book: Any, title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> Any:
    styles = _openpyxl()[1]
    sheet = book.create_sheet(title)
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font = styles.Font(bold=True)
    for row in rows:
        sheet.append([_literal(value) for value in row])
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        wide = name.lower() in ("reason", "next action", "justification", "evidence", "title")
        sheet.column_dimensions[letter].width = 60 if wide else 16
    if "Status" in header:
        column = list(header).index("Status") + 1
        for row_cells in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            for cell in row_cells:
                color = _STATUS_FILL.get(str(cell.value))
                if color:
                    cell.fill = styles.PatternFill("solid", fgColor=color)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.alignment = styles.Alignment(wrap_text=True, vertical="top")
    return sheet


def readiness_workbook(readiness: Readiness, statement: SoA | None = None) -> bytes:
    """The workbook as bytes (``.xlsx``)."""
    openpyxl = _openpyxl()[0]
    book = openpyxl.Workbook()
    book.remove(book.active)
    summary = [
        ("Framework", f"{readiness.framework_name} ({readiness.framework})"),
        ("Scope", readiness.system or "organisation (all AI systems)"),
        ("Generated", readiness.generated_at.isoformat()),
        ("Readiness %", readiness.percent if readiness.percent is not None else "n/a"),
        ("Formula", "100 × (met + ½ × partial) / applicable requirements"),
        *((f"Count: {status}", n) for status, n in readiness.counts.items()),
        ("SoA", f"v{readiness.soa_version} ({readiness.soa_status})" if statement else "none"),
        ("Checkpoint tree size", readiness.checkpoint.tree_size if readiness.checkpoint else ""),
        ("Checkpoint root hash", readiness.checkpoint.root_hash if readiness.checkpoint else ""),
    ]
    _sheet(book, "Summary", ("Field", "Value"), summary)
    header = ("Requirement", "Title", "Status", "SoA status", "Reason", "Evidence", "Next action")
    rows = [
        (i.ref, i.title, i.status, i.soa_status or "", i.reason, _evidence(i), i.next_action or "")
        for i in readiness.items
    ]
    _sheet(book, "Status", header, rows)
    open_refs = {i.ref for i in readiness.open_items}
    gaps = [row for row in rows if row[0] in open_refs]
    _sheet(book, "Gaps", header, gaps)
    if statement is not None:
        by_ref = {i.ref: i.status for i in readiness.items}
        _sheet(
            book,
            "SoA",
            (
                "Control",
                "Title",
                "Applicable",
                "Justification",
                "Implementation",
                "Risks",
                "Evidence types",
                "Status",
            ),
            [
                (
                    e.control,
                    e.title,
                    "yes" if e.applicable else "no",
                    e.justification,
                    e.implementation_status,
                    ", ".join(e.risks),
                    ", ".join(e.evidence_types),
                    by_ref.get(e.control, ""),
                )
                for e in statement.entries
            ],
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
