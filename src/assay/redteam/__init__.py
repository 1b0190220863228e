"""Red-team scanner: attacks as data, targets, detectors, runs, reports and evidence.

The built-in vulnerable demo target lives in :mod:`assay.redteam.demo_target`.
"""

from assay.redteam.demo_target import SYSTEM_PROMPT, DemoChatbot

__all__ = ["SYSTEM_PROMPT", "DemoChatbot"]
