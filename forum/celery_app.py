"""Celery wiring: with CELERY_BROKER_URL set, mining runs, new-thread assignment and the patterns page's
figure refreshes go to workers.

Start a worker with ``celery -A forum.celery_worker worker --concurrency 1``.
"""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask

from . import tasks  # noqa: F401  (shared tasks: they join every Celery app made after this import)


def init_celery(app: Flask) -> Celery | None:
    broker = app.config.get("CELERY_BROKER_URL")
    if not broker:
        return None

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.config_from_object({
        "broker_url": broker,
        "result_backend": app.config.get("CELERY_RESULT_BACKEND") or broker,
        "task_ignore_result": True,
        "task_acks_late": True,
        "worker_prefetch_multiplier": 1,
        "broker_connection_retry_on_startup": True,
        # Sending a task from a request gives up fast when the broker is down (the job waits in the outbox and
        # is sent again by services/background.py); the worker's own reconnection is not affected.
        "broker_transport_options": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                                     "interval_max": 0.2, "socket_connect_timeout": 2},
        "task_default_queue": app.config.get("CELERY_QUEUE") or "groundwork",
    })
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
