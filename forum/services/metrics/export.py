"""The metrics page's files: its tables as CSV (the charts are drawn in ``views/metrics_charts.py``).

The files are data exports, the same for every reader: English column names (like the API's fields) over
locale-free values (``0.25``, ``2026-11``), so scripts and spreadsheets read them alike whoever downloaded them.
The metrics page explains the columns in the reader's language; nothing here goes through gettext on purpose.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable

from .results import Metrics

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
