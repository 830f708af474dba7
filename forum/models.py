"""Typed SQLAlchemy 2.0 models: organisations, people, deployments, spaces, threads and replies."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint, so SQLite and PostgreSQL hold the same values.
    return Enum(cls, name=name, native_enum=False, create_constraint=True, length=20,
                values_callable=lambda members: [m.value for m in members])


class OrgKind(str, enum.Enum):
    VENDOR = "vendor"
    CUSTOMER = "customer"
    PARTNER = "partner"


class Role(str, enum.Enum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    EMPLOYEE = "employee"


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


class Hosting(str, enum.Enum):
    CLOUD = "cloud"
    ON_PREMISES = "on_premises"
    HYBRID = "hybrid"


class Environment(str, enum.Enum):
    PRODUCTION = "production"
    TEST = "test"


class Organisation(db.Model):
    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    description: Mapped[str] = mapped_column(Text, default="")
    is_placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    members: Mapped[list[User]] = relationship(back_populates="organisation")
    deployments: Mapped[list[Deployment]] = relationship(
        back_populates="organisation", order_by="Deployment.id")

    def __repr__(self) -> str:
        return f"<Organisation {self.slug} ({self.kind.value})>"


class Engagement(db.Model):
    """A partner firm engaged with a customer: the partner sees that customer's org-private threads."""

    __tablename__ = "engagement"
    __table_args__ = (UniqueConstraint("partner_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    partner: Mapped[Organisation] = relationship(foreign_keys=[partner_id])
    customer: Mapped[Organisation] = relationship(foreign_keys=[customer_id])


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    is_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    is_placeholder: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Bumped on logout and password change; the session carries it, so old cookies stop working.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    bio: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)

    organisation: Mapped[Organisation] = relationship(back_populates="members", lazy="joined")

    @property
    def role(self) -> Role:
        """The role follows from the organisation: vendor people are employees."""
        return {
            OrgKind.VENDOR: Role.EMPLOYEE,
            OrgKind.CUSTOMER: Role.CUSTOMER,
            OrgKind.PARTNER: Role.PARTNER,
        }[self.organisation.kind]

    @property
    def is_employee(self) -> bool:
        return self.role is Role.EMPLOYEE

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    def get_id(self) -> str:
        # The version is part of the id, so a cookie minted before logout no longer loads a user.
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Invitation(db.Model):
    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254), default="")
    grants_org_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])


class Product(db.Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")

    versions: Mapped[list[ProductVersion]] = relationship(
        back_populates="product", order_by="ProductVersion.position")


class ProductVersion(db.Model):
    __tablename__ = "product_version"
    __table_args__ = (UniqueConstraint("product_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    released_on: Mapped[date | None] = mapped_column(Date)

    product: Mapped[Product] = relationship(back_populates="versions", lazy="joined")

    @property
    def label(self) -> str:
        return f"{self.product.name} {self.name}"


class Deployment(db.Model):
    """One installation of a product at an organisation."""

    __tablename__ = "deployment"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    product_version_id: Mapped[int] = mapped_column(ForeignKey("product_version.id"), index=True)
    edition: Mapped[str] = mapped_column(String(40), default="")
    hosting: Mapped[Hosting] = mapped_column(_enum(Hosting, "hosting"), default=Hosting.ON_PREMISES)
    database: Mapped[str] = mapped_column(String(60), default="")
    operating_system: Mapped[str] = mapped_column(String(60), default="")
    topology: Mapped[str] = mapped_column(String(60), default="")
    integrations: Mapped[list] = mapped_column(JSON, default=list)
    environment: Mapped[Environment] = mapped_column(_enum(Environment, "environment"),
                                                     default=Environment.PRODUCTION)
    go_live: Mapped[date | None] = mapped_column(Date)
    size_users: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="deployments")
    product_version: Mapped[ProductVersion] = relationship(lazy="joined")

    def snapshot(self) -> dict:
        """The profile as it is now, frozen into a thread when a question is asked."""
        version = self.product_version
        return {
            "deployment_id": self.id,
            "name": self.name,
            "product": version.product.name,
            "version": version.name,
            "edition": self.edition,
            "hosting": self.hosting.value,
            "database": self.database,
            "operating_system": self.operating_system,
            "topology": self.topology,
            "integrations": list(self.integrations or []),
            "environment": self.environment.value,
            "go_live": self.go_live.isoformat() if self.go_live else None,
            "size_users": self.size_users,
        }


class Space(db.Model):
    __tablename__ = "space"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    default_visibility: Mapped[Visibility] = mapped_column(_enum(Visibility, "visibility"),
                                                           default=Visibility.PUBLIC)
    position: Mapped[int] = mapped_column(Integer, default=0)
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


class Thread(db.Model):
    __tablename__ = "thread"
    __table_args__ = (
        Index("ix_thread_space_activity", "space_id", "last_activity_at"),
        Index("ix_thread_visibility_activity", "visibility", "last_activity_at"),
        # The space page orders by is_pinned, then activity: without this index both databases sort the
        # whole space (over 100 ms at 100k threads; see bench/README.md).
        Index("ix_thread_space_pinned_activity", "space_id", "is_pinned", "last_activity_at"),
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
    last_activity_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
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
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()
    deployment: Mapped[Deployment] = relationship()
