"""Measured results (/metrics): figures with their definitions, monthly trend charts and CSV exports."""
from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from .. import permissions
from ..services.metrics import results as service
from ..services.metrics.export import TABLES, table_csv
from .metrics_charts import trend_chart

bp = Blueprint("metrics", __name__, url_prefix="/metrics")


@bp.before_request
def _employees_only():
    # Customers, partners and visitors learn nothing, not even that the page exists.
    if not permissions.can_view_metrics(current_user):
        abort(404)


def _period() -> str:
    period = request.args.get("period", service.DEFAULT_PERIOD)
    return period if period in service.PERIODS else service.DEFAULT_PERIOD


@bp.get("/", strict_slashes=False)  # /metrics answers directly: no redirect telling others it exists
def index():
    """The page: every figure of the selected period, each with its definition."""
    period = _period()
    m = service.metrics_for(period, wait=False)
    if m is None:  # a long period being computed in the background: say so, and reload shortly
        return render_template("metrics/computing.html", period=period, periods=service.PERIODS)
    charts = {
        "questions": trend_chart(m.months, "questions", _("Questions asked per month")),
        "first_response": trend_chart(m.months, "median_first_response_h",
                                      _("Median time to first response per month (hours)"), unit="h", line=True),
        "resolved": trend_chart(m.months, "share_resolved", _("Share of questions resolved per month"),
                                unit="%", line=True),
    }
    total_responses = sum(m.replies_by_kind.values())
    return render_template("metrics/index.html", m=m, period=period, periods=service.PERIODS, charts=charts,
                           total_responses=total_responses, tables=list(TABLES))


@bp.get("/<name>.csv")
def export(name: str):
    """One table of the selected period as a CSV download."""
    if name not in TABLES:
        abort(404)
    period = _period()
    body = table_csv(name, service.metrics_for(period))
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="metrics-{name}-{period}.csv"',
        "Cache-Control": "private, no-store"})
