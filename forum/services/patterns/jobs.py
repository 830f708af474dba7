"""Mining work off the request path, through ``services.background``: a Celery worker when a broker is
configured, else the pool of this process."""
from __future__ import annotations

from flask import current_app

from ...extensions import db
from ...models import User
from .. import background
from .leases import carry_out, create_run
from .runs import assign_thread

# Without a broker the pool runs the same service functions the worker's tasks call (forum/tasks.py).
background.register(background.MINE, carry_out)
background.register(background.ASSIGN_THREAD, assign_thread)


def start_run(started_by: User | None, trigger: str = "web") -> int:
    """Queue a mining run and hand it to a worker or the pool; returns the run id."""
    run = create_run(started_by, trigger)
    job = background.enqueue(background.MINE, run.id)
    db.session.commit()  # the outbox row (with a broker); a crash before it leaves the run to its queue lease
    background.dispatch(job)
    return run.id


def thread_posted(thread_id: int) -> background.Job | None:
    """The job that embeds a new or edited thread and assigns it to the nearest pattern, off the request path.

    Call it before the commit that saves the thread, and ``background.dispatch`` the job after it.
    """
    if not current_app.config.get("MINING_ASSIGN_NEW_THREADS", True):
        return None
    return background.enqueue(background.ASSIGN_THREAD, thread_id)
