"""SoA and gap report as PDF (WeasyPrint), rendered offline with locally installed fonts.

The HTML is built here with every value escaped; the stylesheet names only
fonts found through fontconfig (DejaVu Sans, Liberation Sans, then the
generic ``sans-serif``), and no URL is ever fetched, so rendering needs no
network. WeasyPrint needs Pango (Debian ``libpango-1.0-0``,
``libpangoft2-1.0-0``); a missing Python package is an error naming the
``reports`` extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from assay.aims.readiness import ItemStatus, Readiness
from assay.aims.soa import SoA
from assay.errors import AssayError

__all__ = ["pdf_available", "readiness_html", "readiness_pdf"]

_CSS = """
@page { size: A4 landscape; margin: 14mm 12mm;
        @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 8.5pt; color: #222; }
h1 { font-size: 15pt; margin: 0 0 4pt; } h2 { font-size: 11.5pt; margin: 14pt 0 4pt; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #999; padding: 2pt 3pt; vertical-align: top; text-align: left; }
th { background: #eee; } tr { page-break-inside: avoid; }
.met { background: #c6efce; } .partial { background: #ffeb9c; } .stale { background: #fcd5b4; }
.gap { background: #ffc7ce; } .not_applicable { background: #d9d9d9; }
.failing { background: #ff5050; color: #fff; font-weight: bold; }
.prohibited { background: #8b0000; color: #fff; font-weight: bold; }
.mono { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }
.summary td:first-child { width: 30%; font-weight: bold; }
"""


def _weasyprint() -> Any:
    try:
        import weasyprint  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ImportError as exc:
        raise AssayError(
            "PDF export needs WeasyPrint: install the reports extra (pip install 'assay[reports]')"
        ) from exc
    except OSError as exc:  # the Python package is there, Pango is not
        raise AssayError(
            f"PDF export needs Pango: apt-get install libpango-1.0-0 libpangoft2-1.0-0 ({exc})"
        ) from exc
    return weasyprint


def pdf_available() -> str | None:
    """None when PDFs can be rendered here, else the reason and its fix."""
    try:
        _weasyprint()
    except AssayError as exc:
        return str(exc)
    return None


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], status_col: int = -1) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for index, value in enumerate(row):
            css = f' class="{escape(value)}"' if index == status_col else ""
            cells.append(f"<td{css}>{escape(value)}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _items(items: Sequence[ItemStatus], with_action: bool) -> str:
    header = ["Requirement", "Title", "Status", "SoA", "Reason"]
    if with_action:
        header.append("Next action")
    rows = []
    for item in items:
        row = [item.id, item.title, item.status, item.soa_status or "", item.reason]
        if with_action:
            row.append(item.next_action or "")
        rows.append(row)
    return _table(header, rows, status_col=2)


def readiness_html(readiness: Readiness, statement: SoA | None = None) -> str:
    """The report as a standalone HTML document (what the PDF renders)."""
    scope = readiness.system or "organisation (all AI systems)"
    percent = "n/a" if readiness.percent is None else f"{readiness.percent}%"
    title = f"{readiness.framework_name}: readiness and gap report"
    counts = ", ".join(f"{status} {n}" for status, n in readiness.counts.items())
    summary: list[tuple[str, str]] = [
        ("Scope", scope),
        ("Generated", readiness.generated_at.isoformat()),
        ("Readiness", f"{percent} = 100 × (met + ½ × partial) / applicable"),
        ("Counts", counts),
    ]
    if readiness.soa_version is not None:
        summary.append(
            ("Statement of Applicability", f"v{readiness.soa_version} ({readiness.soa_status})")
        )
    if readiness.checkpoint is not None:
        summary.append(
            (
                "Evidence proven against",
                f"signed checkpoint, tree size {readiness.checkpoint.tree_size}, "
                f"root {readiness.checkpoint.root_hash}",
            )
        )
    parts = [
        f"<h1>{escape(title)}</h1>",
        '<table class="summary">'
        + "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in summary)
        + "</table>",
        "<h2>Gaps: what to do next</h2>",
        _items(readiness.open_items, True) if readiness.open_items else "<p>No open items.</p>",
    ]
    if statement is not None:
        status_of = {i.ref: i.status for i in readiness.items}
        parts += [
            f"<h2>Statement of Applicability v{statement.version} "
            f"({escape(statement.status)})</h2>",
            _table(
                ["Control", "Title", "Applicable", "Justification", "Implementation", "Status"],
                [
                    [
                        e.control.split(":", 1)[1],
                        e.title,
                        "yes" if e.applicable else "no",
                        e.justification,
                        e.implementation_status,
                        status_of.get(e.control, ""),
                    ]
                    for e in statement.entries
                ],
                status_col=5,
            ),
        ]
    parts += ["<h2>Every requirement</h2>", _items(readiness.items, False)]
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}'
        f"</title><style>{_CSS}</style></head><body>{''.join(parts)}</body></html>"
    )


def _no_fetch(url: str, *args: object, **kwargs: object) -> dict[str, Any]:
    raise AssayError(f"the PDF report refers to {url}; reports never fetch resources")


def readiness_pdf(readiness: Readiness, statement: SoA | None = None) -> bytes:
    """The report as PDF bytes."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=readiness_html(readiness, statement), url_fetcher=_no_fetch)
    pdf = document.write_pdf()
    if not isinstance(pdf, bytes):
        raise AssayError("WeasyPrint returned no PDF")
    return pdf
