"""Background tasks a Celery worker runs, registered under the names ``services.background`` sends.

Without a broker the same service functions run in a thread of the server instead; nothing on the request path
imports this module.
"""
from __future__ import annotations

from datetime import datetime

from celery import shared_task

from .services import background
from .services.mail import delivery, outbox
from .services.patterns import chunks, leases, pages, runs, snapshots
from .services.patterns.summaries import PatternFilters
from .services.vectors import query_embedding
from .services.vectors import store as vector_store
from .services.webhooks import delivery as webhook_delivery
from .services.webhooks import events as webhook_events


@shared_task(name=background.MINE)
def mine_task(run_id: int) -> None:
    leases.carry_out(run_id)


@shared_task(name=chunks.EMBED_CHUNK)
def embed_chunk_task(chunk_id: int) -> None:
    """Embed one chunk of a run (nothing if the run or another worker holds it)."""
    chunks.take(chunk_id)


@shared_task(name=background.ASSIGN_THREAD)
def assign_thread_task(thread_id: int) -> None:
    runs.assign_thread(thread_id)


@shared_task(name=background.PATTERN_FIGURES)
def pattern_figures_task(filters: dict, requested_at: str, pattern_id: int | None = None) -> None:
    """The list's figures for ``filters``, or with ``pattern_id`` that pattern's page figures and the map."""
    if pattern_id is not None:
        pages.compute_requested(pattern_id, datetime.fromisoformat(requested_at))
        return
    snapshots.compute_requested(PatternFilters.from_dict(filters), datetime.fromisoformat(requested_at))


@shared_task(name=outbox.DELIVER_MAIL)
def deliver_mail_task(message_id: int) -> None:
    """One delivery attempt of an outbox message (a failed one is queued again by the web processes' sweep)."""
    delivery.deliver(message_id)


@shared_task(name=webhook_events.DELIVER_WEBHOOK)
def deliver_webhook_task(delivery_id: int) -> None:
    """One attempt of a webhook delivery (a failed one is tried again by the web processes' sweep)."""
    webhook_delivery.deliver(delivery_id)


@shared_task(name=vector_store.REBUILD_INDEX)
def rebuild_vector_index_task(model: str) -> None:
    """Rebuild the vector index file of ``model`` from every stored vector (skipped while another build runs)."""
    vector_store.rebuild(model)


@shared_task(name=query_embedding.EMBED_QUERY)
def embed_query_task(texts: list[str], reply_key: str) -> None:
    """Embed a web worker's draft or search query and push the vectors to the list it waits on."""
    query_embedding.answer(texts, reply_key)
