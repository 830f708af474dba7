"""What comes due with time, in each serving process: bookmark reminders, and mail waiting for another attempt.

One thread per process and app wakes every ``MAIL_SWEEP_SECONDS`` (15; 0 switches it off, and so does ``TESTING``
unless it is set: tests call ``sweep_once`` themselves). Reminders become notifications (and so mail through the outbox); due mail is attempted in this
thread, or handed to a Celery worker when there is a broker. ``flask send-mail`` runs one sweep (cron, scripts).
"""
from __future__ import annotations

import os
import threading

from flask import Flask, current_app

from ...extensions import db
from .. import background
from ..community import bookmarks
from . import delivery
from .outbox import DELIVER_MAIL


def sweep_once() -> dict[str, int]:
    """Send the reminders that came due and attempt the mail that is due; what was done."""
    reminded = bookmarks.send_due_reminders()
    if background.has_broker():
        handed = [i for i in delivery.due_ids() if background.send(DELIVER_MAIL, i)]
        return {"reminders": reminded, "handed_to_workers": len(handed), "sent": 0}
    return {"reminders": reminded, "sent": delivery.deliver_due()}


_lock = threading.Lock()
_threads: dict[int, tuple[threading.Thread, threading.Event]] = {}


def _interval(app: Flask) -> float:
    return float(app.config.get("MAIL_SWEEP_SECONDS", 0 if app.testing else 15))


def _run(app: Flask, stop: threading.Event) -> None:
    interval = _interval(app)
    while not stop.wait(interval):
        try:
            with app.app_context():
                try:
                    sweep_once()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the database may be away: the next sweep tries again
            app.logger.warning("mail sweep failed", exc_info=True)


def ensure_running() -> None:
    """Start this process's sweeper for the current app unless it runs (or is switched off)."""
    app = current_app._get_current_object()
    if _interval(app) <= 0:
        return
    with _lock:
        running = _threads.get(id(app))
        if running is not None and running[0].is_alive():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_run, args=(app, stop), name="groundwork-mail", daemon=True)
        _threads[id(app)] = (thread, stop)
    thread.start()


def stop(app: Flask) -> None:
    """Stop the app's sweeper (tests, shutdown)."""
    with _lock:
        running = _threads.pop(id(app), None)
    if running is not None:
        running[1].set()
        running[0].join(timeout=10)


def init_app(app: Flask) -> None:
    """Each serving process starts its sweeper with its first request (a forked worker gets its own)."""

    @app.before_request
    def _start_mail_sweeper() -> None:
        if id(app) not in _threads:
            ensure_running()


def _reset_after_fork() -> None:
    global _lock
    _lock = threading.Lock()
    _threads.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
