"""Error pages in one place: HTML or JSON by the Accept header, never showing internals."""
from __future__ import annotations

import math
import time

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from markupsafe import escape
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from .extensions import db, limiter

MESSAGES = {
    400: _l("The request could not be understood."),
    401: _l("Please sign in to do that."),
    403: _l("You do not have permission to do that."),
    404: _l("There is nothing here, or you may not see it."),
    405: _l("That method is not allowed here."),
    410: _l("This is no longer available."),
    413: _l("What you sent is too large."),
    429: _l("Too many requests. Please wait a moment and try again."),
    500: _l("Something went wrong on our side. It has been logged."),
    503: _l("The service is briefly unavailable. Please try again in a few seconds."),
}
#: How long a client should wait before trying again while the database is unreachable.
DATABASE_RETRY_AFTER = 5
# SQLite's OperationalError also covers mistakes in SQL; these messages are the database being unavailable.
_SQLITE_UNAVAILABLE = ("database is locked", "unable to open database", "disk i/o error", "database is busy")
# Only these codes may show the exception's own description (e.g. "The CSRF token is missing.");
# Werkzeug's defaults for them are written for users, and ours never carry internals.
_DESCRIBED = (400,)


def wants_json() -> bool:
    """JSON for the API and for clients that prefer it over HTML."""
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"])


def error_response(code: int, description: str | None = None) -> Response:
    """The error page (or JSON body) for ``code`` as a response with that status."""
    message = str(MESSAGES.get(code, _l("Error.") if code < 500 else MESSAGES[500]))
    if code in _DESCRIBED and isinstance(description, str) and 0 < len(description) < 300:
        message = description
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
    else:
        try:
            html = render_template("errors/error.html", code=code, message=message)
        except Exception:  # noqa: BLE001
            # The page template itself failed (e.g. the database is down while loading the user):
            # a bare page still beats Werkzeug's default.
            html = (f"<!doctype html><html lang=en><title>{code}</title><h1>{code}</h1>"
                    f"<p>{escape(message)}</p></html>")
        response = Response(html, mimetype="text/html")
    response.status_code = code
    return response


def _retry_after_seconds() -> int:
    # The limit that refused this request knows when its window resets.
    try:
        current = limiter.current_limit if limiter.enabled else None
    except Exception:  # noqa: BLE001  (limiter not initialised for this app)
        current = None
    if current is not None:
        return max(1, math.ceil(current.reset_at - time.time()))
    return 60


def init_errors(app: Flask) -> None:
    """Register the handlers for HTTP errors and for anything unexpected."""

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        if code >= 500:
            _safe_rollback()
        response = error_response(code, exc.description)
        for name, value in (exc.get_headers() or []):
            if name.lower() in ("retry-after", "allow", "www-authenticate"):
                response.headers[name] = value
        if code == 429:
            response.headers["Retry-After"] = str(_retry_after_seconds())
        return response

    @app.errorhandler(sa_exc.SQLAlchemyError)
    def _database_error(exc: sa_exc.SQLAlchemyError) -> Response:
        _safe_rollback()
        if database_unavailable(exc):
            app.logger.warning("database unavailable on %s %s: %s", request.method, request.path, exc)
            response = error_response(503)
            response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER)
            return response
        if isinstance(exc, sa_exc.DataError):
            # PostgreSQL refused a value as data (a NUL, a number out of range): the client's input.
            app.logger.info("data refused by the database on %s %s: %s", request.method, request.path, exc)
            return error_response(400, gettext("Some of the values sent cannot be stored."))
        app.logger.exception("Unhandled database error on %s %s", request.method, request.path)
        return error_response(500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        # Nothing half-done may be committed later by the same session.
        _safe_rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or is busy now (503), not a mistake (500)."""
    if isinstance(exc, sa_exc.TimeoutError | sa_exc.DisconnectionError):  # pool exhausted; connection lost
        return True
    if isinstance(exc, sa_exc.PendingRollbackError) and "invalid transaction" in str(exc):
        return True  # the connection was lost earlier in this request and something went on regardless
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    if exc.connection_invalidated or isinstance(exc, sa_exc.InterfaceError):
        return True
    if isinstance(exc, sa_exc.OperationalError):
        module = type(exc.orig).__module__ if exc.orig is not None else ""
        if module.startswith("sqlite3"):
            return any(text in str(exc.orig).lower() for text in _SQLITE_UNAVAILABLE)
        return True  # PostgreSQL reports its own mistakes as ProgrammingError; Operational is the server
    return False


def _safe_rollback() -> None:
    """Roll the session back; with the database gone, just drop it (the pool reconnects later)."""
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001
        db.session.registry.clear()
