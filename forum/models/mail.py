"""Typed model for the mail outbox: every message the forum sends, kept from queueing to delivery or failure."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import _enum, utcnow


class MailStatus(enum.StrEnum):
    QUEUED = "queued"        # waiting for (another) delivery attempt at ``due_at``
    SENT = "sent"
    FAILED = "failed"        # every attempt failed, or the server refused the message for good
    HELD = "held"            # no mail server is configured: kept, previewable, never sent
    CANCELLED = "cancelled"  # its recipient may no longer see what it is about


class MailMessage(db.Model):
    """One e-mail, written in the same transaction as what caused it and delivered by the background worker.

    ``secret`` holds a one-time link's token apart from the bodies (they say ``{secret}`` where it goes), so an
    admin previewing the outbox never sees a working reset or invitation link; it is wiped once the mail is sent.
    """

    __tablename__ = "mail_message"
    __table_args__ = (Index("ix_mail_message_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    recipient: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    # A notification's mail is dropped at delivery when its recipient may no longer see what it is about.
    notification_id: Mapped[int | None] = mapped_column(ForeignKey("notification.id", ondelete="SET NULL"),
                                                        index=True)
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text, default="")
    secret: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[MailStatus] = mapped_column(_enum(MailStatus, "mail_status"), default=MailStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
