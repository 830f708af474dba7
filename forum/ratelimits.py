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

from flask import current_app, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from .extensions import limiter

_DEFAULTS = {"RATELIMIT_PASSWORD_RESET": "10 per hour", "RATELIMIT_PASSWORD_RESET_ACCOUNT": "3 per hour",
             "RATELIMIT_MESSAGE": "30 per minute", "RATELIMIT_CONVERSATION": "10 per hour"}


def _config_value(key: str):
    # A callable, so the value is read per request from the app that handles it (tests may change it).
    return lambda: current_app.config.get(key, _DEFAULTS.get(key))


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


def login_account() -> str:
    """The account a sign-in attempt is aimed at (the submitted email, normalised)."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


# Guessing one account's password from many addresses: only failed attempts (401) count, so the
# owner signing in is never held up by this limit unless someone is hammering their account.
limit_login_account = limiter.shared_limit(
    _config_value("RATELIMIT_LOGIN_ACCOUNT"), scope="login-account", key_func=login_account, methods=["POST"],
    deduct_when=lambda response: response.status_code == 401)

# Reset requests: per address of the client, and per account asked about (whether it exists or not, so the
# limit itself tells nothing); only the submitting request counts.
limit_password_reset = limiter.shared_limit(
    _config_value("RATELIMIT_PASSWORD_RESET"), scope="password-reset", key_func=ip_address, methods=["POST"])


def reset_account() -> str:
    """The address a reset request names, normalised."""
    return "reset:" + (request.form.get("email") or "").strip().lower()[:254]


limit_password_reset_account = limiter.shared_limit(
    _config_value("RATELIMIT_PASSWORD_RESET_ACCOUNT"), scope="password-reset-account", key_func=reset_account,
    methods=["POST"])

limit_register = limiter.shared_limit(
    _config_value("RATELIMIT_REGISTER"), scope="register", key_func=ip_address, methods=["POST"])

# One budget across every posting route (ask, reply, edit, vote...), so spreading out does not help.
limit_posting = limiter.shared_limit(
    _config_value("RATELIMIT_POST"), scope="posting", key_func=user_or_ip, methods=["POST"])

# Direct messages: every message, and (tighter) new conversations, which reach people who never wrote to you.
limit_messages = limiter.shared_limit(
    _config_value("RATELIMIT_MESSAGE"), scope="messages", key_func=user_or_ip, methods=["POST"])
limit_new_conversations = limiter.shared_limit(
    _config_value("RATELIMIT_CONVERSATION"), scope="conversations", key_func=user_or_ip, methods=["POST"])

limit_search = limiter.shared_limit(
    _config_value("RATELIMIT_SEARCH"), scope="search", key_func=user_or_ip)

__all__ = ["limit_login", "limit_login_account", "limit_password_reset", "limit_password_reset_account", "limit_posting", "limit_register", "limit_search", "user_or_ip", "ip_address"]

# Guessing a six-digit code: attempts are counted per address, whoever's sign-in they continue.
limit_two_factor = limiter.shared_limit(
    _config_value("RATELIMIT_TWO_FACTOR"), scope="two-factor", key_func=ip_address, methods=["POST"])
