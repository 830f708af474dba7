"""Internal–external links and escalations: internal discussions about customer threads, assignments
with due dates, the assignee's queue and the leads' overdue list.

Internal links are shown only where ``permissions.can_see_internal_links`` allows (employees); callers
never get them otherwise, so an internal title cannot reach a customer's or partner's page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import gettext
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...markdown import render_markdown
from ...models import (
    Assignment,
    InternalLink,
    Organisation,
    OrgKind,
    Thread,
    ThreadKind,
    ThreadStatus,
    User,
    Visibility,
    utcnow,
)
from ...permissions import PermissionDenied
from ..community import notifications
from ..moderation import audit
from .threads import ValidationFailed

DEFAULT_DUE_HOURS = 48


@dataclass
class ThreadWorkflow:
    """What the thread page shows about links and the assignment (empty for non-employees)."""

    internal: list[Thread] = field(default_factory=list)   # internal discussions about this thread
    external: list[Thread] = field(default_factory=list)   # threads this internal discussion is about
    assignment: Assignment | None = None


def for_thread(user: User | None, thread: Thread) -> ThreadWorkflow:
    """Links and assignment of one thread, for employees only (two small queries)."""
    if not permissions.can_see_internal_links(user):
        return ThreadWorkflow()
    links = db.session.execute(
        select(InternalLink).where((InternalLink.thread_id == thread.id)
                                   | (InternalLink.internal_thread_id == thread.id))
        .options(selectinload(InternalLink.thread), selectinload(InternalLink.internal_thread))
        .order_by(InternalLink.id)).scalars().all()
    result = ThreadWorkflow()
    for link in links:
        if link.thread_id == thread.id and permissions.can_view(user, link.internal_thread):
            result.internal.append(link.internal_thread)
        elif link.internal_thread_id == thread.id and permissions.can_view(user, link.thread):
            result.external.append(link.thread)
    result.assignment = db.session.execute(
        select(Assignment).where(Assignment.thread_id == thread.id)
        .options(selectinload(Assignment.assignee))).scalar_one_or_none()
    return result


def open_internal_discussion(employee: User, thread: Thread, title: str, body: str = "") -> Thread:
    """Start an internal (employees-only) thread in the same space, linked to ``thread``."""
    if not permissions.can_open_internal_discussion(employee, thread):
        raise PermissionDenied(gettext("Only employees can open an internal discussion about a customer thread."))
    title = (title or "").strip() or f"Internal: {thread.title}"[:200]
    body = (body or "").strip() or f"Internal discussion about a member thread (#{thread.id})."
    now = utcnow()
    internal = Thread(space_id=thread.space_id, author_id=employee.id, organisation_id=employee.organisation_id,
                      title=title[:300], body_md=body, body_html=render_markdown(body),
                      kind=ThreadKind.DISCUSSION, visibility=Visibility.INTERNAL, status=ThreadStatus.OPEN,
                      created_at=now, updated_at=now, last_activity_at=now)
    db.session.add(internal)
    db.session.flush()
    link = InternalLink(thread_id=thread.id, internal_thread_id=internal.id, created_by_id=employee.id)
    db.session.add(link)
    db.session.flush()
    audit.record("internal_link.create", link, actor=employee, before=None, after=audit.snapshot(link),
                 says=("internal_link.create", {"internal_id": internal.id, "thread_id": thread.id}))
    db.session.commit()
    return internal


def link_existing(employee: User, thread: Thread, internal: Thread) -> InternalLink:
    """Link an existing internal thread to ``thread``."""
    if not permissions.can_open_internal_discussion(employee, thread) or not permissions.can_view(employee, internal):
        raise PermissionDenied(gettext("Only employees can link internal discussions."))
    if internal.visibility is not Visibility.INTERNAL or internal.id == thread.id:
        raise ValidationFailed(gettext("Link an internal thread (visible to employees only)."), "thread")
    link = InternalLink(thread_id=thread.id, internal_thread_id=internal.id, created_by_id=employee.id)
    db.session.add(link)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise ValidationFailed(gettext("These threads are already linked."), "thread") from exc
    audit.record("internal_link.create", link, actor=employee, before=None, after=audit.snapshot(link))
    db.session.commit()
    return link


# --- assignments ---------------------------------------------------------------------------------

def assignable_employees() -> list[User]:
    """Active employees, by name (the assignee picker)."""
    return list(db.session.execute(
        select(User).join(Organisation, User.organisation_id == Organisation.id)
        .where(Organisation.kind == OrgKind.VENDOR, User.active.is_(True), User.is_placeholder.is_(False))
        .order_by(User.display_name, User.id)).scalars())


def default_due(now: datetime | None = None) -> datetime:
    return (now or utcnow()) + timedelta(hours=DEFAULT_DUE_HOURS)


def assign(employee: User, thread: Thread, assignee: User, due_at: datetime) -> Assignment:
    """Give an escalated thread to an employee with a due date (re-assigning replaces the old one)."""
    if not permissions.can_assign(employee, thread):
        raise PermissionDenied(gettext("Only employees assign threads."))
    if not assignee.is_employee or not assignee.active:
        raise ValidationFailed(gettext("Assign the thread to an active employee."), "assignee")
    if thread.status is not ThreadStatus.NEEDS_STAFF:
        raise ValidationFailed(gettext("Only threads waiting for staff (needs staff) are assigned."), "assignee")
    row = db.session.get(Assignment, thread.id)
    if row is None:
        row = Assignment(thread_id=thread.id, assignee_id=assignee.id, assigned_by_id=employee.id, due_at=due_at)
        db.session.add(row)
        db.session.flush()
        before, after = None, audit.snapshot(row)
    else:
        row.assignee_id, row.assigned_by_id, row.due_at = assignee.id, employee.id, due_at
        before, after = audit.changes(row)
    audit.record("thread.assign", row, actor=employee, before=before, after=after,
                 says=("thread.assign", {"thread_id": thread.id, "username": assignee.username}))
    db.session.commit()
    notifications.safely(notifications.thread_assigned, thread, assignee, employee)
    return row


def _escalations() -> Select:
    return (select(Assignment).join(Thread, Assignment.thread_id == Thread.id)
            .where(Thread.status == ThreadStatus.NEEDS_STAFF)
            .options(selectinload(Assignment.thread).selectinload(Thread.space),
                     selectinload(Assignment.thread).selectinload(Thread.organisation),
                     selectinload(Assignment.assignee)))


def my_queue(user: User) -> list[Assignment]:
    """The escalated threads assigned to this employee, soonest due first."""
    query = _escalations().where(Assignment.assignee_id == user.id, permissions.visible_threads(user))
    return list(db.session.execute(query.order_by(Assignment.due_at, Assignment.thread_id)).scalars())


def overdue(user: User, now: datetime | None = None) -> list[Assignment]:
    """Escalations still waiting for staff after their due date, most overdue first."""
    query = _escalations().where(Assignment.due_at < (now or utcnow()), permissions.visible_threads(user))
    return list(db.session.execute(query.order_by(Assignment.due_at, Assignment.thread_id)).scalars())


def unassigned_escalations(user: User, limit: int = 50, idle_since: datetime | None = None) -> list[Thread]:
    """Threads waiting for staff that nobody has taken yet (idle since ``idle_since``), oldest first."""
    taken = select(Assignment.thread_id)
    query = select(Thread).where(Thread.status == ThreadStatus.NEEDS_STAFF, Thread.id.not_in(taken),
                                 permissions.visible_threads(user))
    if idle_since is not None:
        query = query.where(Thread.last_activity_at < idle_since)
    return list(db.session.execute(
        query.options(selectinload(Thread.space), selectinload(Thread.organisation))
        .order_by(Thread.last_activity_at, Thread.id).limit(limit)).scalars())
