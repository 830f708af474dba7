"""The metrics page's monthly trend charts as inline SVG.

Charts are built here as escaped SVG markup (no inline style or script, which the CSP forbids; presentation
attributes only), with axes, labels and a ``<title>`` tooltip on every bar and point.
"""
from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 240, 60, 16, 14, 44


def _nice_max(value: float) -> float:
    """A round axis maximum at or above value (1, 2, 2.5, 5 × a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "h":
        return f"{value:.1f} h"
    return f"{value:,.0f}"


def trend_chart(months: list[dict], key: str, label: str, unit: str = "", line: bool = False) -> Markup:
    """One monthly series as a bar (counts) or line (times, shares) chart; missing values leave a gap."""
    values = [row[key] for row in months]
    known = [v for v in values if v is not None]
    top = 1.0 if unit == "%" else _nice_max(max(known, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(months), 1)
    parts = [f'<svg class="chart metrics-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(label)}"><title>{escape(label)}</title>']
    for i in range(5):  # horizontal gridlines and y labels
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="13" fill="#555">'
                     f'{escape(_fmt(top * i / 4, unit))}</text>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#888"/>')
    every = max(1, -(-len(months) // 6))  # at most six or seven month labels, so they never overlap
    points = []
    for i, (row, value) in enumerate(zip(months, values, strict=True)):
        x = LEFT + step * i + step / 2
        if (len(months) - 1 - i) % every == 0:  # counted back from the newest month, which is always labelled
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" font-size="13" '
                         f'fill="#555">{escape(row["month"])}</text>')
        if value is None:
            points.append(None)
            continue
        y = TOP + plot_h - plot_h * min(value / top, 1.0)
        tip = escape(f'{row["month"]}: {_fmt(value, unit)}')
        if line:
            points.append((x, y))
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f5fbf"><title>{tip}</title></circle>')
        else:
            width = max(step * 0.7, 1)
            parts.append(f'<rect x="{x - width / 2:.1f}" y="{y:.1f}" width="{width:.1f}" '
                         f'height="{TOP + plot_h - y:.1f}" fill="#1f5fbf"><title>{tip}</title></rect>')
    if line:
        segment: list[str] = []
        for point in points + [None]:
            if point is None:
                if len(segment) > 1:
                    parts.insert(1, f'<polyline points="{" ".join(segment)}" fill="none" stroke="#1f5fbf" '
                                    f'stroke-width="2"/>')
                segment = []
            else:
                segment.append(f"{point[0]:.1f},{point[1]:.1f}")
    if not months:
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#555">'
                     f'{escape(_("No questions in this period"))}</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle" font-size="13" '
                 f'fill="#555">{escape(_("month asked (UTC)"))}</text></svg>')
    return Markup("".join(parts))
