"""The stored thread vectors for lookups: an approximate index file plus an exact tail, and visibility masks.

Below ``VECTOR_INDEX_MIN_ROWS`` vectors (50k) every stored vector sits in one normalised matrix in memory and a
lookup is exact. From there a persisted approximate index (``store``, usearch HNSW, int8, memory-mapped and
shared by the processes of a machine) holds the vectors up to its watermark, and only the rows stored after
it (the tail) are in memory; ``nearest`` merges both and gives the index's candidates their exact cosine from
the stored float vectors, so scores and order are exact among the candidates.

The structure is kept once per process and database until the stored embeddings change. A cheap signature
query (the newest embedding's id and content hash, read through the primary key) tells when to read more: only
the rows after the last one read are appended; a full reload also happens every ``FULL_RELOAD_SECONDS``
because re-embedding an edited thread updates its row in place.

The masks are only a ranking aid: every thread that leaves this package is re-checked in SQL with
``permissions.visible_threads``, so a stale mask can cost relevance but never shows a hidden thread.
"""
from __future__ import annotations

import functools
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Select, not_, select

from ... import permissions
from ...extensions import db
from ...models import Thread, ThreadEmbedding, User
from . import store

FULL_RELOAD_SECONDS = 600
REDUCE_FROM_ROWS = 20_000
REDUCED_DIMENSIONS = 128
EXACT_ROWS = 2_000
MASK_SECONDS = 30
MASK_CACHE_SIZE = 512


@dataclass
class VectorMatrix:
    """Stored vectors of one model: ``ids`` ascending, ``matrix[i]`` the unit vector of thread ``ids[i]``."""

    model: str
    signature: tuple
    ids: np.ndarray
    matrix: np.ndarray
    loaded_at: float
    # For large matrices: an orthonormal basis of the main directions and the rows projected on it, so a
    # lookup reads a third of the memory and computes exact scores only for the best candidates.
    basis: np.ndarray | None = None
    reduced: np.ndarray | None = None
    # The persisted index holding the rows up to its watermark; ``ids``/``matrix`` then hold only the rows after it.
    ann: store.OpenIndex | None = None
    top_row: int = 0  # the highest thread_embedding.id read into ``matrix``

    @property
    def size(self) -> int:
        """Threads with a vector: the index's and the tail's (a re-embedded thread may count twice briefly)."""
        return int(self.ids.shape[0]) + (self.ann.count if self.ann is not None else 0)

    @property
    def tail_size(self) -> int:
        """Rows held in memory (all of them without an index file)."""
        return int(self.ids.shape[0])

    @property
    def dimensions(self) -> int:
        if self.matrix.ndim == 2 and self.matrix.shape[0]:
            return int(self.matrix.shape[1])
        return self.ann.index.dimensions if self.ann is not None else 0

    def rows_of(self, thread_ids) -> np.ndarray:
        """Row positions in ``matrix`` (the tail) of the given thread ids (others are skipped)."""
        wanted = np.asarray(list(thread_ids), dtype=np.int64)
        if not self.tail_size or not wanted.size:
            return np.zeros(0, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, wanted), 0, self.tail_size - 1)
        return pos[self.ids[pos] == wanted]

    def vectors_of(self, thread_ids) -> tuple[np.ndarray, np.ndarray]:
        """(thread ids, unit vectors) of those given threads that have a vector: exact float32 values."""
        wanted = np.unique(np.asarray(list(thread_ids), dtype=np.int64))
        rows = self.rows_of(wanted)
        ids, matrix = self.ids[rows], self.matrix[rows]
        rest = wanted[~np.isin(wanted, ids)] if self.ann is not None else wanted[:0]
        if rest.size:
            more = stored_unit_vectors(self.model, rest)
            if more[0].size:
                ids, matrix = np.concatenate([ids, more[0]]), np.vstack([matrix.reshape(-1, more[1].shape[1]), more[1]])
        return ids, matrix

    def vector_of(self, thread_id: int) -> np.ndarray | None:
        """The unit vector of one thread, or None."""
        ids, matrix = self.vectors_of([thread_id])
        return matrix[0] if ids.size else None


lock = threading.Lock()
_matrices: dict[tuple[str, str], VectorMatrix] = {}
_masks: OrderedDict[tuple, tuple[float, np.ndarray]] = OrderedDict()
_blas = None  # a threadpoolctl controller, made on first use


def clear_caches() -> None:
    """Forget every cached matrix and mask (tests; after bulk changes)."""
    with lock:
        _matrices.clear()
        _masks.clear()
        for forget in _on_clear:
            forget()
    store.forget_opened()


_on_clear: list = []  # other caches built on these vectors register their own clear() here


def database_key() -> str:
    # Tests run SQLite and PostgreSQL in one process: never serve one database's vectors to the other.
    return db.engine.url.render_as_string(hide_password=True)


def _signature() -> tuple:
    row = db.session.execute(_signature_query()).first()
    return (row[0], row[1]) if row else (None, None)


@functools.cache
def _signature_query() -> Select:
    # built once per process: every page that ranks by meaning asks whether new vectors came
    return select(ThreadEmbedding.id, ThreadEmbedding.content_hash).order_by(ThreadEmbedding.id.desc()).limit(1)


def current_matrix(model: str) -> VectorMatrix | None:
    """The cached vectors for ``model``, brought up to date when the stored embeddings changed; None when empty."""
    key = (database_key(), model)
    signature = _signature()
    ann = store.opened(key[0], model)
    cached = _matrices.get(key)
    now = time.monotonic()
    fresh = cached is not None and cached.ann is ann and now - cached.loaded_at < FULL_RELOAD_SECONDS
    if fresh and cached.signature == signature:
        return cached if cached.size else None
    if fresh and signature[0] is not None and cached.top_row and signature[0] > cached.top_row:
        loaded = _append(cached, signature)  # new rows only: a new thread costs one small query, not a reload
    else:
        loaded = _load(model, signature, ann)
    with lock:
        _matrices[key] = loaded
    if store.needs_rebuild(ann, loaded.tail_size, loaded.size):
        store.ask_for_rebuild(key[0], model)
    return loaded if loaded.size else None


def _rows(model: str, after: int) -> list:
    return db.session.execute(
        select(ThreadEmbedding.id, ThreadEmbedding.thread_id, ThreadEmbedding.dimensions, ThreadEmbedding.vector)
        .where(ThreadEmbedding.model_name == model, ThreadEmbedding.id > after)
        .order_by(ThreadEmbedding.thread_id)).all()


def _unit_matrix(rows: list, width: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
    """(thread ids, unit vectors, highest row id) of rows of the most common width (or of ``width``)."""
    if not rows:
        return np.zeros(0, np.int64), np.zeros((0, width or 0), np.float32), 0
    if width is None:
        # The most common width wins; a stray row of another width (a half-finished model change) is skipped.
        width = int(np.bincount([r.dimensions for r in rows]).argmax())
    kept = [r for r in rows if r.dimensions == width and len(r.vector) == width * 4]
    ids = np.fromiter((r.thread_id for r in kept), dtype=np.int64, count=len(kept))
    matrix = np.frombuffer(b"".join(r.vector for r in kept), dtype="<f4").astype(np.float32).reshape(-1, width)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return ids, np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1.0)), max(r.id for r in rows)


def _load(model: str, signature: tuple, ann: store.OpenIndex | None) -> VectorMatrix:
    width = ann.index.dimensions if ann is not None else None
    ids, matrix, top = _unit_matrix(_rows(model, ann.watermark if ann is not None else 0), width)
    basis, reduced = reduce(matrix)
    return VectorMatrix(model, signature, ids, matrix, time.monotonic(), basis, reduced, ann,
                        top or (ann.watermark if ann is not None else 0))


def _append(cached: VectorMatrix, signature: tuple) -> VectorMatrix:
    new_ids, new_rows, top = _unit_matrix(_rows(cached.model, cached.top_row), cached.dimensions or None)
    keep = ~np.isin(cached.ids, new_ids)
    ids = np.concatenate([cached.ids[keep], new_ids])
    matrix = np.vstack([cached.matrix[keep].reshape(-1, new_rows.shape[1]), new_rows])
    order = np.argsort(ids, kind="stable")
    ids, matrix = ids[order], np.ascontiguousarray(matrix[order])
    if cached.basis is not None:
        # The main directions barely move with a few rows: project the new ones on the basis already computed.
        basis, reduced = cached.basis, np.ascontiguousarray(matrix @ cached.basis)
    else:
        basis, reduced = reduce(matrix)
    return VectorMatrix(cached.model, signature, ids, matrix, cached.loaded_at, basis, reduced, cached.ann,
                        max(top, cached.top_row))


def stored_unit_vectors(model: str, thread_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(thread ids, unit vectors) of these threads read from the database: exact values for index candidates."""
    rows = db.session.execute(
        select(ThreadEmbedding.id, ThreadEmbedding.thread_id, ThreadEmbedding.dimensions, ThreadEmbedding.vector)
        .where(ThreadEmbedding.model_name == model, ThreadEmbedding.thread_id.in_([int(t) for t in thread_ids]))).all()
    ids, matrix, _top = _unit_matrix(rows)
    return ids, matrix


def reduce(matrix: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
    """For a large matrix: a basis of its ``REDUCED_DIMENSIONS`` main directions and the rows projected on it."""
    if matrix.shape[0] < REDUCE_FROM_ROWS or matrix.shape[1] <= REDUCED_DIMENSIONS:
        return None, None
    # The top eigenvectors of X^T X (from a sample) span the directions the stored vectors use most.
    sample = matrix[np.random.default_rng(0).choice(matrix.shape[0], REDUCE_FROM_ROWS, replace=False)]
    _values, vectors = np.linalg.eigh((sample.T @ sample).astype(np.float64))
    basis = np.ascontiguousarray(vectors[:, -REDUCED_DIMENSIONS:].astype(np.float32))
    return basis, np.ascontiguousarray(matrix @ basis)


def visible_mask(user: User | None, vectors: VectorMatrix) -> np.ndarray:
    """Which rows of ``vectors.matrix`` the user may see: one SQL query of hidden ids, kept briefly per user."""
    if permissions.is_employee(user):
        return np.ones(vectors.tail_size, dtype=bool)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    who = (user.id, user.organisation_id) if signed_in else ("anonymous", permissions.public_read_enabled())
    key = (database_key(), vectors.model, vectors.signature, who)
    now = time.monotonic()
    hit = _masks.get(key)
    if hit is not None and hit[0] > now and hit[1].shape[0] == vectors.tail_size:
        return hit[1]
    # The hidden threads are the fewer (internal and other organisations' private ones): fetch those.
    hidden = np.fromiter(db.session.execute(select(Thread.id).where(not_(permissions.visible_threads(user))))
                         .scalars(), dtype=np.int64)
    mask = ~np.isin(vectors.ids, hidden, assume_unique=True)
    with lock:
        _masks[key] = (now + MASK_SECONDS, mask)
        _masks.move_to_end(key)
        while len(_masks) > MASK_CACHE_SIZE:
            _masks.popitem(last=False)
    return mask


def scores_for(vectors: VectorMatrix, query: np.ndarray) -> np.ndarray:
    """Cosine of every stored vector with the unit ``query``: one matrix-vector product.

    On a large matrix the product runs on the reduced rows, and the ``EXACT_ROWS`` best of those get
    their exact cosine: the top of the ranking is exact, the far tail approximate.
    """
    if vectors.reduced is None:
        return _product(vectors.matrix, query)
    scores = _product(vectors.reduced, query @ vectors.basis)
    best = np.argpartition(-scores, min(EXACT_ROWS, vectors.tail_size) - 1)[:EXACT_ROWS]
    scores[best] = _product(vectors.matrix[best], query)
    return scores


def _product(matrix: np.ndarray, query: np.ndarray) -> np.ndarray:
    global _blas
    if _blas is None:
        try:
            from threadpoolctl import ThreadpoolController  # optional: without it BLAS threads are left alone

            _blas = ThreadpoolController()
        except Exception:  # noqa: BLE001 - without it the product still works, only slower on busy cores
            _blas = False
    if not _blas:
        return matrix @ query
    # One BLAS thread: a memory-bound product gains nothing from more, and on busy cores a threaded BLAS
    # waits for its threads (measured here: 19 ms instead of 1 ms for 5,000 rows under load).
    with _blas.limit(limits=1, user_api="blas"):
        return matrix @ query


def top_rows(scores: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    """Row positions of the ``k`` highest scores (among ``allowed`` rows), best first."""
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    k = min(k, scores.shape[0])
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    part = np.argpartition(-scores, k - 1)[:k]
    best = part[np.argsort(-scores[part], kind="stable")]
    return best[np.isfinite(scores[best])]


def nearest(vectors: VectorMatrix, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Thread ids and exact cosine of (about) the ``k`` nearest stored vectors to the unit ``query``, best first.

    Exact without an index file. With one, the index's ``k`` candidates are merged with the exact best of the tail;
    a thread in both (re-embedded after the watermark) counts with its tail vector.
    """
    ids, scores = np.zeros(0, np.int64), np.zeros(0, np.float32)
    if vectors.tail_size:
        tail_scores = scores_for(vectors, query)
        rows = top_rows(tail_scores, k)
        ids, scores = vectors.ids[rows], tail_scores[rows].astype(np.float32)
    if vectors.ann is not None:
        found, _approximate = vectors.ann.index.search(query, k)
        found = found[~np.isin(found, vectors.ids)]
        # The index stores a byte per dimension, which blurs close scores: the candidates get their exact cosine
        # from the stored float vectors (one query by primary key), so the order among them is exact.
        found, matrix = stored_unit_vectors(vectors.model, found)
        if found.size:
            ids, scores = np.concatenate([ids, found]), np.concatenate([scores, matrix @ query])
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order]


def nearest_among(vectors: VectorMatrix, query: np.ndarray, thread_ids, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact search among the given threads only (a reader's small visible set): ids and cosine, best first."""
    ids, matrix = vectors.vectors_of(thread_ids)
    if not ids.size:
        return ids, np.zeros(0, np.float32)
    scores = _product(matrix, query)
    order = np.lexsort((ids, -scores))[:k]
    return ids[order], scores[order].astype(np.float32)
