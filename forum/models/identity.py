"""Typed models for how people prove who they are beyond a password: an authenticator app (TOTP), its
one-time recovery codes, the devices remembered for a while after a second factor, and organisations' OpenID
Connect identity providers with the accounts people hold there."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import utcnow
from .orgs import Organisation, User


class TwoFactor(db.Model):
    """A member's authenticator app: the TOTP secret (encrypted) and the last time step a code was used at."""

    __tablename__ = "two_factor"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    # Encrypted with the app's secret box: a database leak alone does not yield working codes.
    secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    # Codes at or before this 30-second step are refused, so a code seen over a shoulder cannot be replayed.
    last_step: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User] = relationship()


class RecoveryCode(db.Model):
    """One single-use recovery code; only a digest is stored."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class RememberedDevice(db.Model):
    """A browser that passed the second factor and may skip it until ``expires_at`` (or until revoked)."""

    __tablename__ = "remembered_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class SsoProvider(db.Model):
    """An organisation's OpenID Connect identity provider: members whose email domain it lists sign in there,
    new ones get an account in the organisation on their first sign-in; ``sso_only`` refuses their passwords."""

    __tablename__ = "sso_provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id", ondelete="CASCADE"), unique=True)
    label: Mapped[str] = mapped_column(String(80))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    email_domains: Mapped[list] = mapped_column(JSON, default=list)
    sso_only: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship()


class SsoIdentity(db.Model):
    """A member's account at an identity provider (its ``sub``), linked to their Groundwork account."""

    __tablename__ = "sso_identity"
    __table_args__ = (UniqueConstraint("provider_id", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider_id: Mapped[int] = mapped_column(ForeignKey("sso_provider.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)

    user: Mapped[User] = relationship()
    provider: Mapped[SsoProvider] = relationship()
