"""Typed models for notifications: what people watch, what reaches their inbox, how they want email."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .board import Reply, Thread
from .messages import Conversation
from .orgs import ProductVersion, User
from .patterns import Pattern, Playbook


class WatchTarget(str, enum.Enum):
    THREAD = "thread"
    SPACE = "space"
    TAG = "tag"
    PATTERN = "pattern"
    PLAYBOOK = "playbook"


class NotificationKind(str, enum.Enum):
    REPLY = "reply"
    NEW_THREAD = "new_thread"     # a new thread in a watched space or tag
    MENTION = "mention"
    ACCEPTED = "accepted"
    CONFIRMED = "confirmed"
    ASSIGNED = "assigned"
    PATTERN_EMERGING = "pattern_emerging"
    PLAYBOOK_UPDATED = "playbook_updated"
    REMINDER = "reminder"         # a bookmark's reminder date came
    MESSAGE = "message"           # a direct message (one unread item per conversation)
    IDEA_STATUS = "idea_status"   # staff changed the status of an idea the recipient voted for
    ROUTED = "routed"             # a new question like ones the recipient solved (opt-in, a few a day)
    VERSION_REVIEW = "version_review"  # a version entered the catalog: playbooks to review on it (leads)


class EmailMode(str, enum.Enum):
    IMMEDIATE = "immediate"
    DIGEST = "digest"
    OFF = "off"


class Watch(db.Model):
    """One user following one thread, space, tag, pattern or playbook (by id: targets have no common table)."""

    __tablename__ = "watch"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id"),
        Index("ix_watch_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    target_type: Mapped[WatchTarget] = mapped_column(_enum(WatchTarget, "watch_target"))
    target_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class Notification(db.Model):
    """One inbox item. It stores ids only: titles and text are read from the current rows when shown."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_user_read", "user_id", "read_at"),
        Index("ix_notification_user_created", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    kind: Mapped[NotificationKind] = mapped_column(_enum(NotificationKind, "notification_kind"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    pattern_id: Mapped[int | None] = mapped_column(ForeignKey("pattern.id", ondelete="CASCADE"), index=True)
    playbook_id: Mapped[int | None] = mapped_column(ForeignKey("playbook.id", ondelete="CASCADE"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"),
                                                        index=True)
    product_version_id: Mapped[int | None] = mapped_column(ForeignKey("product_version.id", ondelete="CASCADE"),
                                                           index=True)
    # The watch that brought it (for the email's unsubscribe link); None for mentions and direct news.
    watch_id: Mapped[int | None] = mapped_column(ForeignKey("watch.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(DateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(DateTime)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    thread: Mapped[Thread | None] = relationship()
    reply: Mapped[Reply | None] = relationship()
    pattern: Mapped[Pattern | None] = relationship()
    playbook: Mapped[Playbook | None] = relationship()
    conversation: Mapped[Conversation | None] = relationship()
    product_version: Mapped[ProductVersion | None] = relationship()


class NotificationSetting(db.Model):
    """A user's email preference; no row means the default (immediate)."""

    __tablename__ = "notification_setting"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    email_mode: Mapped[EmailMode] = mapped_column(_enum(EmailMode, "email_mode"), default=EmailMode.IMMEDIATE)
    # Questions like ones this member solved are routed to them only if they opt in, at most this many a day.
    routing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    routing_daily_limit: Mapped[int] = mapped_column(Integer, default=3)
    last_digest_at: Mapped[datetime | None] = mapped_column(DateTime)
