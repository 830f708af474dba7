"""Password reset by email: a signed, expiring, single-use link; the same answer whether the address exists.

The token names the account and a fingerprint of its current password hash, signed with ``SECRET_KEY`` and a
timestamp: it stops working after ``PASSWORD_RESET_MINUTES`` and as soon as the password changes (so it is used
at most once). Setting the new password ends every session of the account (the session version moves on).
"""
from __future__ import annotations

import hashlib
from contextlib import nullcontext

from flask import current_app
from flask_babel import force_locale, gettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ...extensions import db
from ...languages import LANGUAGES
from ...models import User
from ...passwords import hash_password, password_problems
from .. import background
from ..mail import outbox
from .accounts import FieldErrors, find_user_by_email, revoke_sessions

_SALT = "groundwork-password-reset"


class ResetLinkInvalid(Exception):
    """The link is forged, expired or already used (all three look alike to the visitor)."""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def _fingerprint(user: User) -> str:
    return hashlib.sha256(f"{user.id}:{user.password_hash}".encode()).hexdigest()[:32]


def reset_token(user: User) -> str:
    """A fresh reset token for ``user``."""
    return _serializer().dumps([user.id, _fingerprint(user)])


def user_for_token(token: str) -> User:
    """The account a still-valid token resets, else ``ResetLinkInvalid``."""
    max_age = int(current_app.config.get("PASSWORD_RESET_MINUTES", 60)) * 60
    try:
        user_id, fingerprint = _serializer().loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        raise ResetLinkInvalid from None
    if not isinstance(user_id, int) or not 0 < user_id < 2**31:
        raise ResetLinkInvalid
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.is_placeholder or _fingerprint(user) != fingerprint:
        raise ResetLinkInvalid
    return user


def request_reset(email: str) -> None:
    """Mail a reset link if an active account has this address; nothing tells the caller whether one does."""
    user = find_user_by_email(email)
    if user is None or not user.active or user.is_placeholder:
        return
    # In the member's chosen language; without one, in the language of the request that asked.
    with force_locale(user.locale) if user.locale in LANGUAGES else nullcontext():
        job = outbox.queue(kind="password_reset", recipient=user.email,
                           subject="[Groundwork] " + gettext("Reset your password"),
                           template="password_reset", user=user, secret=reset_token(user),
                           context={"user": user, "token": outbox.SECRET_MARK,
                                    "minutes": int(current_app.config.get("PASSWORD_RESET_MINUTES", 60))})
    db.session.commit()
    background.dispatch(job)


def reset_password(token: str, new_password: str) -> User:
    """Set the new password through a valid link and end every session of the account."""
    user = user_for_token(token)
    problems = password_problems(new_password, email=user.email, username=user.username,
                                 display_name=user.display_name)
    if problems:
        raise FieldErrors({"password": problems})
    user.password_hash = hash_password(new_password)
    revoke_sessions(user)
    db.session.commit()
    return user
