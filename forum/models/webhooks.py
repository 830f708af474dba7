"""Typed models for webhooks: a URL subscribed to events, and the log of each delivery to it."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .orgs import Organisation, User

EVENTS = ("thread.created", "thread.answered", "thread.resolved", "pattern.emerging", "playbook.published")


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"        # waiting for its first or next attempt
    DELIVERED = "delivered"    # the receiver answered 2xx
    FAILED = "failed"          # every attempt failed: given up
    WITHHELD = "withheld"      # its owner may no longer see what it is about: never sent


class Webhook(db.Model):
    """A URL that receives signed JSON for the events it subscribes to, as its owner may see them.

    ``organisation_id`` set: an org admin's webhook, for that organisation's threads only.
    """

    __tablename__ = "webhook"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"),
                                                        index=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=list)
    # The signing secret, encrypted (it must be read back to sign each payload).
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Why it was switched off: a code and its figures ({"code": "failures", "count": 20, "error": "HTTP 500"},
    # {"code": "owner", "username": "ada"}), written in the reader's language when shown. ``disabled_reason`` is
    # the English text rows switched off before kept (shown as it is when there are no details).
    disabled_reason: Mapped[str] = mapped_column(String(300), default="")
    disabled_details: Mapped[dict | None] = mapped_column(JSON)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    owner: Mapped[User] = relationship()
    organisation: Mapped[Organisation | None] = relationship()


class WebhookDelivery(db.Model):
    """One event for one webhook: its payload, attempts, and what the receiver answered last."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhook.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(40))
    event_key: Mapped[str] = mapped_column(String(36), unique=True)
    # What the event is about, looked at again before each attempt (its owner may have lost sight of it).
    subject_type: Mapped[str] = mapped_column(String(20))
    subject_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[DeliveryStatus] = mapped_column(_enum(DeliveryStatus, "webhook_delivery_status"),
                                                  default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(String(300), default="")
    response_ms: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)

    webhook: Mapped[Webhook] = relationship()
