"""Accounts: invitations, registration, signing in, passwords and profiles.

Plain functions with explicit inputs; they commit and raise the exceptions below, never touch the request.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ...extensions import db
from ...languages import LANGUAGES
from ...models import Invitation, Organisation, Thread, User, utcnow
from ...passwords import (
    burn_verification_time,
    hash_password,
    needs_rehash,
    password_problems,
    verify_password,
)
from ...permissions import visible_threads
from .. import background
from ..community.presence import VISIT_GAP_SECONDS
from ..mail import outbox

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,39}$")


class AccountError(Exception):
    """Base of the domain errors raised here."""


class InvitationInvalid(AccountError):
    """The invitation link cannot be used; ``reason`` is "unknown", "expired" or "used"."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class FieldErrors(AccountError):
    """Input refused, with messages per form field: ``errors = {"password": ["..."]}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors


# --- invitations ---------------------------------------------------------------------------------

def hash_token(token: str) -> str:
    """Only this digest is stored, so a database leak does not hand out working links."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def session_user(session_id: str) -> User | None:
    """The active user a session belongs to. Sessions carry "id:version"; a bumped version (logout, password
    change) invalidates them."""
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


def create_invitation(organisation: Organisation, created_by: User | None, email: str = "",
                      grants_org_admin: bool = False, days: int | None = None) -> tuple[Invitation, str]:
    """Create a single-use invitation into ``organisation``; returns it and the secret token for the link."""
    token = secrets.token_urlsafe(32)
    days = days if days is not None else int(current_app.config.get("INVITATION_DAYS", 14))
    invitation = Invitation(
        token_hash=hash_token(token), organisation_id=organisation.id,
        created_by_id=created_by.id if created_by is not None else None,
        email=normalise_email(email), grants_org_admin=bool(grants_org_admin),
        created_at=utcnow(), expires_at=utcnow() + timedelta(days=days))
    db.session.add(invitation)
    job = None
    if invitation.email:  # an invitation for one address is also mailed there (through the outbox)
        job = outbox.queue(kind="invitation", recipient=invitation.email,
                           subject="[Groundwork] " + gettext("You are invited to join %(name)s", name=organisation.name),
                           template="invitation",
                           secret=token, context={"organisation": organisation, "inviter": created_by,
                                                  "token": outbox.SECRET_MARK, "days": days})
    db.session.commit()
    background.dispatch(job)
    return invitation, token


def find_invitation(token: str) -> Invitation:
    """The usable invitation behind ``token``, or InvitationInvalid saying why not."""
    if not token or len(token) > 200:
        raise InvitationInvalid("unknown")
    invitation = db.session.execute(
        select(Invitation).where(Invitation.token_hash == hash_token(token))
        .options(selectinload(Invitation.organisation))).scalar_one_or_none()
    if invitation is None:
        raise InvitationInvalid("unknown")
    if invitation.used_at is not None:
        raise InvitationInvalid("used")
    if invitation.expires_at <= utcnow():
        raise InvitationInvalid("expired")
    return invitation


def register_with_invitation(token: str, *, email: str, username: str, display_name: str,
                             password: str) -> User:
    """Create the account the invitation allows, in the invitation's organisation, and use it up."""
    invitation = find_invitation(token)
    email = normalise_email(email)
    username = username.strip()
    display_name = " ".join(display_name.split())
    errors: dict[str, list[str]] = {}
    if invitation.email and email != invitation.email:
        errors.setdefault("email", []).append(gettext("This invitation is for a different email address."))
    if not USERNAME_RE.match(username):
        errors.setdefault("username", []).append(
            gettext("Use 3–40 letters, digits, dots, dashes or underscores, starting with a letter or digit."))
    if not display_name:
        errors.setdefault("display_name", []).append(gettext("Tell us the name to show next to your posts."))
    if email_taken(email):
        errors.setdefault("email", []).append(gettext("An account with this email address already exists."))
    if username and username_taken(username):
        errors.setdefault("username", []).append(gettext("This username is taken."))
    problems = password_problems(password, email=email, username=username, display_name=display_name)
    if problems:
        errors["password"] = problems
    if errors:
        raise FieldErrors(errors)

    now = utcnow()
    user = User(email=email, username=username, display_name=display_name[:80],
                password_hash=hash_password(password), organisation_id=invitation.organisation_id,
                is_org_admin=invitation.grants_org_admin, session_version=1, created_at=now,
                last_seen_at=now)
    db.session.add(user)
    try:
        db.session.flush()
        # Claim the invitation with a conditional UPDATE: of two simultaneous sign-ups only one matches.
        claimed = db.session.execute(
            update(Invitation)
            .where(Invitation.id == invitation.id, Invitation.used_at.is_(None))
            .values(used_at=now, used_by_id=user.id)
            .execution_options(synchronize_session=False))
        if claimed.rowcount != 1:
            db.session.rollback()
            raise InvitationInvalid("used")
        db.session.commit()
    except IntegrityError as exc:
        # A concurrent registration took the email or username between the check and the insert.
        db.session.rollback()
        raise FieldErrors({"username": [gettext("This username or email address was just taken. Try another.")]}) from exc
    return user


# --- signing in and out --------------------------------------------------------------------------

def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively; we store them stripped and lower case."""
    return (email or "").strip().lower()


def find_user_by_email(email: str) -> User | None:
    """The account with this email, whatever its case."""
    email = normalise_email(email)
    if not email:
        return None
    return db.session.execute(select(User).where(func.lower(User.email) == email)).scalars().first()


def email_taken(email: str) -> bool:
    """Is there an account with this email (any case)?"""
    return find_user_by_email(email) is not None


def username_taken(username: str) -> bool:
    """Is this username used (any case)?"""
    return db.session.execute(
        select(User.id).where(func.lower(User.username) == username.strip().lower())).first() is not None


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (same cost either way)."""
    user = find_user_by_email(email)
    if user is None or not user.active or user.is_placeholder or not user.password_hash:
        burn_verification_time(password)
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = utcnow()
    if user.last_seen_at is not None and user.last_seen_at <= now - timedelta(seconds=VISIT_GAP_SECONDS):
        user.previous_visit_at = user.last_seen_at  # signing in after a while away starts a new visit
    user.last_seen_at = now
    db.session.commit()
    return user


def end_sessions(user: User) -> None:
    """Sign out everywhere: every session cookie issued to this user so far stops working."""
    revoke_sessions(user)
    db.session.commit()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one; revokes every existing session."""
    if not verify_password(user.password_hash, current_password):
        raise FieldErrors({"current_password": [gettext("That is not your current password.")]})
    problems = password_problems(new_password, email=user.email, username=user.username,
                                 display_name=user.display_name)
    if not problems and verify_password(user.password_hash, new_password):
        problems = [gettext("Choose a password different from the current one.")]
    if problems:
        raise FieldErrors({"new_password": problems})
    user.password_hash = hash_password(new_password)
    revoke_sessions(user)
    db.session.commit()


# --- profiles ------------------------------------------------------------------------------------

def update_profile(user: User, display_name: str, bio: str, locale: str | None = None) -> None:
    """Change the name shown next to posts, the short bio and the language (None: the browser's)."""
    display_name = " ".join((display_name or "").split())
    if not display_name:
        raise FieldErrors({"display_name": [gettext("Your display name cannot be empty.")]})
    user.display_name = display_name[:80]
    user.bio = (bio or "").strip()[:2000]
    user.locale = locale if locale in LANGUAGES else None
    db.session.commit()


def get_user_by_username(username: str) -> User | None:
    """The account with this username (case-insensitive), or None (a NUL cannot be in a username)."""
    if "\x00" in username:
        return None
    return db.session.execute(
        select(User).where(func.lower(User.username) == username.strip().lower())).scalars().first()


def recent_threads_query(author: User, viewer: User | None) -> Select:
    """Threads ``author`` started that ``viewer`` may see, newest first."""
    return (select(Thread)
            .where(Thread.author_id == author.id, visible_threads(viewer))
            .options(selectinload(Thread.space), selectinload(Thread.tags))
            .order_by(Thread.created_at.desc(), Thread.id.desc()))
