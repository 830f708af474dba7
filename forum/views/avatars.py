"""Avatars: the member's own picture (upload, remove) and serving pictures with the attachment headers."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import login_manager
from ..forms.board import ActionForm
from ..services.attachments import avatars
from ..services.board.threads import ValidationFailed
from ..services.orgs import accounts
from .attachments import locked_down

bp = Blueprint("avatars", __name__)


@bp.app_template_filter("initials")
def _initials(name: str | None) -> str:
    return avatars.initials(name)


@bp.app_template_filter("avatar_colour")
def _avatar_colour(user_id: int) -> int:
    return avatars.colour_index(user_id)


@bp.get("/avatars/<username>/<sha>.png")
def picture(username: str, sha: str):
    """A member's current avatar; the hash in the address changes with the picture, so it may be kept long."""
    if not current_user.is_authenticated and not current_app.config.get("PUBLIC_READ"):
        return login_manager.unauthorized()
    user = accounts.get_user_by_username(username)
    path = avatars.avatar_path(user, sha) if user is not None else None
    if path is None:
        abort(404)
    response = locked_down(send_file(path, mimetype="image/png", conditional=True, etag=sha))
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@bp.route("/account/avatar", methods=["GET", "POST"])
@login_required
def account():
    """Upload a picture, or go back to initials."""
    me = current_user._get_current_object()
    form = ActionForm()
    error, status = None, 200
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        if request.form.get("remove"):
            avatars.remove_avatar(me)
            flash(_("Your avatar is your initials again."), "success")
            return redirect(url_for("avatars.account"))
        upload = request.files.get("avatar")
        try:
            avatars.set_avatar(me, upload.read() if upload else b"")
        except ValidationFailed as exc:
            error, status = exc.message, 400
        else:
            flash(_("Your avatar is saved."), "success")
            return redirect(url_for("avatars.account"))
    return render_template("auth/avatar.html", form=form, error=error), status
