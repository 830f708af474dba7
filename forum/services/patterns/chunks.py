"""A run's embedding split into chunks that Celery workers on any machine, and the run itself, claim one at a time.

A chunk is claimed by one atomic UPDATE (queued, or claimed with a heartbeat older than
``MINING_CHUNK_STALE_SECONDS``: its worker died), embedded through ``ensure_embeddings`` (texts stored for this
model and hash are skipped, so a chunk done twice embeds nothing twice) and marked done. The run sends one task
per chunk when there is a broker, and works chunks itself all the same, so it finishes without any worker; it
waits for the chunks others hold, and takes back the stale ones, before it clusters.
"""
from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, func, insert, or_, select, update

from ...extensions import db
from ...models import EmbeddingChunk, utcnow
from ...models.chunks import CHUNK_CLAIMED, CHUNK_DONE, CHUNK_QUEUED
from .. import background
from ..vectors.embeddings import ThreadText, ensure_embeddings, get_embedder, texts_for, thread_documents

#: The task name a worker runs one chunk under (forum/tasks.py).
EMBED_CHUNK = "groundwork.embed_chunk"

ProgressCallback = Callable[[int, int], None]


def worker_name() -> str:
    """Who holds a claim: host, process and thread, so two claimers in one process differ too."""
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"[:120]


def split(run_id: int, thread_ids: Sequence[int], size: int) -> int:
    """Record the run's chunks of at most ``size`` threads, once: a resumed run keeps those it has; how many."""
    existing = db.session.execute(select(func.count()).where(EmbeddingChunk.run_id == run_id)).scalar_one()
    if existing:
        return existing
    ids = [int(t) for t in thread_ids]
    rows = [{"run_id": run_id, "thread_ids": ids[i:i + size], "size": len(ids[i:i + size]), "state": CHUNK_QUEUED, "claimed_by": "",
             "attempts": 0, "created_at": utcnow()} for i in range(0, len(ids), size)]
    if rows:
        db.session.execute(insert(EmbeddingChunk), rows)
    db.session.commit()
    return len(rows)


def _claimable(stale_after: float):
    stale = utcnow() - timedelta(seconds=stale_after)
    return or_(EmbeddingChunk.state == CHUNK_QUEUED,
               and_(EmbeddingChunk.state == CHUNK_CLAIMED, EmbeddingChunk.heartbeat_at < stale))


def _stale_seconds() -> float:
    return float(current_app.config.get("MINING_CHUNK_STALE_SECONDS", 60))


def claim(chunk_id: int, worker: str, stale_after: float | None = None) -> bool:
    """Take one chunk for ``worker`` if it is queued or its holder went silent; the database decides a race."""
    stale_after = _stale_seconds() if stale_after is None else stale_after
    result = db.session.execute(
        update(EmbeddingChunk).where(EmbeddingChunk.id == chunk_id, _claimable(stale_after))
        .values(state=CHUNK_CLAIMED, claimed_by=worker, heartbeat_at=utcnow(), attempts=EmbeddingChunk.attempts + 1)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return bool(result.rowcount)


def claim_next(run_id: int, worker: str, stale_after: float | None = None) -> int | None:
    """The id of a chunk of the run now held by ``worker``, or None when none is free."""
    stale_after = _stale_seconds() if stale_after is None else stale_after
    candidates = list(db.session.execute(
        select(EmbeddingChunk.id).where(EmbeddingChunk.run_id == run_id, _claimable(stale_after))
        .order_by(EmbeddingChunk.id).limit(8)).scalars())
    db.session.rollback()
    for chunk_id in candidates:
        if claim(chunk_id, worker, stale_after):
            return chunk_id
    return None


def embed_chunk(chunk_id: int, worker: str, embedder=None) -> int:
    """Embed a chunk ``worker`` holds, its heartbeat renewed while it works, then mark it done; how many were new."""
    embedder = embedder or get_embedder()
    thread_ids = db.session.execute(select(EmbeddingChunk.thread_ids).where(EmbeddingChunk.id == chunk_id)).scalar()
    items: list[ThreadText] = texts_for(thread_documents(thread_ids or []))
    # One call of the model for the whole chunk: it sorts texts by length only within a call, and calls of 64
    # texts cost 9-10% more than one over all of them (bench/README.md). That call can outlast the stale limit,
    # so the heartbeat comes from a thread of its own while the chunk is worked.
    with _heartbeat(chunk_id, worker):
        _, embedded = ensure_embeddings(items, embedder, batch_size=max(1, len(items)))
    # Only its holder marks it done: a worker that lost its claim (silent too long) leaves that to the new one.
    db.session.execute(update(EmbeddingChunk).where(EmbeddingChunk.id == chunk_id,
                                                    EmbeddingChunk.claimed_by == worker)
                       .values(state=CHUNK_DONE, heartbeat_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()
    return embedded


def _beat(chunk_id: int, worker: str) -> None:
    db.session.execute(update(EmbeddingChunk).where(EmbeddingChunk.id == chunk_id, EmbeddingChunk.claimed_by == worker)
                       .values(heartbeat_at=utcnow()).execution_options(synchronize_session=False))
    db.session.commit()


@contextmanager
def _heartbeat(chunk_id: int, worker: str) -> Iterator[None]:
    """Renew the chunk's heartbeat four times per stale limit until the block ends (its own session)."""
    app = current_app._get_current_object()
    every = _stale_seconds() / 4
    stop = threading.Event()

    def beating() -> None:
        with app.app_context():
            try:
                while not stop.wait(every):
                    _beat(chunk_id, worker)
            finally:
                db.session.remove()

    _beat(chunk_id, worker)
    thread = threading.Thread(target=beating, name="groundwork-chunk-heartbeat", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def take(chunk_id: int) -> int:
    """A worker's task: claim the chunk and embed it (nothing when the run or another worker has it)."""
    worker = worker_name()
    return embed_chunk(chunk_id, worker) if claim(chunk_id, worker) else 0


def counts(run_id: int) -> tuple[int, int]:
    """Texts in done chunks and texts in all chunks, of one run."""
    rows = dict(db.session.execute(select(EmbeddingChunk.state, func.sum(EmbeddingChunk.size))
                                   .where(EmbeddingChunk.run_id == run_id).group_by(EmbeddingChunk.state)).all())
    db.session.rollback()
    return rows.get(CHUNK_DONE, 0), sum(rows.values())


def embed_run(run_id: int, thread_ids: Sequence[int], embedder, *, progress: ProgressCallback | None = None,
              poll_seconds: float = 0.5) -> int:
    """Embed a run's threads through chunks, with workers when there is a broker; new embeddings made here."""
    size = int(current_app.config["MINING_EMBED_CHUNK"])
    split(run_id, thread_ids, size)
    # TF-IDF vectors depend on the corpus the run's embedder learnt: only model embedders go to other processes.
    if background.has_broker() and not hasattr(embedder, "fit"):
        for chunk_id in db.session.execute(select(EmbeddingChunk.id).where(
                EmbeddingChunk.run_id == run_id, EmbeddingChunk.state == CHUNK_QUEUED)).scalars().all():
            background.send(EMBED_CHUNK, chunk_id)  # a lost send is harmless: the run works that chunk itself
    worker, embedded = worker_name(), 0
    while True:
        done, total = counts(run_id)
        if progress:
            progress(int(done or 0), int(total or 0))
        if (done or 0) >= (total or 0):
            return embedded
        chunk_id = claim_next(run_id, worker)
        if chunk_id is None:
            time.sleep(poll_seconds)  # the rest are held by workers: wait for them, or for their claims to go stale
            continue
        embedded += embed_chunk(chunk_id, worker, embedder)
