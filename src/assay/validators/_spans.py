"""Selecting non-overlapping spans in O(n log n) (hostile inputs can yield many matches)."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import TypeVar

__all__ = ["non_overlapping"]

T = TypeVar("T", bound=tuple[int, int, str, float])


def non_overlapping(candidates: Iterable[T]) -> list[T]:
    """Keep each candidate (in the given priority order) unless it overlaps one already kept.

    Returns the kept candidates sorted by start.
    """
    starts: list[int] = []
    ends: list[int] = []
    kept: list[T] = []
    for c in candidates:
        s, e = c[0], c[1]
        i = bisect.bisect_right(starts, s)
        if i > 0 and ends[i - 1] > s:
            continue
        if i < len(starts) and starts[i] < e:
            continue
        starts.insert(i, s)
        ends.insert(i, e)
        kept.insert(i, c)
    return kept
