"""Drafts and search queries embedded by a worker process instead of each web worker (``QUERY_EMBEDDING=worker``).

torch and the model take about 340 MB of every web worker that embeds (bench/README.md); with the index file of
1M threads mapped beside them a web worker passed 1 GB. With a broker and this setting a web worker never loads
them: it sends the text to the Celery workers that consume ``QUERY_EMBEDDING_QUEUE`` (one per machine serves
every web worker; it answers in about the time of one encode) and waits for the vector on a Redis list of its
own for at most ``QUERY_EMBEDDING_TIMEOUT`` seconds. A task nobody took by then expires unread, and the caller
answers by keywords, as it does when the model cannot load.

The reply goes through a Redis list rather than Celery's result backend: a blocking pop on a key of its own is
safe from any number of threads of a web worker and leaves nothing behind (the key expires).
"""
from __future__ import annotations

import threading
import uuid
from typing import Any

import numpy as np
from flask import current_app

from .. import background
from .embeddings import get_embedder

EMBED_QUERY = "groundwork.embed_query"
REPLY_SECONDS = 60  # a reply nobody popped (its request gave up) is dropped by Redis after this

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


class QueryWorkerUnavailable(RuntimeError):
    """No query worker answered in time (none running, or all busy)."""


def uses_worker() -> bool:
    """Whether this process sends its drafts and queries to a query worker rather than embedding them itself."""
    return (current_app.config["QUERY_EMBEDDING"] == "worker" and background.has_broker()
            and current_app.config.get("MINING_EMBEDDER", "minilm") == "minilm")


def _reply_url() -> str:
    return current_app.config["CELERY_BROKER_URL"]  # a Redis broker (checked at start-up) carries the replies


def _client(url: str):
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import redis  # the broker's client library: only processes with a broker use this module

            client = _clients[url] = redis.Redis.from_url(url, socket_connect_timeout=2)
        return client


class WorkerEmbedder:
    """The configured embedder's name and settings, with ``embed`` carried out by a query worker."""

    def __init__(self, local: Any, queue: str, timeout: float):
        self._local = local  # never loaded here: it only names the model, so stored vectors match
        self.queue = queue
        self.timeout = timeout

    @property
    def model_name(self) -> str:
        return self._local.model_name

    @property
    def settings_key(self) -> str:
        return self._local.settings_key

    def embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors of ``texts`` from a query worker; ``QueryWorkerUnavailable`` when none answers in time."""
        reply_key = f"groundwork:query-vector:{uuid.uuid4().hex}"
        client = _client(_reply_url())
        current_app.extensions["celery"].send_task(
            EMBED_QUERY, args=(list(texts), reply_key), queue=self.queue, expires=self.timeout, retry=False,
            ignore_result=True)
        popped = client.blpop([reply_key], timeout=self.timeout)
        if popped is None:
            raise QueryWorkerUnavailable(f"no query worker answered on {self.queue!r} within {self.timeout} s")
        payload = popped[1]
        width = int.from_bytes(payload[:4], "little")
        return np.frombuffer(payload[4:], dtype="<f4").reshape(-1, width).astype(np.float32)


def worker_embedder() -> WorkerEmbedder:
    """The embedder a web worker uses for drafts and queries when ``uses_worker()``."""
    config = current_app.config
    return WorkerEmbedder(get_embedder(), config.get("QUERY_EMBEDDING_QUEUE", "groundwork.queries"),
                          float(config.get("QUERY_EMBEDDING_TIMEOUT", 2.0)))


def answer(texts: list[str], reply_key: str) -> None:
    """A query worker's side: embed ``texts`` with the loaded model and push the vectors to ``reply_key``."""
    vectors = np.ascontiguousarray(get_embedder().embed(list(texts)), dtype="<f4")
    width = vectors.shape[1] if vectors.ndim == 2 else 0
    client = _client(_reply_url())
    pipe = client.pipeline()
    pipe.rpush(reply_key, width.to_bytes(4, "little") + vectors.tobytes())
    pipe.expire(reply_key, REPLY_SECONDS)
    pipe.execute()
