"""Stored thread embeddings: an incremental run's database work depends on the new threads, not the stored ones."""
from __future__ import annotations

import re
import zlib

import numpy as np
import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Thread, ThreadEmbedding, ThreadStatus, Visibility
from forum.services.vectors import embeddings
from forum.services.vectors.embeddings import ensure_embeddings, texts_for, thread_documents


class HashEmbedder:
    """Deterministic vectors from the text's hash; counts the texts it embeds and can fail on a chosen call."""

    model_name = "hash-embedder-v1"

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls: list[int] = []
        self.fail_on_call = fail_on_call

    def embed(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if self.fail_on_call is not None and len(self.calls) == self.fail_on_call:
            raise KeyboardInterrupt
        rows = [np.random.default_rng(zlib.crc32(text.encode())).normal(size=16) for text in texts]
        out = np.asarray(rows, dtype=np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def _add_threads(make, count: int, prefix: str) -> list[int]:
    author = make.user(make.customer_org(f"{prefix} org"))
    space = make.space(f"{prefix} space")
    threads = [Thread(space_id=space.id, author_id=author.id, organisation_id=author.organisation_id,
                      title=f"{prefix} question {i}", body_md=f"Body {i}", body_html=render_markdown(f"Body {i}"),
                      visibility=Visibility.PUBLIC, status=ThreadStatus.OPEN) for i in range(count)]
    db.session.add_all(threads)
    db.session.commit()
    return [t.id for t in threads]


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args) -> None:
        self.count += 1


def _statements_of_incremental_run(make, stored: int, new: int) -> tuple[int, HashEmbedder]:
    _add_threads(make, stored, f"old{stored}")
    ensure_embeddings(texts_for(thread_documents()), HashEmbedder())
    _add_threads(make, new, f"new{stored}")
    items = texts_for(thread_documents())
    db.session.expire_all()
    embedder, counter = HashEmbedder(), StatementCounter()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        matrix, embedded = ensure_embeddings(items, embedder, batch_size=4)
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    assert embedded == new and sum(embedder.calls) == new
    assert matrix.shape == (len(items), 16) and matrix.dtype == np.float32
    # Every row is the vector of its own text, whether it was stored or just made.
    expected = np.vstack([HashEmbedder().embed([item.text]) for item in items])
    np.testing.assert_allclose(matrix, expected, rtol=1e-6)
    return counter.count, embedder


@pytest.mark.parametrize("in_list_limit", [5000, 10], ids=["id-list", "model-scan"])
def test_incremental_run_statements_do_not_grow_with_stored_embeddings(app, make, monkeypatch, in_list_limit):
    monkeypatch.setattr(embeddings, "_IN_LIST_LIMIT", in_list_limit)
    few, _ = _statements_of_incremental_run(make, stored=30, new=6)
    many, _ = _statements_of_incremental_run(make, stored=300, new=6)
    assert many == few, (few, many)
    # One look-up of the stored vectors, then one insert per batch of four new ones (commits run no statement).
    assert few == 1 + 2


def test_edited_thread_is_re_embedded_in_place(app, make):
    ids = _add_threads(make, 5, "edit")
    ensure_embeddings(texts_for(thread_documents()), HashEmbedder())
    thread = db.session.get(Thread, ids[2])
    thread.body_md = "A different body"
    db.session.commit()
    embedder = HashEmbedder()
    matrix, embedded = ensure_embeddings(texts_for(thread_documents()), embedder)
    assert embedded == 1 and embedder.calls == [1]
    rows = db.session.execute(db.select(ThreadEmbedding).where(ThreadEmbedding.thread_id == ids[2])).scalars().all()
    assert len(rows) == 1
    item = texts_for(thread_documents([ids[2]]))[0]
    assert rows[0].content_hash == item.content_hash
    np.testing.assert_allclose(matrix[2], HashEmbedder().embed([item.text])[0], rtol=1e-6)


def test_interrupted_run_keeps_its_committed_batches_and_resumes(app, make):
    _add_threads(make, 10, "resume")
    items = texts_for(thread_documents())
    with pytest.raises(KeyboardInterrupt):
        ensure_embeddings(items, HashEmbedder(fail_on_call=3), batch_size=4)
    db.session.rollback()
    assert db.session.execute(db.select(db.func.count()).select_from(ThreadEmbedding)).scalar() == 8
    embedder = HashEmbedder()
    _, embedded = ensure_embeddings(items, embedder, batch_size=4)
    assert embedded == 2 and embedder.calls == [2]


class DetailHashEmbedder(HashEmbedder):
    """``HashEmbedder`` that also gives an 8-wide detail of each text from the same call, as the model does."""

    def embed_with_detail(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.embed(texts)
        return vectors, np.ascontiguousarray(vectors[:, ::2][:, :8] * 2)


def test_a_vector_stored_without_its_detail_is_missing_only_for_an_embedder_with_details(app, make):
    ids = _add_threads(make, 4, "detail")
    items = texts_for(thread_documents())
    model = embeddings.embedder_key(HashEmbedder())
    assert embeddings.ensure_embeddings(items, DetailHashEmbedder())[1] == 4
    db.session.execute(db.update(ThreadEmbedding).where(ThreadEmbedding.thread_id == ids[1]).values(detail=None))
    db.session.commit()
    assert embeddings.missing_items(items, model) == []
    assert [item.thread_id for item in embeddings.missing_items(items, model, with_detail=True)] == [ids[1]]

    # Without details, the stored vectors do: nothing embedded and no details to give.
    plain = embeddings.ensure_embeddings_with_details(items, HashEmbedder())
    assert plain.embedded == 0 and plain.details is None

    embedder = DetailHashEmbedder()
    found = embeddings.ensure_embeddings_with_details(items, embedder)
    assert found.embedded == 1 and embedder.calls == [1]
    expected_vectors, expected_details = DetailHashEmbedder().embed_with_detail([item.text for item in items])
    np.testing.assert_allclose(found.vectors, expected_vectors, rtol=1e-6)
    assert found.details is not None and found.details.dtype == np.float32
    np.testing.assert_allclose(found.details, expected_details, rtol=1e-6)
    assert embeddings.missing_items(items, model, with_detail=True) == []
    assert embeddings.ensure_embeddings(items, embedder)[1] == 0


def test_readers_of_the_vectors_leave_the_detail_column_unread(app, make):
    from forum.services.vectors import index

    ids = _add_threads(make, 6, "lean")
    items = texts_for(thread_documents())
    embedder = DetailHashEmbedder()
    embeddings.ensure_embeddings(items, embedder)
    model = embeddings.embedder_key(embedder)
    statements: list[str] = []

    def record(conn, cursor, statement, *args) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        assert embeddings.ensure_embeddings(items, embedder)[1] == 0
        assert embeddings.missing_items(items, model, with_detail=True) == []
        assert set(embeddings.stored_vectors(ids, model)) == set(ids)
        assert index.current_matrix(model) is not None
        assert len(index.stored_unit_vectors(model, np.asarray(ids))[0]) == 6
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    reads = [s for s in statements if "thread_embedding" in s]
    assert reads
    # Whether a row has its detail is asked of the column; its bytes are never fetched.
    assert not [s for s in reads if re.search(r"thread_embedding\.detail(?! IS NOT NULL)", s)], reads
