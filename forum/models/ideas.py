"""Typed models for product ideas: a thread in an ideas space, its status set by staff, and members' votes."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .board import Thread
from .orgs import User


class IdeaStatus(enum.StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    PLANNED = "planned"
    SHIPPED = "shipped"
    DECLINED = "declined"


class Idea(db.Model):
    """What an ideas-space thread carries beyond a thread: its status with staff's public note, and its votes
    counted twice: by members and by distinct customer organisations (the order of the ideas list)."""

    __tablename__ = "idea"
    __table_args__ = (Index("ix_idea_org_votes", "customer_org_votes", "votes"),)

    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True)
    status: Mapped[IdeaStatus] = mapped_column(_enum(IdeaStatus, "idea_status"), default=IdeaStatus.NEW, index=True)
    status_note: Mapped[str] = mapped_column(Text, default="")
    status_changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime)
    votes: Mapped[int] = mapped_column(Integer, default=0)
    customer_org_votes: Mapped[int] = mapped_column(Integer, default=0)

    thread: Mapped[Thread] = relationship()
    status_changed_by: Mapped[User | None] = relationship()


class IdeaVote(db.Model):
    """One member's vote for one idea (their organisation then, for the count by organisation)."""

    __tablename__ = "idea_vote"
    __table_args__ = (UniqueConstraint("thread_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("idea.thread_id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
