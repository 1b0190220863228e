"""Attack success rates with Wilson score intervals (Wilson 1927; Agresti & Coull 1998).

Wilson is used rather than the normal approximation because red-team samples
are small and rates sit near 0 or 1, where the normal interval collapses to a
point or leaves [0, 1].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

__all__ = ["Rate", "rate", "wilson"]


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """The Wilson score interval for ``successes`` out of ``n`` (95 % by default)."""
    if n <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= n:
        raise ValueError(f"successes {successes} outside 0..{n}")
    p = successes / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


@dataclass(frozen=True, slots=True)
class Rate:
    """Succeeded out of assessed, with the interval; unassessed attempts are counted apart."""

    succeeded: int
    resisted: int
    unassessed: int

    @property
    def assessed(self) -> int:
        return self.succeeded + self.resisted

    @property
    def asr(self) -> float | None:
        return self.succeeded / self.assessed if self.assessed else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.succeeded, self.assessed)

    def as_dict(self) -> dict[str, Any]:
        lo, hi = self.interval
        asr = self.asr
        return {
            "succeeded": self.succeeded,
            "resisted": self.resisted,
            "unassessed": self.unassessed,
            "asr": None if asr is None else round(asr, 6),
            "ci95": [round(lo, 6), round(hi, 6)],
        }


def rate(outcomes: list[str]) -> Rate:
    """Count ``succeeded | resisted | unassessed`` outcomes into a :class:`Rate`."""
    return Rate(
        outcomes.count("succeeded"), outcomes.count("resisted"), outcomes.count("unassessed")
    )
