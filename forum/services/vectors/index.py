"""The stored thread vectors as one normalised matrix in memory, and per-user visibility masks.

Similar-thread lookups must stay fast at 100k threads, so the matrix is loaded once per process and
database and kept until the stored embeddings change. A cheap signature query (the newest embedding's
id and content hash, read through the primary key) tells when to reload; a full reload also happens
every ``FULL_RELOAD_SECONDS`` because re-embedding an edited thread updates its row in place.

The masks are only a ranking aid: every thread that leaves this package is re-checked in SQL with
``permissions.visible_threads``, so a stale mask can cost relevance but never shows a hidden thread.
"""
from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from sqlalchemy import not_, select

from ... import permissions
from ...extensions import db
from ...models import Thread, ThreadEmbedding, User

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

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])

    @property
    def dimensions(self) -> int:
        return int(self.matrix.shape[1]) if self.matrix.ndim == 2 else 0

    def rows_of(self, thread_ids) -> np.ndarray:
        """Row positions of the given thread ids that have a vector (others are skipped)."""
        wanted = np.asarray(list(thread_ids), dtype=np.int64)
        if not self.size or not wanted.size:
            return np.zeros(0, dtype=np.int64)
        pos = np.clip(np.searchsorted(self.ids, wanted), 0, self.size - 1)
        return pos[self.ids[pos] == wanted]


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


_on_clear: list = []  # other caches built on these vectors register their own clear() here


def database_key() -> str:
    # Tests run SQLite and PostgreSQL in one process: never serve one database's vectors to the other.
    return db.engine.url.render_as_string(hide_password=True)


def _signature() -> tuple:
    row = db.session.execute(
        select(ThreadEmbedding.id, ThreadEmbedding.content_hash).order_by(ThreadEmbedding.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def current_matrix(model: str) -> VectorMatrix | None:
    """The cached matrix for ``model``, reloaded when the stored embeddings changed; None when empty."""
    key = (database_key(), model)
    signature = _signature()
    cached = _matrices.get(key)
    now = time.monotonic()
    if cached is not None and cached.signature == signature and now - cached.loaded_at < FULL_RELOAD_SECONDS:
        return cached if cached.size else None
    loaded = _load(model, signature)
    with lock:
        _matrices[key] = loaded
    return loaded if loaded.size else None


def _load(model: str, signature: tuple) -> VectorMatrix:
    rows = db.session.execute(
        select(ThreadEmbedding.thread_id, ThreadEmbedding.dimensions, ThreadEmbedding.vector)
        .where(ThreadEmbedding.model_name == model).order_by(ThreadEmbedding.thread_id)).all()
    if not rows:
        return VectorMatrix(model, signature, np.zeros(0, np.int64), np.zeros((0, 0), np.float32), time.monotonic())
    # The most common width wins; a stray row of another width (a half-finished model change) is skipped.
    widths = np.bincount([r.dimensions for r in rows])
    width = int(widths.argmax())
    kept = [r for r in rows if r.dimensions == width and len(r.vector) == width * 4]
    ids = np.fromiter((r.thread_id for r in kept), dtype=np.int64, count=len(kept))
    matrix = np.frombuffer(b"".join(r.vector for r in kept), dtype="<f4").astype(np.float32).reshape(-1, width)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    matrix = np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1.0))
    basis, reduced = reduce(matrix)
    return VectorMatrix(model, signature, ids, matrix, time.monotonic(), basis, reduced)


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
    """Which rows of ``vectors`` the user may see: one SQL query of visible ids, kept briefly per user."""
    if permissions.is_employee(user):
        return np.ones(vectors.size, dtype=bool)
    signed_in = user is not None and getattr(user, "is_authenticated", False)
    who = (user.id, user.organisation_id) if signed_in else ("anonymous", permissions.public_read_enabled())
    key = (database_key(), vectors.model, vectors.signature, who)
    now = time.monotonic()
    hit = _masks.get(key)
    if hit is not None and hit[0] > now and hit[1].shape[0] == vectors.size:
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
    best = np.argpartition(-scores, min(EXACT_ROWS, vectors.size) - 1)[:EXACT_ROWS]
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
