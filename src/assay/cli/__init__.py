"""The `assay` command line: one module per command group, wired in `main`."""

from assay.cli.main import app, run

__all__ = ["app", "run"]
