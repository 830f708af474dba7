"""The sweep that retries webhook deliveries whose next attempt is due: a thread per serving process, every
``WEBHOOK_SWEEP_SECONDS`` (0 = off; the test suite drives ``sweep_once`` itself unless a test starts it).

Due deliveries are attempted in this thread, or handed to a Celery worker when there is a broker.
"""
from __future__ import annotations

import os
import threading

from flask import Flask

from ...extensions import db
from .. import background
from .delivery import deliver, due_ids
from .events import DELIVER_WEBHOOK

_lock = threading.Lock()
_sweepers: dict[int, tuple[threading.Thread, threading.Event]] = {}


def sweep_once() -> int:
    """Attempt (or hand to the broker) every due delivery; how many were taken up."""
    ids = due_ids()
    db.session.rollback()
    for delivery_id in ids:
        if background.has_broker():
            if not background.send(DELIVER_WEBHOOK, delivery_id):
                break  # the broker is away: the next sweep tries again
        else:
            deliver(delivery_id)
    return len(ids)


def _run(app: Flask, stop: threading.Event) -> None:
    interval = float(app.config.get("WEBHOOK_SWEEP_SECONDS", 10))
    while not stop.wait(interval):
        try:
            with app.app_context():
                try:
                    sweep_once()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the database may be away: the next sweep tries again
            app.logger.warning("webhook sweep failed", exc_info=True)


def start(app: Flask) -> None:
    """Start this process's sweeper for ``app`` unless it runs or is switched off."""
    if float(app.config.get("WEBHOOK_SWEEP_SECONDS", 10)) <= 0:
        return
    with _lock:
        running = _sweepers.get(id(app))
        if running is not None and running[0].is_alive():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_run, args=(app, stop), name="groundwork-webhooks", daemon=True)
        _sweepers[id(app)] = (thread, stop)
    thread.start()


def stop(app: Flask) -> None:
    """Stop the app's sweeper (tests, shutdown)."""
    with _lock:
        running = _sweepers.pop(id(app), None)
    if running is not None:
        running[1].set()
        running[0].join(timeout=10)


def init_app(app: Flask) -> None:
    """Each serving process starts its sweeper with its first request (a forked worker gets its own)."""
    if app.testing:
        return

    @app.before_request
    def _start_sweeper() -> None:
        if id(app) not in _sweepers:
            start(app)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_sweepers.clear)
