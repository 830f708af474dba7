"""Typed models for the board: spaces, tags, threads, replies, revisions, votes and confirmations."""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow
from .orgs import Deployment, Organisation, User


class Visibility(str, enum.Enum):
    PUBLIC = "public"
    INTERNAL = "internal"
    ORG_PRIVATE = "org_private"


class ThreadKind(str, enum.Enum):
    QUESTION = "question"
    DISCUSSION = "discussion"
    ANNOUNCEMENT = "announcement"


class ThreadStatus(str, enum.Enum):
    OPEN = "open"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    NEEDS_STAFF = "needs_staff"


class SpaceKind(str, enum.Enum):
    DISCUSSION = "discussion"
    IDEAS = "ideas"  # product ideas: every thread is an idea members vote for and staff give a status


class Space(db.Model):
    __tablename__ = "space"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    default_visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"),
                                                           default=Visibility.PUBLIC)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # A space for the vendor's announcements: everyone reads and replies there, only employees start threads.
    staff_posts_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    kind: Mapped[SpaceKind] = mapped_column(_enum(SpaceKind, "space_kind"), default=SpaceKind.DISCUSSION,
                                            server_default=SpaceKind.DISCUSSION.value)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


thread_tag = Table(
    "thread_tag",
    db.Model.metadata,
    Column("thread_id", ForeignKey("thread.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


# What ``permissions.visible_threads`` reads of a thread.
_VISIBILITY_COLUMNS = ("visibility", "organisation_id", "merged_into_id", "hidden_at")
# Which threads the side lists' partial indexes hold (``pages.threads_query``'s "unanswered" and "needs_staff").
_UNANSWERED = text("kind = 'question' AND reply_count = 0 AND merged_into_id IS NULL")
_NEEDS_STAFF = text("status = 'needs_staff' AND merged_into_id IS NULL")


class Thread(db.Model):
    __tablename__ = "thread"
    __table_args__ = (
        Index("ix_thread_space_activity", "space_id", "last_activity_at"),
        Index("ix_thread_visibility_activity", "visibility", "last_activity_at"),
        # The space and home lists in their order (without the first both databases sorted the whole space: over
        # 100 ms at 100k threads), with the columns of ``permissions.visible_threads`` after it, so a deep page
        # counts the threads it skips in the index alone (``pages.fetch_page``; see bench/README.md).
        Index("ix_thread_space_list", "space_id", "is_pinned", "last_activity_at", "id", *_VISIBILITY_COLUMNS),
        Index("ix_thread_list", "last_activity_at", "id", *_VISIBILITY_COLUMNS),
        # The home page's "open in your organisation" list: without it both databases read and sort all of an
        # organisation's threads, which grow with the forum (5-8 ms at 1M threads; see bench/README.md).
        Index("ix_thread_org_activity", "organisation_id", "last_activity_at"),
        # The home page's side lists: their few threads in activity order, without walking every answered thread
        # newer than them (see bench/README.md).
        Index("ix_thread_unanswered", "last_activity_at", "id", *_VISIBILITY_COLUMNS, "status",
              sqlite_where=_UNANSWERED, postgresql_where=_UNANSWERED),
        Index("ix_thread_needs_staff", "last_activity_at", "id", *_VISIBILITY_COLUMNS,
              sqlite_where=_NEEDS_STAFF, postgresql_where=_NEEDS_STAFF),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    space_id: Mapped[int] = mapped_column(ForeignKey("space.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    # The asker's organisation when the thread was started: it owns org-private threads.
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    kind: Mapped[ThreadKind] = mapped_column(_enum(ThreadKind, "thread_kind"), default=ThreadKind.QUESTION)
    visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"), default=Visibility.PUBLIC)
    status: Mapped[ThreadStatus] = mapped_column(_enum(ThreadStatus, "thread_status"),
                                                 default=ThreadStatus.OPEN, index=True)
    deployment_id: Mapped[int | None] = mapped_column(ForeignKey("deployment.id", ondelete="SET NULL"))
    deployment_snapshot: Mapped[dict | None] = mapped_column(JSON)
    accepted_reply_id: Mapped[int | None] = mapped_column(
        ForeignKey("reply.id", use_alter=True, ondelete="SET NULL"))
    reply_count: Mapped[int] = mapped_column(Integer, default=0)
    external_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Moderation: locked threads take no new replies (except from moderators); pinned ones lead their
    # space; hidden ones are for employees only; a merged one points at the thread that absorbed it.
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    is_pinned: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime)
    merged_into_id: Mapped[int | None] = mapped_column(Integer, index=True)

    space: Mapped[Space] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    organisation: Mapped[Organisation] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=thread_tag, order_by="Tag.name")
    accepted_reply: Mapped[Reply | None] = relationship(foreign_keys=[accepted_reply_id], post_update=True)
    replies: Mapped[list[Reply]] = relationship(
        back_populates="thread", foreign_keys="Reply.thread_id", order_by="Reply.id",
        cascade="all, delete-orphan", passive_deletes=True)


class Reply(db.Model):
    __tablename__ = "reply"
    __table_args__ = (Index("ix_reply_thread_created", "thread_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    body_md: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    is_staff_note: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    thread: Mapped[Thread] = relationship(back_populates="replies", foreign_keys=[thread_id])
    author: Mapped[User] = relationship(foreign_keys=[author_id])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Revision(db.Model):
    """The text a thread or reply had before an edit."""

    __tablename__ = "revision"
    __table_args__ = (CheckConstraint("(thread_id IS NULL) <> (reply_id IS NULL)", name="one_target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("thread.id", ondelete="CASCADE"), index=True)
    reply_id: Mapped[int | None] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    previous_title: Mapped[str | None] = mapped_column(String(300))
    previous_md: Mapped[str] = mapped_column(Text)
    # Files this edit added or removed, [{"action": "added" | "removed", "filename": ...}]; None: none.
    file_changes: Mapped[list | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    editor: Mapped[User] = relationship()


class Vote(db.Model):
    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("reply_id", "user_id"),
        CheckConstraint("value IN (-1, 1)", name="plus_or_minus_one"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Confirmation(db.Model):
    """'Worked for us too': another customer confirms the accepted answer at one of their deployments."""

    __tablename__ = "confirmation"
    __table_args__ = (UniqueConstraint("reply_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("reply.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    # The version the deployment ran when it confirmed (deployments are upgraded later; the answer was not).
    product_version_id: Mapped[int | None] = mapped_column(ForeignKey("product_version.id", ondelete="SET NULL"),
                                                           index=True)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    deployment: Mapped[Deployment] = relationship()


class BoardGeneration(db.Model):
    """One row counting the commits that changed what the thread lists can show (``services.board.generation``).

    Every process keeps the lists it read under the count it read first; a commit that wrote the threads, their
    tags, spaces, authors' names or organisations adds one in the same transaction, so no process serves a list
    from before it.
    """

    __tablename__ = "board_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


# Its one row, also where the schema is made without the migrations (create_all).
event.listen(BoardGeneration.__table__, "after_create",
             DDL("INSERT INTO board_generation (id, value) VALUES (1, 0)"))
