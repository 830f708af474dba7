"""Where mining work runs: a Celery worker when a broker is configured, else a thread of this process."""
from __future__ import annotations

import threading

from flask import current_app

from ...models import User
from .. import background
from .leases import carry_out, create_run
from .runs import assign_thread


def _in_background(target, *args) -> None:
    app = current_app._get_current_object()

    def work() -> None:
        with app.app_context():
            try:
                target(*args)
            except Exception:  # already recorded on the run; keep the server thread quiet
                app.logger.exception("background mining work failed")

    threading.Thread(target=work, name=f"groundwork-{target.__name__}", daemon=True).start()


def start_run(started_by: User | None, trigger: str = "web") -> int:
    """Queue a mining run and hand it to a worker or a background thread; returns the run id."""
    run = create_run(started_by, trigger)
    if background.has_broker():
        background.send(background.MINE, run.id)
    elif current_app.config.get("MINING_IN_BACKGROUND", True):
        _in_background(carry_out, run.id)
    else:
        carry_out(run.id)
    return run.id


def thread_posted(thread_id: int) -> None:
    """Embed a new or edited thread and assign it to the nearest pattern, off the request path."""
    if not current_app.config.get("MINING_ASSIGN_NEW_THREADS", True):
        return
    if background.has_broker():
        background.send(background.ASSIGN_THREAD, thread_id)
    elif current_app.config.get("MINING_IN_BACKGROUND", True):
        _in_background(assign_thread, thread_id)
    else:
        assign_thread(thread_id)
