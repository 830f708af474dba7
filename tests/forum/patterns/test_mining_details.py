"""A run stores the encoder's word-level detail beside each vector and mines with it; older rows get one once."""
from __future__ import annotations

import numpy as np
import pytest

from forum.extensions import db
from forum.models import EmbeddingChunk, RunStatus, ThreadEmbedding
from forum.services.vectors import embeddings
from forum.services.vectors.embeddings import embedder_key, texts_for, thread_documents
from mining.embedders import DETAIL_DIMENSIONS, TfidfEmbedder
from mining.pipeline import PatternMiner
from tests.forum.patterns.test_mining_runs import CountingEmbedder, _run, forum_threads  # noqa: F401  (fixture)


class DetailEmbedder(CountingEmbedder):
    """``CountingEmbedder``'s vectors and a detail of each text from the same call, as the model gives them.

    Its ``embed`` must not be called: a text embedded for its vector and again for its detail would cost
    the model twice.
    """

    def __init__(self) -> None:
        super().__init__()
        self.plain_calls = 0

    def embed(self, texts: list[str]) -> np.ndarray:
        self.plain_calls += 1
        return super().embed(texts)

    def embed_with_detail(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        vectors = CountingEmbedder.embed(self, texts)
        # the same words counted in half as many buckets: another view of the same text
        details = vectors[:, :DETAIL_DIMENSIONS] + vectors[:, DETAIL_DIMENSIONS:2 * DETAIL_DIMENSIONS]
        details /= np.maximum(np.linalg.norm(details, axis=1, keepdims=True), 1e-9)
        return vectors, details.astype(np.float32)


@pytest.fixture()
def fitted_with(monkeypatch) -> list[tuple[list[int], np.ndarray | None]]:
    """The document ids and ``details`` each ``PatternMiner.fit`` of a run was given."""
    seen: list[tuple[list[int], np.ndarray | None]] = []
    fit = PatternMiner.fit

    def spy(self, documents, seeds=None, embeddings=None, details=None):
        seen.append(([d.id for d in documents], None if details is None else np.array(details)))
        return fit(self, documents, seeds=seeds, embeddings=embeddings, details=details)

    monkeypatch.setattr(PatternMiner, "fit", spy)
    return seen


def _rows(model: str) -> dict[int, ThreadEmbedding]:
    db.session.expire_all()
    return {row.thread_id: row for row in db.session.execute(
        db.select(ThreadEmbedding).where(ThreadEmbedding.model_name == model)).scalars()}


def _forget_details(thread_ids: list[int]) -> None:
    db.session.execute(db.update(ThreadEmbedding).where(ThreadEmbedding.thread_id.in_(thread_ids))
                       .values(detail=None))
    db.session.commit()


def _chunked(run_id: int) -> list[int]:
    rows = db.session.execute(db.select(EmbeddingChunk.thread_ids).where(EmbeddingChunk.run_id == run_id)).scalars()
    return sorted(t for ids in rows for t in ids)


def test_a_run_with_the_model_stores_each_threads_detail_and_mines_with_it(app, forum_threads, fitted_with):  # noqa: F811
    app.config.update(MINING_EMBEDDER="minilm", MINING_EMBED_THREADS=1)
    embedder = embeddings.get_embedder()
    run = _run(embedder)
    assert run.status is RunStatus.FINISHED and run.embedded == 33 and run.patterns_found >= 3
    rows = _rows(embedder_key(embedder))
    assert len(rows) == 33
    assert all(len(row.vector) == 384 * 4 and len(row.detail) == DETAIL_DIMENSIONS * 4 for row in rows.values())
    # The miner got every thread's stored detail, row for row with the documents it was given.
    (ids, details), = fitted_with
    assert details is not None and details.shape == (33, DETAIL_DIMENSIONS)
    stored = np.stack([np.frombuffer(rows[t].detail, dtype="<f4") for t in ids])
    np.testing.assert_array_equal(details, stored)
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, rtol=1e-5)

    # A row stored without its detail is embedded once more by the next run, through its chunks; the others not.
    forgotten = forum_threads["smtp"][:2]
    before = {t: rows[t].vector for t in forgotten}
    _forget_details(forgotten)
    again = _run(embedder)
    assert again.status is RunStatus.FINISHED and again.embedded == 2
    assert _chunked(again.id) == sorted(forgotten)
    rows = _rows(embedder_key(embedder))
    for t in forgotten:
        assert len(rows[t].detail) == DETAIL_DIMENSIONS * 4
        np.testing.assert_allclose(np.frombuffer(rows[t].vector, dtype="<f4"),
                                   np.frombuffer(before[t], dtype="<f4"), atol=1e-5)
    assert fitted_with[-1][1] is not None and fitted_with[-1][1].shape == (33, DETAIL_DIMENSIONS)
    assert _run(embedder).embedded == 0


def test_vector_and_detail_come_from_one_call_of_the_model(forum_threads, fitted_with):  # noqa: F811
    embedder = DetailEmbedder()
    run = _run(embedder)
    assert run.status is RunStatus.FINISHED and run.embedded == 33
    assert embedder.embedded == 33 and embedder.plain_calls == 0
    rows = _rows(embedder_key(embedder))
    items = {item.thread_id: item for item in texts_for(thread_documents())}
    for thread_id, row in rows.items():
        vectors, details = embedder.embed_with_detail([items[thread_id].text])
        np.testing.assert_allclose(np.frombuffer(row.vector, dtype="<f4"), vectors[0], rtol=1e-6)
        assert np.frombuffer(row.detail, dtype="<f4").shape == (DETAIL_DIMENSIONS,)
    assert fitted_with[-1][1] is not None


def test_an_upgraded_forum_embeds_its_threads_once_more_for_their_details(forum_threads, fitted_with):  # noqa: F811
    # Rows stored before the embedder gave details: same model, same texts, no detail.
    before = CountingEmbedder()
    before.model_name = DetailEmbedder.model_name
    assert _run(before).embedded == 33
    assert all(row.detail is None for row in _rows(embedder_key(before)).values())
    assert fitted_with[-1][1] is None

    embedder = DetailEmbedder()
    run = _run(embedder)
    assert run.embedded == 33 and embedder.embedded == 33 and len(_chunked(run.id)) == 33
    assert all(row.detail is not None for row in _rows(embedder_key(embedder)).values())
    assert fitted_with[-1][1] is not None
    assert _run(embedder).embedded == 0 and embedder.embedded == 33


def test_a_thread_edited_since_keeps_no_detail_of_its_old_text(forum_threads, make):  # noqa: F811
    from forum.models import Thread

    _run(DetailEmbedder())
    thread = db.session.get(Thread, forum_threads["ora"][0])
    thread.body_md += " Edited."
    db.session.commit()
    # An embedder without details re-embeds it under the same model name: the stale detail goes with the vector.
    plain = CountingEmbedder()
    plain.model_name = DetailEmbedder.model_name
    assert _run(plain).embedded == 1
    rows = _rows(embedder_key(plain))
    assert rows[thread.id].detail is None
    assert sum(row.detail is not None for row in rows.values()) == 32


@pytest.mark.parametrize("kind", ["tfidf", "counting"])
def test_embedders_without_details_mine_from_the_vectors_alone(forum_threads, fitted_with, kind):  # noqa: F811
    embedder = TfidfEmbedder() if kind == "tfidf" else CountingEmbedder()
    run = _run(embedder)
    assert run.status is RunStatus.FINISHED and run.embedded == 33 and run.patterns_found >= 1
    assert all(row.detail is None for row in _rows(embedder_key(embedder)).values())
    assert fitted_with[-1][1] is None
    assert _run(embedder).embedded == 0


def test_a_run_past_the_sample_size_learns_with_the_details_too(app, forum_threads, fitted_with):  # noqa: F811
    from tests.forum.patterns.test_mining_runs import _pattern_of

    app.config["MINING_SAMPLE_SIZE"] = 27
    run = _run(DetailEmbedder())
    assert run.status is RunStatus.FINISHED and run.documents == 33 and run.patterns_found >= 3
    # The sample's fit got the details of the sampled threads, row for row.
    (ids, details), = fitted_with
    assert len(ids) == 27 and details is not None and details.shape == (27, DETAIL_DIMENSIONS)
    rows = _rows(embedder_key(DetailEmbedder()))
    stored = np.stack([np.frombuffer(rows[t].detail, dtype="<f4") for t in ids])
    np.testing.assert_allclose(details, stored, rtol=1e-5, atol=1e-7)  # normalised again by the sampled miner
    for topic, members in forum_threads.items():
        owners = [_pattern_of(t) for t in members]
        top = max(set(owners), key=owners.count)
        assert top is not None and owners.count(top) >= 8, (topic, owners)
