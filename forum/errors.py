"""Error pages in one place: HTML or JSON by the Accept header, never showing internals."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db

MESSAGES = {
    400: "The request could not be understood.",
    403: "You do not have permission to do that.",
    404: "There is nothing here, or you may not see it.",
    405: "That method is not allowed here.",
    413: "What you sent is too large.",
    429: "Too many requests. Please wait a moment and try again.",
    500: "Something went wrong on our side. It has been logged.",
}


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return request.path.startswith("/api/") or (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"])


def error_response(code: int, description: str | None = None):
    message = MESSAGES.get(code, "Error.")
    if code not in (500,) and description and code in (400, 413, 429):
        message = description if isinstance(description, str) and len(description) < 300 else message
    if wants_json():
        response = jsonify(error={"code": code, "message": message})
    else:
        response = render_template("errors/error.html", code=code, message=message)
    return response, code


def init_errors(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        body, code = error_response(exc.code or 500, exc.description)
        response = app.make_response((body, code))
        if exc.code == 429:
            retry = getattr(exc, "retry_after", None)
            response.headers.setdefault("Retry-After", str(retry or 60))
        for name, value in (exc.get_headers() or []):
            if name.lower() in ("retry-after", "allow", "www-authenticate"):
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_response(500)

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError):
        db.session.rollback()
        return error_response(500)
