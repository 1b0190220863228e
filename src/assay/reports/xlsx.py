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

from assay.aims.readiness import ItemStatus, Readiness, readiness
from assay.aims.soa import SoA
from assay.errors import AssayError, Invalid
from assay.ledger import Ledger
from assay.ledger.evidence import AUDIT_SAMPLE
from assay.store import Store

__all__ = ["audit_sample_workbook", "readiness_workbook"]

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


def audit_sample_workbook(store: Store, ledger: Ledger, seq: int) -> bytes:
    """The auditor's worksheet for a recorded sample (``assay.dev/audit-sample/v1`` entry
    ``seq``): the drawn requirements with their readiness today, the drawn entries each with
    its RFC 9162 inclusion proof into a freshly signed checkpoint, and empty columns for the
    auditor's result and observation (ISO 19011 6.4.7 audit evidence, recorded)."""
    entry = ledger.get(seq).decoded()
    if entry.get("type") != AUDIT_SAMPLE:
        raise Invalid(f"entry {seq} is a {entry.get('type')}, not an audit sample",
                      hint="draw one with `assay audits sample`")
    sample = entry["summary"]
    system = (entry.get("subject") or {}).get("system")
    ledger.checkpoint()  # every drawn entry is proven into a signed tree
    signed = ledger.verified_checkpoint()
    result = readiness(store, ledger, str(sample["framework"]), system=system, sign=False)
    items = {i.ref: i for i in result.items}
    openpyxl = _openpyxl()[0]
    book = openpyxl.Workbook()
    book.remove(book.active)
    _sheet(book, "Sample", ("Field", "Value"), [
        ("Sample entry", seq), ("Method", sample["method"]), ("Seed", sample["seed"]),
        ("Framework", sample["framework"]), ("Scope", system or "organisation"),
        ("Drawn at", entry.get("observed_at", "")), ("Drawn by", entry.get("actor", "")),
        ("Requirement population", sample["requirement_population"]),
        ("Entry population", sample["entry_population"]),
        ("Population digest", sample["population_digest"]),
        ("Checkpoint tree size", signed.tree_size), ("Checkpoint root", signed.root_hash.hex()),
    ])
    _sheet(book, "Requirements",
           ("Requirement", "Title", "Status", "Reason", "Evidence", "Tested", "Observation"),
           [(ref, items[ref].title, items[ref].status, items[ref].reason,
             _evidence(items[ref]), "", "") if ref in items else (ref, "", "", "", "", "", "")
            for ref in sample["requirements"]])
    rows = []
    for drawn in sample["entries"]:
        stored = ledger.get(int(drawn)).decoded()
        proof = ledger.verified_inclusion(int(drawn), signed)
        rows.append((drawn, stored.get("type", ""), (stored.get("subject") or {}).get("system")
                     or "", stored.get("observed_at", ""), proof.leaf_hash.hex(),
                     " ".join(h.hex() for h in proof.path), "yes", "", ""))
    _sheet(book, "Entries", ("Entry", "Type", "System", "Observed", "Leaf hash", "Audit path",
                             "Proof verified", "Verified by auditor", "Observation"), rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
