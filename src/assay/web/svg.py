"""Server-side SVG charts: no JavaScript, no CDN, readable without colour."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "column_chart", "heat_map", "sparkline"]


def bar_chart(
    items: list[tuple[str, int]],
    width: int = 560,
    bar: int = 22,
    unit: str = "",
    scale_max: int | None = None,
) -> Markup:
    """Horizontal bars with the value written beside each (the number carries the meaning)."""
    if not items:
        return Markup("")
    label_width, gap = 200, 6
    top = scale_max or max(value for _, value in items) or 1
    height = len(items) * (bar + gap)
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * (bar + gap)
        length = max(1, int((width - label_width - 60) * value / top))
        rows.append(
            f'<text x="{label_width - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar}" class="bar"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar * 0.7:.1f}">{value}'
            f"{escape(unit)}</text>"
        )
    title = "; ".join(f"{escape(label)}: {value}{escape(unit)}" for label, value in items)
    # Every label is escaped above; numbers are ints: the markup is ours.
    return Markup(  # noqa: S704
        f'<svg role="img" aria-label="{title}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">{"".join(rows)}</svg>'
    )


def _svg(label: str, width: int, height: int, body: str, css: str = "chart") -> Markup:
    # Callers escape every label; numbers are formatted here: the markup is ours.
    return Markup(  # noqa: S704
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="{css}">{body}</svg>'
    )


def heat_map(
    counts: dict[tuple[int, int], int],
    likelihood: tuple[str, ...],
    impact: tuple[str, ...],
    band: Callable[[int, int], str],
    cell: int = 76,
) -> Markup:
    """Likelihood (rows, highest on top) × impact (columns) grid.

    Each cell shows its risk count and its rating band in words, and carries a
    band class for colour: colour is never the only cue.
    """
    left, top = 130, 10
    rows = []
    for row, level in enumerate(range(len(likelihood), 0, -1)):
        y = top + row * cell
        rows.append(
            f'<text x="{left - 8}" y="{y + cell / 2 + 4:.0f}" text-anchor="end">'
            f"{level} {escape(likelihood[level - 1])}</text>"
        )
        for col in range(1, len(impact) + 1):
            x = left + (col - 1) * cell
            name = band(level, col)
            n = counts.get((level, col), 0)
            rows.append(
                f'<g class="cell band-{escape(name)}"><rect x="{x}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}"><title>likelihood {level}, impact {col}: {n} risk(s), '
                f"{escape(name)}</title></rect>"
                f'<text x="{x + cell / 2 - 1:.0f}" y="{y + cell / 2:.0f}" text-anchor="middle" '
                f'class="count">{n if n else "·"}</text>'
                f'<text x="{x + cell / 2 - 1:.0f}" y="{y + cell - 12}" text-anchor="middle" '
                f'class="band">{escape(name)}</text></g>'
            )
    bottom = top + len(likelihood) * cell
    for col in range(1, len(impact) + 1):
        mid = left + (col - 1) * cell + cell / 2
        rows.append(
            f'<text x="{mid:.0f}" y="{bottom + 16}" text-anchor="middle">{col} '
            f"{escape(impact[col - 1])}</text>"
        )
    rows.append(
        f'<text x="{left + len(impact) * cell / 2:.0f}" y="{bottom + 36}" '
        'text-anchor="middle" class="axis">impact →</text>'
        f'<text x="12" y="{top + 12}" class="axis">likelihood ↑</text>'
    )
    total = sum(counts.values())
    cells = "; ".join(
        f"likelihood {lk} impact {im}: {n}" for (lk, im), n in sorted(counts.items()) if n
    )
    label = f"Risk heat map, {total} risks. {cells}"
    width = left + len(impact) * cell + 10
    return _svg(label, width, bottom + 46, "".join(rows), "chart heatmap")


def column_chart(
    items: list[tuple[str, float]], unit: str = "", width: int = 640, height: int = 180
) -> Markup:
    """Vertical columns over time with each value written above its column."""
    if not items:
        return Markup("")
    top_value = max(value for _, value in items) or 1.0
    gap, base, pad = 4, height - 34, 18
    step = max(8.0, (width - 10) / len(items))
    every = max(1, round(len(items) / 12))
    parts = []
    for i, (label, value) in enumerate(items):
        h = max(1.0, (base - pad) * value / top_value) if value else 0.0
        x = 5 + i * step
        parts.append(
            f'<rect x="{x:.1f}" y="{base - h:.1f}" width="{step - gap:.1f}" height="{h:.1f}" '
            f'class="bar"><title>{escape(label)}: {value:g}{escape(unit)}</title></rect>'
        )
        if len(items) <= 31:
            parts.append(
                f'<text x="{x + (step - gap) / 2:.1f}" y="{base - h - 4:.1f}" '
                f'text-anchor="middle" class="value">{value:g}</text>'
            )
        if i % every == 0:
            parts.append(
                f'<text x="{x + (step - gap) / 2:.1f}" y="{base + 14}" text-anchor="middle">'
                f"{escape(label)}</text>"
            )
    label = "; ".join(f"{escape(k)}: {v:g}{escape(unit)}" for k, v in items)
    return _svg(label, width, height, "".join(parts))


def sparkline(values: list[float], width: int = 120, height: int = 28) -> Markup:
    """A small trend line ending in a dot; the figures sit next to it in the page."""
    if len(values) < 2:
        return Markup("")
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    step = (width - 6) / (len(values) - 1)
    points = [
        (3 + i * step, height - 3 - (height - 6) * (v - low) / span) for i, v in enumerate(values)
    ]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    body = f'<polyline points="{path}"/><circle cx="{x:.1f}" cy="{y:.1f}" r="2.5"/>'
    label = "trend: " + ", ".join(f"{v:g}" for v in values[-12:])
    return _svg(label, width, height, body, "sparkline")
