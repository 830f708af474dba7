"""Entry point for Celery workers: ``celery -A forum.celery_worker worker``."""
from celery.signals import worker_ready

from forum import create_app
from forum.services.vectors.embeddings import get_embedder

flask_app = create_app()
celery = flask_app.extensions.get("celery")
if celery is None:
    raise SystemExit("CELERY_BROKER_URL is not set: there is nothing for a worker to do")


@worker_ready.connect
def _load_the_model_for_queries(sender=None, **_kwargs) -> None:
    """A worker that takes the query queue loads the model before its first query, not inside it: a web worker
    waits at most QUERY_EMBEDDING_TIMEOUT for its vector, less than loading takes."""
    consumer = getattr(sender, "task_consumer", None)
    queues = {queue.name for queue in getattr(consumer, "queues", ())}
    if flask_app.config.get("QUERY_EMBEDDING_QUEUE", "groundwork.queries") in queues:
        with flask_app.app_context():
            get_embedder().embed(["warm up"])
