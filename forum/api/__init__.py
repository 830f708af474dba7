"""The JSON API (/api/v1): token or session authentication, JSON errors, rate limits.

Requests carrying ``Authorization: Bearer <token>`` act as the token's owner and skip CSRF (a browser never
sends that header by itself); every other request is the session user and POSTs still need a CSRF token.
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, abort, current_app, g, jsonify, request
from flask_login import current_user

from .. import permissions
from ..errors import error_response
from ..extensions import csrf, limiter
from ..ratelimits import user_or_ip
from ..services.orgs import tokens

bp = Blueprint("api", __name__, url_prefix="/api/v1")
# CSRF is checked in ``authenticate`` below, for every request that is not token-authenticated.
csrf.exempt(bp)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def rate_key() -> str:
    """One budget per token (hashed, never the raw value), else per user or address."""
    raw = _bearer()
    if raw:
        return "token:" + hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return user_or_ip()


limiter.limit(lambda: current_app.config.get("RATELIMIT_API", "120 per minute"), key_func=rate_key,
              scope="api")(bp)
limit_api_posting = limiter.shared_limit(
    lambda: current_app.config["RATELIMIT_POST"], scope="api-posting", key_func=rate_key, methods=["POST"])


@bp.before_request
def authenticate():
    """Resolve the caller: a valid bearer token, or the session (with CSRF on POST)."""
    g.api_token = None
    raw = _bearer()
    # Only the Bearer scheme means "token": other schemes (e.g. a proxy's Basic auth) fall through to the session.
    if raw is not None:
        token = tokens.token_for(raw)
        if token is None:
            return error_response(401, None)
        g.api_token = token
        g._login_user = token.user  # Flask-Login's per-request user: no session is read or written
        if request.method not in ("GET", "HEAD", "OPTIONS") and not token.may_write:
            return error_response(403, None)
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()
    if not current_user.is_authenticated and not permissions.public_read_enabled():
        return error_response(401, None)  # a private forum shows anonymous callers nothing, not even the schema
    return None


def api_user():
    """The authenticated caller, or None for anonymous requests."""
    return current_user if current_user.is_authenticated else None


def require_user():
    """The caller, or a 401 JSON error."""
    user = api_user()
    if user is None:
        abort(401)
    return user


def api_error(code: int, message: str, field: str | None = None):
    """A JSON error with our own message (for domain refusals the user should read)."""
    body = {"code": code, "message": message}
    if field:
        body["field"] = field
    response = jsonify(error=body)
    response.status_code = code
    return response


from . import openapi, routes  # noqa: E402,F401  (routes register on bp)
