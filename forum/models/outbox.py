"""Typed models for delivery: jobs waiting for the broker (the outbox) and API responses kept by idempotency key."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import utcnow


class OutboxJob(db.Model):
    """A background job written in the same transaction as the change it follows (the transactional outbox).

    Sent to the broker after the commit and deleted once sent; while the broker is down it waits here and is
    sent again (``services/background.py``), so neither the request nor the job fails with the broker.
    """

    __tablename__ = "outbox_job"

    id: Mapped[int] = mapped_column(primary_key=True)
    task: Mapped[str] = mapped_column(String(80))
    args: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When it may be sent (again): a sender claims the row by moving this forward, so two never send it at once.
    due_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")


class IdempotentRequest(db.Model):
    """An API write done under a client's ``Idempotency-Key``: a retry with the key gets this response again."""

    __tablename__ = "idempotent_request"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    # Method, path and a hash of the body: the same key sent with another request is refused.
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer)  # None: the first request is still being served
    response_body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
