"""Server-side SVG charts: no JavaScript, no CDN, readable without colour."""

from __future__ import annotations

from html import escape

from markupsafe import Markup

__all__ = ["bar_chart"]


def bar_chart(items: list[tuple[str, int]], width: int = 560, bar: int = 22) -> Markup:
    """Horizontal bars with the value written beside each (the number carries the meaning)."""
    if not items:
        return Markup("")
    label_width, gap = 200, 6
    top = max(value for _, value in items) or 1
    height = len(items) * (bar + gap)
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * (bar + gap)
        length = max(1, int((width - label_width - 60) * value / top))
        rows.append(
            f'<text x="{label_width - 8}" y="{y + bar * 0.7:.1f}" text-anchor="end">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar}" class="bar"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar * 0.7:.1f}">{value}</text>'
        )
    title = "; ".join(f"{escape(label)}: {value}" for label, value in items)
    # Every label is escaped above; numbers are ints: the markup is ours.
    return Markup(  # noqa: S704
        f'<svg role="img" aria-label="{title}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="chart">{"".join(rows)}</svg>'
    )
