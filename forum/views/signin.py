"""Starting a signed-in session, with the second factor in between where it is needed.

A password (or an identity provider) that accepted someone does not sign them in at once when a second factor is
due: the session only holds a *pending* sign-in, and ``guard`` sends every request of such a session to the
challenge (or, for staff who have none yet, to setting one up). The session is started, with a fresh cookie, only
once the factor is passed, a remembered device is recognised, or the identity provider asserted MFA.
"""
from __future__ import annotations

import time

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..permissions import must_use_second_factor
from ..services.identity import devices, two_factor
from ..services.orgs.accounts import session_user

PENDING = "pending_sign_in"
FACTOR = "second_factor"  # "passed", or "none" when none was due at sign-in
# What a pending sign-in may reach: the challenge, setting up a factor, signing out or in again, static files.
OPEN_TO_PENDING = {"two_factor.challenge", "two_factor.setup", "auth.login", "auth.logout", "static"}


def start_session(user, factor: str = "none", extra: dict | None = None) -> None:
    """A fresh session for ``user``: nothing from before (e.g. a planted cookie or a pending sign-in) carries over."""
    session.clear()
    g.pop("csrf_token", None)  # the cached token belonged to the cleared session
    login_user(user)
    session.permanent = True
    session[FACTOR] = factor
    session.update(extra or {})


def factor_due(user) -> bool:
    """Does signing this member in need a second factor?"""
    return must_use_second_factor(user) or two_factor.is_enrolled(user)


def begin(user, target: str, mfa_asserted: bool = False, extra: dict | None = None) -> Response:
    """Continue a sign-in that proved the first factor: into the session, or to the second factor first."""
    if not factor_due(user):
        start_session(user, "none", extra)
        return redirect(target)
    if mfa_asserted or devices.recognises(user, request.cookies.get(devices.COOKIE_NAME)):
        start_session(user, "passed", extra)
        return redirect(target)
    session.clear()
    g.pop("csrf_token", None)
    session[PENDING] = {"user": user.get_id(), "next": target, "at": time.time(), "extra": extra or {}}
    return redirect(url_for("two_factor.challenge"))


def pending_user():
    """The member whose sign-in waits for a second factor (None when none waits, or it waited too long)."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > float(current_app.config.get("TWO_FACTOR_PENDING_SECONDS", 600)):
        session.pop(PENDING, None)
        return None
    return session_user(str(pending.get("user", "")))


def finish(user) -> str:
    """The second factor passed: start the session; where the member was going."""
    pending = session.get(PENDING) or {}
    target = pending.get("next") or url_for("board.home")
    start_session(user, "passed", pending.get("extra") or {})
    return target


def guard() -> Response | None:
    """Before every request: a pending sign-in reaches only the challenge; a session that began before its
    member needed a second factor (the requirement came later) goes back through it."""
    if request.endpoint in OPEN_TO_PENDING:
        return None
    if PENDING in session:
        return redirect(url_for("two_factor.challenge"))
    if not current_user.is_authenticated or session.get(FACTOR) == "passed":
        return None
    user = current_user._get_current_object()
    # "none" at sign-in stays enough for members whose factor is optional; staff always need one. A session from
    # before second factors existed is looked at once, then marked.
    if FACTOR not in session and not must_use_second_factor(user) and not two_factor.is_enrolled(user):
        session[FACTOR] = "none"
        return None
    if must_use_second_factor(user) or FACTOR not in session:
        target = request.full_path if request.method == "GET" else url_for("board.home")
        logout_user()
        session.clear()
        session[PENDING] = {"user": user.get_id(), "next": target.rstrip("?"), "at": time.time(), "extra": {}}
        return redirect(url_for("two_factor.challenge"))
    return None


def init_guard(app: Flask) -> None:
    app.before_request(guard)
