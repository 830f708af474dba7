"""API endpoints: thin wrappers around the services, visibility always from ``forum.permissions``."""
from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING

from flask import abort, current_app, g, jsonify, request
from flask_babel import gettext as _

from .. import permissions
from ..permissions import PermissionDenied
from ..services import listings
from ..services.attachments import files as attachment_files
from ..services.attachments.checks import FileRefused
from ..services.board import pages, search, threads
from ..services.community import inbox
from ..services.orgs import catalog
from . import api_error, api_user, bp, limit_api_posting, require_user
from .files import refused, uploads
from .serialise import (
    attachment_json,
    notification_json,
    pattern_json,
    playbook_json,
    reply_json,
    thread_json,
)

if TYPE_CHECKING:
    from ..models import Thread

DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_ID = 2**31 - 1  # PostgreSQL's integer: larger ids cannot exist, and would be a database error


# --- paging helpers ------------------------------------------------------------------------------

def encode_cursor(last_id: int) -> str:
    """An opaque cursor: the last id of the page, wrapped so clients do not build it themselves."""
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None) -> int | None:
    """The id a cursor points before; a malformed cursor is the client's mistake (400)."""
    if not raw:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        value = data["before"]
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        abort(400, _("The cursor is not valid."))
    if not isinstance(value, int) or isinstance(value, bool) or value < 1 or value > MAX_ID:
        abort(400, _("The cursor is not valid."))
    return value


def page_limit() -> int:
    """``limit`` from the query string: 1 to 100, default 20."""
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(raw)
    except ValueError:
        abort(400, _("limit must be a whole number from 1 to 100."))
    if not 1 <= value <= MAX_LIMIT:
        abort(400, _("limit must be a whole number from 1 to 100."))
    return value


def cursor_page(listing, serialise):
    """Newest first by id: one page of ``listing(before, limit)`` after the cursor, with the next cursor or null."""
    limit = page_limit()
    rows, more = listing(decode_cursor(request.args.get("cursor")), limit)
    return jsonify(items=[serialise(r) for r in rows],
                   next_cursor=encode_cursor(rows[-1].id) if more and rows else None)


def json_body() -> dict:
    """The request's JSON object, or a 400."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400, _("Send a JSON object with Content-Type: application/json."))
    return data


def post_fields() -> dict:
    """A new post's fields: the JSON object, or the multipart form that carries files, its text read as the JSON
    types (``space_id`` a whole number, ``staff_note`` true/false, ``tags`` comma-separated)."""
    if request.mimetype != "multipart/form-data":
        return json_body()
    data: dict = {k: v for k, v in request.form.items()}
    if data.get("space_id", "").isascii() and data.get("space_id", "").isdigit():
        data["space_id"] = int(data["space_id"])
    if "staff_note" in data:
        data["staff_note"] = {"true": True, "1": True, "false": False, "0": False}.get(data["staff_note"].lower(),
                                                                                     data["staff_note"])
    if "tags" in data:
        data["tags"] = [t for t in data["tags"].split(",") if t.strip()]
    return data


def _text(data: dict, name: str, config_key: str, required: bool = True) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or (required and not value.strip()):
        abort(400, _("%(name)s must be a non-empty string.", name=name))
    if "\x00" in value or len(value) > int(current_app.config.get(config_key, 300 if name == "title" else 50000)):
        abort(400, _("%(name)s is too long or contains invalid characters.", name=name))
    return value


def visible_thread_or_404(thread_id: int, user) -> Thread:
    thread = pages.visible_thread(user, thread_id)
    if thread is None:
        abort(404)
    return thread


# --- endpoints -----------------------------------------------------------------------------------

@bp.get("/me")
def me():
    """The caller's own account."""
    user = require_user()
    token = g.get("api_token")
    return jsonify(id=user.id, username=user.username, display_name=user.display_name,
                   role=user.role.value, organisation={"id": user.organisation_id, "name": user.organisation.name},
                   token_scope=token.scope if token else None)


@bp.get("/threads")
def list_threads():
    """Visible threads, newest first, cursor-paginated."""
    user = api_user()
    return cursor_page(lambda before, limit: listings.threads(user, before, limit), thread_json)


@bp.get("/threads/<int:thread_id>")
def get_thread(thread_id: int):
    """One thread with the replies the caller may see."""
    user = api_user()
    thread = visible_thread_or_404(thread_id, user)
    replies = listings.visible_replies(user, thread)
    files = attachment_files.for_thread_page(user, thread, replies)  # one query, the page's own visibility

    def listed(reply_id: int | None) -> list[dict]:
        return [attachment_json(row) for row in files.get(reply_id, [])]

    shown = [reply_json(r, user) | {"attachments": listed(r.id)} for r in replies]
    return jsonify(thread_json(thread) | {"attachments": listed(None), "replies": shown})


def _choice_field(data: dict, name: str, values: tuple[str, ...], default: str) -> str:
    raw = data.get(name, default)
    if not isinstance(raw, str) or raw not in values:
        abort(400, _("%(name)s must be one of: %(values)s.", name=name, values=", ".join(values)))
    return raw


@bp.post("/threads")
@limit_api_posting
def create_thread():
    """Start a thread (write scope)."""
    user = require_user()
    data = post_fields()
    title = _text(data, "title", "TITLE_MAX_LENGTH")
    body = _text(data, "body", "POST_MAX_LENGTH")
    space_id = data.get("space_id")
    if not isinstance(space_id, int) or isinstance(space_id, bool):
        abort(400, _("space_id must be an integer."))
    space = catalog.space(space_id) if 0 < space_id <= MAX_ID else None
    if space is None or not permissions.can_view_space(user, space):
        return api_error(400, _("There is no such space."), "space_id")
    kind = _choice_field(data, "kind", threads.KIND_VALUES, "question")
    visibility = _choice_field(data, "visibility", threads.VISIBILITY_VALUES, space.default_visibility.value)
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        abort(400, _("tags must be a list of strings."))
    try:
        # Every file is checked before the thread is stored: a refused file refuses the post, nothing half-saved.
        checked = attachment_files.check_uploads(uploads())
        thread = threads.create_thread(user, space=space, title=title, body=body, kind=kind,
                                       visibility=visibility, tags=tags)
    except FileRefused as exc:
        return refused(exc)
    except threads.ValidationFailed as exc:
        return api_error(400, exc.message, exc.field)
    except PermissionDenied as exc:
        return api_error(403, str(exc) or _("You do not have permission to do that."))
    added = attachment_files.attach(user, checked, thread)
    response = jsonify(thread_json(thread) | {"attachments": [attachment_json(row) for row in added]})
    response.status_code = 201
    return response


@bp.post("/threads/<int:thread_id>/replies")
@limit_api_posting
def create_reply(thread_id: int):
    """Reply to a visible thread (write scope)."""
    user = require_user()
    thread = visible_thread_or_404(thread_id, user)
    data = post_fields()
    body = _text(data, "body", "POST_MAX_LENGTH")
    staff_note = data.get("staff_note", False)
    if not isinstance(staff_note, bool):
        abort(400, _("staff_note must be true or false."))
    try:
        checked = attachment_files.check_uploads(uploads())
        reply = threads.add_reply(user, thread, body, staff_note=staff_note)
    except FileRefused as exc:
        return refused(exc)
    except threads.ValidationFailed as exc:
        return api_error(400, exc.message, exc.field)
    except PermissionDenied as exc:
        return api_error(403, str(exc) or _("You do not have permission to do that."))
    added = attachment_files.attach(user, checked, thread, reply)
    response = jsonify(reply_json(reply, user) | {"attachments": [attachment_json(row) for row in added]})
    response.status_code = 201
    return response


@bp.get("/search")
def search_threads():
    """Full-text search over the visible threads, page-numbered (the ranking is not id-ordered)."""
    user = api_user()
    query = request.args.get("q", "")
    if len(query) > 500:
        abort(400, _("q is too long."))
    try:
        page = int(request.args.get("page", "1"))
    except ValueError:
        abort(400, _("page must be a whole number."))
    if not 1 <= page <= 1000:
        abort(400, _("page must be from 1 to 1000."))
    result = search.search_threads(user, query, page, page_limit())
    return jsonify(items=[thread_json(t) for t in result.items], page=result.page, has_next=result.has_next)


@bp.get("/playbooks")
def list_playbooks():
    """Playbooks the caller may see, newest first."""
    user = api_user()
    return cursor_page(lambda before, limit: listings.playbooks(user, before, limit), playbook_json)


@bp.get("/patterns")
def list_patterns():
    """Mined patterns (employees only; everyone else gets a 404)."""
    user = api_user()
    if not permissions.can_view_patterns(user):
        abort(404)
    return cursor_page(listings.patterns, pattern_json)


@bp.get("/notifications")
def list_notifications():
    """The caller's inbox, newest first, each item showing only what the caller may see now."""
    user = require_user()
    return cursor_page(lambda before, limit: listings.notifications(user, before, limit),
                       lambda n: notification_json(inbox.describe(user, n)))


@bp.post("/notifications/<int:notification_id>/read")
def read_notification(notification_id: int):
    """Mark one of the caller's notifications read."""
    user = require_user()
    item = inbox.mark_read(user, notification_id) if notification_id <= MAX_ID else None
    if item is None:
        abort(404)
    return notification_json(inbox.describe(user, item))
