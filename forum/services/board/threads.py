"""Threads, replies and the Q&A workflow: every domain rule of the board lives here.

Plain functions with explicit inputs. They decide with ``forum.permissions``, raise ``PermissionDenied`` or
``ValidationFailed``, and commit. Callers have already checked that the user may *see* the thread or reply
(a refusal there is a 404); a ``PermissionDenied`` from here means "visible, but not yours to do" (a 403).
"""
from __future__ import annotations

import re

from flask_babel import gettext
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ... import permissions
from ...extensions import db
from ...markdown import render_markdown
from ...models import (
    Confirmation,
    Deployment,
    Reply,
    Revision,
    Space,
    Tag,
    Thread,
    ThreadKind,
    ThreadStatus,
    User,
    Visibility,
    Vote,
    utcnow,
)
from ...permissions import PermissionDenied
from .. import background
from ..community import notifications
from ..moderation import audit
from ..moderation.limits import refusal as new_user_refusal
from ..patterns import jobs as mining_jobs
from ..webhooks import events as webhook_events

MAX_TAGS = 5
TAG_MAX_LENGTH = 40
_TAG_JUNK = re.compile(r"[^\w.+#-]+")


class ValidationFailed(Exception):
    """The input breaks a domain rule; ``field`` names the form field it belongs to (or None)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- tags ----------------------------------------------------------------------------------------

def normalise_tags(raw: str | list[str] | None) -> list[str]:
    """Comma-separated text to unique lower-case tags ("Single Sign-On" -> "single-sign-on")."""
    parts = raw.split(",") if isinstance(raw, str) else list(raw or [])
    tags: list[str] = []
    for part in parts:
        tag = _TAG_JUNK.sub("-", part.strip().lower().replace(" ", "-")).strip("-")
        tag = re.sub(r"-{2,}", "-", tag)
        if not tag:
            continue
        if len(tag) > TAG_MAX_LENGTH:
            raise ValidationFailed(gettext("A tag can be at most %(limit)s characters.", limit=TAG_MAX_LENGTH), "tags")
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise ValidationFailed(gettext("Use at most %(limit)s tags.", limit=MAX_TAGS), "tags")
    return tags


def _tag_rows(names: list[str]) -> list[Tag]:
    if not names:
        return []
    existing = {t.name: t for t in db.session.execute(select(Tag).where(Tag.name.in_(names))).scalars()}
    rows = []
    for name in names:
        tag = existing.get(name)
        if tag is None:
            # A savepoint, so a concurrent creation of the same tag costs only this insert.
            try:
                with db.session.begin_nested():
                    tag = Tag(name=name)
                    db.session.add(tag)
            except IntegrityError:
                tag = db.session.execute(select(Tag).where(Tag.name == name)).scalar_one()
        rows.append(tag)
    return rows


# --- status --------------------------------------------------------------------------------------

def _count_public_replies(thread: Thread) -> int:
    return db.session.execute(
        select(func.count(Reply.id)).where(
            Reply.thread_id == thread.id, Reply.is_staff_note.is_(False), Reply.deleted_at.is_(None))
    ).scalar_one()


def _settle_status(thread: Thread) -> None:
    """open -> answered (has replies) -> resolved (accepted); needs_staff stays until staff answers."""
    thread.reply_count = _count_public_replies(thread)
    if thread.accepted_reply_id is not None:
        thread.status = ThreadStatus.RESOLVED
        thread.resolved_at = thread.resolved_at or utcnow()
        return
    thread.resolved_at = None
    if thread.status is ThreadStatus.NEEDS_STAFF:
        return
    thread.status = ThreadStatus.ANSWERED if thread.reply_count else ThreadStatus.OPEN


# --- threads -------------------------------------------------------------------------------------

def _check_new_user_limits(author: User, body: str, *, new_thread: bool) -> None:
    """A new member over the admins' first-day limits (threads, links) gets a form error."""
    problem = new_user_refusal(author, body, new_thread=new_thread)
    if problem is not None:
        raise ValidationFailed(problem[1], problem[0])


KIND_VALUES = tuple(k.value for k in ThreadKind)
VISIBILITY_VALUES = tuple(v.value for v in Visibility)


def create_thread(author: User, *, space: Space, title: str, body: str, kind: ThreadKind | str,
                  visibility: Visibility | str, tags: str | list[str] = "",
                  deployment: Deployment | None = None) -> Thread:
    """Start a thread; a chosen deployment is frozen into the thread as a snapshot."""
    kind, visibility = ThreadKind(kind), Visibility(visibility)  # a form's values or the enums themselves
    if permissions.is_idea_space(space) and kind is ThreadKind.QUESTION:
        kind = ThreadKind.DISCUSSION  # an idea is not a question waiting for an answer (nor "unanswered")
    if not permissions.can_post_in_space(author, space):
        raise ValidationFailed(gettext("You cannot post in this space."), "space")
    if kind not in permissions.kinds_user_may_choose(author):
        raise ValidationFailed(gettext("You cannot start this kind of thread."), "kind")
    if visibility not in permissions.visibilities_user_may_choose(author):
        raise ValidationFailed(gettext("You cannot choose this visibility."), "visibility")
    if deployment is not None and deployment.organisation_id != author.organisation_id:
        raise ValidationFailed(gettext("Pick one of your organisation's deployments."), "deployment")
    tag_names = normalise_tags(tags)
    _check_new_user_limits(author, body, new_thread=True)
    now = utcnow()
    thread = Thread(
        space_id=space.id, author_id=author.id, organisation_id=author.organisation_id,
        title=title.strip(), body_md=body, body_html=render_markdown(body), kind=kind,
        visibility=visibility, status=ThreadStatus.OPEN,
        deployment_id=deployment.id if deployment else None,
        deployment_snapshot=deployment.snapshot() if deployment else None,
        created_at=now, updated_at=now, last_activity_at=now)
    thread.tags = _tag_rows(tag_names)
    db.session.add(thread)
    db.session.flush()
    job = mining_jobs.thread_posted(thread.id)  # with a broker, its outbox row commits with the thread
    hooks = webhook_events.stage("thread.created", thread)  # webhook deliveries commit with the thread too
    db.session.commit()
    background.dispatch(job, *hooks)
    notifications.safely(notifications.thread_created, thread)
    return thread


def record_revision(editor: User, thread: Thread, reply: Reply | None = None,
                    file_changes: list[dict] | None = None) -> Revision:
    """The post's text as it is now, kept as a revision before an edit (with the files the edit changed)."""
    if reply is not None:
        revision = Revision(reply_id=reply.id, editor_id=editor.id, previous_md=reply.body_md)
    else:
        revision = Revision(thread_id=thread.id, editor_id=editor.id, previous_title=thread.title,
                            previous_md=thread.body_md)
    revision.file_changes = file_changes or None
    db.session.add(revision)
    return revision


def edit_thread(editor: User, thread: Thread, *, title: str, body: str,
                tags: str | list[str] | None = None, file_changes: list[dict] | None = None) -> Thread:
    """Change title/body/tags, keeping the previous text as a revision (which also lists the files the edit
    added or removed, already staged by ``attachments.files``)."""
    if not permissions.can_edit_thread(editor, thread):
        raise PermissionDenied(gettext("You cannot edit this thread."))
    title = title.strip()
    previous_md = thread.body_md
    tag_names = normalise_tags(tags) if tags is not None else None
    text_changed = title != thread.title or body != thread.body_md
    if text_changed or file_changes:
        record_revision(editor, thread, file_changes=file_changes)
    if text_changed:
        thread.title, thread.body_md, thread.body_html = title, body, render_markdown(body)
        thread.updated_at = utcnow()
    if (text_changed or file_changes) and editor.id != thread.author_id:
        audit.record("thread.edit", thread, actor=editor)  # a moderator changing someone else's words or files
    if tag_names is not None:
        thread.tags = _tag_rows(tag_names)
    # Re-embedded and re-assigned: a question's logs count as its text (their error lines, their signatures).
    job = mining_jobs.thread_posted(thread.id) if text_changed or file_changes else None
    db.session.commit()
    background.dispatch(job)
    notifications.safely(notifications.mentions_edited, editor, previous_md, thread)
    return thread


def ask_for_staff(user: User, thread: Thread) -> Thread:
    """The asker's side flags a question for vendor help; asking again withdraws the request."""
    if not permissions.can_ask_for_staff(user, thread):
        raise PermissionDenied(gettext("You cannot ask for staff help on this thread."))
    if thread.status is ThreadStatus.RESOLVED:
        raise ValidationFailed(gettext("This question already has an accepted answer."))
    if thread.status is ThreadStatus.NEEDS_STAFF:
        thread.status = ThreadStatus.OPEN
    else:
        thread.status = ThreadStatus.NEEDS_STAFF
    _settle_status(thread)
    db.session.commit()
    return thread


# --- replies -------------------------------------------------------------------------------------

def add_reply(author: User, thread: Thread, body: str, staff_note: bool = False) -> Reply:
    """Answer a thread (or leave a staff note, employees only)."""
    if not permissions.can_reply(author, thread):
        raise PermissionDenied(gettext("You cannot reply to this thread."))
    if staff_note and not permissions.can_post_staff_note(author, thread):
        raise PermissionDenied(gettext("Only employees can write staff notes."))
    _check_new_user_limits(author, body, new_thread=False)
    now = utcnow()
    reply = Reply(thread_id=thread.id, author_id=author.id, body_md=body, body_html=render_markdown(body),
                  is_staff_note=staff_note, created_at=now, updated_at=now)
    db.session.add(reply)
    db.session.flush()
    if not staff_note:
        thread.last_activity_at = now
        if thread.status is ThreadStatus.NEEDS_STAFF and permissions.is_employee(author):
            thread.status = ThreadStatus.ANSWERED  # the vendor has answered
    _settle_status(thread)
    hooks = [] if staff_note else webhook_events.stage("thread.answered", thread, reply)
    db.session.commit()
    background.dispatch(*hooks)
    notifications.safely(notifications.reply_added, reply)
    return reply


def edit_reply(editor: User, reply: Reply, body: str, file_changes: list[dict] | None = None) -> Reply:
    """Change a reply's text, keeping the previous text as a revision (with the files the edit changed)."""
    if not permissions.can_edit_reply(editor, reply):
        raise PermissionDenied(gettext("You cannot edit this reply."))
    previous_md = reply.body_md
    changed = body != reply.body_md
    if changed or file_changes:
        record_revision(editor, reply.thread, reply, file_changes)
    if changed:
        reply.body_md, reply.body_html = body, render_markdown(body)
        reply.updated_at = utcnow()
    if (changed or file_changes) and editor.id != reply.author_id:
        audit.record("reply.edit", reply, actor=editor)  # a moderator changing someone else's words or files
    db.session.commit()
    notifications.safely(notifications.mentions_edited, editor, previous_md, reply.thread, reply)
    return reply


def delete_reply(moderator: User, reply: Reply) -> Reply:
    """Soft delete: the text stays for moderators; an accepted answer stops being accepted."""
    if not permissions.can_delete_reply(moderator, reply):
        raise PermissionDenied(gettext("Only moderators can remove replies."))
    if reply.is_deleted:
        return reply
    reply.deleted_at = utcnow()
    reply.deleted_by_id = moderator.id
    audit.record("reply.delete", reply, actor=moderator,
                 says=("reply.delete", {"reply_id": reply.id, "thread_id": reply.thread_id}))
    thread = reply.thread
    if thread.accepted_reply_id == reply.id:
        thread.accepted_reply_id = None
    _settle_status(thread)
    db.session.commit()
    return reply


def accept_reply(user: User, reply: Reply) -> Thread:
    """Mark the answer (one per thread); accepting the accepted answer again un-accepts it."""
    thread = reply.thread
    if not permissions.can_accept_reply(user, reply):
        raise PermissionDenied(gettext("You cannot accept an answer on this thread."))
    if thread.accepted_reply_id == reply.id:
        thread.accepted_reply_id = None
        thread.status = ThreadStatus.ANSWERED
    else:
        thread.accepted_reply_id = reply.id
        thread.resolved_at = utcnow()
    _settle_status(thread)
    hooks = webhook_events.stage("thread.resolved", thread, reply) if thread.accepted_reply_id == reply.id else []
    db.session.commit()
    background.dispatch(*hooks)
    if thread.accepted_reply_id == reply.id:
        notifications.safely(notifications.answer_accepted, thread, reply, user)
    return thread


def vote(user: User, reply: Reply, value: int) -> Reply:
    """+1 or -1, one per user and reply; a different value replaces the vote, the same one withdraws it."""
    if value not in (1, -1):
        raise ValidationFailed(gettext("A vote is +1 or -1."), "value")
    if not permissions.can_vote(user, reply):
        raise PermissionDenied(gettext("You cannot vote on this reply."))
    existing = db.session.execute(
        select(Vote).where(Vote.reply_id == reply.id, Vote.user_id == user.id)).scalar_one_or_none()
    if existing is None:
        db.session.add(Vote(reply_id=reply.id, user_id=user.id, value=value))
    elif existing.value == value:
        db.session.delete(existing)
    else:
        existing.value = value
    db.session.flush()
    # Recounted rather than incremented, so concurrent votes cannot drift the score.
    reply.score = db.session.execute(
        select(func.coalesce(func.sum(Vote.value), 0)).where(Vote.reply_id == reply.id)).scalar_one()
    try:
        db.session.commit()
    except IntegrityError as exc:  # the same user voting twice at the same instant
        db.session.rollback()
        raise ValidationFailed(gettext("Your vote was already recorded.")) from exc
    return reply


def vote_of(user: User, reply: Reply) -> int:
    """The user's vote on the reply: +1, -1, or 0 for none."""
    return db.session.execute(select(Vote.value).where(Vote.reply_id == reply.id, Vote.user_id == user.id)
                              ).scalar_one_or_none() or 0


def confirm(user: User, thread: Thread, deployment: Deployment, note: str = "") -> Confirmation:
    """'Worked for us too' on the accepted answer, at one of the user's organisation's deployments."""
    if not permissions.can_confirm(user, thread):
        raise PermissionDenied(gettext("You cannot confirm this answer."))
    if deployment.organisation_id != user.organisation_id:
        raise ValidationFailed(gettext("Pick one of your organisation's deployments."), "deployment")
    reply_id = thread.accepted_reply_id
    already = db.session.execute(select(Confirmation.id).where(
        Confirmation.reply_id == reply_id, Confirmation.deployment_id == deployment.id)).first()
    if already:
        raise ValidationFailed(gettext("This deployment has already confirmed the answer."), "deployment")
    confirmation = Confirmation(reply_id=reply_id, user_id=user.id, deployment_id=deployment.id,
                                product_version_id=deployment.product_version_id, note=note[:500])
    db.session.add(confirmation)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise ValidationFailed(gettext("This deployment has already confirmed the answer."), "deployment") from exc
    notifications.safely(notifications.answer_confirmed, thread, user)
    return confirmation
