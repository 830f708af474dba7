"""Jinja filters and the values every template may use."""
from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

from flask import Flask, current_app, g, request, url_for
from flask_babel import format_date, format_decimal, get_locale
from markupsafe import Markup

from . import permissions

# Flask-Babel's gettext and ngettext from the request's catalog found once (a date per reply made them a cost);
# the names stay so that pybabel extracts the messages below
from .i18n import text_gettext as gettext
from .i18n import text_ngettext as ngettext
from .markdown import link_mentions
from .models import utcnow

# Each unit's size in seconds with its phrases for an age ("3 days") and a time ago ("3 days ago"); German
# needs a different case after "vor", so the two are separate messages rather than one wrapped in the other.
_UNITS = (
    (31536000, lambda n: ngettext("%(num)d year", "%(num)d years", n),
     lambda n: ngettext("%(num)d year ago", "%(num)d years ago", n)),
    (2592000, lambda n: ngettext("%(num)d month", "%(num)d months", n),
     lambda n: ngettext("%(num)d month ago", "%(num)d months ago", n)),
    (86400, lambda n: ngettext("%(num)d day", "%(num)d days", n),
     lambda n: ngettext("%(num)d day ago", "%(num)d days ago", n)),
    (3600, lambda n: ngettext("%(num)d hour", "%(num)d hours", n),
     lambda n: ngettext("%(num)d hour ago", "%(num)d hours ago", n)),
    (60, lambda n: ngettext("%(num)d minute", "%(num)d minutes", n),
     lambda n: ngettext("%(num)d minute ago", "%(num)d minutes ago", n)),
)


def _unit_and_count(value: datetime) -> tuple[int, int] | None:
    """The largest whole unit of the time since ``value`` (an index into ``_UNITS``) and how many of it; None
    under a minute."""
    seconds = int((utcnow() - value).total_seconds())
    for index, (size, _, _) in enumerate(_UNITS):
        if seconds >= size:
            return index, seconds // size
    return None


def _phrase(found: tuple[int, int] | None, ago: bool) -> str | None:
    """The words for ``_unit_and_count``'s answer ("3 days ago", or "3 days" when not ``ago``); None under a minute."""
    if found is None:
        return None
    index, n = found
    return _UNITS[index][2 if ago else 1](n)


def _in_units(value: datetime, ago: bool) -> str | None:
    return _phrase(_unit_and_count(value), ago)


def age(value: datetime | None) -> str:
    """How long ago, in its largest whole unit ("3 days", "5 hours"), for columns headed "Waiting" or "Age"."""
    if value is None:
        return ""
    return _in_units(value, ago=False) or gettext("under a minute")


def timeago(value: datetime | None) -> str:
    """How long ago in the reader's language ("3 days ago", "vor 3 Tagen")."""
    if value is None:
        return ""
    return _in_units(value, ago=True) or gettext("just now")


class TimeAgo:
    """``timeago`` for the many dates of one page: each phrase ("3 days ago") is looked up once per page, not
    once per date. Made per page, so it holds only that request's language."""

    __slots__ = ("_phrases",)

    def __init__(self) -> None:
        self._phrases: dict[tuple[int, int] | None, str] = {}

    def __call__(self, value: datetime | None) -> str:
        if value is None:
            return ""
        key = _unit_and_count(value)
        phrase = self._phrases.get(key)
        if phrase is None:
            phrase = self._phrases[key] = _phrase(key, ago=True) or gettext("just now")
        return phrase


def local_date(value: date | datetime | None, form: str = "medium") -> str:
    """A date as the reader's locale writes it ("Dec 6, 2026", "06.12.2026")."""
    return format_date(value, form) if value else ""


def local_number(value: float | int | None) -> str:
    """A number with the reader's locale's grouping and decimal mark ("12,345.5", "12.345,5")."""
    return format_decimal(value) if value is not None else ""


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

    @property
    def around(self) -> tuple[str, str]:
        """What comes before and after the id (for markup that writes many of them)."""
        return self._head, self._tail


def id_url_of(endpoint: str, param: str) -> IdUrl:
    """The request's one ``IdUrl`` for this endpoint and parameter."""
    cache = g.setdefault("_id_urls", {})
    built = cache.get((endpoint, param))
    if built is None:
        built = cache[(endpoint, param)] = IdUrl(endpoint, param)
    return built


def id_url(endpoint: str, **value: int) -> str:
    """``url_for(endpoint, <param>=<int>)`` through one ``IdUrl`` per endpoint and request (per-reply links)."""
    ((param, number),) = value.items()
    return id_url_of(endpoint, param)(number)


class ThreadRows:
    """The HTML of list rows (``_board.html``'s ``thread_row``), rendered once per process for the same inputs.

    Every reader of the home and space pages gets the same rows for the same threads, and the macro was about a
    third of those pages' time. A row is kept under everything the macro reads: the thread's shown fields, its
    space, author and organisation names, tag names, the reader's "N new" count, language and the unit and count
    of its age phrase, and the URL prefix. The thread comes from the reader's own permission-filtered list of the
    same request, so a change to any of these renders it anew and no reader is given a row of a thread they may
    not see; nothing needs invalidating. At most ``LIMIT`` rows are kept (the oldest go first); none while
    templates reload on change (development), where the macro itself may change.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._rows: dict[tuple, Markup] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._rows.clear()

    def __call__(self, macro: Any, thread: Any, show_space: bool = True, new: int | None = None) -> Markup:
        if current_app.jinja_env.auto_reload:
            return macro(thread, show_space, new)
        space, author = thread.space, thread.author
        organisation = author.organisation
        when = thread.last_activity_at
        key = (getattr(macro, "name", None), thread.id, thread.title, thread.kind, thread.status, thread.visibility,
               thread.is_pinned, thread.is_locked, thread.reply_count, show_space, new, space.slug, space.name,
               author.display_name, None if organisation is None else organisation.name,
               tuple(tag.name for tag in thread.tags), when, None if when is None else _unit_and_count(when),
               str(get_locale()), request.script_root)
        row = self._rows.get(key)
        if row is not None:
            self.hits += 1
            return row
        self.misses += 1
        row = macro(thread, show_space, new)
        with self._lock:
            if len(self._rows) >= self.LIMIT:
                del self._rows[next(iter(self._rows))]
            self._rows[key] = row
        return row


thread_rows = ThreadRows()


def init_templating(app: Flask) -> None:
    app.add_template_global(thread_rows, "thread_row_once")
    app.jinja_env.filters["timeago"] = timeago
    app.jinja_env.filters["age"] = age
    app.jinja_env.filters["link_mentions"] = link_mentions
    app.jinja_env.filters["date"] = local_date
    app.jinja_env.filters["number"] = local_number
    app.jinja_env.filters["isodate"] = lambda v: v.strftime("%Y-%m-%d") if v else ""
    app.jinja_env.filters["isotime"] = lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ") if v else ""
    # Stored HTML was sanitised when it was rendered (forum.markdown); mark it safe in one place.
    app.jinja_env.filters["stored_html"] = lambda html: Markup(html or "")

    @app.context_processor
    def _globals():
        return {"perm": permissions, "id_url": id_url}
