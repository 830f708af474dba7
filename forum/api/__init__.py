"""The JSON API (/api/v1): token or session authentication, JSON errors, rate limits.

Requests carrying ``Authorization: Bearer <token>`` act as the token's owner and skip CSRF (a browser never
sends that header by itself); every other request is the session user and POSTs still need a CSRF token.
A POST with an ``Idempotency-Key`` header is served once: a retry with the same key gets the first response.
"""
from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, current_app, g, jsonify, request
from flask_babel import gettext
from flask_login import current_user

from .. import permissions
from ..errors import error_response
from ..extensions import csrf, limiter
from ..ratelimits import user_or_ip
from ..services import idempotency
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


@bp.before_request
def replay_idempotent():
    """A POST retried with the same ``Idempotency-Key`` answers the first response again (after authentication)."""
    g.idempotency_key = None
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method != "POST" or not current_user.is_authenticated:
        return None
    if not 0 < len(key) <= 200 or not key.isascii() or not key.isprintable():
        return _error(400, gettext("Idempotency-Key must be 1 to 200 printable ASCII characters."))
    fingerprint = hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n"
                                 + request.get_data()).hexdigest()
    try:
        replay = idempotency.begin(current_user.id, key, fingerprint)
    except idempotency.KeyReused:
        return _error(422, gettext("This Idempotency-Key was used for another request."))
    except idempotency.ResponseLost:
        return _error(409, gettext(
            "The request with this Idempotency-Key was carried out, but its response was lost."))
    except idempotency.KeyInUse:
        response = _error(409, gettext(
            "A request with this Idempotency-Key is still being served; retry shortly."))
        response.headers["Retry-After"] = "1"
        return response
    if replay is not None:
        response = Response(replay.body, status=replay.status_code, mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response
    g.idempotency_key = (current_user.id, key)
    return None


@bp.after_request
def keep_idempotent(response: Response) -> Response:
    """Keep the response of a POST served under an ``Idempotency-Key``.

    Not a 5xx: its transaction was rolled back (with the key), unless it failed after committing the write, and
    then the key must stay taken.
    """
    taken = g.get("idempotency_key")
    if taken is None or response.status_code >= 500:
        return response
    try:
        idempotency.finish(*taken, response.status_code, response.get_data(as_text=True))
    except Exception:  # noqa: BLE001 - the database went away: the key frees itself after its pending time
        current_app.logger.warning("could not keep the response for an Idempotency-Key", exc_info=True)
    return response


def _error(code: int, message: str) -> Response:
    response = jsonify(error={"code": code, "message": message})
    response.status_code = code
    return response


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


from . import files, openapi, routes  # noqa: E402,F401  (routes register on bp)
