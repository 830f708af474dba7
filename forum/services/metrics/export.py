"""The metrics page's pictures and files: monthly trend charts as inline SVG, and tables as CSV.

Charts are built here as escaped SVG markup (no inline style or script, which the CSP forbids; presentation
attributes only), with axes, labels and a ``<title>`` tooltip on every bar and point.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable

from markupsafe import Markup, escape

from .results import Metrics

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 240, 60, 16, 14, 44
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
        parts.append(f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" fill="#555">No questions '
                     f'in this period</text>')
    parts.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 4}" text-anchor="middle" font-size="13" '
                 f'fill="#555">month asked (UTC)</text></svg>')
    return Markup("".join(parts))


def safe_cell(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula (text starting = + - @ gets a leading ')."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return "" if value is None else value


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _summary(m: Metrics) -> tuple[list[str], list[list]]:
    rows = [["questions", m.questions], ["answered", m.answered], ["resolved", m.resolved],
            ["questions older than 48 h", m.older_than_48h], ["unanswered after 48 h", m.unanswered_48h],
            ["share answered", _round(m.share(m.answered), 4)], ["share resolved", _round(m.share(m.resolved), 4)],
            ["share unanswered after 48 h", _round(m.share(m.unanswered_48h, m.older_than_48h), 4)],
            ["median first response (hours)", _round(m.first_response_median_h)],
            ["p90 first response (hours)", _round(m.first_response_p90_h)]]
    return ["figure", "value"], rows


def _who(m: Metrics) -> tuple[list[str], list[list]]:
    total = sum(m.replies_by_kind.values())
    return ["author role", "responses", "share"], [
        [kind, n, _round(n / total if total else None, 4)] for kind, n in m.replies_by_kind.items()]


def _rows(keys: list[str], source: Callable[[Metrics], list[dict]]):
    def table(m: Metrics) -> tuple[list[str], list[list]]:
        return keys, [[_round(row[k]) if isinstance(row[k], float) else row[k] for k in keys] for row in source(m)]
    return table


TABLES: dict[str, Callable[[Metrics], tuple[list[str], list[list]]]] = {
    "summary": _summary,
    "who-answers": _who,
    "partners": _rows(["organisation", "threads_answered", "answers_accepted"], lambda m: m.partners),
    "customers": _rows(["organisation", "threads", "replies", "open_questions"], lambda m: m.customers),
    "products": _rows(["product", "version", "questions", "resolved", "median_resolution_h"], lambda m: m.products),
    "trends": _rows(["month", "questions", "median_first_response_h", "share_resolved"], lambda m: m.months),
    "playbooks": _rows(["playbook_id", "title", "replications"], lambda m: m.playbooks),
    "reuse": lambda m: (["figure", "value"], [[k, _round(v, 4) if isinstance(v, float) else v]
                                              for k, v in m.reuse.items()]),
}


def table_csv(name: str, m: Metrics) -> str:
    """One table as CSV text (RFC 4180 quoting, formula-looking text neutralised). KeyError for unknown names."""
    header, rows = TABLES[name](m)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()
