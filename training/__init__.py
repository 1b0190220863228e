"""Reproducible training of Assay's small validator models (see README.md)."""
