"""Login wiring: Flask-Login's settings and the loader that finds a session's user (through ``accounts``)."""
from __future__ import annotations

from flask import Flask, has_request_context
from flask_login import current_user

from .extensions import login_manager
from .models import User
from .services.moderation import audit
from .services.orgs.accounts import session_user


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    # Rebinding a session to another browser fingerprint is not worth the false logouts; revocation
    # is done by the per-user session version instead.
    login_manager.session_protection = "basic"
    # Audited services learn who acts from the signed-in user of the request.
    audit.actor_resolver = current_actor


def current_actor() -> int | None:
    """The signed-in user's id in a request, else None (a CLI command or a background thread)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    return session_user(session_id)
