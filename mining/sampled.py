"""Patterns at a million documents: fit ``PatternMiner`` on a sample, then assign the rest to what it learned.

The full fit grows with n in every stage (neighbours of each point, k-means over all points, cuts of every
theme, keywords over all texts) and holds several n x 384 arrays at once. The patterns of a forum are
already visible in a sample of tens of thousands of threads; the other threads only need to be placed, by
the rules the fitted clusterer already holds, in batches (memory stays a few hundred MB above the vectors):

* ``assign="centre"`` (the default): the nearest pattern centre, unless the thread lies below that
  pattern's outlier fence (the clusterer's "not close enough" rule), when it stays unassigned; a product
  with a few hundred centres per thread;
* ``assign="neighbours"``: ``PatternClusterer.predict``'s whole rule (each thread smoothed with its nearest
  reference threads, and unassigned also when those sit in other patterns), the neighbours looked up in an
  approximate index of the reference sample (``mining.ann``). At 1M threads even the index costs about
  twenty minutes on a loaded 2-core machine (the exact product would be 15 TFLOP), for no gain in quality
  on the sets measured.

Patterns keep the sample's names and keywords; their members, sizes, centres, cohesion and
representative threads are computed again over every document. Figures in ``bench/README.md``
("Clustering at 1M vectors").
"""
from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, clone
from sklearn.utils.validation import check_is_fitted

from mining.ann import VectorIndex
from mining.clustering import PatternClusterer, smooth
from mining.documents import Document, document_text
from mining.kmeans import normalize_rows
from mining.pipeline import PatternMiner, as_documents
from mining.representation import Pattern, Theme

# copied from the sample's fit when the sample is every document
FITTED = ("labels_", "patterns_", "themes_", "theme_labels_", "pattern_themes_", "centroids_", "document_ids_",
          "noise_fraction_", "seed_patterns_")


class SampledPatternMiner(BaseEstimator):
    """``PatternMiner`` for large forums: fit on ``sample_size`` documents, assign the others.

    Parameters
    ----------
    miner : PatternMiner or None
        The estimator fitted on the sample (cloned); ``None`` uses ``PatternMiner()``.
    sample_size : int
        Documents the patterns are learned from. With no more documents than this, the miner is
        fitted on all of them and nothing is assigned.
    assign : {"centre", "neighbours"}
        How the other documents are placed: at the nearest pattern centre unless below its outlier
        fence (cheap: a product with the few hundred centres), or by ``predict``'s whole rule (smoothed
        with reference neighbours from an index, and the neighbour-agreement test besides the fence).
    batch_size : int
        Documents assigned at a time (memory grows with it).
    random_state : int
        Seed of the sample.
    """

    def __init__(self, miner: PatternMiner | None = None, sample_size: int = 50_000, assign: str = "centre",
                 batch_size: int = 50_000, random_state: int = 0):
        self.miner = miner
        self.sample_size = sample_size
        self.assign = assign
        self.batch_size = batch_size
        self.random_state = random_state

    def fit(self, documents: Sequence[Document | str], seeds: Mapping[Hashable, Iterable] | None = None,
            embeddings: np.ndarray | None = None, details: np.ndarray | None = None) -> SampledPatternMiner:
        """Learn patterns from a sample of ``documents`` and place every other document in one (or none).

        ``seeds``, ``embeddings`` and ``details`` as for ``PatternMiner.fit``; every seeded document is in the sample.
        """
        if self.sample_size < 2 or self.batch_size < 1:
            raise ValueError("sample_size must be at least 2 and batch_size at least 1")
        documents = as_documents(documents)
        self.miner_ = clone(self.miner) if self.miner is not None else PatternMiner()
        n = len(documents)
        if n <= self.sample_size:
            self.miner_.fit(documents, seeds=seeds, embeddings=embeddings, details=details)
            for name in FITTED:
                setattr(self, name, getattr(self.miner_, name))
            self.sample_ = np.arange(n)
            return self
        # the miner's own embedding step: the same model (loaded once) and checks as its fit
        vectors, details = self.miner_._embed(
            [document_text(d) for d in documents] if embeddings is None else [""] * n, embeddings, details)
        seed_index = PatternMiner._seed_indices(seeds, documents)
        self.sample_ = self._sample(n, seed_index)
        position = np.full(n, -1)
        position[self.sample_] = np.arange(len(self.sample_))
        sample_seeds = {key: position[np.asarray(members, dtype=np.int64)].tolist()
                        for key, members in seed_index.items()}
        self.miner_.fit([documents[i] for i in self.sample_], seeds=sample_seeds or None,
                        embeddings=vectors[self.sample_],
                        details=None if details is None else details[self.sample_])

        labels = np.full(n, -1, dtype=np.int64)
        labels[self.sample_] = self.miner_.labels_
        rest = np.flatnonzero(position < 0)
        labels[rest] = self._assign(vectors, rest, details)
        self.labels_ = labels
        self._describe(vectors)
        self.document_ids_ = [d.id for d in documents]
        self.seed_patterns_ = self.miner_.seed_patterns_
        self.noise_fraction_ = float(np.mean(labels < 0))
        return self

    def _sample(self, n: int, seed_index: dict) -> np.ndarray:
        # seeded documents always; the rest of the sample uniformly from the others
        seeded = np.unique(np.concatenate([np.asarray(m, dtype=np.int64) for m in seed_index.values()]
                                          or [np.zeros(0, dtype=np.int64)]))
        others = np.setdiff1d(np.arange(n), seeded)
        rng = np.random.RandomState(self.random_state)
        take = max(self.sample_size - len(seeded), 0)
        return np.sort(np.concatenate([seeded, rng.choice(others, min(take, len(others)), replace=False)]))

    def _assign(self, vectors: np.ndarray, rows: np.ndarray, details: np.ndarray | None = None) -> np.ndarray:
        """Pattern of each of ``vectors[rows]`` by the clusterer's predict rule, neighbours from an index."""
        clusterer = self.miner_.clusterer_
        if self.assign not in ("centre", "neighbours"):
            raise ValueError('assign must be "centre" or "neighbours"')
        if self.assign == "neighbours":
            reference = clusterer.reference_
            index = VectorIndex(dtype="f16").fit(np.arange(len(reference)), reference)
        out = np.empty(len(rows), dtype=np.int64)
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start:start + self.batch_size]
            detail = None if details is None else details[batch]
            out[start:start + len(batch)] = (assign_to_centres(clusterer, vectors[batch], detail) if self.assign == "centre"
                                             else assign_to_clusterer(clusterer, vectors[batch], index, detail))
        out[out >= len(self.miner_.patterns_)] = -1  # a group that became noise in the fit has no pattern
        return out

    def _describe(self, vectors: np.ndarray) -> None:
        # names and keywords from the sample; everything that counts members from all documents
        sample_patterns = self.miner_.patterns_
        k = len(sample_patterns)
        assigned = np.flatnonzero(self.labels_ >= 0)
        sums = np.zeros((k, vectors.shape[1]))
        for start in range(0, len(assigned), self.batch_size):
            rows = assigned[start:start + self.batch_size]
            one_hot = sparse.csr_matrix((np.ones(len(rows)), (self.labels_[rows], np.arange(len(rows)))),
                                        shape=(k, len(rows)))
            sums += one_hot @ vectors[rows].astype(np.float64)
        centroids = normalize_rows(sums)
        sims = np.zeros(len(self.labels_), dtype=np.float32)
        for start in range(0, len(assigned), self.batch_size):
            rows = assigned[start:start + self.batch_size]
            sims[rows] = np.einsum("ij,ij->i", vectors[rows], centroids[self.labels_[rows]])
        # members of each pattern, most central first
        order = assigned[np.lexsort((-sims[assigned], self.labels_[assigned]))]
        bounds = np.searchsorted(self.labels_[order], np.arange(k + 1))
        self.patterns_: list[Pattern] = []
        for g, pattern in enumerate(sample_patterns):
            members = order[bounds[g]:bounds[g + 1]]
            size = len(members)
            total = sums[g] @ sums[g]
            self.patterns_.append(dataclasses.replace(
                pattern, size=size, members=np.sort(members).tolist(),
                representative=members[:len(pattern.representative)].tolist(),
                cohesion=float(sims[members].mean()) if size else pattern.cohesion,
                centroid=centroids[g], pair_similarity=float((total - size) / (size * (size - 1))) if size > 1 else None))
        self.themes_: list[Theme] = [dataclasses.replace(theme, size=sum(self.patterns_[p].size for p in theme.patterns))
                                     for theme in self.miner_.themes_]
        self.pattern_themes_ = self.miner_.pattern_themes_
        self.centroids_ = centroids if k else self.miner_.centroids_
        # a sampled document keeps the theme its topic gave it; an assigned one takes its pattern's
        self.theme_labels_ = np.full(len(self.labels_), -1, dtype=np.int64)
        if k:
            self.theme_labels_[assigned] = self.pattern_themes_[self.labels_[assigned]]
        self.theme_labels_[self.sample_] = self.miner_.theme_labels_

    # -- estimator API ---------------------------------------------------------------------
    def predict(self, documents: Sequence[Document | str] | None = None,
                embeddings: np.ndarray | None = None, details: np.ndarray | None = None) -> np.ndarray:
        """Pattern index of each new document, or -1 where it fits none (``PatternMiner.predict``)."""
        check_is_fitted(self, "miner_")
        return self.miner_.predict(documents, embeddings=embeddings, details=details)

    def pattern_members(self) -> dict[int, set]:
        """Pattern index -> set of document ids, the input ``mining.clustering.match`` expects."""
        check_is_fitted(self, "labels_")
        return {p.id: {self.document_ids_[i] for i in p.members} for p in self.patterns_}


def assign_to_centres(clusterer: PatternClusterer, vectors: np.ndarray,
                      details: np.ndarray | None = None) -> np.ndarray:
    """The group whose (unsmoothed) centre is nearest, or -1 below that group's outlier fence."""
    x = clusterer.comparison_space(vectors, details)
    labels = np.argmax(x @ clusterer.raw_centroids_.T, axis=1)
    if not clusterer.assigns_all_:
        labels[clusterer._is_noise(x, labels, np.zeros((len(x), 0), dtype=np.int64))] = -1
    return labels


def assign_to_clusterer(clusterer: PatternClusterer, vectors: np.ndarray, index: VectorIndex,
                        details: np.ndarray | None = None) -> np.ndarray:
    """``clusterer.predict(vectors)`` with the reference neighbours taken from ``index`` (keys: reference rows)."""
    x = clusterer.comparison_space(vectors, details)
    neighbors = index.search_many(x, clusterer.n_neighbors)
    z = smooth(x, clusterer.reference_, neighbors, clusterer.self_weight)
    labels = np.argmax(z @ clusterer.centroids_.T, axis=1)
    if not clusterer.assigns_all_:
        # the clusterer's own unassigned rule: neighbours in other groups, or below the group's outlier fence
        labels[clusterer._is_noise(x, labels, neighbors)] = -1
    return labels
