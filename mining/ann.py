"""An approximate nearest-neighbour index of unit vectors keyed by integer ids (usearch HNSW, int8).

Compared with faiss (HNSW and IVF) and voyager in ``bench/ann_compare.py`` (figures and reasons in
``bench/README.md``): it stores one byte per dimension, builds on all cores, and opens a saved file as a read-only
memory map, so every server process on a machine shares one copy in the page cache. Its raw recall@10 on MiniLM
vectors is about 0.95; callers that need more ask for more candidates and order them by exact cosine.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np


def _index_class():
    from usearch.index import Index  # heavy optional dependency: only processes that search load it

    return Index


class VectorIndex:
    """Cosine nearest neighbours over unit vectors, keyed by non-negative integer ids.

    Parameters
    ----------
    dtype : str
        How each dimension is stored: ``"i8"`` (one byte, the default), ``"f16"`` or ``"f32"``.
    connectivity : int
        Graph edges per node (HNSW ``M``); more raises recall and memory.
    expansion_add : int
        Candidates considered while inserting (``ef_construction``).
    expansion_search : int
        Candidates considered while searching (``ef``); at least the ``k`` asked for is used.
    threads : int
        Threads used while building; 0 means every core.
    """

    def __init__(self, dtype: str = "i8", connectivity: int = 16, expansion_add: int = 128,
                 expansion_search: int = 128, threads: int = 0):
        self.dtype = dtype
        self.connectivity = connectivity
        self.expansion_add = expansion_add
        self.expansion_search = expansion_search
        self.threads = threads
        self._index = None

    # -- building --------------------------------------------------------------------------------
    def _new(self, dimensions: int):
        return _index_class()(ndim=dimensions, metric="cos", dtype=self.dtype, connectivity=self.connectivity,
                              expansion_add=self.expansion_add, expansion_search=self.expansion_search)

    def fit(self, keys: np.ndarray, vectors: np.ndarray) -> VectorIndex:
        """Build the index from scratch from ``vectors[i]`` under ``keys[i]``."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError("vectors must be a 2-d array with one row per key")
        self._index = self._new(vectors.shape[1])
        self.add(keys, vectors)
        return self

    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Insert more vectors (a key already present gets the new vector)."""
        if self._index is None:
            self._index = self._new(np.asarray(vectors).shape[1])
        keys = np.asarray(keys, dtype=np.uint64)
        if not keys.size:
            return
        present = keys[self._index.contains(keys)] if len(self._index) else keys[:0]
        if present.size:
            self._index.remove(present)
        self._index.add(keys, np.ascontiguousarray(vectors, dtype=np.float32), threads=self.threads)

    # -- files -------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Write the index to ``path`` atomically (readers see the old file or the new one, never half)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        self._index.save(str(partial))
        os.replace(partial, path)

    @classmethod
    def open(cls, path: str | os.PathLike, expansion_search: int = 128) -> VectorIndex:
        """A read-only index memory-mapped from ``path``: processes that open one file share its pages."""
        opened = cls(expansion_search=expansion_search)
        opened._index = _index_class().restore(str(path), view=True)
        opened._index.expansion_search = expansion_search
        opened.dtype = str(opened._index.dtype)
        return opened

    # -- reading ------------------------------------------------------------------------------------
    def __len__(self) -> int:
        return 0 if self._index is None else len(self._index)

    @property
    def dimensions(self) -> int:
        """Width of the stored vectors (0 when empty)."""
        return 0 if self._index is None else int(self._index.ndim)

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest keys to the unit ``query`` and their cosine similarity, nearest first."""
        if not len(self) or k <= 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        if self._index.expansion_search < k:
            self._index.expansion_search = k  # HNSW cannot return more than it considers
        # asked for most of the index, the graph walk can still leave a near vector out (1 query in ~3,600 at
        # 110 of 120), while comparing every vector costs no more than the walk
        exact = 2 * k >= len(self)
        found = self._index.search(np.asarray(query, dtype=np.float32), min(k, len(self)), threads=1, exact=exact)
        return found.keys.astype(np.int64), (1.0 - found.distances).astype(np.float32)

    def search_many(self, queries: np.ndarray, k: int) -> np.ndarray:
        """Keys of the ``k`` nearest vectors to each row of ``queries`` (one row per query), on every core."""
        if self._index.expansion_search < k:
            self._index.expansion_search = k
        found = self._index.search(np.ascontiguousarray(queries, dtype=np.float32), k, threads=self.threads)
        return np.asarray(found.keys, dtype=np.int64).reshape(len(queries), k)

    def vectors_of(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The stored (decoded) vectors of those ``keys`` that are present: (keys, matrix)."""
        keys = np.asarray(keys, dtype=np.uint64)
        if not len(self) or not keys.size:
            return np.zeros(0, np.int64), np.zeros((0, self.dimensions), np.float32)
        keys = keys[self._index.contains(keys)]
        if not keys.size:
            return np.zeros(0, np.int64), np.zeros((0, self.dimensions), np.float32)
        matrix = np.asarray(self._index.get(keys, dtype=np.float32), dtype=np.float32).reshape(len(keys), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return keys.astype(np.int64), matrix / np.where(norms > 0, norms, 1.0)
