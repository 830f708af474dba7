"""Rate-limit decorators for views, limits read from the config (RATELIMIT_*).

Usage on a view, below the route decorator::

    @bp.route("/t/<int:thread_id>/reply", methods=["POST"])
    @login_required
    @limit_posting
    def reply(thread_id): ...

Storage is Redis when ``REDIS_URL`` is set (see the app factory), memory otherwise. A refused request
raises a 429 that the error handlers render as HTML or JSON with a ``Retry-After`` header.
"""
from __future__ import annotations

from flask import current_app
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter


def _config_value(key: str):
    # A callable, so the value is read per request from the app that handles it (tests may change it).
    return lambda: current_app.config[key]


def user_or_ip() -> str:
    """Signed-in people are limited per account (shared office IPs), everyone else per address."""
    if current_user and getattr(current_user, "is_authenticated", False):
        return f"user:{current_user.id}"
    return f"ip:{get_remote_address()}"


def ip_address() -> str:
    """The client address (behind a proxy, configure ProxyFix so this is the real client)."""
    return f"ip:{get_remote_address()}"


# Only the submitting request counts: looking at the form is free.
limit_login = limiter.shared_limit(
    _config_value("RATELIMIT_LOGIN"), scope="login", key_func=ip_address, methods=["POST"])

limit_register = limiter.shared_limit(
    _config_value("RATELIMIT_REGISTER"), scope="register", key_func=ip_address, methods=["POST"])

# One budget across every posting route (ask, reply, edit, vote...), so spreading out does not help.
limit_posting = limiter.shared_limit(
    _config_value("RATELIMIT_POST"), scope="posting", key_func=user_or_ip, methods=["POST"])

limit_search = limiter.shared_limit(
    _config_value("RATELIMIT_SEARCH"), scope="search", key_func=user_or_ip)

__all__ = ["limit_login", "limit_posting", "limit_register", "limit_search", "user_or_ip", "ip_address"]
