"""The sweep that retries webhook deliveries whose next attempt is due, in each serving process every
``WEBHOOK_SWEEP_SECONDS`` (10; 0 switches it off, and so does ``TESTING`` unless it is set).

Due deliveries are attempted in the sweeping thread, or handed to a Celery worker when there is a broker.
"""
from __future__ import annotations

from flask import Flask

from ...extensions import db
from .. import background
from .delivery import deliver, due_ids
from .events import DELIVER_WEBHOOK


def sweep_once() -> int:
    """Attempt (or hand to the broker) every due delivery; how many were taken up."""
    ids = due_ids()
    db.session.rollback()
    for delivery_id in ids:
        if background.stopping():
            break
        if background.has_broker():
            if not background.send(DELIVER_WEBHOOK, delivery_id):
                break  # the broker is away: the next sweep tries again
        else:
            deliver(delivery_id)
    return len(ids)


_periodic = background.Periodic("groundwork-webhooks", "WEBHOOK_SWEEP_SECONDS", 10, sweep_once)


def start(app: Flask) -> None:
    """Start this process's sweeper for ``app`` unless it runs or is switched off."""
    _periodic.ensure_running(app)


def stop(app: Flask) -> None:
    """Stop the app's sweeper (tests, shutdown)."""
    _periodic.stop(app)


init_app = _periodic.init_app
