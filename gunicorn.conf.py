"""gunicorn reads this file from the directory it is started in (the README starts it from the repository root).

Each worker warms what the first search and the first "similar threads" suggestion need (the embedding model,
the stored vectors) on its background pool as soon as it has loaded the app, instead of in a visitor's request.
"""
import gc

from forum.services import background
from forum.services.vectors import similar


def post_worker_init(worker) -> None:
    app = worker.wsgi
    # What is alive now (modules, templates, mappers) lives as long as the worker; frozen, it is no longer walked
    # by every full collection, which took about a third of a list page's CPU time (bench/README.md).
    gc.freeze()
    if app.config.get("WARM_UP", True):
        with app.app_context():
            background.start_once(similar.WARM_UP, similar.warm_up, name="groundwork-warm-up", low_priority=True)
