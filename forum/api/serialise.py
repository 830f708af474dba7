"""Rows to JSON-ready dicts: only fields the caller may see (visibility is decided before calling these)."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask import url_for

from .. import permissions

if TYPE_CHECKING:
    from ..models import Reply, Thread


def iso(value: datetime | None) -> str | None:
    """UTC timestamps as ISO 8601 with a Z."""
    return value.replace(microsecond=0).isoformat() + "Z" if value else None


def thread_json(thread: Thread) -> dict:
    """A thread without its replies."""
    return {
        "id": thread.id, "title": thread.title, "body": thread.body_md, "body_html": thread.body_html,
        "kind": thread.kind.value, "visibility": thread.visibility.value, "status": thread.status.value,
        "space": {"id": thread.space.id, "slug": thread.space.slug, "name": thread.space.name},
        "author": {"username": thread.author.username, "display_name": thread.author.display_name},
        "tags": [t.name for t in thread.tags], "reply_count": thread.reply_count,
        "created_at": iso(thread.created_at), "last_activity_at": iso(thread.last_activity_at),
    }


def reply_json(reply: Reply, user) -> dict:
    """A reply; a deleted one keeps its place but not its text (moderators excepted)."""
    deleted = reply.deleted_at is not None
    show_text = not deleted or permissions.can_see_deleted_text(user)
    return {
        "id": reply.id, "thread_id": reply.thread_id, "is_staff_note": reply.is_staff_note,
        "author": {"username": reply.author.username, "display_name": reply.author.display_name},
        "body": reply.body_md if show_text else "", "body_html": reply.body_html if show_text else "",
        "score": reply.score, "deleted": deleted, "created_at": iso(reply.created_at),
    }


def playbook_json(playbook) -> dict:
    return {"id": playbook.id, "title": playbook.title, "visibility": playbook.visibility.value,
            "pattern_id": playbook.pattern_id, "problem": playbook.problem_md, "steps": playbook.steps_md,
            "updated_at": iso(getattr(playbook, "updated_at", None))}


def pattern_json(pattern) -> dict:
    return {"id": pattern.id, "name": pattern.name, "description": pattern.description,
            "status": pattern.status.value, "keywords": list(pattern.keywords or [])}


def notification_json(item) -> dict:
    """An inbox item as ``inbox.describe`` allows the recipient to see it now."""
    n = item.notification
    base = {"id": n.id, "kind": n.kind.value, "read": n.read_at is not None, "created_at": iso(n.created_at),
            "visible": item.visible}
    if not item.visible:
        return base
    return base | {"sentence": item.sentence, "title": item.title, "excerpt": item.excerpt,
                   "thread_id": item.thread_id, "reply_id": item.reply_id, "pattern_id": item.pattern_id,
                   "playbook_id": item.playbook_id, "product_version_id": item.product_version_id}


def attachment_json(row) -> dict:
    """A file on a post the caller may see; ``download_url`` serves it under the same check."""
    return {"id": row.id, "filename": row.filename, "kind": row.kind.value, "content_type": row.content_type,
            "size": row.size, "width": row.width, "height": row.height, "signatures": list(row.signatures or []),
            "uploader": {"username": row.uploader.username, "display_name": row.uploader.display_name},
            "created_at": iso(row.created_at),
            "download_url": url_for("api.download_attachment", attachment_id=row.id)}
