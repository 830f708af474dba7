"""Newest-first lists by id, a page at a time below a cursor (the JSON API's lists), visibility included."""
from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from .. import permissions
from ..extensions import db
from ..models import Notification, Pattern, Playbook, Reply, Thread, User
from .community import inbox

THREAD_LIST_OPTIONS = (selectinload(Thread.space), selectinload(Thread.author), selectinload(Thread.tags))


def newest_first(query: Select, id_column, before: int | None, limit: int) -> tuple[list, bool]:
    """Up to ``limit`` rows of ``query`` by id descending, below ``before`` if given; and whether more follow."""
    if before is not None:
        query = query.where(id_column < before)
    rows = list(db.session.execute(query.order_by(id_column.desc()).limit(limit + 1)).scalars())
    return rows[:limit], len(rows) > limit


def threads(user: User | None, before: int | None, limit: int) -> tuple[list[Thread], bool]:
    """Threads ``user`` may see."""
    query = select(Thread).where(permissions.visible_threads(user)).options(*THREAD_LIST_OPTIONS)
    return newest_first(query, Thread.id, before, limit)


def playbooks(user: User | None, before: int | None, limit: int) -> tuple[list[Playbook], bool]:
    """Playbooks ``user`` may see."""
    return newest_first(select(Playbook).where(permissions.visible_playbooks(user)), Playbook.id, before, limit)


def patterns(before: int | None, limit: int) -> tuple[list[Pattern], bool]:
    """Patterns not merged into another (the caller checked that patterns may be seen)."""
    return newest_first(select(Pattern).where(Pattern.merged_into_id.is_(None)), Pattern.id, before, limit)


def notifications(user: User, before: int | None, limit: int) -> tuple[list[Notification], bool]:
    """``user``'s inbox, with what each item is about loaded."""
    query = inbox.with_subjects(select(Notification).where(Notification.user_id == user.id))
    return newest_first(query, Notification.id, before, limit)


def visible_replies(user: User | None, thread: Thread) -> list[Reply]:
    """The thread's replies ``user`` may see, oldest first."""
    replies = db.session.execute(select(Reply).where(Reply.thread_id == thread.id)
                                 .options(selectinload(Reply.author)).order_by(Reply.id)).scalars()
    return [r for r in replies if permissions.can_view_reply(user, r)]
