"""Jinja filters and the values every template may use."""
from __future__ import annotations

from datetime import datetime

from flask import Flask, g, url_for
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


class IdUrl:
    """``url_for(endpoint, <param>=id)`` for the many ids of one page from a single build.

    A thread page links each of its 50 replies to five or six actions; a full ``url_for`` per link was a tenth of
    the page's time. The URL is built once around a marker id and split there; an integer id needs no quoting,
    so the concatenation gives exactly what ``url_for`` would (tested against it).
    """

    MARKER = 987654321987

    __slots__ = ("_head", "_tail")

    def __init__(self, endpoint: str, param: str):
        url = url_for(endpoint, **{param: self.MARKER})
        head, found, tail = url.partition(str(self.MARKER))
        if not found or str(self.MARKER) in tail:
            raise ValueError(f"{endpoint} does not take {param} once in its path")
        self._head, self._tail = head, tail

    def __call__(self, value: int) -> str:
        return f"{self._head}{int(value)}{self._tail}"


def id_url(endpoint: str, **value: int) -> str:
    """``url_for(endpoint, <param>=<int>)`` through one ``IdUrl`` per endpoint and request (per-reply links)."""
    ((param, number),) = value.items()
    cache = g.setdefault("_id_urls", {})
    built = cache.get((endpoint, param))
    if built is None:
        built = cache[(endpoint, param)] = IdUrl(endpoint, param)
    return built(number)


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
        return {"perm": permissions, "id_url": id_url}
