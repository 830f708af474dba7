"""Typed models for organisations and the people in them, their engagements, the product catalog and deployments."""
from __future__ import annotations

import enum
from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import _enum, utcnow


class OrgKind(str, enum.Enum):
    VENDOR = "vendor"
    CUSTOMER = "customer"
    PARTNER = "partner"


class Role(str, enum.Enum):
    CUSTOMER = "customer"
    PARTNER = "partner"
    EMPLOYEE = "employee"


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
    # Customer organisations' members may message members of other customers only where both allow it.
    allow_customer_messages: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
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
    # An uploaded avatar (resized, re-encoded) in the attachment store; None shows generated initials.
    avatar_sha256: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Where the visit before the current one ended ("new since your last visit"); moved on when a member comes
    # back after a pause (``presence.touch``).
    previous_visit_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The language the member chose ("en", "de"); None follows the browser's Accept-Language (forum.i18n).
    locale: Mapped[str | None] = mapped_column(String(10))

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
