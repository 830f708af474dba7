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
        "task_default_queue": app.config.get("CELERY_QUEUE") or "groundwork",
    })
    celery.set_default()
    app.extensions["celery"] = celery
    return celery
