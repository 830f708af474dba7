"""Signing in and out, registration by invitation, profiles and the account page."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..forms.auth import PASSWORD_HINT, ChangePasswordForm, LoginForm, ProfileForm, RegisterForm
from ..permissions import public_read_enabled
from ..ratelimits import limit_login, limit_login_account, limit_register
from ..security import safe_next_url
from ..services.identity import oidc
from ..services.orgs import accounts
from ..services.orgs import organisations as org_service
from ..services.paging import page_of
from . import signin
from .lookup import page_number

bp = Blueprint("auth", __name__)


@bp.after_request
def _no_store(response):
    # Sign-in, registration and account pages carry personal data and one-time links: never cache them.
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _start_session(user) -> None:
    # A fresh session on every sign-in: nothing from before (e.g. a planted cookie) carries over; a second
    # factor already passed in this session stays passed.
    signin.start_session(user, session.get(signin.FACTOR, "none"))


def _apply_field_errors(form, errors: dict[str, list[str]]) -> None:
    # Service errors name form fields; anything else still reaches the user as a flash.
    for name, messages in errors.items():
        field = form._fields.get(name)
        if field is None:
            for message in messages:
                flash(message, "error")
            continue
        field.errors = list(field.errors) + list(messages)


@bp.route("/login", methods=["GET", "POST"])
@limit_login
@limit_login_account
def login():
    """Sign in with email and password; ``next`` may only point back into this site."""
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    target = safe_next_url(form.next.data, url_for("board.home"))
    if current_user.is_authenticated:
        return redirect(target)
    status = 200
    sso = oidc.provider_for_email(request.args.get("email", "")) if request.method == "GET" else None
    if sso is not None:
        form.email.data = request.args.get("email", "")
    if form.validate_on_submit():
        sso = oidc.password_refused_by(form.email.data)
        if sso is not None:
            # The organisation signs in with its identity provider only: the password is not even checked.
            form.password.errors = [_("%(organisation)s signs in with %(label)s: use the button below.",
                                       organisation=sso.organisation.name, label=sso.label)]
            return render_template("auth/login.html", form=form, sso=sso), 403
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            return signin.begin(user, target)
        form.password.errors = [_("The email address or password is not right.")]
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, sso=sso), status


@bp.route("/logout", methods=["POST"])
def logout():
    """Sign out and revoke every session cookie issued so far (POST with CSRF only)."""
    end_session, id_token = session.get("sso_end_session"), session.get("sso_id_token")
    if current_user.is_authenticated:
        accounts.end_sessions(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You are signed out."), "success")
    if end_session and id_token:
        # Signed in through the organisation's identity provider: sign out there too, then come back here.
        separator = "&" if "?" in end_session else "?"
        url = end_session + separator + urlencode({
            "id_token_hint": id_token, "post_logout_redirect_uri": url_for("auth.login", _external=True)})
        # A page, not a redirect: the sign-out form's redirect to another origin would break the form-action policy.
        return render_template("auth/onward.html", url=url, heading=_("Signing you out"),
                               message=_("You are signed out here; now signing you out at your identity provider…"),
                               link=_("Continue"))
    return redirect(url_for("auth.login"))


@bp.route("/register/<token>", methods=["GET", "POST"])
@limit_register
def register(token: str):
    """Create an account from an invitation link; the invitation decides the organisation."""
    try:
        invitation = accounts.find_invitation(token)
    except accounts.InvitationInvalid as exc:
        return _invitation_refused(exc.reason)
    if current_user.is_authenticated:
        return render_template("auth/register.html", invitation=invitation, form=None, signed_in=True)
    form = RegisterForm()
    if request.method == "GET" and invitation.email:
        form.email.data = invitation.email
    status = 200
    if form.validate_on_submit():
        try:
            user = accounts.register_with_invitation(
                token, email=form.email.data, username=form.username.data,
                display_name=form.display_name.data, password=form.password.data)
        except accounts.InvitationInvalid as exc:
            return _invitation_refused(exc.reason)
        except accounts.FieldErrors as exc:
            _apply_field_errors(form, exc.errors)
            status = 400
        else:
            _start_session(user)
            flash(_('Welcome to Groundwork, %(display_name)s.', display_name=user.display_name), "success")
            return redirect(url_for("board.home"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/register.html", invitation=invitation, form=form, signed_in=False,
                           password_hint=PASSWORD_HINT), status


def _invitation_refused(reason: str):
    # Unknown links answer 404; links that existed but are spent or expired answer 410 Gone.
    status = 404 if reason == "unknown" else 410
    return render_template("auth/invitation_invalid.html", reason=reason), status


@bp.route("/u/<username>")
def profile(username: str):
    """A member's public face: name, organisation, roles and the threads the viewer may see."""
    if not current_user.is_authenticated and not public_read_enabled():
        return current_app.login_manager.unauthorized()
    user = accounts.get_user_by_username(username)
    if user is None:
        # An @mention may name an organisation (its slug): its link lands here and goes on to the organisation.
        organisation = org_service.organisation_by_slug(username.strip().lower()) if current_user.is_authenticated else None
        if organisation is None:
            abort(404)
        return redirect(url_for("orgs.show", slug=organisation.slug))
    page = page_of(accounts.recent_threads_query(user, current_user), page_number(), current_app.config["PAGE_SIZE"])
    return render_template("auth/profile.html", user=user, page=page)


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    """Edit one's display name and bio."""
    me = current_user._get_current_object()
    form = ProfileForm(obj=me)
    if form.locale.data is None:
        form.locale.data = ""  # no stored language: the "as my browser asks" choice
    status = 200
    if form.validate_on_submit():
        try:
            accounts.update_profile(me, form.display_name.data, form.bio.data, form.locale.data or None)
        except accounts.FieldErrors as exc:
            _apply_field_errors(form, exc.errors)
            status = 400
        else:
            flash(_("Your profile is saved."), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/account.html", form=form), status


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password; other sessions end, this one continues under the new session version."""
    me = current_user._get_current_object()
    form = ChangePasswordForm()
    status = 200
    if form.validate_on_submit():
        try:
            accounts.change_password(me, form.current_password.data, form.new_password.data)
        except accounts.FieldErrors as exc:
            _apply_field_errors(form, exc.errors)
            status = 400
        else:
            _start_session(me)
            flash(_("Your password is changed. Other devices have been signed out."), "success")
            return redirect(url_for("auth.account"))
    elif request.method == "POST":
        status = 400
    return render_template("auth/change_password.html", form=form, password_hint=PASSWORD_HINT), status
