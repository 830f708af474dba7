"""The sweep that retries webhook deliveries whose next attempt is due, in each serving process every
``WEBHOOK_SWEEP_SECONDS`` (10; 0 switches it off, and so does ``TESTING`` unless it is set).

Due deliveries are attempted in the sweeping thread, or handed to a Celery worker when there is a broker. A delivery
stays due until a worker claims it: while no worker takes them, a copy already waiting in the broker is not handed
over again before the time a claim holds a delivery, doubling up to an hour (each round would add a copy of every
due delivery: 36,000 messages for 100 deliveries in an hour without a worker). A failed attempt (its count moved) is
handed over as soon as it is due.
"""
from __future__ import annotations

import threading
import time

from flask import Flask, current_app
from sqlalchemy import select

from ...extensions import db
from ...models import WebhookDelivery
from .. import background
from .delivery import deliver, due_ids
from .events import DELIVER_WEBHOOK

MAX_HANDOVER_WAIT = 3600.0
# (database, delivery id) -> (its attempts when handed over, when, how long before handing it over again)
_handed: dict[tuple[str, int], tuple[int, float, float]] = {}
_handed_lock = threading.Lock()


def _hand_over(ids: list[int]) -> None:
    """Send due deliveries to the broker, skipping a copy handed over lately that no worker has taken yet."""
    attempts = dict(db.session.execute(select(WebhookDelivery.id, WebhookDelivery.attempts)
                                       .where(WebhookDelivery.id.in_(ids))).all())
    db.session.rollback()
    database, now = db.engine.url.render_as_string(hide_password=True), time.monotonic()
    first_wait = float(current_app.config.get("WEBHOOK_TIMEOUT_SECONDS", 5)) + 30  # a claim's hold
    with _handed_lock:
        for key in [key for key in _handed if key[0] == database and key[1] not in attempts]:
            del _handed[key]  # delivered, given up or claimed: forget it
    for delivery_id in ids:
        key, count = (database, delivery_id), attempts.get(delivery_id)
        with _handed_lock:
            seen = _handed.get(key)
        if seen is not None and seen[0] == count and now < seen[1] + seen[2]:
            continue  # its copy still waits in the broker
        if background.stopping() or not background.send(DELIVER_WEBHOOK, delivery_id):
            break  # the broker is away: the next sweep tries again
        wait = min(seen[2] * 2, MAX_HANDOVER_WAIT) if seen is not None and seen[0] == count else first_wait
        with _handed_lock:
            _handed[key] = (count, now, wait)


def sweep_once() -> int:
    """Attempt (or hand to the broker) every due delivery; how many were taken up."""
    ids = due_ids()
    db.session.rollback()
    if ids and background.has_broker():
        _hand_over(ids)
        return len(ids)
    for delivery_id in ids:
        if background.stopping():
            break
        deliver(delivery_id)
    return len(ids)


_periodic = background.Periodic("groundwork-webhooks", "WEBHOOK_SWEEP_SECONDS", 10, sweep_once)


def start(app: Flask) -> None:
    """Start this process's sweeper for ``app`` unless it runs or is switched off."""
    _periodic.ensure_running(app)


def stop(app: Flask) -> None:
    """Stop the app's sweeper (tests, shutdown)."""
    _periodic.stop(app)
    with _handed_lock:
        _handed.clear()


init_app = _periodic.init_app
