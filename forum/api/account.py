"""The signed-in user's token page: create (shown once), list, revoke."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..ratelimits import limit_posting
from ..services.orgs import tokens

bp = Blueprint("api_tokens", __name__, url_prefix="/account/tokens")


@bp.get("/")
@login_required
def index():
    """The user's live tokens and a form for a new one."""
    return render_template("auth/tokens.html", tokens=tokens.active_tokens(current_user), new_token=None)


@bp.post("/")
@login_required
@limit_posting
def create():
    """Mint a token and show it on this response only (it is never stored in the clear)."""
    try:
        _, raw = tokens.create_token(current_user, request.form.get("name", ""), request.form.get("scope", ""))
    except tokens.TokenError as exc:
        flash(str(exc), "error")
        return render_template("auth/tokens.html", tokens=tokens.active_tokens(current_user), new_token=None), 400
    response = render_template("auth/tokens.html", tokens=tokens.active_tokens(current_user), new_token=raw)
    return response, 201, {"Cache-Control": "no-store"}


@bp.post("/<int:token_id>/revoke")
@login_required
def revoke(token_id: int):
    """Revoke one of the user's own tokens (someone else's looks missing)."""
    if not tokens.revoke_token(current_user, token_id):
        abort(404)
    flash(_("Token revoked."), "success")
    return redirect(url_for("api_tokens.index"), 303)
