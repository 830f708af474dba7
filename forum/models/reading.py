"""Typed models for what a member has read (per thread) and what they keep (bookmarks with reminders)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow
from .board import Reply, Thread


class ThreadRead(db.Model):
    """How far one member has read one thread: the newest reply id they were shown (0: the question only)."""

    __tablename__ = "thread_read"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True,
                                           index=True)
    last_read_reply_id: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Bookmark(db.Model):
    """A member keeping a thread (``reply_id`` empty) or one reply, with a note and maybe a reminder date."""

    __tablename__ = "bookmark"
    __table_args__ = (
        Index("ix_bookmark_user_created", "user_id", "created_at"),
        # The reminder sweep reads due reminders not sent yet.
        Index("ix_bookmark_remind", "remind_at", "reminded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    remind_at: Mapped[datetime | None] = mapped_column(DateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    thread: Mapped[Thread] = relationship()
    reply: Mapped[Reply | None] = relationship()
