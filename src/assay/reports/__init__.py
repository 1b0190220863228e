"""Exports for auditors and tools: OSCAL JSON, the SoA and gap report as XLSX and PDF.

:func:`report_files` renders every report for a framework from one
readiness run; ``assay comply pack`` adds them to an audit pack, where the
signed manifest covers them.
"""

from assay.reports.bundle import FORMATS, render, report_files
from assay.reports.oscal import OSCAL_VERSION, catalog_to_oscal
from assay.reports.oscal_assessment import assessment_results, poam
from assay.reports.oscal_system import component_definition, ssp
from assay.reports.pdf import readiness_html, readiness_pdf
from assay.reports.xlsx import audit_sample_workbook, readiness_workbook

__all__ = [
    "FORMATS",
    "OSCAL_VERSION",
    "assessment_results",
    "audit_sample_workbook",
    "catalog_to_oscal",
    "component_definition",
    "poam",
    "readiness_html",
    "readiness_pdf",
    "readiness_workbook",
    "render",
    "report_files",
    "ssp",
]
