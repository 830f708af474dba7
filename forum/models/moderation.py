"""Typed models for moderation and workflow: flags, space moderators, the audit log, internal links,
escalation assignments and the new-user limits admins set."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .board import Reply, Space, Thread
from .orgs import User


class FlagReason(enum.StrEnum):
    SPAM = "spam"
    OFFENSIVE = "offensive"
    OFF_TOPIC = "off_topic"
    CONFIDENTIAL = "confidential"
    DUPLICATE = "duplicate"
    OTHER = "other"


class FlagStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Flag(db.Model):
    """A member's report on a thread (or one of its replies), reviewed by a moderator of its space."""

    __tablename__ = "flag"
    __table_args__ = (Index("ix_flag_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    reason: Mapped[FlagReason] = mapped_column(_enum(FlagReason, "flag_reason"))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[FlagStatus] = mapped_column(_enum(FlagStatus, "flag_status"), default=FlagStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    review_note: Mapped[str] = mapped_column(String(1000), default="")

    thread: Mapped[Thread] = relationship()
    reply: Mapped[Reply | None] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
    reviewed_by: Mapped[User | None] = relationship(foreign_keys=[reviewed_by_id])


class SpaceModerator(db.Model):
    """An employee who moderates one space (global moderators need no row)."""

    __tablename__ = "space_moderator"
    __table_args__ = (UniqueConstraint("space_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("space.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    space: Mapped[Space] = relationship()
    user: Mapped[User] = relationship()


class AuditEntry(db.Model):
    """Who did what to which row, when, with the changed fields before and after."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_target", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    action: Mapped[str] = mapped_column(String(60), index=True)
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(String(300), default="")
    # {"key": <a key of audit.SUMMARIES>, "params": {...}}: the summary written in the reader's language when
    # shown; None for entries whose summary is a plain title or name, and for those written before it existed.
    summary_details: Mapped[dict | None] = mapped_column(JSON)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()


class InternalLink(db.Model):
    """An internal (employees-only) discussion about a public or org-private thread."""

    __tablename__ = "internal_link"
    __table_args__ = (UniqueConstraint("thread_id", "internal_thread_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    internal_thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    thread: Mapped[Thread] = relationship(foreign_keys=[thread_id])
    internal_thread: Mapped[Thread] = relationship(foreign_keys=[internal_thread_id])


class Assignment(db.Model):
    """The employee answering an escalated (needs_staff) thread, and by when."""

    __tablename__ = "assignment"

    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True)
    assignee_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    due_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    thread: Mapped[Thread] = relationship()
    assignee: Mapped[User] = relationship(foreign_keys=[assignee_id])


class ModerationSettings(db.Model):
    """One row: the limits on new members' first hours, set by admins (absent row = config defaults)."""

    __tablename__ = "moderation_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    new_user_hours: Mapped[int] = mapped_column(Integer)
    new_user_max_threads: Mapped[int] = mapped_column(Integer)
    new_user_max_links: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")
