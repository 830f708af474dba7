"""Serving attached files: only to those who see the post, never as something a browser could run.

Every answer carries ``nosniff`` and a CSP of ``default-src 'none'; sandbox`` (an HTML or SVG file opened
directly runs nothing and reaches nothing); only images are shown inline, as the image type their content was
decoded as. Text is inline only as ``text/plain`` when asked for (``?view=text``), otherwise a download.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import Blueprint, abort, current_app, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import login_manager
from ..forms.board import ActionForm
from ..permissions import PermissionDenied
from ..services.attachments import files, store

if TYPE_CHECKING:
    from werkzeug.wrappers import Response

    from ..models import Attachment

bp = Blueprint("attachments", __name__)

FILE_CSP = "default-src 'none'; sandbox"


@bp.before_request
def _readers_only():
    if not current_user.is_authenticated and not current_app.config.get("PUBLIC_READ"):
        return login_manager.unauthorized()
    return None


def _visible_or_404(attachment_id: int) -> Attachment:
    row = files.visible_attachment(current_user, attachment_id)
    if row is None:
        abort(404)
    return row


def locked_down(response: Response) -> Response:
    response.headers["Content-Security-Policy"] = FILE_CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    # Behind a sign-in: no shared cache may keep it.
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def file_response(row: Attachment) -> Response:
    """A visible file as the answer (pages and the API alike): an image inline, text as plain text when
    ``?view=text``, anything else a download; always locked down."""
    path = store.blob_path(row.sha256)
    if not path.exists():
        abort(404)
    inline = row.is_image or request.args.get("view") == "text"
    mimetype = row.content_type if row.is_image else "text/plain; charset=utf-8"
    response = send_file(path, mimetype=mimetype, as_attachment=not inline, download_name=row.filename,
                         conditional=True, etag=row.sha256)
    return locked_down(response)


@bp.get("/files/<int:attachment_id>/<path:name>")
def download(attachment_id: int, name: str):
    """The file itself (see ``file_response``)."""
    return file_response(_visible_or_404(attachment_id))


@bp.get("/thumbs/<int:attachment_id>.png")
def thumbnail(attachment_id: int):
    """An image's thumbnail (PNG)."""
    row = _visible_or_404(attachment_id)
    if not row.is_image:
        abort(404)
    path = store.thumb_path(row.sha256)
    if not path.exists():
        abort(404)
    return locked_down(send_file(path, mimetype="image/png", conditional=True, etag="t" + row.sha256))


@bp.post("/attachments/<int:attachment_id>/remove")
@login_required
def remove(attachment_id: int):
    """Take a file off its post (its uploader or a moderator)."""
    row = _visible_or_404(attachment_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    thread_id, reply_id = row.thread_id, row.reply_id
    try:
        files.remove(current_user, row)
    except PermissionDenied:
        abort(403)
    flash(_("File removed."), "success")
    return redirect(url_for("board.thread", thread_id=thread_id, _anchor=f"r{reply_id}" if reply_id else None))
