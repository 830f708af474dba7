"""Delivering webhook events: one signed POST per attempt, retries with backoff, a log, automatic disabling.

``deliver(id)`` is the background job (the pool, inline, or a Celery worker under ``DELIVER_WEBHOOK``). It claims
the delivery by moving its next attempt past the attempt's own time limit (two workers never send one delivery at
once), looks again whether the webhook's owner may still see what it is about (else: withheld, never sent), checks
the address, POSTs, and records status code, response time and error. A failed attempt is tried again after
``WEBHOOK_RETRY_SECONDS`` doubling up to ``WEBHOOK_RETRY_MAX_SECONDS``, and given up after
``WEBHOOK_MAX_ATTEMPTS``; ``WEBHOOK_DISABLE_AFTER`` failed attempts in a row switch the webhook off (its waiting
deliveries stay, and go out when an admin switches it on again). ``deliver_due`` is what the sweep calls.
"""
from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update

from ...extensions import db
from ...models import DeliveryStatus, Pattern, Playbook, Thread, Webhook, WebhookDelivery, utcnow
from ...permissions import webhook_may_carry
from .. import background
from ..identity.secretbox import SecretUnreadable
from .events import DELIVER_WEBHOOK
from .signing import HEADER, sign
from .subscriptions import secret_of
from .urls import UnsafeURL, check_host

USER_AGENT = "Groundwork-Webhooks/1"
_SUBJECTS = {"thread": Thread, "playbook": Playbook, "pattern": Pattern}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead to an address the URL check never saw: a 3xx is the receiver's answer, not followed.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201
        return None


# No proxies from the environment either: the address checked is the address called.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirects)


def _config(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    first, most = _config("WEBHOOK_RETRY_SECONDS", 30), _config("WEBHOOK_RETRY_MAX_SECONDS", 3600)
    return timedelta(seconds=min(most, first * 2 ** max(0, attempts - 1)))


def _claim(delivery_id: int) -> bool:
    now = utcnow()
    hold = timedelta(seconds=_config("WEBHOOK_TIMEOUT_SECONDS", 5) + 30)
    table = WebhookDelivery.__table__
    with db.engine.begin() as conn:
        return bool(conn.execute(update(table).where(
            table.c.id == delivery_id, table.c.status == DeliveryStatus.PENDING.value, table.c.next_attempt_at <= now)
            .values(next_attempt_at=now + hold, attempts=table.c.attempts + 1)).rowcount)


def _still_carried(row: WebhookDelivery) -> bool:
    if row.subject_type == "webhook":  # a test event says nothing about the forum
        return True
    model = _SUBJECTS.get(row.subject_type)
    subject = db.session.get(model, row.subject_id) if model is not None else None
    return subject is not None and webhook_may_carry(row.webhook, subject)


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, int]:
    """POST once: (status code or None, error text, milliseconds)."""
    started = time.monotonic()
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with _opener.open(request, timeout=_config("WEBHOOK_TIMEOUT_SECONDS", 5)) as response:
            response.read(65536)
            code, error = response.status, ""
    except urllib.error.HTTPError as exc:
        code, error = exc.code, f"HTTP {exc.code} {exc.reason}"
    except (urllib.error.URLError, http.client.HTTPException, TimeoutError, OSError, ValueError) as exc:
        # HTTPException: an answer that is not HTTP (BadStatusLine, a cut-off body) is the receiver's failure too
        reason = getattr(exc, "reason", exc)
        code, error = None, f"{type(reason).__name__}: {reason}"
    return code, error[:300], int((time.monotonic() - started) * 1000)


def deliver(delivery_id: int) -> DeliveryStatus | None:
    """One attempt of a pending delivery that is due; its status afterwards (None: not ours to send now)."""
    if not _claim(delivery_id):
        return None
    try:
        return _attempt(delivery_id)
    except Exception as exc:  # noqa: BLE001 - whatever broke, the claim must not outlive the attempt
        db.session.rollback()
        _give_back(delivery_id, f"{type(exc).__name__}: {exc}")
        current_app.logger.exception("webhook delivery %s: the attempt broke", delivery_id)
        return DeliveryStatus.PENDING


def _give_back(delivery_id: int, error: str) -> None:
    """A broken attempt counts as a failed one: due again after its backoff, not after the claim's hold."""
    table = WebhookDelivery.__table__
    with db.engine.begin() as conn:
        attempts = conn.execute(select(table.c.attempts).where(table.c.id == delivery_id)).scalar_one()
        conn.execute(update(table).where(table.c.id == delivery_id, table.c.status == DeliveryStatus.PENDING.value)
                     .values(next_attempt_at=utcnow() + backoff(attempts), last_error=error[:300]))


def _attempt(delivery_id: int) -> DeliveryStatus:
    row = db.session.get(WebhookDelivery, delivery_id)
    db.session.refresh(row)
    hook = row.webhook
    if not hook.active:
        # Switched off meanwhile: the delivery waits for it to be switched on again, its attempt not counted.
        row.attempts, row.next_attempt_at = max(0, row.attempts - 1), utcnow()
        db.session.commit()
        return row.status
    if not _still_carried(row):
        row.status, row.last_error = DeliveryStatus.WITHHELD, "its owner may no longer see what it is about"
        db.session.commit()
        return row.status
    body = json.dumps(row.payload, separators=(",", ":"), sort_keys=True).encode("utf-8")
    try:
        parts = urlsplit(hook.url)
        check_host(parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT,
                   "X-Groundwork-Event": row.event, "X-Groundwork-Delivery": row.event_key,
                   HEADER: sign(secret_of(hook), body)}
    except (UnsafeURL, SecretUnreadable, ValueError) as exc:
        code, error, ms = None, str(exc)[:300], None
    else:
        code, error, ms = _post(hook.url, body, headers)
    row.last_status_code, row.response_ms = code, ms
    if code is not None and 200 <= code < 300:
        row.status, row.delivered_at, row.last_error = DeliveryStatus.DELIVERED, utcnow(), ""
        hook.consecutive_failures = 0
    else:
        _failed(row, hook, error or f"HTTP {code}")
    db.session.commit()
    return row.status


def _failed(row: WebhookDelivery, hook: Webhook, error: str) -> None:
    row.last_error = error[:300]
    if row.attempts >= int(_config("WEBHOOK_MAX_ATTEMPTS", 10)):
        row.status = DeliveryStatus.FAILED
    else:
        row.next_attempt_at = utcnow() + backoff(row.attempts)
    hook.consecutive_failures = (hook.consecutive_failures or 0) + 1
    if hook.active and hook.consecutive_failures >= int(_config("WEBHOOK_DISABLE_AFTER", 20)):
        hook.active = False
        hook.disabled_reason = ""
        hook.disabled_details = {"code": "failures", "count": hook.consecutive_failures, "error": error[:200]}
    current_app.logger.warning("webhook %s delivery %s failed (attempt %s): %s", hook.id, row.id, row.attempts,
                               row.last_error)


def due_ids(limit: int = 100) -> list[int]:
    """Pending deliveries of active webhooks whose next attempt is due, oldest first."""
    return list(db.session.execute(
        select(WebhookDelivery.id).join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= utcnow(),
               Webhook.active.is_(True))
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(limit)).scalars())


def deliver_due(limit: int = 100) -> int:
    """Attempt every due delivery in this thread; how many were delivered."""
    return sum(1 for delivery_id in due_ids(limit) if deliver(delivery_id) is DeliveryStatus.DELIVERED)


background.register(DELIVER_WEBHOOK, deliver)
