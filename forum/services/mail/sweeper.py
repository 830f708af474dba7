"""What comes due with time, in each serving process: bookmark reminders, and mail waiting for another attempt.

One thread per process and app wakes every ``MAIL_SWEEP_SECONDS`` (15; 0 switches it off, and so does ``TESTING``
unless it is set: tests call ``sweep_once`` themselves). Reminders become notifications (and so mail through the outbox); due mail is attempted in this
thread, or handed to a Celery worker when there is a broker. ``flask send-mail`` runs one sweep (cron, scripts).
"""
from __future__ import annotations

from flask import Flask, current_app

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


_periodic = background.Periodic("groundwork-mail", "MAIL_SWEEP_SECONDS", 15, sweep_once)


def ensure_running() -> None:
    """Start this process's sweeper for the current app unless it runs (or is switched off)."""
    _periodic.ensure_running(current_app._get_current_object())


def stop(app: Flask) -> None:
    """Stop the app's sweeper (tests, shutdown)."""
    _periodic.stop(app)


init_app = _periodic.init_app
