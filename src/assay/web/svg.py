"""Server-side SVG charts: no JavaScript, no CDN, readable without colour."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape

from markupsafe import Markup

__all__ = [
    "Line",
    "Marker",
    "Threshold",
    "bar_chart",
    "column_chart",
    "heat_map",
    "sparkline",
    "time_chart",
]


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


@dataclass(frozen=True)
class Line:
    """One series of a time chart; ``css`` styles it (``series``, ``series-2``, …)."""

    name: str
    points: Sequence[tuple[datetime, float]]
    css: str = "series"


@dataclass(frozen=True)
class Threshold:
    """A horizontal line at ``value``, labelled at its right end (``warn 0.25``)."""

    name: str
    value: float
    css: str = "threshold"


@dataclass(frozen=True)
class Marker:
    """A point worth a look (an alert, a regression): a ringed dot, a one-letter ``glyph``
    above it (so colour is never the only cue) and ``label`` on hover."""

    at: datetime
    value: float
    label: str
    glyph: str = "!"
    css: str = "marker"


@dataclass(frozen=True)
class _Frame:
    """Where the plot area sits and how values map into it."""

    left: float
    top: float
    width: float
    height: float
    start: datetime
    span: float
    low: float
    high: float
    step: float

    def x(self, at: datetime) -> float:
        return self.left + self.width * (at - self.start).total_seconds() / self.span

    def y(self, value: float) -> float:
        clipped = min(max(value, self.low), self.high)
        return self.top + self.height * (1 - (clipped - self.low) / (self.high - self.low))


def _nice_step(span: float, ticks: int = 4) -> float:
    """A round tick step (1, 2 or 5 × 10^k) giving about ``ticks`` ticks over ``span``."""
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1.0, 2.0, 5.0, 10.0) if m * power >= raw)


def _frame(
    lines: Sequence[Line],
    thresholds: Sequence[Threshold],
    markers: Sequence[Marker],
    size: tuple[int, int],
    y_range: tuple[float | None, float | None],
) -> _Frame:
    times = [t for line in lines for t, _ in line.points] + [m.at for m in markers]
    values = [v for line in lines for _, v in line.points] + [m.value for m in markers]
    values += [t.value for t in thresholds]
    start, end = min(times), max(times)
    if end == start:
        start, end = start - timedelta(hours=12), end + timedelta(hours=12)
    low = y_range[0] if y_range[0] is not None else min(0.0, *values)
    high = y_range[1] if y_range[1] is not None else max(values) * 1.1
    if high <= low:
        high = low + 1.0
    step = _nice_step(high - low)
    high = low + step * math.ceil((high - low) / step - 1e-9)
    width, height = size
    left, top, right, bottom = 62, 22, 96, 30
    span = (end - start).total_seconds()
    plot = (width - left - right, height - top - bottom)
    return _Frame(left, top, plot[0], plot[1], start, span, low, high, step)


def _axes(frame: _Frame, unit: str) -> list[str]:
    parts = []
    step = frame.step
    ticks = round((frame.high - frame.low) / step)
    for i in range(ticks + 1):
        value = frame.low + i * step
        y = frame.y(value)
        parts.append(
            f'<line x1="{frame.left}" x2="{frame.left + frame.width}" y1="{y:.1f}" y2="{y:.1f}" '
            f'class="grid"/><text x="{frame.left - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{value:g}{escape(unit)}</text>"
        )
    days = frame.span > 7 * 86400
    ticks = 4 if frame.width < 400 else 5
    for i in range(ticks):
        at = frame.start + timedelta(seconds=frame.span * i / (ticks - 1))
        x = frame.x(at)
        label = at.strftime("%Y-%m-%d" if days else "%m-%d %H:%M")
        parts.append(
            f'<text x="{x:.1f}" y="{frame.top + frame.height + 16}" text-anchor="middle">'
            f"{label}</text>"
        )
    parts.append(
        f'<text x="{frame.left + frame.width}" y="{frame.top + frame.height + 28}" '
        'text-anchor="end" class="axis">time (UTC) →</text>'
    )
    return parts


def _plot(frame: _Frame, line: Line, unit: str) -> str:
    points = sorted(line.points)
    dots = "".join(
        f'<circle cx="{frame.x(t):.1f}" cy="{frame.y(v):.1f}" r="2.5">'
        f"<title>{escape(line.name)} {t:%Y-%m-%d %H:%M:%S} UTC: {v:g}{escape(unit)}</title>"
        "</circle>"
        for t, v in points
    )
    path = " ".join(f"{frame.x(t):.1f},{frame.y(v):.1f}" for t, v in points)
    return f'<g class="{escape(line.css)}"><polyline points="{path}"/>{dots}</g>'


def time_chart(
    lines: Sequence[Line],
    *,
    label: str,
    thresholds: Sequence[Threshold] = (),
    markers: Sequence[Marker] = (),
    unit: str = "",
    y_range: tuple[float | None, float | None] = (None, None),
    width: int = 720,
    height: int = 240,
) -> Markup:
    """Values over time: lines with their dots, dashed threshold lines labelled at the
    right, and markers; every dot and marker says its value on hover, and ``label``
    (with the figures, written by the caller) is what a screen reader reads. A page
    shows the same figures in a table beside it."""
    if not any(line.points for line in lines) and not markers:
        return Markup("")
    frame = _frame(lines, thresholds, markers, (width, height), y_range)
    parts = _axes(frame, unit)
    for threshold in thresholds:
        y = frame.y(threshold.value)
        parts.append(
            f'<g class="{escape(threshold.css)}"><line x1="{frame.left}" '
            f'x2="{frame.left + frame.width}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text x="{frame.left + frame.width + 4}" y="{y + 4:.1f}">{escape(threshold.name)} '
            f"{threshold.value:.3g}{escape(unit)}</text></g>"
        )
    parts.extend(_plot(frame, line, unit) for line in lines if line.points)
    for marker in markers:
        x, y = frame.x(marker.at), frame.y(marker.value)
        parts.append(
            f'<g class="{escape(marker.css)}"><circle cx="{x:.1f}" cy="{y:.1f}" r="5">'
            f"<title>{escape(marker.label)}</title></circle>"
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle">{escape(marker.glyph)}</text>'
            "</g>"
        )
    if len(lines) > 1:
        for i, line in enumerate(lines):
            x = frame.left + i * 110
            parts.append(
                f'<g class="{escape(line.css)} legend"><line x1="{x}" x2="{x + 18}" y1="8" y2="8"/>'
                f'<text x="{x + 22}" y="12">{escape(line.name)}</text></g>'
            )
    return _svg(label, width, height, "".join(parts), "chart timechart")
