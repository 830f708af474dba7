"""Attaching checked files to posts, listing them for a thread page, and finding one to serve.

A file is seen by exactly those who see its post (``permissions.can_view_attachment``); removing a reply
hides its files with it, and a hidden or merged thread hides the question's.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from ... import permissions
from ...clock import utcnow
from ...extensions import db
from ...models import Attachment, AttachmentKind, Reply, Thread, User
from .. import background
from ..board.fulltext import terms_of
from ..board.threads import ValidationFailed
from ..patterns import jobs as mining_jobs
from . import store
from .checks import CheckedFile, check_file

MAX_ID = 2**31 - 1


@dataclass(frozen=True)
class Upload:
    """One file as it came in (the view reads the request; services never do)."""

    filename: str | None
    data: bytes


def limits() -> tuple[int, int]:
    """(bytes per file, files per post) from the configuration."""
    return int(current_app.config["ATTACHMENT_MAX_BYTES"]), int(current_app.config["ATTACHMENT_MAX_FILES"])


def check_uploads(uploads: Sequence[Upload]) -> list[CheckedFile]:
    """Every upload checked, before anything is stored: one bad file refuses the post with its reason."""
    max_bytes, max_files = limits()
    uploads = [u for u in uploads if u.filename or u.data]  # an empty file input sends one nameless part
    if len(uploads) > max_files:
        raise ValidationFailed(f"At most {max_files} files per post (you chose {len(uploads)}).", "files")
    return [check_file(u.filename, u.data, max_bytes) for u in uploads]


def attach(user: User, files: Iterable[CheckedFile], thread: Thread, reply: Reply | None = None) -> list[Attachment]:
    """Store checked files on the question (``reply`` None) or a reply the user wrote."""
    files = list(files)
    if not files:
        return []
    if not permissions.can_attach(user, thread, reply):
        raise permissions.PermissionDenied("You cannot attach files to this post.")
    _max_bytes, max_files = limits()
    already = db.session.execute(select(func.count(Attachment.id)).where(
        Attachment.thread_id == thread.id, Attachment.reply_id.is_(None) if reply is None
        else Attachment.reply_id == reply.id, Attachment.deleted_at.is_(None))).scalar_one()
    if already + len(files) > max_files:
        raise ValidationFailed(f"A post can hold at most {max_files} files.", "files")
    rows = []
    for checked in files:
        store.save(checked.sha256, checked.data)
        if checked.kind == AttachmentKind.IMAGE:
            store.save_thumbnail(checked.sha256, checked.data)
        row = Attachment(
            thread_id=thread.id, reply_id=reply.id if reply else None, uploader_id=user.id,
            filename=checked.filename, kind=AttachmentKind(checked.kind), content_type=checked.content_type,
            size=checked.size, sha256=checked.sha256, width=checked.width, height=checked.height,
            head_text=checked.head_text, signatures=checked.signatures, signature_lines=checked.signature_lines,
            search_text=search_words(checked.signatures))
        db.session.add(row)
        rows.append(row)
    # A log's error lines on a question change what mining reads of the thread: embed and assign it again.
    job = mining_jobs.thread_posted(thread.id) if reply is None and any(f.signature_lines for f in files) else None
    db.session.commit()
    background.dispatch(job)
    return rows


def search_words(signatures: Sequence[str]) -> str:
    """Signatures as the lower-case words search compares (``ORA-00942`` -> `` ora 00942 ``)."""
    # The search's own tokeniser, so both sides split a signature alike.
    words = [p for s in signatures for p in terms_of(s).phrases]
    return " " + " ".join(words) + " " if words else ""


def for_thread_page(user: User | None, thread: Thread, replies: Sequence[Reply]) -> dict[int | None, list[Attachment]]:
    """The files of the question (key None) and of these replies that this user may see, in one query."""
    reply_ids = [r.id for r in replies if not r.is_deleted or permissions.can_see_deleted_text(user)]
    if thread.accepted_reply_id and thread.accepted_reply and (
            not thread.accepted_reply.is_deleted or permissions.can_see_deleted_text(user)):
        reply_ids.append(thread.accepted_reply_id)
    rows = db.session.execute(
        select(Attachment).where(Attachment.thread_id == thread.id, Attachment.deleted_at.is_(None),
                                 Attachment.reply_id.is_(None) | Attachment.reply_id.in_(reply_ids))
        .order_by(Attachment.id)).scalars()
    grouped: dict[int | None, list[Attachment]] = {}
    for row in rows:
        grouped.setdefault(row.reply_id, []).append(row)
    return grouped


def visible_attachment(user: User | None, attachment_id: int) -> Attachment | None:
    """The attachment if this user may see it; None when missing or not visible (both look alike)."""
    if not 0 < attachment_id <= MAX_ID:
        return None
    row = db.session.get(Attachment, attachment_id)
    if row is None or not permissions.can_view_attachment(user, row):
        return None
    return row


def remove(user: User, attachment: Attachment) -> None:
    """Take a file off its post (its uploader or a moderator of the space); the bytes stay for others."""
    if not permissions.can_remove_attachment(user, attachment):
        raise permissions.PermissionDenied("You cannot remove this file.")
    attachment.deleted_at = utcnow()
    db.session.commit()
