"""Bookmarks of threads and replies, each with an optional note and reminder date, and the reminders themselves.

What a bookmark shows is decided when it is shown, from the current rows and ``forum.permissions``: a bookmark
of something its owner can no longer see shows nothing of it (not its title, not the note's subject). When a
reminder date comes, the sweeper (``services/mail/sweeper.py``) turns it into a notification, which reaches the
inbox and the mail outbox like any other.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...models import Bookmark, Reply, Thread, User, utcnow
from ..excerpts import excerpt
from ..paging import page_of
from . import notifications

NOTE_MAX = 500
REMIND_WITHIN_DAYS = 5 * 365


class BookmarkInvalid(ValueError):
    """Input refused; ``field`` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


@dataclass
class ShownBookmark:
    """What a bookmark may show its owner now; ``visible`` False: a placeholder only."""

    bookmark: Bookmark
    visible: bool
    title: str = ""
    excerpt: str = ""
    thread_id: int | None = None
    reply_id: int | None = None


def parse_remind_at(text: str | None, now: datetime | None = None) -> datetime | None:
    """A reminder date from a form ("2027-01-31" or "2027-01-31T09:30", UTC); empty means none."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise BookmarkInvalid("remind_at", gettext("Give the reminder as a date, e.g. 2027-01-31.")) from None
    value = value.replace(tzinfo=None, second=0, microsecond=0)
    now = now or utcnow()
    if value <= now:
        raise BookmarkInvalid("remind_at", gettext("Choose a reminder date in the future."))
    if value > now + timedelta(days=REMIND_WITHIN_DAYS):
        raise BookmarkInvalid("remind_at", gettext("Choose a reminder date within five years."))
    return value


def clean_note(note: str | None) -> str:
    note = (note or "").replace("\x00", "").strip()
    if len(note) > NOTE_MAX:
        raise BookmarkInvalid("note", gettext("Keep the note to %(most)d characters.", most=NOTE_MAX))
    return note


def find(user: User, thread_id: int, reply_id: int | None) -> Bookmark | None:
    """The user's bookmark of this thread (``reply_id`` None) or reply."""
    query = select(Bookmark).where(Bookmark.user_id == user.id, Bookmark.thread_id == thread_id)
    query = query.where(Bookmark.reply_id.is_(None) if reply_id is None else Bookmark.reply_id == reply_id)
    return db.session.execute(query.order_by(Bookmark.id)).scalars().first()


def add(user: User, thread: Thread, reply: Reply | None = None, note: str = "",
        remind_at: datetime | None = None) -> Bookmark:
    """Bookmark a thread or one of its replies (once: bookmarking again keeps the first). The caller checked
    that the user may see it."""
    existing = find(user, thread.id, reply.id if reply is not None else None)
    if existing is not None:
        return existing
    row = Bookmark(user_id=user.id, thread_id=thread.id, reply_id=reply.id if reply is not None else None,
                   note=clean_note(note), remind_at=remind_at, created_at=utcnow())
    db.session.add(row)
    db.session.commit()
    return row


def own(user: User, bookmark_id: int) -> Bookmark | None:
    """One of the user's bookmarks, or None (someone else's looks missing)."""
    row = db.session.get(Bookmark, bookmark_id) if 0 < bookmark_id < 2**31 else None
    return row if row is not None and row.user_id == user.id else None


def update_bookmark(row: Bookmark, note: str, remind_at: datetime | None) -> None:
    """Change the note and reminder; a new reminder date will remind again."""
    row.note = clean_note(note)
    if remind_at != row.remind_at:
        row.remind_at, row.reminded_at = remind_at, None
    db.session.commit()


def remove(row: Bookmark) -> None:
    db.session.delete(row)
    db.session.commit()


def describe(user: User, row: Bookmark) -> ShownBookmark:
    """What the bookmark may show ``user`` now."""
    thread = row.thread
    if thread is None or not permissions.can_view(user, thread):
        return ShownBookmark(row, visible=False)
    shown = ShownBookmark(row, visible=True, title=thread.title, thread_id=thread.id)
    if row.reply_id is not None:
        reply = row.reply
        if reply is None or not permissions.can_view_reply(user, reply):
            return ShownBookmark(row, visible=False)
        shown.reply_id = reply.id
        if not reply.is_deleted:
            shown.excerpt = excerpt(reply.body_html, 200)
    return shown


def bookmarks_page(user: User, page: int, per_page: int):
    """One page of the user's bookmarks, newest first, each described for them now."""
    query = (select(Bookmark).where(Bookmark.user_id == user.id)
             .options(selectinload(Bookmark.thread), selectinload(Bookmark.reply).selectinload(Reply.thread))
             .order_by(Bookmark.created_at.desc(), Bookmark.id.desc()))
    result = page_of(query, page, per_page)
    result.described = [describe(user, row) for row in result.items]
    return result


def marked(user: User | None, thread_id: int, reply_ids: list[int]) -> dict[int | None, int]:
    """Which of the thread (key None) and these replies the user bookmarked, in one query: key -> bookmark id."""
    if user is None or not getattr(user, "is_authenticated", False):
        return {}
    rows = db.session.execute(_marked_query(), {"user_id": user.id, "thread_id": thread_id})
    wanted = set(reply_ids)
    return {reply_id: bookmark_id for reply_id, bookmark_id in rows if reply_id is None or reply_id in wanted}


@functools.cache
def _marked_query() -> Select:
    # built once per process: every thread page asks, and building the statement cost more than running it
    return select(Bookmark.reply_id, Bookmark.id).where(Bookmark.user_id == bindparam("user_id"),
                                                        Bookmark.thread_id == bindparam("thread_id"))


# --- reminders -----------------------------------------------------------------------------------

def send_due_reminders(now: datetime | None = None, limit: int = 500) -> int:
    """Turn reminders that came due into notifications (each once); how many were sent."""
    now = now or utcnow()
    due = list(db.session.execute(
        select(Bookmark).where(Bookmark.remind_at <= now, Bookmark.reminded_at.is_(None))
        .options(selectinload(Bookmark.thread), selectinload(Bookmark.reply))
        .order_by(Bookmark.remind_at).limit(limit)).scalars())
    sent = 0
    for row in due:
        # Claimed with a conditional UPDATE, so two processes sweeping at once remind once between them.
        claimed = db.session.execute(update(Bookmark).where(Bookmark.id == row.id, Bookmark.reminded_at.is_(None))
                                     .values(reminded_at=now).execution_options(synchronize_session=False))
        if not claimed.rowcount:
            db.session.rollback()
            continue
        sent += len(notifications.bookmark_due(row))  # commits the claim with the notification and its mail
    db.session.commit()
    return sent
