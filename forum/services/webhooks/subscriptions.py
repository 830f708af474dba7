"""Subscribing URLs to events: create, list, switch on and off, delete, and the delivery log.

Vendor admins' webhooks see what an admin sees; an org admin's webhook is tied to their organisation and carries
its threads only (``permissions.webhook_may_carry``). Every change is audited.
"""
from __future__ import annotations

import secrets

from flask_babel import gettext, ngettext
from sqlalchemy import select

from ...extensions import db
from ...models import User, Webhook, WebhookDelivery
from ...permissions import (
    PermissionDenied,
    can_edit_webhook,
    can_manage_webhooks,
    is_admin,
    visible_webhooks,
    webhook_events_for,
)
from ..identity.secretbox import seal, unseal
from ..moderation import audit
from ..orgs.catalog import ValidationFailed
from .urls import UnsafeURL, check_url


def create_webhook(user: User, url: str, events: list[str]) -> tuple[Webhook, str]:
    """Subscribe ``url`` to ``events``; the webhook and its signing secret (shown to the owner once)."""
    if not can_manage_webhooks(user):
        raise PermissionDenied(gettext("Only admins and organisation admins manage webhooks."))
    allowed = webhook_events_for(user)
    chosen = [e for e in allowed if e in set(events or [])]
    if not chosen or len(chosen) != len(set(events or [])):
        raise ValidationFailed(gettext("Choose at least one of the events offered."), "events")
    try:
        url = check_url(url)
    except UnsafeURL as exc:
        raise ValidationFailed(str(exc), "url") from exc
    secret = "whsec_" + secrets.token_urlsafe(32)
    webhook = Webhook(owner_id=user.id, organisation_id=None if is_admin(user) else user.organisation_id,
                      url=url, events=chosen, secret_encrypted=seal(secret), active=True)
    db.session.add(webhook)
    db.session.flush()
    audit.record("webhook.create", webhook, actor=user, before=None, after=audit.snapshot(webhook),
                 summary=url[:300])
    db.session.commit()
    return webhook, secret


def webhooks_for(user: User) -> list[Webhook]:
    """The webhooks this user manages, newest first."""
    return list(db.session.execute(select(Webhook).where(visible_webhooks(user))
                                   .order_by(Webhook.created_at.desc(), Webhook.id.desc())).scalars())


def webhook_for(user: User, webhook_id: int) -> Webhook | None:
    """One webhook this user manages (None also when it exists but is not theirs to see)."""
    webhook = db.session.get(Webhook, webhook_id)
    return webhook if webhook is not None and can_edit_webhook(user, webhook) else None


def secret_of(webhook: Webhook) -> str:
    """The signing secret in clear (to sign, or to show the owner again)."""
    return unseal(webhook.secret_encrypted)


def set_active(user: User, webhook: Webhook, active: bool) -> None:
    """Switch a webhook off, or on again: deliveries that waited go out, the failure count starts afresh."""
    if not can_edit_webhook(user, webhook):
        raise PermissionDenied(gettext("Not your webhook."))
    webhook.active = bool(active)
    webhook.disabled_reason = ""
    if active:
        webhook.consecutive_failures, webhook.disabled_details = 0, None
    else:
        webhook.disabled_details = {"code": "owner", "username": user.username}
    audit.record("webhook.enable" if active else "webhook.disable", webhook, actor=user)
    db.session.commit()


def disabled_text(webhook: Webhook) -> str:
    """Why the webhook is off, in the reader's language ("" when it is on or no reason was kept)."""
    details = webhook.disabled_details or {}
    if details.get("code") == "failures":
        return ngettext("switched off after %(num)d failed attempt in a row (%(error)s)",
                        "switched off after %(num)d failed attempts in a row (%(error)s)",
                        int(details.get("count") or 0), error=details.get("error") or "")
    if details.get("code") == "owner":
        return gettext("switched off by %(username)s", username=details.get("username") or "")
    return webhook.disabled_reason or ""


def delete_webhook(user: User, webhook: Webhook) -> None:
    """Remove a webhook and its delivery log."""
    if not can_edit_webhook(user, webhook):
        raise PermissionDenied(gettext("Not your webhook."))
    audit.record("webhook.delete", webhook, actor=user, before=audit.snapshot(webhook), after=None,
                 summary=webhook.url[:300])
    db.session.delete(webhook)
    db.session.commit()


def deliveries_of(webhook: Webhook, limit: int = 50) -> list[WebhookDelivery]:
    """The webhook's latest deliveries, newest first (the log)."""
    return list(db.session.execute(select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook.id)
                                   .order_by(WebhookDelivery.id.desc()).limit(limit)).scalars())
