"""``QUERY_EMBEDDING``: refused when misconfigured, and a draft answered by keywords when no query worker answers.

The served round trip (gunicorn and the README's query worker) is ``test_query_worker.py``.
"""
from __future__ import annotations

import os
import time
import uuid

import pytest
import redis

from forum import ConfigurationError, create_app
from forum.services.background import stop_sweeper
from forum.services.mail import sweeper as mail_sweeper
from forum.services.vectors import query_embedding, similar
from forum.services.webhooks import sweeper as webhook_sweeper
from tests.conftest import base_config

BROKER = os.environ.get("TEST_QUERY_BROKER", "redis://127.0.0.1:6379/14")


@pytest.mark.parametrize(("settings", "message"), [
    ({"QUERY_EMBEDDING": "workers"}, "use 'process'"),
    ({"QUERY_EMBEDDING": "worker"}, "needs a Redis CELERY_BROKER_URL"),
    ({"QUERY_EMBEDDING": "worker", "CELERY_BROKER_URL": "amqp://guest@127.0.0.1//"}, "needs a Redis CELERY_BROKER_URL"),
])
def test_a_misconfigured_query_embedding_is_refused_with_a_clear_message(database_url, settings, message):
    with pytest.raises(ConfigurationError, match=message):
        create_app({**base_config(database_url), **settings})


def test_without_a_query_worker_the_draft_waits_the_timeout_once_then_keywords_answer(app, database_url):
    try:
        redis.Redis.from_url(BROKER).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {BROKER}: {exc}")
    queue = f"groundwork-test-queries-{uuid.uuid4().hex}"  # no worker reads it
    sender = create_app({**base_config(database_url), "CELERY_BROKER_URL": BROKER, "QUERY_EMBEDDING": "worker",
                         "QUERY_EMBEDDING_QUEUE": queue, "QUERY_EMBEDDING_TIMEOUT": 0.5})
    similar._embedder_retry_at = None
    try:
        with sender.app_context():
            assert query_embedding.uses_worker()
            embedder = similar.query_embedder()
            assert isinstance(embedder, query_embedding.WorkerEmbedder)
            assert embedder.model_name == "all-MiniLM-L6-v2@53aa5117/len256"  # the stored vectors' key, unloaded
            started = time.monotonic()
            with pytest.raises(query_embedding.QueryWorkerUnavailable):
                embedder.embed(["connection pool exhausted"])
            assert 0.5 <= time.monotonic() - started < 2.0

            class Vectors:
                dimensions = 384

            assert similar._embed(embedder, "connection pool exhausted", Vectors()) is None
            # keywords answer at once for the next RETRY_QUERY_WORKER_SECONDS, without waiting again
            started = time.monotonic()
            assert similar.query_embedder() is None
            assert time.monotonic() - started < 0.1
    finally:
        similar._embedder_retry_at = None
        redis.Redis.from_url(BROKER).delete(queue)
        stop_sweeper(sender)
        mail_sweeper.stop(sender)
        webhook_sweeper.stop(sender)
