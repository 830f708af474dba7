"""Attaching checked files to posts, listing them for a thread page, and finding one to serve.

A file is seen by exactly those who see its post (``permissions.can_view_attachment``); removing a reply
hides its files with it, and a hidden or merged thread hides the question's.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from flask import current_app
from flask_babel import gettext
from sqlalchemy import Select, bindparam, func, select

from ... import permissions
from ...clock import utcnow
from ...extensions import db
from ...models import Attachment, AttachmentKind, Reply, Thread, User
from .. import background
from ..board.fulltext import terms_of
from ..board.threads import ValidationFailed, record_revision
from ..patterns import jobs as mining_jobs
from . import store
from .checks import CheckedFile, FileRefused, check_file

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
        raise FileRefused(gettext("At most %(limit)s files per post (you chose %(chosen)s).", limit=max_files,
                                  chosen=len(uploads)), "too_many")
    return [check_file(u.filename, u.data, max_bytes) for u in uploads]


def _on_post(thread: Thread, reply: Reply | None):
    return (Attachment.thread_id == thread.id, Attachment.deleted_at.is_(None),
            Attachment.reply_id.is_(None) if reply is None else Attachment.reply_id == reply.id)


def files_of_post(thread: Thread, reply: Reply | None = None) -> list[Attachment]:
    """The files on the question (``reply`` None) or on a reply, oldest first (the caller sees the post)."""
    return list(db.session.execute(select(Attachment).where(*_on_post(thread, reply)).order_by(Attachment.id))
                .scalars())


def _store(user: User, files: list[CheckedFile], thread: Thread, reply: Reply | None, keep: int) -> list[Attachment]:
    """Add checked files to a post that keeps ``keep`` of its files (limits checked across old and new)."""
    _max_bytes, max_files = limits()
    if keep + len(files) > max_files:
        raise FileRefused(gettext("A post can hold at most %(limit)s files (%(kept)s already on it, %(chosen)s more "
                                  "chosen).", limit=max_files, kept=keep, chosen=len(files)), "too_many")
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
    return rows


def attach(user: User, files: Iterable[CheckedFile], thread: Thread, reply: Reply | None = None) -> list[Attachment]:
    """Store checked files on a post just written (the question when ``reply`` is None, or a reply)."""
    files = list(files)
    if not files:
        return []
    if not permissions.can_attach(user, thread, reply):
        raise permissions.PermissionDenied(gettext("You can only attach files to your own posts."))
    already = db.session.execute(select(func.count(Attachment.id)).where(*_on_post(thread, reply))).scalar_one()
    rows = _store(user, files, thread, reply, already)
    # A log's error lines on a question change what mining reads of the thread: embed and assign it again.
    job = mining_jobs.thread_posted(thread.id) if reply is None and any(f.signature_lines for f in files) else None
    db.session.commit()
    background.dispatch(job)
    return rows


T = TypeVar("T")


def edit_post_files(editor: User, thread: Thread, reply: Reply | None, add: Sequence[CheckedFile],
                    remove_ids: Iterable[int], save: Callable[[list[dict]], T]) -> tuple[T, list[Attachment]]:
    """An edit of a post's files: ``add`` these, take off the post's files with ``remove_ids``, then ``save``
    the post (``threads.edit_thread`` / ``edit_reply`` with these ``file_changes``), which records the edit as
    a revision and commits it all at once. The limits hold across the files kept and added; a refusal anywhere
    (a file, the count, the text) leaves the post as it was. Returns what ``save`` returned and the new rows."""
    if not permissions.can_attach(editor, thread, reply):
        raise permissions.PermissionDenied(gettext("You can only change the files of your own posts."))
    wanted = set(remove_ids)
    current = files_of_post(thread, reply)
    removing = [row for row in current if row.id in wanted]
    if len(removing) != len(wanted) or not all(permissions.can_remove_attachment(editor, r) for r in removing):
        raise ValidationFailed(gettext("A file to remove is not on this post."), "files")
    try:
        added = _store(editor, list(add), thread, reply, len(current) - len(removing))
        now = utcnow()
        for row in removing:
            row.deleted_at = now
        changes = ([{"action": "removed", "filename": r.filename} for r in removing]
                   + [{"action": "added", "filename": r.filename} for r in added])
        return save(changes), added
    except BaseException:
        db.session.rollback()  # nothing staged here may reach a later commit
        raise


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
    rows = db.session.execute(_files_of_thread_page(), {"thread_id": thread.id, "reply_ids": reply_ids}).scalars()
    grouped: dict[int | None, list[Attachment]] = {}
    for row in rows:
        grouped.setdefault(row.reply_id, []).append(row)
    return grouped


@functools.cache
def _files_of_thread_page() -> Select:
    # built once per process (every thread page asks); the reply ids expand into the IN list when it runs
    return (select(Attachment).where(
        Attachment.thread_id == bindparam("thread_id"), Attachment.deleted_at.is_(None),
        Attachment.reply_id.is_(None) | Attachment.reply_id.in_(bindparam("reply_ids", expanding=True)))
        .order_by(Attachment.id))


def visible_attachment(user: User | None, attachment_id: int) -> Attachment | None:
    """The attachment if this user may see it; None when missing or not visible (both look alike)."""
    if not 0 < attachment_id <= MAX_ID:
        return None
    row = db.session.get(Attachment, attachment_id)
    if row is None or not permissions.can_view_attachment(user, row):
        return None
    return row


def remove(user: User, attachment: Attachment) -> None:
    """Take a file off its post (its uploader, the post's editors, a moderator of the space); the bytes stay
    for others. Recorded in the post's revision history; a question's log stops counting for its thread."""
    if not permissions.can_remove_attachment(user, attachment):
        raise permissions.PermissionDenied(gettext("You cannot remove this file."))
    attachment.deleted_at = utcnow()
    record_revision(user, attachment.thread, attachment.reply,
                    [{"action": "removed", "filename": attachment.filename}])
    question_log = attachment.reply_id is None and bool(attachment.signature_lines)
    job = mining_jobs.thread_posted(attachment.thread_id) if question_log else None
    db.session.commit()
    background.dispatch(job)
