"""Charts drawn on the server as SVG: no script, no library, nothing from a CDN, and it passes the page's CSP
(colours come from presentation attributes and the page's own stylesheet, never a style attribute)."""

from __future__ import annotations

from markupsafe import Markup, escape


def _nice_max(value: int) -> int:
    """A round upper bound for the axis (1, 2, 5 times a power of ten) at or above ``value``."""
    if value <= 0:
        return 1
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


def bar_chart(series: list[tuple[str, int]], title: str, width: int = 880, height: int = 280) -> Markup:
    """A bar per period (label, count), with a y axis of four gridlines and every n-th period labelled.

    Each bar carries a ``<title>`` (period and count) for a tooltip and for screen readers; the page shows the
    same numbers in a table beside it.
    """
    left, right, top, bottom = 44, 12, 14, 42
    plot_w, plot_h = width - left - right, height - top - bottom
    top_value = _nice_max(max((c for _, c in series), default=0))
    n = max(1, len(series))
    slot = plot_w / n
    bar = max(1.0, slot * 0.78)
    every = max(1, round(n / 16))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {width} {height}"'
             f' width="{width}" height="{height}" aria-labelledby="chart-title">',
             f'<title id="chart-title">{escape(title)}</title>']
    ticks = min(4, top_value)  # counts are whole numbers: no gridline at 0.5
    for i in range(ticks + 1):
        value = top_value * i / ticks
        y = top + plot_h - plot_h * i / ticks
        parts.append(f'<line class="grid" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>')
        label = f"{value:.0f}" if value == int(value) else f"{value:.1f}"
        parts.append(f'<text class="axis" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for i, (period, count) in enumerate(series):
        h = plot_h * count / top_value
        x = left + i * slot + (slot - bar) / 2
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}"'
                     f' data-period="{escape(period)}" data-count="{count}"><title>{escape(period)}: {count}</title></rect>')
        if i % every == 0:
            parts.append(f'<text class="axis" x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 16}"'
                         f' text-anchor="middle">{escape(period)}</text>')
    parts.append(f'<line class="baseline" x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    parts.append("</svg>")
    return Markup("".join(parts))
