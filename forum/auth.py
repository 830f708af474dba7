"""Login wiring: Flask-Login's settings, the loader that finds a session's user (through ``accounts``), and what
services and permissions learn from the request (who acts, where answers are remembered for it)."""
from __future__ import annotations

from flask import Flask, has_request_context, request
from flask_babel import gettext
from flask_login import current_user

from . import permissions
from .extensions import login_manager
from .languages import N_
from .models import User
from .services.moderation import audit
from .services.orgs.accounts import session_user


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = N_("Please sign in to see this page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    # Rebinding a session to another browser fingerprint is not worth the false logouts; revocation
    # is done by the per-user session version instead.
    login_manager.session_protection = "basic"
    # Audited services learn who acts from the signed-in user of the request.
    audit.actor_resolver = current_actor
    # Permission answers are remembered for the request that asked, never longer (an app context may hold
    # several requests, and engagements or moderators change between them).
    permissions.request_memo = request_memo


def current_actor() -> int | None:
    """The signed-in user's id in a request, else None (a CLI command or a background thread)."""
    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None


def request_memo() -> dict | None:
    """A dict living as long as the current request (None outside one), where permissions keep answers."""
    if not has_request_context():
        return None
    req = request._get_current_object()
    if not hasattr(req, "_permission_memo"):
        req._permission_memo = {}
    return req._permission_memo


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    return session_user(session_id)
