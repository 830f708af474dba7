"""Thread embeddings stored in the database: incremental, keyed by model name and content hash."""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.orm import selectinload

from mining.documents import Document, document_text
from mining.embedders import SentenceTransformerEmbedder, TfidfEmbedder

from ...extensions import db
from ...models import Attachment, Reply, Thread, ThreadEmbedding

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

    kind = current_app.config.get("MINING_EMBEDDER", "minilm")
    if kind not in _embedder_cache:
        if kind == "minilm":
            # Several workers on one machine each take cores / workers threads (None: every core).
            threads = current_app.config.get("MINING_EMBED_THREADS")
            _embedder_cache[kind] = SentenceTransformerEmbedder(num_threads=int(threads) if threads else None)
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

    query = (select(Thread).options(selectinload(Thread.accepted_reply), selectinload(Thread.tags))
             .order_by(Thread.id))
    if thread_ids is not None:
        query = query.where(Thread.id.in_(list(thread_ids)))
    threads = list(db.session.execute(query).scalars())
    # Error lines of logs attached to a question count as part of its body (signatures and embedded text).
    logs = _question_log_lines(thread_ids) if threads else {}
    documents = []
    for thread in threads:
        answer = thread.accepted_reply
        body = thread.body_md + ("\n\n" + logs[thread.id] if thread.id in logs else "")
        documents.append(Document(
            id=thread.id, title=thread.title, body=body,
            answer=answer.body_md if isinstance(answer, Reply) and not answer.is_deleted else "",
            metadata={"tags": [t.name for t in thread.tags]},
        ))
    return documents


def _question_log_lines(thread_ids: Sequence[int] | None) -> dict[int, str]:
    """The error lines of the files on these threads' questions (all threads: None), by thread."""
    query = select(Attachment.thread_id, Attachment.signature_lines).where(
        Attachment.reply_id.is_(None), Attachment.deleted_at.is_(None), Attachment.signature_lines != "")
    if thread_ids is not None:
        query = query.where(Attachment.thread_id.in_(list(thread_ids)))
    found: dict[int, list[str]] = {}
    for thread_id, lines in db.session.execute(query.order_by(Attachment.id)):
        found.setdefault(thread_id, []).append(lines)
    return {tid: "\n".join(parts) for tid, parts in found.items()}


def texts_for(documents: Sequence) -> list[ThreadText]:

    out = []
    for doc in documents:
        text = document_text(doc)
        out.append(ThreadText(doc.id, text, content_hash(text)))
    return out


# Above this many ids, one scan of the model's rows beats chunked IN lists (which would also grow
# with the forum, and PostgreSQL caps a statement at 65,535 parameters).
_IN_LIST_LIMIT = 5000


@dataclass(frozen=True)
class _Stored:
    row_id: int
    content_hash: str
    vector: bytes


def _stored_rows(thread_ids: Sequence[int], model: str) -> dict[int, _Stored]:
    """The stored rows for these threads, as plain values: no ORM objects, so no commit expires them."""
    table = ThreadEmbedding.__table__
    query = select(table.c.id, table.c.thread_id, table.c.content_hash, table.c.vector).where(
        table.c.model_name == model)
    wanted = set(thread_ids)
    if len(wanted) <= _IN_LIST_LIMIT:
        query = query.where(table.c.thread_id.in_(list(wanted)))
    stored: dict[int, _Stored] = {}
    # Streamed in partitions so that a whole forum's vectors never sit twice in memory as raw rows.
    result = db.session.execute(query.execution_options(yield_per=2000))
    for partition in result.partitions():
        for row_id, thread_id, hash_, vector in partition:
            if thread_id in wanted:
                stored[thread_id] = _Stored(row_id, hash_, bytes(vector))
    return stored


def missing_items(items: Sequence[ThreadText], model: str) -> list[ThreadText]:
    """The items with no vector stored for ``model`` and their current text (new or edited threads)."""
    stored = _stored_rows([item.thread_id for item in items], model)
    return [item for item in items
            if item.thread_id not in stored or stored[item.thread_id].content_hash != item.content_hash]


def ensure_embeddings(items: Sequence[ThreadText], embedder, *, batch_size: int = 64,
                      progress: ProgressCallback | None = None) -> tuple[np.ndarray, int]:
    """Vectors for ``items`` in order, embedding only texts not stored yet for this model.

    New vectors are committed batch by batch, so an interrupted run keeps what it did and the next
    run resumes from there. Returns the matrix and how many texts were embedded now.
    """
    model = embedder_key(embedder)
    stored = _stored_rows([item.thread_id for item in items], model)
    vectors: dict[int, np.ndarray] = {}
    missing: list[ThreadText] = []
    for item in items:
        row = stored.get(item.thread_id)
        if row is not None and row.content_hash == item.content_hash:
            vectors[item.thread_id] = np.frombuffer(row.vector, dtype="<f4")
        else:
            missing.append(item)
    done = len(items) - len(missing)
    if progress:
        progress(done, len(items))
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        embedded = np.asarray(embedder.embed([item.text for item in batch]), dtype="<f4")
        inserts, updates = [], []
        for item, vector in zip(batch, embedded, strict=True):
            values = {"content_hash": item.content_hash, "dimensions": int(vector.shape[0]),
                      "vector": vector.tobytes()}
            row = stored.get(item.thread_id)
            if row is None:
                inserts.append({"thread_id": item.thread_id, "model_name": model, **values})
            else:
                updates.append({"id": row.row_id, **values})
            vectors[item.thread_id] = vector
        if inserts:
            db.session.execute(insert(ThreadEmbedding), inserts)
        if updates:
            db.session.execute(update(ThreadEmbedding), updates)
        # Each batch is its own transaction: an interrupted run resumes after the last one.
        db.session.commit()
        done += len(batch)
        if progress:
            progress(done, len(items))

    if not items:
        return np.zeros((0, 0), dtype=np.float32), 0
    matrix = np.stack([vectors[item.thread_id] for item in items]).astype(np.float32, copy=False)
    return matrix, len(missing)


def vector_of(row: ThreadEmbedding) -> np.ndarray:
    """A stored row's vector as a float32 array."""
    return np.frombuffer(row.vector, dtype="<f4").astype(np.float32)


def stored_vectors(thread_ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
    """The stored vectors of these threads for one model (threads without one are left out)."""
    return {thread_id: np.frombuffer(row.vector, dtype="<f4").astype(np.float32)
            for thread_id, row in _stored_rows(thread_ids, model).items()}
