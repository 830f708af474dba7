"""Workers started as the README says embed a run's chunks with the real model: each thread once, a crashed
worker's chunk taken again."""
from __future__ import annotations

import os
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import EmbeddingChunk, Thread, ThreadEmbedding, utcnow
from forum.services import background
from forum.services.patterns import chunks, leases
from mining.embedders import DETAIL_DIMENSIONS, SentenceTransformerEmbedder
from tests.forum.patterns.test_mining_celery import _wait_for, readme_worker
from tests.forum.patterns.test_mining_runs import forum_threads  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow


@pytest.fixture()
def minilm_worker(app, tmp_path):
    with readme_worker(app, tmp_path, "minilm") as started:
        yield started


def test_a_readme_worker_embeds_every_chunk_once_and_retakes_a_crashed_ones(app, forum_threads, minilm_worker):  # noqa: F811
    celery_app, proc = minilm_worker
    run_id = leases.create_run(None, "test").id
    ids = sorted(db.session.execute(db.select(Thread.id)).scalars())
    assert chunks.split(run_id, ids, 4) == 9
    chunk_ids = list(db.session.execute(db.select(EmbeddingChunk.id).where(EmbeddingChunk.run_id == run_id)
                                        .order_by(EmbeddingChunk.id)).scalars())
    # The first chunk's worker died holding it ten minutes ago.
    db.session.execute(db.update(EmbeddingChunk).where(EmbeddingChunk.id == chunk_ids[0]).values(
        state="claimed", claimed_by="crashed-host:1:1", heartbeat_at=utcnow() - timedelta(minutes=10), attempts=1))
    db.session.commit()
    with celery_app.app_context():
        assert all(background.send(chunks.EMBED_CHUNK, chunk_id) for chunk_id in chunk_ids)

    def all_done():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited: {proc.log.read_text()}")
        return chunks.counts(run_id) == (33, 33)

    _wait_for(all_done, seconds=180, log=proc.log)
    rows = db.session.execute(db.select(EmbeddingChunk).where(EmbeddingChunk.run_id == run_id)
                              .order_by(EmbeddingChunk.id)).scalars().all()
    holders = {row.claimed_by for row in rows}
    assert len(holders) == 1 and f":{os.getpid()}:" not in holders.pop()  # the worker, not this process
    assert rows[0].attempts == 2 and all(row.attempts == 1 for row in rows[1:])
    model = SentenceTransformerEmbedder().model_name
    stored = db.session.execute(db.select(ThreadEmbedding.thread_id, ThreadEmbedding.dimensions,
                                          db.func.length(ThreadEmbedding.detail))
                                .where(ThreadEmbedding.model_name == model)).all()
    assert sorted(t for t, _, _ in stored) == ids and {d for _, d, _ in stored} == {384}
    # The worker stores each text's word-level detail from the same pass of the model.
    assert {n for _, _, n in stored} == {DETAIL_DIMENSIONS * 4}
