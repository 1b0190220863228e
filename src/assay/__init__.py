"""Assay: AI assurance with evidence an auditor can verify offline."""

__version__ = "0.1.0"

__all__ = ["__version__"]
