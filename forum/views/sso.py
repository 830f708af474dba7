"""Single sign-on: routing from the login page by email domain, the round trip to the organisation's OpenID
Connect provider, signing out there too, and the admin page for an organisation's provider."""
from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from .. import permissions
from ..forms.auth import LoginForm
from ..forms.sso import SsoProviderForm, SsoStartForm
from ..ratelimits import limit_login
from ..security import safe_next_url
from ..services.identity import oidc
from ..services.orgs import organisations as org_service
from ..services.orgs.catalog import ValidationFailed
from . import signin
from .lookup import or_404

bp = Blueprint("sso", __name__)
PENDING_SSO = "sso_pending"


def _callback_url() -> str:
    return url_for("sso.callback", _external=True)


@bp.post("/login/sso")
@limit_login
def route():
    """The login form's single sign-on button: find the provider by the email's domain and go there."""
    form = SsoStartForm()
    if form.validate_on_submit():
        row = oidc.provider_for_email(form.email.data)
        if row is not None:
            # A page, not a redirect: browsers apply the login form's form-action policy to its redirects, and
            # the provider is another origin.
            url = url_for("sso.begin", provider_id=row.id, next=form.next.data or None)
            return render_template("auth/onward.html", url=url, heading=_('Continue with %(label)s', label=row.label),
                                   message=_("Taking you to %(name)s's sign-in page…", name=row.organisation.name),
                                   link=_('Continue with %(label)s', label=row.label))
        message = _("No single sign-on is set up for that email address; sign in with your password.")
    else:
        message = _("Enter your work email address to sign in with single sign-on.")
    login_form = LoginForm()
    login_form.email.data, login_form.next.data = form.email.data, form.next.data
    login_form.email.errors = [message]
    return render_template("auth/login.html", form=login_form, sso=None), 400


@bp.get("/login/sso/<int:provider_id>")
@limit_login
def begin(provider_id: int):
    """Send the browser to the organisation's identity provider, remembering state, nonce and PKCE verifier."""
    row = oidc.provider(provider_id)
    if row is None:
        abort(404)
    try:
        url, pending = oidc.start(row, _callback_url())
    except oidc.SsoRefused as exc:
        flash(str(exc), "error")
        return redirect(url_for("auth.login"))
    pending["next"] = safe_next_url(request.args.get("next"), url_for("board.home"))
    session[PENDING_SSO] = pending
    return redirect(url)


@bp.get("/login/sso/callback")
def callback():
    """The provider sends the browser back here with a code: verify, then sign in (second factor if due)."""
    pending = session.pop(PENDING_SSO, None)  # one use: a replayed callback finds nothing
    if request.args.get("error"):
        flash(_("The identity provider did not sign you in."), "error")
        return redirect(url_for("auth.login"))
    try:
        user, claims = oidc.finish(pending or {}, request.args.get("state", ""), request.args.get("code", ""),
                                   _callback_url())
    except oidc.SsoRefused as exc:
        return render_template("auth/sso_refused.html", message=str(exc)), 403
    extra = {"sso_provider": pending["provider"], "sso_at": time.time()}
    if claims.get("_end_session"):
        extra.update(sso_end_session=claims["_end_session"], sso_id_token=claims["_id_token"])
    return signin.begin(user, pending.get("next") or url_for("board.home"), mfa_asserted=oidc.mfa_asserted(claims),
                        extra=extra)


@bp.route("/admin/organisations/<int:organisation_id>/sso", methods=["GET", "POST"])
@login_required
def configure(organisation_id: int):
    """An admin sets an organisation's identity provider (the client secret is write-only)."""
    if not permissions.can_administer(current_user):
        abort(403)
    organisation = or_404(org_service.organisation(organisation_id))
    row = oidc.provider_of(organisation)
    form = SsoProviderForm(obj=row)
    if request.method == "GET" and row is not None:
        form.email_domains.data = ", ".join(row.email_domains or [])
    status = 200
    if form.validate_on_submit():
        try:
            oidc.save_provider(organisation, current_user._get_current_object(), label=form.label.data,
                               issuer=form.issuer.data, client_id=form.client_id.data,
                               client_secret=form.client_secret.data, email_domains=form.email_domains.data,
                               sso_only=form.sso_only.data, enabled=form.enabled.data)
        except ValidationFailed as exc:
            field = getattr(form, exc.field or "", None)
            (field.errors if field is not None else form.form_errors).append(exc.message)
            status = 400
        else:
            flash(_('Single sign-on of %(name)s saved.', name=organisation.name), "success")
            return redirect(url_for("sso.configure", organisation_id=organisation.id))
    elif request.method == "POST":
        status = 400
    return render_template("admin/sso.html", form=form, organisation=organisation, provider=row,
                           callback=_callback_url()), status
