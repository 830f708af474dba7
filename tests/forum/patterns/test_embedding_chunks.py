"""A run's embedding in chunks: split once, each claimed by one holder, a silent holder's chunk taken again."""
from __future__ import annotations

import threading
from datetime import timedelta

from forum.extensions import db
from forum.models import EmbeddingChunk, MiningRun, RunStatus, ThreadEmbedding, utcnow
from forum.services.patterns import chunks, leases
from tests.forum.patterns.test_mining_runs import CountingEmbedder, forum_threads  # noqa: F401  (fixture)


def _queued_run() -> int:
    return leases.create_run(None, "test").id


def test_split_covers_every_thread_once_and_is_kept_on_resume(forum_threads):  # noqa: F811
    run_id = _queued_run()
    ids = sorted(t for topic in forum_threads.values() for t in topic)
    assert chunks.split(run_id, ids, 7) == 5
    assert chunks.split(run_id, ids, 3) == 5  # a resumed run keeps its chunks
    rows = db.session.execute(db.select(EmbeddingChunk).where(EmbeddingChunk.run_id == run_id)
                              .order_by(EmbeddingChunk.id)).scalars().all()
    assert [t for row in rows for t in row.thread_ids] == ids
    assert [row.size for row in rows] == [7, 7, 7, 7, 2] and {row.state for row in rows} == {"queued"}
    assert chunks.counts(run_id) == (0, 30)


def test_two_claimers_racing_for_a_chunk_exactly_one_wins(app, forum_threads):  # noqa: F811
    run_id = _queued_run()
    chunks.split(run_id, forum_threads["ora"], 100)
    barrier, won = threading.Barrier(2), []

    def claimer(name: str) -> None:
        with app.app_context():
            barrier.wait()
            won.append((name, chunks.claim_next(run_id, name)))
            db.session.remove()

    racers = [threading.Thread(target=claimer, args=(name,)) for name in ("a", "b")]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    winners = [name for name, chunk_id in won if chunk_id is not None]
    assert len(won) == 2 and len(winners) == 1
    chunk = db.session.execute(db.select(EmbeddingChunk).where(EmbeddingChunk.run_id == run_id)).scalar_one()
    assert chunk.claimed_by == winners[0] and chunk.state == "claimed" and chunk.attempts == 1


def test_a_silent_holders_chunk_is_taken_again_and_a_live_one_is_not(forum_threads):  # noqa: F811
    run_id = _queued_run()
    chunks.split(run_id, forum_threads["saml"], 100)
    chunk_id = chunks.claim_next(run_id, "crashed-worker", stale_after=60)
    assert chunks.claim_next(run_id, "other", stale_after=60) is None  # its holder beat a moment ago
    db.session.execute(db.update(EmbeddingChunk).where(EmbeddingChunk.id == chunk_id)
                       .values(heartbeat_at=utcnow() - timedelta(seconds=61)))
    db.session.commit()
    assert chunks.claim_next(run_id, "other", stale_after=60) == chunk_id
    embedder = CountingEmbedder()
    assert chunks.embed_chunk(chunk_id, "other", embedder) == 10
    # The crashed holder coming back cannot mark it, and doing the chunk again embeds nothing twice.
    assert chunks.embed_chunk(chunk_id, "crashed-worker", embedder) == 0
    chunk = db.session.get(EmbeddingChunk, chunk_id)
    assert chunk.state == "done" and chunk.claimed_by == "other" and chunk.attempts == 2
    assert embedder.embedded == 10


def test_a_run_without_a_broker_embeds_every_chunk_in_process_once(app, forum_threads):  # noqa: F811
    app.config["MINING_EMBED_CHUNK"] = 4
    seen: list[tuple[str, int, int]] = []
    embedder = CountingEmbedder()
    run = leases.carry_out(_queued_run(), embedder=embedder, stage=lambda *s: seen.append(s))
    assert run.status is RunStatus.FINISHED and run.embedded == 33 and embedder.embedded == 33
    states = db.session.execute(db.select(EmbeddingChunk.state, EmbeddingChunk.size)
                                .where(EmbeddingChunk.run_id == run.id)).all()
    assert len(states) == 9 and {s for s, _ in states} == {"done"} and sum(n for _, n in states) == 33
    embedding = [(done, total) for name, done, total in seen if name == "embedding"]
    assert embedding[0] == (0, 33) and embedding[-1] == (33, 33) and len(embedding) >= 9
    assert db.session.execute(db.select(db.func.count()).select_from(ThreadEmbedding)).scalar_one() == 33
    again = leases.carry_out(_queued_run(), embedder=embedder)
    assert again.embedded == 0 and embedder.embedded == 33
    assert db.session.get(MiningRun, again.id).status is RunStatus.FINISHED


def test_each_process_embeds_on_the_threads_it_is_given(app, monkeypatch):
    from forum.services.vectors import embeddings

    monkeypatch.setattr(embeddings, "_embedder_cache", {})
    app.config.update(MINING_EMBEDDER="minilm", MINING_EMBED_THREADS=1)
    assert embeddings.get_embedder().num_threads == 1
    monkeypatch.setattr(embeddings, "_embedder_cache", {})
    app.config["MINING_EMBED_THREADS"] = None
    assert embeddings.get_embedder().num_threads is None


def test_a_run_chunks_its_texts_in_order_of_length(app, make):
    # The model pads every text of a batch to the batch's longest, and sorts by length only within one encode
    # call: chunks of texts of any length made each call pad more than one call over all of them would
    # (chunks of 64: +40% CPU against +15% with the texts in order of length; bench/README.md).
    import random

    from forum.services.vectors.embeddings import texts_for, thread_documents

    app.config["MINING_EMBED_CHUNK"] = 5
    author, space = make.user(make.customer_org()), make.space()
    lengths = list(range(1, 31))
    random.Random(3).shuffle(lengths)
    for n in lengths:
        make.thread(author, space=space, title=f"Import question {n}", body=" ".join(["word"] * (3 * n)))
    run = leases.carry_out(_queued_run(), embedder=CountingEmbedder())
    length = {item.thread_id: len(item.text) for item in texts_for(thread_documents())}
    rows = db.session.execute(db.select(EmbeddingChunk.thread_ids).where(EmbeddingChunk.run_id == run.id)
                              .order_by(EmbeddingChunk.id)).scalars().all()
    spans = [(min(length[t] for t in ids), max(length[t] for t in ids)) for ids in rows]
    assert len(spans) == 6
    assert all(spans[i][1] <= spans[i + 1][0] for i in range(len(spans) - 1)), spans


def test_a_chunk_is_encoded_in_one_call(app, make):
    # The model's calls of 64 texts cost 9-10% more than one call over all of them, calls of 256 3-5%
    # (bench/README.md): a chunk goes to the model whole.
    app.config["MINING_EMBED_CHUNK"] = 100
    make.copies(make.thread(make.user(make.customer_org()), title="Batch import stops at row 4000"), 149)
    embedder = CountingEmbedder()
    run = leases.carry_out(_queued_run(), embedder=embedder)
    assert run.embedded == 150
    assert embedder.calls == [100, 50]


class _SlowEmbedder(CountingEmbedder):
    """Takes ``seconds`` per call, as the model does on a long chunk of a loaded machine."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds
        self.started = threading.Event()

    def embed(self, texts: list[str]):
        self.started.set()
        import time

        time.sleep(self.seconds)
        return super().embed(texts)


def test_a_chunk_longer_than_the_stale_limit_keeps_its_claim(app, forum_threads):  # noqa: F811
    # The model takes a chunk in one call, so the heartbeat cannot wait for the call to end: a call longer than
    # the stale limit would let another worker take the chunk its holder is still embedding.
    app.config["MINING_CHUNK_STALE_SECONDS"] = 1.0
    run_id = _queued_run()
    chunks.split(run_id, forum_threads["ora"], 100)
    chunk_id = chunks.claim_next(run_id, "holder")
    embedder = _SlowEmbedder(2.5)
    holder = threading.Thread(target=lambda: _embed_in_app(app, chunk_id, embedder))
    holder.start()
    assert embedder.started.wait(10)
    import time

    time.sleep(1.6)  # past the stale limit since the call began
    taken = chunks.claim_next(run_id, "other")
    holder.join()
    assert taken is None
    assert db.session.get(EmbeddingChunk, chunk_id).state == "done"


def _embed_in_app(app, chunk_id: int, embedder) -> None:
    with app.app_context():
        chunks.embed_chunk(chunk_id, "holder", embedder)
        db.session.remove()
