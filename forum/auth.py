"""Login wiring: loading the user from the session and revoking old sessions."""
from __future__ import annotations

from flask import Flask

from .extensions import db, login_manager
from .models import User


def init_login(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see this page."
    login_manager.login_message_category = "info"
    # Rebinding a session to another browser fingerprint is not worth the false logouts; revocation
    # is done by the per-user session version instead.
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Sessions carry "id:version"; a bumped version (logout, password change) invalidates them."""
    try:
        raw_id, raw_version = session_id.split(":", 1)
        user_id, version = int(raw_id), int(raw_version)
    except (ValueError, AttributeError):
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_version != version:
        return None
    return user


def revoke_sessions(user: User) -> None:
    """Invalidate every session cookie minted for this user so far (caller commits)."""
    user.session_version = (user.session_version or 0) + 1
