"""Typed models for direct messages: conversations, their members, messages, blocks and reports."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .moderation import FlagReason, FlagStatus
from .orgs import User


class Conversation(db.Model):
    """A one-to-one or small-group conversation; seen by its members only."""

    __tablename__ = "conversation"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_message_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)

    members: Mapped[list[ConversationMember]] = relationship(
        back_populates="conversation", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ConversationMember.id")


class ConversationMember(db.Model):
    """One member of a conversation, with how far they have read it."""

    __tablename__ = "conversation_member"
    __table_args__ = (UniqueConstraint("conversation_id", "user_id"),
                      Index("ix_conversation_member_user", "user_id", "conversation_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    joined_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_read_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation: Mapped[Conversation] = relationship(back_populates="members")
    user: Mapped[User] = relationship()


class Message(db.Model):
    __tablename__ = "message"
    __table_args__ = (Index("ix_message_conversation_id_id", "conversation_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Removed by a moderator after a report: its members see that it was removed, not what it said.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)

    conversation: Mapped[Conversation] = relationship()
    author: Mapped[User] = relationship()


class MemberBlock(db.Model):
    """``blocker`` receives no messages from ``blocked`` and is not offered to them."""

    __tablename__ = "member_block"
    __table_args__ = (UniqueConstraint("blocker_id", "blocked_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    blocker_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    blocked_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    blocked: Mapped[User] = relationship(foreign_keys=[blocked_id])


class MessageReport(db.Model):
    """A member's report of a message they received, reviewed in the moderation queue."""

    __tablename__ = "message_report"
    __table_args__ = (Index("ix_message_report_status_created", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    reason: Mapped[FlagReason] = mapped_column(_enum(FlagReason, "flag_reason"))
    detail: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[FlagStatus] = mapped_column(_enum(FlagStatus, "flag_status"), default=FlagStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime)
    review_note: Mapped[str] = mapped_column(String(1000), default="")

    message: Mapped[Message] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
