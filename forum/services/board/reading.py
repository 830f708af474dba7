"""Unread tracking: per member and thread, the newest reply they were shown; "N new" on lists, the first unread
reply on the thread page, and the threads new since the member's previous visit.

Costs stay flat however big the forum is: a list page asks one query for all its threads' counts, a thread page
one query for its state and at most one upsert (only when the page shows replies newer than the marker), each an
index range on ``reply (thread_id, id)`` or the marker's primary key.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

from ... import permissions
from ...extensions import db
from ...models import Reply, Thread, ThreadRead, User, utcnow
from .pages import LIST_OPTIONS, Page, fetch_page

log = logging.getLogger(__name__)

# With no previous visit on record (a new member), "new since your last visit" looks back this far.
FIRST_VISIT_DAYS = 7


def _signed_in(user: User | None) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _countable(user: User | None):
    """Replies that count as something to read: visible to the user and not removed."""
    return and_(permissions.visible_replies(user), Reply.deleted_at.is_(None))


@dataclass
class ReadState:
    """Where a member stands in one thread; ``last_read`` None: never opened."""

    last_read: int | None = None
    new_count: int = 0
    first_unread_id: int | None = None
    replies_before_first_unread: int = 0

    def first_unread_page(self, per_page: int) -> int:
        return self.replies_before_first_unread // per_page + 1


def thread_state(user: User | None, thread: Thread) -> ReadState:
    """The member's marker in ``thread``, how many replies came after it and where the first of them is (one query)."""
    if not _signed_in(user):
        return ReadState()
    row = db.session.execute(_state_query(permissions.visible_replies(user)),
                             {"user_id": user.id, "thread_id": thread.id}).one()
    if row[0] is None:
        return ReadState()
    return ReadState(last_read=row[0], new_count=row[1] or 0, first_unread_id=row[2],
                     replies_before_first_unread=row[3] or 0)


@functools.cache
def _state_query(visible: ColumnElement[bool]) -> Select:
    """``thread_state``'s statement for one kind of reader (``visible`` is ``permissions.visible_replies``, the same
    expression for each kind), with the bind parameters ``user_id`` and ``thread_id``: every thread page asks
    it, and building it cost more than running it."""
    marker = (select(ThreadRead.last_read_reply_id)
              .where(ThreadRead.user_id == bindparam("user_id"), ThreadRead.thread_id == bindparam("thread_id"))
              .scalar_subquery())
    in_thread = and_(Reply.thread_id == bindparam("thread_id"), visible)
    newer = and_(in_thread, Reply.deleted_at.is_(None), Reply.id > marker)
    first = select(func.min(Reply.id)).where(newer).scalar_subquery()
    return select(
        marker,
        select(func.count(Reply.id)).where(newer).scalar_subquery(),
        first,
        select(func.count(Reply.id)).where(in_thread, Reply.id < first).scalar_subquery(),
    )


def mark_read(user: User | None, thread: Thread, state: ReadState, shown: list[Reply]) -> bool:
    """Move the marker to the newest reply the page showed (never back); True if it wrote.

    A page view must not fail for this: on a busy database the marker waits for the next view.
    """
    if not _signed_in(user):
        return False
    newest = max((r.id for r in shown), default=0)
    if state.last_read is not None and newest <= state.last_read:
        return False
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(ThreadRead).values(user_id=user.id, thread_id=thread.id, last_read_reply_id=newest,
                                          read_at=utcnow())
    statement = statement.on_conflict_do_update(
        index_elements=[ThreadRead.user_id, ThreadRead.thread_id],
        set_={"last_read_reply_id": statement.excluded.last_read_reply_id, "read_at": statement.excluded.read_at},
        where=ThreadRead.last_read_reply_id < statement.excluded.last_read_reply_id)
    # Committed without expiring what the page has loaded (it would reload each reply as the template reads it),
    # in the page's own session, so it never waits for a lock that session holds.
    session = db.session()
    expire, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.execute(statement)
        session.commit()
    except OperationalError:
        session.rollback()
        log.warning("read marker of user %s in thread %s not saved", user.id, thread.id, exc_info=True)
        return False
    finally:
        session.expire_on_commit = expire
    return True


def new_counts(user: User | None, thread_ids: list[int]) -> dict[int, int]:
    """For the threads the member has opened among ``thread_ids``: how many replies came since (one query).

    Threads never opened are absent.
    """
    if not _signed_in(user) or not thread_ids:
        return {}
    rows = db.session.execute(
        select(ThreadRead.thread_id, func.count(Reply.id))
        .select_from(ThreadRead)
        .outerjoin(Reply, and_(Reply.thread_id == ThreadRead.thread_id, Reply.id > ThreadRead.last_read_reply_id,
                               _countable(user)))
        .where(ThreadRead.user_id == user.id, ThreadRead.thread_id.in_(thread_ids))
        .group_by(ThreadRead.thread_id))
    return {thread_id: count for thread_id, count in rows}


def visit_start(user: User) -> datetime:
    """Where "new since your last visit" starts: the end of the member's previous visit."""
    return user.previous_visit_at or (user.created_at or utcnow()) - timedelta(days=FIRST_VISIT_DAYS)


def new_since_last_visit(user: User, page: int, per_page: int) -> Page:
    """Threads with activity since the member's previous visit that they have not read to the end, newest first;
    ``extra["since"]`` says from when, ``extra["new_counts"]`` the counts of those opened before."""
    since = visit_start(user)
    marker = select(ThreadRead.last_read_reply_id).where(
        ThreadRead.user_id == user.id, ThreadRead.thread_id == Thread.id)
    # Correlated to the marker's row (its thread id), not to the outer thread: an EXISTS correlates to the query
    # right around it only.
    unread_reply = exists().where(Reply.thread_id == ThreadRead.thread_id, Reply.id > ThreadRead.last_read_reply_id,
                                  _countable(user))
    read_to_end = exists(marker.where(~unread_reply))
    query = (select(Thread).where(permissions.visible_threads(user), Thread.last_activity_at > since, ~read_to_end)
             .options(*LIST_OPTIONS).order_by(Thread.last_activity_at.desc(), Thread.id.desc()))
    result = fetch_page(query, page, per_page)
    result.extra["since"] = since
    result.extra["new_counts"] = new_counts(user, [t.id for t in result.items])
    return result
