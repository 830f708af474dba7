"""Jinja filters and the values every template may use."""
from __future__ import annotations

from datetime import datetime

from flask import Flask
from markupsafe import Markup

from . import permissions
from .markdown import link_mentions
from .models import utcnow


def age(value: datetime | None) -> str:
    """How long ago, in its largest whole unit ("3 days", "5 hours"), for columns headed "Waiting" or "Age"."""
    if value is None:
        return ""
    seconds = int((utcnow() - value).total_seconds())
    for size, unit in ((31536000, "year"), (2592000, "month"), (86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return "under a minute"


def timeago(value: datetime | None) -> str:
    if value is None:
        return ""
    text = age(value)
    return "just now" if text == "under a minute" else f"{text} ago"


def init_templating(app: Flask) -> None:
    app.jinja_env.filters["timeago"] = timeago
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["link_mentions"] = link_mentions
    app.jinja_env.filters["isodate"] = lambda v: v.strftime("%Y-%m-%d") if v else ""
    app.jinja_env.filters["isotime"] = lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ") if v else ""
    # Stored HTML was sanitised when it was rendered (forum.markdown); mark it safe in one place.
    app.jinja_env.filters["stored_html"] = lambda html: Markup(html or "")

    @app.context_processor
    def _globals():
        return {"perm": permissions}
