"""Starting conversations, writing in them, listing and reading them; unread counts per member."""
from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_decimal, gettext
from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.orm import selectinload

from ... import permissions
from ...extensions import db
from ...markdown import render_markdown
from ...models import Conversation, ConversationMember, Message, Notification, NotificationKind, User, utcnow
from ...permissions import PermissionDenied
from ..board.threads import ValidationFailed
from ..community import notifications

MAX_MEMBERS = 8  # a small group; a bigger audience is a thread
MAX_ID = 2**31 - 1


@dataclass
class ConversationRow:
    """One line of a member's conversation list."""

    conversation: Conversation
    others: list[User]
    unread: bool


def _members(conversation_id: int) -> list[User]:
    return list(db.session.execute(
        select(User).join(ConversationMember, ConversationMember.user_id == User.id)
        .where(ConversationMember.conversation_id == conversation_id).order_by(ConversationMember.id)).scalars())


def recipients_by_name(sender: User, raw: str) -> list[User]:
    """The members named in a comma- or space-separated list of usernames (``@`` optional), each once."""
    names = [n.strip().lstrip("@").lower() for n in raw.replace(",", " ").split() if n.strip().lstrip("@")]
    names = list(dict.fromkeys(names))
    if not names:
        raise ValidationFailed(gettext("Name at least one member to write to."), "to")
    if len(names) > MAX_MEMBERS - 1:
        raise ValidationFailed(gettext('A conversation has at most %(MAX_MEMBERS)s members; for more, start a thread.', MAX_MEMBERS=MAX_MEMBERS), "to")
    found = {u.username.lower(): u for u in db.session.execute(
        select(User).where(func.lower(User.username).in_(names))).scalars()}
    unknown = [n for n in names if n not in found]
    if unknown:
        raise ValidationFailed(gettext('No member is called %(value)s.', value=', '.join(unknown)), "to")
    people = [found[n] for n in names if found[n].id != sender.id]
    if not people:
        raise ValidationFailed(gettext("Name someone other than yourself."), "to")
    return people


def start(sender: User, recipients: list[User], subject: str, body: str) -> Conversation:
    """A new conversation with its first message; refused unless every pair of members may message each other."""
    if not permissions.can_start_conversation(sender, recipients):
        blocked = [u.display_name for u in recipients if not permissions.can_message(sender, u)]
        who = ", ".join(blocked) if blocked else gettext("some of these members")
        # The same words whatever the reason (organisation settings, a block): a refusal tells nothing more.
        raise ValidationFailed(gettext('You cannot start a conversation with %(who)s.', who=who), "to")
    now = utcnow()
    conversation = Conversation(subject=subject.strip()[:200], created_by_id=sender.id, created_at=now,
                                last_message_at=now)
    db.session.add(conversation)
    db.session.flush()
    for member in [sender, *recipients]:
        db.session.add(ConversationMember(conversation_id=conversation.id, user_id=member.id, joined_at=now,
                                          last_read_at=now if member.id == sender.id else None))
    _add_message(conversation, sender, body, now)
    db.session.commit()
    notifications.safely(notifications.message_sent, conversation, sender, [sender, *recipients])
    return conversation


def _add_message(conversation: Conversation, author: User, body: str, now) -> Message:
    if not body.strip():
        raise ValidationFailed(gettext("Write a message."), "body")
    limit = int(current_app.config["POST_MAX_LENGTH"])
    if len(body) > limit:
        raise ValidationFailed(gettext("A message can be at most %(limit)s characters long.",
                                       limit=format_decimal(limit)), "body")
    message = Message(conversation_id=conversation.id, author_id=author.id, body_md=body,
                      body_html=render_markdown(body), created_at=now)
    db.session.add(message)
    conversation.last_message_at = now
    return message


def send(sender: User, conversation: Conversation, body: str) -> Message:
    """Write in a conversation the sender belongs to, while they may still write to every other member."""
    members = _members(conversation.id)
    if not permissions.can_view_conversation(sender, {m.id for m in members}):
        raise PermissionDenied(gettext("Not your conversation."))
    if not permissions.can_send_message(sender, members):
        raise ValidationFailed(gettext("You can no longer write in this conversation."), "body")
    now = utcnow()
    message = _add_message(conversation, sender, body, now)
    _mark_read(sender, conversation, now)
    db.session.commit()
    notifications.safely(notifications.message_sent, conversation, sender, members)
    return message


def visible_conversation(user: User, conversation_id: int) -> tuple[Conversation, list[User]] | None:
    """The conversation and its members when ``user`` is one of them; None otherwise (missing looks alike)."""
    if not 0 < conversation_id <= MAX_ID:
        return None
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        return None
    members = _members(conversation.id)
    if not permissions.can_view_conversation(user, {m.id for m in members}):
        return None
    return conversation, members


def messages_of(conversation: Conversation, limit: int = 200) -> list[Message]:
    """The newest ``limit`` messages, oldest first, authors loaded with them."""
    rows = db.session.execute(
        select(Message).where(Message.conversation_id == conversation.id)
        .options(selectinload(Message.author)).order_by(Message.id.desc()).limit(limit)).scalars()
    return list(reversed(list(rows)))


def _mark_read(user: User, conversation: Conversation, when) -> None:
    member = db.session.execute(select(ConversationMember).where(
        ConversationMember.conversation_id == conversation.id, ConversationMember.user_id == user.id)).scalar_one()
    member.last_read_at = when


def mark_read(user: User, conversation: Conversation) -> None:
    """The member has seen everything up to now (and the inbox item about it is read too)."""
    now = utcnow()
    _mark_read(user, conversation, now)
    db.session.execute(update(Notification).where(
        Notification.user_id == user.id, Notification.conversation_id == conversation.id,
        Notification.kind == NotificationKind.MESSAGE, Notification.read_at.is_(None)).values(read_at=now))
    db.session.commit()


def _unread_clause():
    return or_(ConversationMember.last_read_at.is_(None),
               Conversation.last_message_at > ConversationMember.last_read_at)


def conversations_for(user: User, limit: int = 100) -> list[ConversationRow]:
    """The member's conversations, newest message first, with the other members and whether it is unread."""
    rows = db.session.execute(
        select(Conversation, _unread_clause().label("unread"))
        .join(ConversationMember, and_(ConversationMember.conversation_id == Conversation.id,
                                       ConversationMember.user_id == user.id))
        .order_by(Conversation.last_message_at.desc(), Conversation.id.desc()).limit(limit)).all()
    ids = [c.id for c, _ in rows]
    others: dict[int, list[User]] = {cid: [] for cid in ids}
    if ids:
        for cid, member in db.session.execute(
                select(ConversationMember.conversation_id, User).join(User, User.id == ConversationMember.user_id)
                .where(ConversationMember.conversation_id.in_(ids), ConversationMember.user_id != user.id)
                .order_by(ConversationMember.id)):
            others[cid].append(member)
    return [ConversationRow(c, others[c.id], bool(unread)) for c, unread in rows]


@functools.cache
def unread_count_query() -> Select:
    """How many of a member's conversations (the bind parameter ``user_id``) have a message they have not read, as
    a query: the page header asks it beside its other figures in one statement. Built once per process."""
    return (select(func.count(Conversation.id)).join(ConversationMember, and_(
        ConversationMember.conversation_id == Conversation.id, ConversationMember.user_id == bindparam("user_id")))
        .where(_unread_clause()))
