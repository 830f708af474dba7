"""API endpoints for files on posts: adding them to a post the caller may edit, downloading, removing.

Files also come with a new thread or reply (``routes``, multipart). The checks, limits and headers are the web's:
the same services, ``permissions.can_view_attachment`` to see one, and the attachments view's locked-down answer.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from flask import abort, jsonify, request
from flask_babel import gettext

from ..inputs import room_for_files
from ..permissions import PermissionDenied
from ..services.attachments import files
from ..services.attachments.checks import FileRefused
from ..services.board import pages, threads
from ..views.attachments import file_response
from . import api_error, api_user, bp, limit_api_posting, require_user
from .serialise import attachment_json

if TYPE_CHECKING:
    from flask import Response

    from ..models import Reply, Thread

UPLOAD_ENDPOINTS = frozenset({"api.create_thread", "api.create_reply", "api.add_thread_files", "api.add_reply_files"})
# What each refusal is, for a program: a file over the size limit is "too large" like the whole request would be.
REFUSAL_STATUS = {"too_large": 413, "type_not_allowed": 415}


@bp.url_value_preprocessor
def _room_for_files(endpoint: str | None, values: dict | None) -> None:
    if endpoint in UPLOAD_ENDPOINTS:
        room_for_files()


def uploads() -> list[files.Upload]:
    """The request's files (multipart field ``files``, repeated); none for a JSON body."""
    return [files.Upload(f.filename, f.read()) for f in request.files.getlist("files")]


def refused(exc: FileRefused) -> Response:
    """A refused file as a JSON error: 413 too large, 415 a type not allowed, 400 otherwise; ``reason`` says which."""
    code = REFUSAL_STATUS.get(exc.reason, 400)
    response = jsonify(error={"code": code, "message": exc.message, "field": "files", "reason": exc.reason})
    response.status_code = code
    return response


def _not_yours(exc: PermissionDenied) -> Response:
    return api_error(403, str(exc) or gettext("You do not have permission to do that."))


def _add(user, thread: Thread, reply: Reply | None) -> Response:
    try:
        checked = files.check_uploads(uploads())
        if not checked:
            raise FileRefused(gettext("Send at least one file (multipart/form-data, field files)."), "empty")
        if reply is None:
            _, added = files.edit_post_files(user, thread, None, checked, (), lambda changes: threads.edit_thread(
                user, thread, title=thread.title, body=thread.body_md, file_changes=changes))
        else:
            _, added = files.edit_post_files(user, thread, reply, checked, (), lambda changes: threads.edit_reply(
                user, reply, reply.body_md, file_changes=changes))
    except FileRefused as exc:
        return refused(exc)
    except PermissionDenied as exc:
        return _not_yours(exc)
    response = jsonify(items=[attachment_json(row) for row in added])
    response.status_code = 201
    return response


@bp.post("/threads/<int:thread_id>/attachments")
@limit_api_posting
def add_thread_files(thread_id: int):
    """Add files to a question the caller may edit (write scope)."""
    user = require_user()
    thread = pages.visible_thread(user, thread_id)
    if thread is None:
        abort(404)
    return _add(user, thread, None)


@bp.post("/replies/<int:reply_id>/attachments")
@limit_api_posting
def add_reply_files(reply_id: int):
    """Add files to a reply the caller may edit (write scope)."""
    user = require_user()
    reply = pages.visible_reply(user, reply_id)
    if reply is None:
        abort(404)
    return _add(user, reply.thread, reply)


@bp.get("/attachments/<int:attachment_id>")
def download_attachment(attachment_id: int):
    """The file, to whoever sees its post, with the web's headers (``?view=text`` shows text inline)."""
    row = files.visible_attachment(api_user(), attachment_id)
    if row is None:
        abort(404)
    return file_response(row)


@bp.delete("/attachments/<int:attachment_id>")
def remove_attachment(attachment_id: int):
    """Take a file off its post (its uploader, the post's editors, a moderator of the space; write scope)."""
    user = require_user()
    row = files.visible_attachment(user, attachment_id)
    if row is None:
        abort(404)
    try:
        files.remove(user, row)
    except PermissionDenied as exc:
        return _not_yours(exc)
    return "", 204
