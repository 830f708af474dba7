"""The inbox: what each notification may show its recipient now, pages of them, unread counts, marking read.

Everything here is decided from the current rows and ``forum.permissions`` at reading time, so an item about
something the recipient can no longer see is shown as a neutral placeholder (and never mailed).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask_babel import gettext
from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...languages import N_
from ...models import Notification, NotificationKind, Reply, User, utcnow
from ..excerpts import excerpt
from . import presence

EXCERPT_CHARS = 200


# --- reading -------------------------------------------------------------------------------------

@dataclass
class InboxItem:
    """What a notification may show its recipient *now*; ``visible`` False means a neutral placeholder."""

    notification: Notification
    visible: bool
    sentence: str = ""
    # The sentence in two parts, so the page can link the actor to their profile: "<actor> <after_actor>".
    actor_name: str = ""
    actor_username: str = ""
    after_actor: str = ""
    title: str = ""
    excerpt: str = ""
    thread_id: int | None = None
    reply_id: int | None = None
    pattern_id: int | None = None
    playbook_id: int | None = None
    conversation_id: int | None = None
    product_version_id: int | None = None  # its playbook review list


# Translated when shown (in the reader's language, or the recipient's for mail); a translation keeps "{actor} "
# at its start where the English has it, so the page can still link the actor.
_SENTENCES = {
    NotificationKind.REPLY: N_("{actor} replied in"),
    NotificationKind.NEW_THREAD: N_("{actor} started a thread:"),
    NotificationKind.MENTION: N_("{actor} mentioned you in"),
    NotificationKind.ACCEPTED: N_("{actor} accepted an answer in"),
    NotificationKind.CONFIRMED: N_("{actor} confirmed the accepted answer in"),
    NotificationKind.ASSIGNED: N_("{actor} assigned you"),
    NotificationKind.PATTERN_EMERGING: N_("A pattern is emerging:"),
    NotificationKind.PLAYBOOK_UPDATED: N_("{actor} updated the playbook"),
    NotificationKind.REMINDER: N_("Reminder: you bookmarked"),
    NotificationKind.MESSAGE: N_("{actor} sent you a message:"),
    NotificationKind.IDEA_STATUS: N_("{actor} changed the status of the idea"),
    NotificationKind.ROUTED: N_("A question like ones you solved:"),
    NotificationKind.VERSION_REVIEW: N_("Playbooks to review on a new version:"),
}


def describe(user: User, item: Notification) -> InboxItem:
    """Build what ``user`` may see of one notification, from the current rows and permissions."""
    hidden = InboxItem(item, visible=False)
    actor = item.actor.display_name if item.actor is not None else gettext("Someone")
    sentence = gettext(_SENTENCES[item.kind])
    shown = InboxItem(item, visible=True, sentence=sentence.format(actor=actor))
    if item.actor is not None and sentence.startswith("{actor} "):
        shown.actor_name, shown.actor_username = actor, item.actor.username
        shown.after_actor = sentence[len("{actor} "):]
    if item.thread_id is not None:
        thread = item.thread
        if thread is None or not permissions.can_view(user, thread):
            return hidden
        shown.title, shown.thread_id = thread.title, thread.id
        if item.reply_id is not None:
            reply = item.reply
            if reply is None or not permissions.can_view_reply(user, reply):
                return hidden
            shown.reply_id = reply.id
            if not reply.is_deleted and item.kind in (NotificationKind.REPLY, NotificationKind.MENTION):
                shown.excerpt = excerpt(reply.body_html, EXCERPT_CHARS)
        elif item.kind in (NotificationKind.NEW_THREAD, NotificationKind.MENTION):
            shown.excerpt = excerpt(thread.body_html, EXCERPT_CHARS)
        return shown
    if item.pattern_id is not None:
        if item.pattern is None or not permissions.can_view_patterns(user):
            return hidden
        shown.title, shown.pattern_id = item.pattern.name, item.pattern_id
        return shown
    if item.conversation_id is not None:
        conversation = item.conversation
        if conversation is None or not permissions.can_view_conversation(
                user, {m.user_id for m in conversation.members}):
            return hidden
        shown.title, shown.conversation_id = conversation.subject or gettext("(no subject)"), conversation.id
        return shown
    if item.product_version_id is not None:
        version = item.product_version
        if version is None or not permissions.can_edit_playbook(user):
            return hidden
        shown.title, shown.product_version_id = f"{version.product.name} {version.name}", version.id
        return shown
    if item.playbook_id is not None:
        if item.playbook is None or not permissions.can_view_playbook(user, item.playbook):
            return hidden
        shown.title, shown.playbook_id = item.playbook.title, item.playbook_id
        return shown
    return hidden


def with_subjects(query):
    return query.options(
        selectinload(Notification.actor), selectinload(Notification.thread),
        selectinload(Notification.reply).selectinload(Reply.thread),
        selectinload(Notification.pattern), selectinload(Notification.playbook),
        selectinload(Notification.conversation), selectinload(Notification.product_version))


def inbox_page(user: User, page: int, per_page: int):
    """One page of the user's inbox, newest first, each item described for them now."""
    query = with_subjects(select(Notification).where(Notification.user_id == user.id)
                           .order_by(Notification.created_at.desc(), Notification.id.desc()))
    result = db.paginate(query, page=page, per_page=per_page, error_out=False, count=True)
    result.described = [describe(user, n) for n in result.items]
    return result


def header_counts(user: User, *more: Select) -> tuple[int, ...]:
    """(unread items, staff online, then a count for each of ``more``) for the page header in a single query.

    ``more`` are count queries of the bind parameter ``user_id``, each built once by its module, so the header's
    statement is built once per process too and a request only binds its values (building it cost three times
    what running it did)."""
    staff = presence.staff_online_from_redis()
    values = {"user_id": user.id}
    if staff is None:
        values["online_since"] = presence.online_since()
    row = db.session.execute(_header_statement(staff is None, more), values).one()
    if staff is not None:
        return int(row[0]), staff, *(int(value) for value in row[1:])
    return tuple(int(value) for value in row)


@functools.cache
def _header_statement(with_staff: bool, more: tuple[Select, ...]) -> Select:
    unread = select(func.count(Notification.id)).where(
        Notification.user_id == bindparam("user_id"), Notification.read_at.is_(None)).scalar_subquery()
    staff = [presence.staff_online_query().scalar_subquery()] if with_staff else []
    return select(unread, *staff, *(query.scalar_subquery() for query in more))


def mark_read(user: User, notification_id: int) -> Notification | None:
    """Mark one of the user's own items read; None when it is not theirs (or missing)."""
    item = db.session.execute(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user.id)).scalar_one_or_none()
    if item is not None and item.read_at is None:
        item.read_at = utcnow()
        db.session.commit()
    return item


def mark_all_read(user: User) -> int:
    """Mark every unread item read; returns how many."""
    result = db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return result.rowcount or 0
