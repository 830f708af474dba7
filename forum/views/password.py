"""Forgotten passwords: ask for a reset link by email, then choose a new password through it."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user

from ..forms.auth import PASSWORD_HINT
from ..forms.password_reset import ForgotPasswordForm, ResetPasswordForm
from ..ratelimits import limit_password_reset, limit_password_reset_account
from ..services.orgs import password_reset
from ..services.orgs.accounts import FieldErrors

bp = Blueprint("password", __name__, url_prefix="/password")

SENT = _l("If an account uses that address, a link to reset its password is on its way. "
          "It works once, for an hour.")


@bp.after_request
def _no_store(response):
    # The reset link's page carries a one-time token: never cache it.
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@bp.route("/forgot", methods=["GET", "POST"])
@limit_password_reset
@limit_password_reset_account
def forgot():
    """Ask for a reset link; the answer is the same whether the address has an account or not."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data)
        return render_template("auth/forgot_password.html", form=None, sent=SENT)
    status = 400 if request.method == "POST" else 200
    return render_template("auth/forgot_password.html", form=form, sent=None), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limit_password_reset
def reset(token: str):
    """Choose a new password through a valid link; every session of the account ends."""
    try:
        password_reset.user_for_token(token)
    except password_reset.ResetLinkInvalid:
        return render_template("auth/reset_password.html", form=None, invalid=True), 404
    form = ResetPasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            password_reset.reset_password(token, form.password.data)
        except password_reset.ResetLinkInvalid:
            return render_template("auth/reset_password.html", form=None, invalid=True), 404
        except FieldErrors as exc:
            form.password.errors = list(form.password.errors) + exc.errors.get("password", [])
            status = 400
        else:
            if current_user.is_authenticated:
                logout_user()
            flash(_("Your password is changed and every session of the account has ended. Sign in with it now."),
                  "success")
            return redirect(url_for("auth.login"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/reset_password.html", form=form, invalid=False, password_hint=PASSWORD_HINT), status
