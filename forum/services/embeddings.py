"""Thread embeddings stored in the database: incremental, keyed by model name and content hash."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import Reply, Thread
from ..pattern_models import ThreadEmbedding

ProgressCallback = Callable[[int, int], None]

_embedder_cache: dict[str, object] = {}


@dataclass(frozen=True)
class ThreadText:
    thread_id: int
    text: str
    content_hash: str


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def get_embedder():
    """The configured embedder, loaded once per process (the model loads lazily on first use)."""
    from mining.embedders import SentenceTransformerEmbedder, TfidfEmbedder

    kind = current_app.config.get("MINING_EMBEDDER", "minilm")
    if kind not in _embedder_cache:
        if kind == "minilm":
            _embedder_cache[kind] = SentenceTransformerEmbedder()
        elif kind == "tfidf":
            _embedder_cache[kind] = TfidfEmbedder()
        else:
            raise ValueError(f"unknown MINING_EMBEDDER {kind!r} (use minilm or tfidf)")
    return _embedder_cache[kind]


def embedder_key(embedder) -> str:
    """What stored vectors are keyed by: the model and every setting that changes the vectors."""
    return str(getattr(embedder, "settings_key", None) or getattr(embedder, "model_name", type(embedder).__name__))


def thread_documents(thread_ids: Sequence[int] | None = None) -> list:
    """The mining documents for threads (all, or the given ids), accepted answer included."""
    from mining.documents import Document

    query = (select(Thread).options(selectinload(Thread.accepted_reply), selectinload(Thread.tags))
             .order_by(Thread.id))
    if thread_ids is not None:
        query = query.where(Thread.id.in_(list(thread_ids)))
    documents = []
    for thread in db.session.execute(query).scalars():
        answer = thread.accepted_reply
        documents.append(Document(
            id=thread.id, title=thread.title, body=thread.body_md,
            answer=answer.body_md if isinstance(answer, Reply) and not answer.is_deleted else "",
            metadata={"tags": [t.name for t in thread.tags]},
        ))
    return documents


def texts_for(documents: Sequence) -> list[ThreadText]:
    from mining.documents import document_text

    out = []
    for doc in documents:
        text = document_text(doc)
        out.append(ThreadText(doc.id, text, content_hash(text)))
    return out


def ensure_embeddings(items: Sequence[ThreadText], embedder, *, batch_size: int = 64,
                      progress: ProgressCallback | None = None) -> tuple[np.ndarray, int]:
    """Vectors for ``items`` in order, embedding only texts not stored yet for this model.

    New vectors are committed batch by batch, so an interrupted run keeps what it did and the next
    run resumes from there. Returns the matrix and how many texts were embedded now.
    """
    model = embedder_key(embedder)
    stored: dict[int, ThreadEmbedding] = {}
    ids = [item.thread_id for item in items]
    for start in range(0, len(ids), 5000):
        chunk = ids[start:start + 5000]
        rows = db.session.execute(select(ThreadEmbedding).where(
            ThreadEmbedding.model_name == model, ThreadEmbedding.thread_id.in_(chunk))).scalars()
        stored.update({row.thread_id: row for row in rows})

    missing = [i for i, item in enumerate(items)
               if item.thread_id not in stored or stored[item.thread_id].content_hash != item.content_hash]
    done = len(items) - len(missing)
    if progress:
        progress(done, len(items))
    for start in range(0, len(missing), batch_size):
        batch = [items[i] for i in missing[start:start + batch_size]]
        vectors = np.asarray(embedder.embed([item.text for item in batch]), dtype=np.float32)
        for item, vector in zip(batch, vectors):
            row = stored.get(item.thread_id)
            if row is None:
                row = ThreadEmbedding(thread_id=item.thread_id, model_name=model)
                db.session.add(row)
                stored[item.thread_id] = row
            row.content_hash = item.content_hash
            row.dimensions = int(vector.shape[0])
            row.vector = vector.astype("<f4").tobytes()
        db.session.commit()
        done += len(batch)
        if progress:
            progress(done, len(items))

    if not items:
        return np.zeros((0, 0), dtype=np.float32), 0
    matrix = np.stack([vector_of(stored[item.thread_id]) for item in items])
    return matrix, len(missing)


def vector_of(row: ThreadEmbedding) -> np.ndarray:
    return np.frombuffer(row.vector, dtype="<f4").astype(np.float32)


def stored_vectors(thread_ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
    rows = db.session.execute(select(ThreadEmbedding).where(
        ThreadEmbedding.model_name == model, ThreadEmbedding.thread_id.in_(list(thread_ids)))).scalars()
    return {row.thread_id: vector_of(row) for row in rows}
