"""Languages: which locale a request renders in, and the Babel set-up behind ``_()`` in code and templates.

A member's stored choice wins; without one (or for a visitor) the browser's Accept-Language picks among the
languages we ship, and English is the fallback. The catalogs live in ``forum/translations`` (see README,
"Languages", for the extract / update / compile commands).
"""
from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_babel import Babel, get_locale
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .labels import label
from .languages import DEFAULT_LOCALE, LANGUAGES

babel = Babel()


def browser_locale() -> str:
    """The best of our languages for the request's Accept-Language header (English when none matches)."""
    if not has_request_context():
        return DEFAULT_LOCALE
    return request.accept_languages.best_match(LANGUAGES) or DEFAULT_LOCALE


def select_locale() -> str:
    """The signed-in member's chosen language, else the browser's."""
    if has_request_context():
        try:
            chosen = getattr(current_user, "locale", None) if current_user.is_authenticated else None
        except SQLAlchemyError:
            # The error page of a database outage still renders, in the browser's language.
            chosen = None
        if chosen in LANGUAGES:
            return chosen
    return browser_locale()


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with our selector; catalogs are compiled ``.mo`` files committed beside their ``.po``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, label_for=label, current_locale=lambda: str(get_locale()))
