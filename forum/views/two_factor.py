"""Two-factor sign-in: the challenge after the password, setting up an authenticator app, the account page for
it (recovery codes, remembered devices) and an admin's reset of a member's second factor."""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.two_factor import ChallengeForm, SetupForm
from ..ratelimits import limit_two_factor
from ..security import safe_next_url
from ..services.identity import devices, two_factor
from ..services.orgs import organisations as org_service
from . import signin
from .lookup import or_404

bp = Blueprint("two_factor", __name__)
SETUP_SECRET = "two_factor_setup_secret"


@bp.after_request
def _no_store(response):
    # Secrets, recovery codes and one-time codes: never cached.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.record_once
def _setup(state) -> None:
    signin.init_guard(state.app)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limit_two_factor
def challenge():
    """The second step of signing in: a code from the authenticator app or a recovery code."""
    user = signin.pending_user()
    if user is None:
        if current_user.is_authenticated:
            return redirect(url_for("board.home"))
        flash(_("Sign in again, please: the sign-in waited too long for its second step."), "info")
        return redirect(url_for("auth.login"))
    if not two_factor.is_enrolled(user):
        return redirect(url_for("two_factor.setup"))
    form = ChallengeForm()
    status = 200
    if form.validate_on_submit():
        try:
            kind = two_factor.verify(user, form.code.data)
        except two_factor.CodeRefused as exc:
            form.code.errors = [str(exc)]
            status = 401
        else:
            target = safe_next_url(signin.finish(user), url_for("board.home"))
            if kind == "recovery":
                left = two_factor.recovery_codes_left(user)
                flash(_("Recovery code used: %(left)s left. Make new ones on your account's two-factor page.", left=left),
                      "info" if left > 2 else "error")
            response = make_response(redirect(target))
            if form.remember.data:
                _set_device_cookie(response, devices.remember(user, request.user_agent.string or ""))
            return response
    elif request.method == "POST":
        status = 400
    return render_template("auth/two_factor_challenge.html", form=form, user=user,
                           days=devices.remember_days()), status


def _set_device_cookie(response, value: str) -> None:
    response.set_cookie(devices.COOKIE_NAME, value, max_age=devices.remember_days() * 86400, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
                        path="/")


@bp.route("/login/two-factor/setup", methods=["GET", "POST"])
@limit_two_factor
def setup():
    """Set up an authenticator app: for staff at their first sign-in, or for anyone from their account page."""
    user = signin.pending_user()
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    if user is None:
        return redirect(url_for("auth.login"))
    if two_factor.is_enrolled(user):
        return redirect(url_for("two_factor.challenge" if signin.PENDING in session else "two_factor.account"))
    secret = session.get(SETUP_SECRET)
    if not secret:
        # Kept in the session until confirmed: looking at the page twice shows the same secret.
        secret = session[SETUP_SECRET] = two_factor.new_secret()
    form = SetupForm()
    status = 200
    if form.validate_on_submit():
        try:
            codes = two_factor.enroll(user, secret, form.code.data)
        except two_factor.CodeRefused as exc:
            form.code.errors = [str(exc)]
            status = 400
        else:
            session.pop(SETUP_SECRET, None)
            target = url_for("two_factor.account")
            if signin.pending_user() is not None:
                target = safe_next_url(signin.finish(user), url_for("board.home"))
            else:
                session[signin.FACTOR] = "passed"
            return render_template("auth/two_factor_codes.html", codes=codes, target=target, fresh=True)
    elif request.method == "POST":
        status = 400
    return render_template("auth/two_factor_setup.html", form=form, secret=secret, user=user,
                           uri=two_factor.provisioning_uri(user, secret),
                           required=permissions.must_use_second_factor(user)), status


@bp.get("/account/two-factor")
@login_required
def account():
    """Two-factor sign-in on one's account: on or off, recovery codes left, remembered devices."""
    me = current_user._get_current_object()
    return render_template("auth/two_factor.html", enrolled=two_factor.is_enrolled(me),
                           codes_left=two_factor.recovery_codes_left(me), devices=devices.devices_of(me),
                           required=permissions.must_use_second_factor(me),
                           may_turn_off=permissions.can_turn_off_second_factor(me))


@bp.post("/account/two-factor/recovery-codes")
@login_required
def new_recovery_codes():
    """Replace the recovery codes (the old ones stop working) and show the new ones once."""
    try:
        codes = two_factor.regenerate_recovery_codes(current_user._get_current_object())
    except two_factor.CodeRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("two_factor.account"))
    return render_template("auth/two_factor_codes.html", codes=codes, target=url_for("two_factor.account"),
                           fresh=False)


@bp.post("/account/two-factor/off")
@login_required
def turn_off():
    """Members for whom it is optional turn two-factor sign-in off; staff cannot."""
    me = current_user._get_current_object()
    if not permissions.can_turn_off_second_factor(me):
        abort(403)
    two_factor.disable(me)
    session[signin.FACTOR] = "none"
    flash(_("Two-factor sign-in is off."), "success")
    return redirect(url_for("two_factor.account"))


@bp.post("/account/two-factor/devices/<int:device_id>/forget")
@login_required
def forget_device(device_id: int):
    """Stop remembering one device: its next sign-in asks for a code again."""
    if not devices.forget(current_user._get_current_object(), device_id):
        abort(404)
    flash(_("That device will be asked for a code at its next sign-in."), "success")
    return redirect(url_for("two_factor.account"))


@bp.post("/admin/users/<int:user_id>/two-factor/reset")
@login_required
def admin_reset(user_id: int):
    """An admin resets a member's second factor (a lost phone); audited, and the member is signed out."""
    member = or_404(org_service.user(user_id))
    if not permissions.can_reset_second_factor(current_user, member):
        abort(403)
    two_factor.reset(member, current_user._get_current_object())
    flash(_('Second factor of %(display_name)s reset; they are signed out everywhere.', display_name=member.display_name), "success")
    return redirect(url_for("admin.edit_user", user_id=member.id))
