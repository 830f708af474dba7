"""Languages: which locale a request renders in, and the Babel set-up behind ``_()`` in code and templates.

A member's stored choice wins; without one (or for a visitor) the browser's Accept-Language picks among the
languages we ship, and English is the fallback. The catalogs live in ``forum/translations`` (see README,
"Languages", for the extract / update / compile commands).
"""
from __future__ import annotations

from flask import Flask, g, has_app_context, has_request_context, request
from flask_babel import Babel, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from sqlalchemy.exc import SQLAlchemyError

from .labels import label, stop_watching
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


def _translations():
    """The catalog of the locale in force, looked up once per request and locale.

    Flask-Babel finds it again on every call (its domain, the locale's name, a cache key): on a 50-reply thread
    page that was a quarter of the rendering time. The locale object is compared by identity, so a language
    forced for a while (``force_locale``, mail in the recipient's language) and given back is seen at once.
    """
    if not has_app_context():
        return get_translations()
    locale = get_locale()
    cached = g.get("_groundwork_translations")
    if cached is None or cached[0] is not locale:
        cached = g._groundwork_translations = (locale, get_translations())
    return cached[1]


def _format(text: str, variables: dict, html: bool) -> str:
    # as Jinja's newstyle gettext: Markup where the template escapes (so placeholders are escaped), and always
    # a format string ("%%" reads "%"); formatting is skipped only where it could change nothing
    if html:
        text = Markup(text)
    return text % variables if variables or "%" in text else text


def _formatted(context: Context, text: str, variables: dict) -> str:
    return _format(text, variables, context.eval_ctx.autoescape)


def html_gettext(string: str, **variables) -> Markup:
    """``{{ _(string, **variables) }}`` of an HTML template, for markup written in Python: the translation as
    Markup, the variables escaped into it."""
    return _format(_translations().ugettext(string), variables, html=True)


def html_message(string: str) -> Markup:
    """The translation of a message with placeholders as Markup, to be formatted later (``message % {...}``
    escapes the values as ``{{ _(string, **values) }}`` would); for markup written many times per page."""
    return Markup(_translations().ugettext(string))


def text_gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext`` (plain text, formatted only with variables) from the request's catalog."""
    text = _translations().ugettext(string)
    return text % variables if variables else text


def text_ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's ``ngettext`` (plain text, ``num`` among the variables) from the request's catalog."""
    variables.setdefault("num", num)
    return _translations().ungettext(singular, plural, num) % variables


@pass_context
def _gettext(context: Context, string: str, **variables) -> str:
    return _formatted(context, _translations().ugettext(string), variables)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("num", num)
    return _formatted(context, _translations().ungettext(singular, plural, num), variables)


@pass_context
def _pgettext(context: Context, message_context: str, string: str, **variables) -> str:
    variables.setdefault("context", message_context)
    return _formatted(context, _translations().upgettext(message_context, string), variables)


@pass_context
def _npgettext(context: Context, message_context: str, singular: str, plural: str, num: int, **variables) -> str:
    variables.setdefault("context", message_context)
    variables.setdefault("num", num)
    return _formatted(context, _translations().unpgettext(message_context, singular, plural, num), variables)


def init_i18n(app: Flask) -> None:
    """Bind Flask-Babel with our selector; catalogs are compiled ``.mo`` files committed beside their ``.po``."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel installed Jinja's newstyle callables (so {% trans %} compiles with keyword arguments); these
    # keep their behaviour and look the catalog up once per request
    app.jinja_env.globals.update(gettext=_gettext, _=_gettext, ngettext=_ngettext, pgettext=_pgettext,
                                 npgettext=_npgettext)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, label_for=label, stop_watching=stop_watching,
                                 current_locale=lambda: str(get_locale()))
