"""Typed model for files attached to questions and replies (the bytes live in the attachment store)."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .board import Reply, Thread
from .orgs import User


class AttachmentKind(enum.StrEnum):
    IMAGE = "image"
    TEXT = "text"


class Attachment(db.Model):
    """One file on a question (``reply_id`` empty) or a reply, stored by the sha256 of its content."""

    __tablename__ = "attachment"
    __table_args__ = (Index("ix_attachment_thread_reply", "thread_id", "reply_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    uploader_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    kind: Mapped[AttachmentKind] = mapped_column(_enum(AttachmentKind, "attachment_kind"))
    # Decided from the content when it was checked, never from what the browser claimed.
    content_type: Mapped[str] = mapped_column(String(80))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    # Text files: their first lines (the preview), the error signatures found in them, the lines holding those
    # signatures (what search and mining read, as they read a post's body) and the signatures as search words.
    head_text: Mapped[str] = mapped_column(Text, default="")
    signatures: Mapped[list] = mapped_column(JSON, default=list)
    signature_lines: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)

    thread: Mapped[Thread] = relationship()
    reply: Mapped[Reply | None] = relationship()
    uploader: Mapped[User] = relationship()

    @property
    def is_image(self) -> bool:
        return self.kind is AttachmentKind.IMAGE
