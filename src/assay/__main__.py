"""``python -m assay``."""

from assay.cli.main import console_script

console_script()
