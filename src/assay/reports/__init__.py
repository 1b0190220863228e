"""Exports for auditors and tools: OSCAL JSON (and, later, PDF and XLSX reports)."""

from assay.reports.oscal import OSCAL_VERSION, catalog_to_oscal

__all__ = ["OSCAL_VERSION", "catalog_to_oscal"]
