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
from mining.embedders import SentenceTransformerEmbedder, TfidfEmbedder, embed_with_detail

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


def gives_detail(embedder) -> bool:
    """Whether the embedder also gives the word-level detail of a text (in the same pass as its vector)."""
    return hasattr(embedder, "embed_with_detail")


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
    has_detail: bool
    detail: bytes | None = None  # read only for a caller that asked for the details

    def current_for(self, item: ThreadText, with_detail: bool) -> bool:
        """Whether the row holds this text's embedding (and its detail, when the embedder gives one)."""
        return self.content_hash == item.content_hash and (self.has_detail or not with_detail)


def _stored_rows(thread_ids: Sequence[int], model: str, *, read_detail: bool = False) -> dict[int, _Stored]:
    """The stored rows for these threads, as plain values: no ORM objects, so no commit expires them.

    Only whether a row has a detail is read, unless ``read_detail``: most readers need the vectors alone.
    """
    table = ThreadEmbedding.__table__
    detail = table.c.detail if read_detail else table.c.detail.isnot(None)
    query = select(table.c.id, table.c.thread_id, table.c.content_hash, table.c.vector, detail).where(
        table.c.model_name == model)
    wanted = set(thread_ids)
    if len(wanted) <= _IN_LIST_LIMIT:
        query = query.where(table.c.thread_id.in_(list(wanted)))
    stored: dict[int, _Stored] = {}
    # Streamed in partitions so that a whole forum's vectors never sit twice in memory as raw rows.
    result = db.session.execute(query.execution_options(yield_per=2000))
    for partition in result.partitions():
        for row_id, thread_id, hash_, vector, found in partition:
            if thread_id in wanted:
                if read_detail:
                    found = None if found is None else bytes(found)
                    stored[thread_id] = _Stored(row_id, hash_, bytes(vector), found is not None, found)
                else:
                    stored[thread_id] = _Stored(row_id, hash_, bytes(vector), bool(found))
    return stored


def missing_items(items: Sequence[ThreadText], model: str, *, with_detail: bool = False) -> list[ThreadText]:
    """The items with no vector stored for ``model`` and their current text (new or edited threads).

    With ``with_detail`` (the embedder gives details: ``gives_detail``), a stored vector without its
    detail counts as missing too, as ``ensure_embeddings`` counts it.
    """
    stored = _stored_rows([item.thread_id for item in items], model)
    return [item for item in items
            if item.thread_id not in stored or not stored[item.thread_id].current_for(item, with_detail)]


@dataclass(frozen=True)
class Embeddings:
    """The vectors of some items in order, their details when every item has one, and how many were made now."""

    vectors: np.ndarray
    details: np.ndarray | None
    embedded: int


def ensure_embeddings(items: Sequence[ThreadText], embedder, *, batch_size: int = 64,
                      progress: ProgressCallback | None = None) -> tuple[np.ndarray, int]:
    """Vectors for ``items`` in order, embedding only texts not stored yet for this model.

    New vectors are committed batch by batch, so an interrupted run keeps what it did and the next
    run resumes from there. Returns the matrix and how many texts were embedded now.
    """
    found = _ensure(items, embedder, batch_size=batch_size, progress=progress, keep_details=False)
    return found.vectors, found.embedded


def ensure_embeddings_with_details(items: Sequence[ThreadText], embedder, *, batch_size: int = 64,
                                   progress: ProgressCallback | None = None) -> Embeddings:
    """``ensure_embeddings``, and the details of the items when the embedder gives them (else None).

    Vector and detail of a thread come from one row read in one statement, so they are of one text.
    """
    return _ensure(items, embedder, batch_size=batch_size, progress=progress, keep_details=gives_detail(embedder))


def _ensure(items: Sequence[ThreadText], embedder, *, batch_size: int, progress: ProgressCallback | None,
            keep_details: bool) -> Embeddings:
    model = embedder_key(embedder)
    with_detail = gives_detail(embedder)
    stored = _stored_rows([item.thread_id for item in items], model, read_detail=keep_details)
    vectors: dict[int, np.ndarray] = {}
    details: dict[int, np.ndarray] = {}
    missing: list[ThreadText] = []
    for item in items:
        row = stored.get(item.thread_id)
        if row is not None and row.current_for(item, with_detail):
            vectors[item.thread_id] = np.frombuffer(row.vector, dtype="<f4")
            if keep_details and row.detail is not None:
                details[item.thread_id] = np.frombuffer(row.detail, dtype="<f4")
        else:
            missing.append(item)
    done = len(items) - len(missing)
    if progress:
        progress(done, len(items))
    for start in range(0, len(missing), batch_size):
        batch = missing[start:start + batch_size]
        # One pass of the model gives both; the detail is None for embedders without one.
        embedded, detail_rows = embed_with_detail(embedder, [item.text for item in batch])
        embedded = np.asarray(embedded, dtype="<f4")
        if detail_rows is not None:
            detail_rows = np.asarray(detail_rows, dtype="<f4")
        inserts, updates = [], []
        for i, (item, vector) in enumerate(zip(batch, embedded, strict=True)):
            detail = None if detail_rows is None else detail_rows[i]
            # A new vector replaces the detail too: one kept from an older text would not be this text's.
            values = {"content_hash": item.content_hash, "dimensions": int(vector.shape[0]),
                      "vector": vector.tobytes(), "detail": None if detail is None else detail.tobytes()}
            row = stored.get(item.thread_id)
            if row is None:
                inserts.append({"thread_id": item.thread_id, "model_name": model, **values})
            else:
                updates.append({"id": row.row_id, **values})
            vectors[item.thread_id] = vector
            if keep_details and detail is not None:
                details[item.thread_id] = detail
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
        return Embeddings(np.zeros((0, 0), dtype=np.float32), None, 0)
    matrix = np.stack([vectors[item.thread_id] for item in items]).astype(np.float32, copy=False)
    detail_matrix = None
    if keep_details and len(details) == len(items):
        detail_matrix = np.stack([details[item.thread_id] for item in items]).astype(np.float32, copy=False)
    return Embeddings(matrix, detail_matrix, len(missing))


def vector_of(row: ThreadEmbedding) -> np.ndarray:
    """A stored row's vector as a float32 array."""
    return np.frombuffer(row.vector, dtype="<f4").astype(np.float32)


def stored_vectors(thread_ids: Sequence[int], model: str) -> dict[int, np.ndarray]:
    """The stored vectors of these threads for one model (threads without one are left out)."""
    return {thread_id: np.frombuffer(row.vector, dtype="<f4").astype(np.float32)
            for thread_id, row in _stored_rows(thread_ids, model).items()}
