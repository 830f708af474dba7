"""Server-rendered SVG charts for the patterns pages (no scripts, no style attributes: CSP-safe).

Every piece of text goes through ``escape``; colours are SVG presentation attributes.
"""
from __future__ import annotations

import colorsys

from flask_babel import gettext
from markupsafe import Markup, escape

from ..services.patterns.detail import PatternMap

# Colour-blind-friendly categorical palette (Okabe-Ito, then Tableau-like extras).
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#6A3D9A", "#000000",
           "#8C564B", "#7F7F7F", "#17BECF", "#BCBD22")
OTHER = "#B8C1CC"
ACCENT = "#1f5fbf"


def _svg_open(width: int, height: int, label: str, cls: str) -> str:
    return (f'<svg class="{cls}" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}" '
            f'xmlns="http://www.w3.org/2000/svg" preserveAspectRatio="xMidYMid meet">'
            f"<title>{escape(label)}</title>")


def column_chart(items: list[tuple[str, int]], label: str, unit: str = "customers") -> Markup:
    """Vertical bars (e.g. customers per month), with the value above each bar and sparse axis labels."""
    if not items:
        return Markup("")
    width, height, left, bottom, top = 640, 220, 28, 40, 16
    peak = max(n for _, n in items) or 1
    slot = (width - left - 8) / len(items)
    bar = max(2.0, slot * 0.7)
    every = max(1, round(len(items) / 8))  # at most ~8 axis labels, so they never overlap on a phone
    parts = [_svg_open(width, height, label, "chart chart-columns"),
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 4}" y2="{height - bottom}" stroke="#5b6573"/>',
             f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" font-size="11" fill="#5b6573">{peak}</text>']
    for i, (name, n) in enumerate(items):
        h = (height - bottom - top) * n / peak
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom - h
        parts.append(f'<g><title>{escape(name)}: {n} {escape(unit)}</title>'
                     f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(h, 0.5):.1f}" '
                     f'fill="{ACCENT}" rx="2"/></g>')
        if n and len(items) <= 16:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="11" '
                         f'fill="#1d232b">{n}</text>')
        if i % every == 0 or i == len(items) - 1:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                         f'font-size="11" fill="#5b6573">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(items: list[tuple[str, int]], label: str, unit: str = "customers", limit: int = 12) -> Markup:
    """Horizontal bars with their labels (e.g. customers per version): long labels stay legible."""
    items = items[:limit]
    if not items:
        return Markup("")
    row, label_w, width = 24, 170, 640
    height = row * len(items) + 8
    peak = max(n for _, n in items) or 1
    parts = [_svg_open(width, height, label, "chart chart-bars")]
    for i, (name, n) in enumerate(items):
        y = 4 + i * row
        w = (width - label_w - 48) * n / peak
        short = name if len(name) <= 26 else name[:25] + "…"
        parts.append(f'<g><title>{escape(name)}: {n} {escape(unit)}</title>'
                     f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12" fill="#1d232b">'
                     f'{escape(short)}</text>'
                     f'<rect x="{label_w}" y="{y + 3}" width="{max(w, 1):.1f}" height="{row - 8}" fill="{ACCENT}" '
                     f'rx="2"/><text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" fill="#1d232b">{n}</text>'
                     f"</g>")
    parts.append("</svg>")
    return Markup("".join(parts))


def sparkline(values: list[int], label: str) -> Markup:
    """A small line of counts per period (oldest first) for a table cell, with the figures in its <title>."""
    if not values:
        return Markup("")
    width, height, pad = 64, 14, 2
    peak = max(values) or 1
    step = (width - 2 * pad) / max(len(values) - 1, 1)
    points = [(pad + i * step, height - pad - (height - 2 * pad) * n / peak) for i, n in enumerate(values)]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    last_x, last_y = points[-1]
    text = f"{label}: {', '.join(str(n) for n in values)}"
    return Markup(f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
                  f'role="img" aria-label="{escape(text)}" xmlns="http://www.w3.org/2000/svg">'
                  f"<title>{escape(text)}</title>"
                  f'<polyline points="{line}" fill="none" stroke="{ACCENT}" stroke-width="1.5" '
                  f'stroke-linejoin="round" stroke-linecap="round"/>'
                  f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2" fill="{ACCENT}"/></svg>')


def _extra_colour(i: int) -> str:
    """The i-th colour past the palette: hues a golden angle apart, in two lightnesses, all distinct."""
    hue = (0.61 + i * 0.381966) % 1.0
    lightness = (0.38, 0.55)[i % 2]
    r, g, b = colorsys.hls_to_rgb(hue, lightness, 0.75)
    return f"#{round(r * 255):02X}{round(g * 255):02X}{round(b * 255):02X}"


def map_order(data: PatternMap) -> list[int]:
    """The patterns of the map, biggest first: the legend's order and their numbers (1, 2, ...)."""
    return sorted(data.sizes, key=lambda pid: (-data.sizes[pid], pid))


def map_colours(data: PatternMap, highlight: int | None = None) -> dict[int, str]:
    """A distinct colour for every pattern (the palette first, then generated ones); each also has a number."""
    colours: dict[int, str] = {}
    used = set(PALETTE) | {OTHER, ACCENT}
    extra = 0
    for i, pid in enumerate(map_order(data)):
        if i < len(PALETTE):
            colours[pid] = PALETTE[i]
            continue
        colour = _extra_colour(extra)
        while colour in used:
            extra += 1
            colour = _extra_colour(extra)
        extra += 1
        used.add(colour)
        colours[pid] = colour
    return colours


def map_labels(data: PatternMap) -> dict[int, int]:
    """Each pattern's number on the map and in its legend: colours alone do not tell 20 patterns apart."""
    return {pid: i + 1 for i, pid in enumerate(map_order(data))}


def map_svg(data: PatternMap, colours: dict[int, str], highlight: int | None = None,
            label: str | None = None) -> Markup:
    """Scatter of the projected threads, one group per pattern whose <title> names it on hover."""
    if not data.points:
        return Markup("")
    width, height, pad = 640, 420, 14
    xs = [p.x for p in data.points]
    ys = [p.y for p in data.points]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    sx = (width - 2 * pad) / ((x1 - x0) or 1)
    sy = (height - 2 * pad) / ((y1 - y0) or 1)
    groups: dict[int, list] = {}
    for p in data.points:
        groups.setdefault(p.pattern_id, []).append(p)
    # The highlighted pattern is drawn last so it sits on top of the others.
    order = sorted(groups, key=lambda pid: (pid == highlight, -data.sizes.get(pid, 0)))
    parts = [_svg_open(width, height, label or gettext("Map of patterns"), "chart chart-map"),
             f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff" stroke="#dde2e8"/>']
    for pid in order:
        name = data.names.get(pid, f"Pattern {pid}")
        faded = highlight is not None and pid != highlight
        opacity = "0.25" if faded else "0.85"
        radius = 4.5 if pid == highlight else 3.2
        stroke = ' stroke="#1d232b" stroke-width="0.8"' if pid == highlight else ""
        parts.append(f'<g fill="{colours.get(pid, OTHER)}" fill-opacity="{opacity}"{stroke}>'
                     f"<title>{escape(name)} ({data.sizes.get(pid, 0)} threads)</title>")
        for p in groups[pid]:
            cx = pad + (p.x - x0) * sx
            cy = height - pad - (p.y - y0) * sy
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius}"/>')
        parts.append("</g>")
    # Numbers at each pattern's middle (the median point), as in the legend: on a pattern's page only its own.
    labels = map_labels(data)
    for pid in order:
        if highlight is not None and pid != highlight:
            continue
        points = groups[pid]
        mx = sorted(p.x for p in points)[len(points) // 2]
        my = sorted(p.y for p in points)[len(points) // 2]
        cx, cy = pad + (mx - x0) * sx, height - pad - (my - y0) * sy
        parts.append(f'<text class="map-label" x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" font-size="12" '
                     f'font-weight="700" fill="#1d232b" stroke="#ffffff" stroke-width="3" paint-order="stroke">'
                     f"{labels[pid]}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))


def swatch(colour: str) -> Markup:
    """A small colour square for legends (an SVG, since style attributes are not allowed)."""
    return Markup(f'<svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">'
                  f'<rect width="12" height="12" rx="2" fill="{escape(colour)}"/></svg>')
