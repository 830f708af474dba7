"""Vectors -> groups (+ noise): kNN-smoothed spherical k-means at two granularities.

``granularity="problem"`` (a pattern: one recurring problem) chooses the number of groups as the
smallest whose groups' members are, on average, as alike as the questions of one problem are for
the encoder (``mining.granularity``); vectors are centred first (their common direction says
nothing about which problem a text is about). ``granularity="topic"`` (a theme) chooses it by
modularity on the neighbour graph, which prefers broad topics.

Why the topic design (measured, see ``bench/README.md``):

* averaging each vector with its nearest neighbours pulls a short text towards the topic its
  neighbours share, which improves every clusterer tried on short texts;
* the number of groups is the k whose k-means partition has the highest modularity on the
  k-nearest-neighbour graph; unlike the silhouette it does not reward splitting a group into
  its near-duplicate phrasings;
* the final k-means starts with twice that many groups, which are then merged and dissolved
  while modularity on the whole neighbour graph rises (``mining.consolidation``): far more
  stable across random states than k-means with the chosen k;
* a point whose neighbours mostly sit in other groups is noise, and so is a group smaller
  than ``min_cluster_size``;
* neighbours are searched in a reference sample of at most ``max_reference`` points, so the
  cost grows linearly with n beyond it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.optimize import linear_sum_assignment
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.utils.validation import check_is_fitted

from mining.consolidation import NeighbourGraph, dissolve_groups, merge_groups
from mining.granularity import SAME_PROBLEM_SIMILARITY, cohesion, refine_to_threshold
from mining.kmeans import centre_sums, kmeans, normalize_rows, spherical_kmeans
from mining.seeding import join_filed_problems, seeded_starts, uncovered_group_count, within_group_metric

# a group whose members are less alike than this share of the same-problem similarity is a catch-all
CATCHALL_SHARE = 0.6
# Lloyd steps after the cuts: 5 and 20 gave the same HWU64 figures; each costs a product of every
# document with every pattern centre (about 1 s at 100k documents and 900 patterns)
LLOYD_STEPS = 5

K_GRID = (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 22, 24, 26, 28, 30,
          32, 34, 36, 38, 40, 43, 46, 50, 55, 60, 65, 70, 80, 90, 100, 115, 130, 150)


def _top_k(sims: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, largest first."""
    try:  # torch.topk is ~5x faster than argpartition on 2 cores; numpy when torch is absent
        import torch
    except ImportError:
        part = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(sims, part, axis=1), axis=1, kind="stable")
        return np.take_along_axis(part, order, axis=1)
    return torch.topk(torch.from_numpy(sims), k, dim=1).indices.numpy()


def nearest_neighbors(queries: np.ndarray, reference: np.ndarray, k: int, exclude_self_offset: int | None = None,
                      chunk: int = 2048) -> np.ndarray:
    """Indices of the ``k`` most cosine-similar reference rows for each query row.

    With ``exclude_self_offset`` the queries are ``reference[offset:offset+len(queries)]`` and a
    point is not its own neighbour.
    """
    k = min(k, len(reference) - (1 if exclude_self_offset is not None else 0))
    out = np.empty((len(queries), max(k, 0)), dtype=np.int64)
    if k <= 0:
        return out
    for start in range(0, len(queries), chunk):
        sims = queries[start:start + chunk] @ reference.T
        if exclude_self_offset is not None:
            rows = np.arange(len(sims))
            sims[rows, exclude_self_offset + start + rows] = -np.inf
        out[start:start + chunk] = _top_k(sims, k)
    return out


def smooth(vectors: np.ndarray, reference: np.ndarray, neighbors: np.ndarray, weight: float) -> np.ndarray:
    """Average each vector (``weight``) with the mean of its neighbours (``1 - weight``)."""
    if neighbors.shape[1] == 0:
        return vectors
    out = np.empty_like(vectors)
    # in chunks: gathering all neighbours at once would hold n * k vectors (2 GB at 100k)
    for start in range(0, len(vectors), 4096):
        stop = start + 4096
        mixed = weight * vectors[start:stop] + (1.0 - weight) * reference[neighbors[start:stop]].mean(axis=1)
        out[start:stop] = normalize_rows(mixed)
    return out


def knn_modularity(neighbors: np.ndarray, labels: np.ndarray, resolution: float = 1.0) -> float:
    """Modularity of ``labels`` on the symmetrised k-nearest-neighbour graph."""
    return NeighbourGraph.from_neighbors(neighbors, np.arange(len(neighbors))).modularity(labels, resolution)


def canonical_order(x: np.ndarray) -> np.ndarray:
    """A permutation that depends only on the rows' values, so results ignore input order."""
    rounded = np.round(x[:, :16].astype(np.float64), 5)
    return np.lexsort(rounded.T[::-1])


class PatternClusterer(ClusterMixin, BaseEstimator):
    """Cluster unit vectors into recurring groups, leaving the rest as noise (label -1).

    Parameters
    ----------
    n_clusters : int or None
        Force the number of groups; ``None`` chooses it from the data. A forced k gives exactly k
        groups and assigns every point (as plain k-means does): no noise, no group dissolved.
    granularity : {"topic", "problem"}
        How the number of groups is chosen when it is not forced: by modularity (broad topics,
        over-split then merged and dissolved) or by cohesion (one recurring problem per group).
    same_problem_similarity : float
        With ``granularity="problem"``: the mean pairwise cosine similarity the members of a group
        reach, on average over groups, when each group is one problem (an encoder's property).
    catchall_similarity : float or None
        With ``granularity="problem"``: a group whose members' mean pairwise similarity is below
        this is a catch-all of unrelated texts and becomes noise; ``None`` means 0.6 of
        ``same_problem_similarity``.
    n_neighbors : int
        Neighbours used for smoothing, the modularity graph and the noise test.
    self_weight : float
        Weight of a vector against the mean of its neighbours when smoothing.
    resolution : float
        Modularity resolution; above 1 favours more, smaller groups.
    noise_agreement : float
        A point is noise when fewer than this fraction of its neighbours share its group.
    outlier_spread : float or None
        A point is noise when its similarity to its group's centre falls more than this many
        robust standard deviations below the group's median; ``None`` turns the test off.
    min_cluster_size : int or None
        Groups smaller than this become noise; ``None`` means ``max(5, n // 400)`` for topics and
        5 for problems (a problem met five times recurs, however large the forum).
    max_reference : int
        Neighbours are searched among at most this many points (cost linear in n beyond).
    sample_size : int
        Points used to choose the number of groups.
    n_init : int
        k-means restarts for the final partition.
    over_clustering : float
        When k is not forced, the final k-means starts with this many times the chosen number of
        groups, and groups are then merged or dissolved while modularity rises; 1 still merges
        and dissolves, from the chosen number.
    detail_weight : float
        Weight of ``fit``'s ``detail`` (each view centred and scaled to unit length) beside the
        vectors; 0 ignores it.
    seed_metric_weight : float
        With seeds, blend of a within-seed-group whitening into the identity, applied to every
        vector before clustering (see ``mining.seeding``); 0 turns it off. 0.25 won on both
        labelled sets (``bench/README.md``): at 0.5 seeding stopped helping on the generated
        support questions, at 0 the StackOverflow20 sample gained 5 ACC less from its seeds.
    random_state : int
        Seed; the result is deterministic for a fixed value.
    """

    def __init__(self, n_clusters: int | None = None, granularity: str = "topic",
                 same_problem_similarity: float = SAME_PROBLEM_SIMILARITY, catchall_similarity: float | None = None,
                 n_neighbors: int = 10, self_weight: float = 0.5, resolution: float = 1.0, noise_agreement: float = 0.3, outlier_spread: float | None = 3.0,
                 min_cluster_size: int | None = None,
                 max_reference: int = 20000, sample_size: int = 4000, n_init: int = 3,
                 over_clustering: float = 2.0, seed_metric_weight: float = 0.25, detail_weight: float = 0.5,
                 random_state: int = 0):
        self.n_clusters = n_clusters
        self.granularity = granularity
        self.same_problem_similarity = same_problem_similarity
        self.catchall_similarity = catchall_similarity
        self.n_neighbors = n_neighbors
        self.self_weight = self_weight
        self.resolution = resolution
        self.noise_agreement = noise_agreement
        self.outlier_spread = outlier_spread
        self.min_cluster_size = min_cluster_size
        self.max_reference = max_reference
        self.sample_size = sample_size
        self.n_init = n_init
        self.over_clustering = over_clustering
        self.seed_metric_weight = seed_metric_weight
        self.detail_weight = detail_weight
        self.random_state = random_state

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, X: np.ndarray, y=None, seeds: Mapping[Hashable, Iterable[int]] | None = None,
            groups: np.ndarray | None = None, detail: np.ndarray | None = None):
        """Learn groups from unit vectors ``X``; ``seeds`` maps a group id to known member indices.

        With ``granularity="problem"``, ``groups`` is a coarser partition (labels, -1 for none)
        that the cuts refine; the Lloyd steps after them may move a member to a problem of another
        group. ``detail`` is a second view of each vector (the encoder's word-level detail), set beside
        it for finding the groups; cohesion stays on ``X``.
        """
        x = normalize_rows(X)
        n = len(x)
        if n < 2:
            raise ValueError("need at least 2 vectors to cluster")
        if self.n_clusters is not None and not 1 <= self.n_clusters <= n:
            raise ValueError("n_clusters must be between 1 and the number of vectors")
        if self.over_clustering < 1:
            raise ValueError("over_clustering must be at least 1")
        if self.granularity not in ("topic", "problem"):
            raise ValueError('granularity must be "topic" or "problem"')
        order = canonical_order(x)
        x = x[order]
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n)
        fixed, seed_keys = self._seed_array(seeds, rank, n)
        # learned from the canonically ordered seeds, so it ignores input order too
        self.metric_ = within_group_metric(x, fixed, len(seed_keys), self.seed_metric_weight)
        if self.metric_ is not None:
            x = normalize_rows(x @ self.metric_)

        problems = self.granularity == "problem"
        # cohesion is judged on the vectors as the encoder made them; the partition is found on
        # centred ones, where the direction every text shares no longer dominates the cosine
        # (a forced k is plain k-means on the smoothed vectors, which matched or beat k-means on the
        # raw vectors at every random state tried; centring did not, there)
        raw = x
        forced = self.n_clusters is not None
        self.mean_ = x.mean(axis=0) if problems and not forced else None
        if self.mean_ is not None:
            x = normalize_rows(x - self.mean_)
        self.detail_mean_ = None
        if detail is not None and self.detail_weight > 0:
            detail = normalize_rows(np.asarray(detail, dtype=np.float32))
            if detail.shape[0] != n:
                raise ValueError("detail must give one row per vector")
            detail = detail[order]
            self.detail_mean_ = detail.mean(axis=0)
            x = self._with_detail(x, detail)

        rng = np.random.RandomState(self.random_state)
        n_ref = min(n, self.max_reference)
        ref_idx = np.sort(rng.choice(n, n_ref, replace=False)) if n_ref < n else np.arange(n)
        self.reference_ = x[ref_idx]
        neighbors = self._neighbors(x, ref_idx)
        z = smooth(x, self.reference_, neighbors, self.self_weight)

        if forced:
            k = max(self.n_clusters, len(seed_keys))
            labels, centroids = self._forced_partition(z, k, fixed, len(seed_keys))
        elif problems:
            labels, centroids = self._refine(z, raw, groups, order, fixed, len(seed_keys), rng)
        else:
            k = self._choose_k(z, x, rng, fixed, len(seed_keys))
            k = min(n, max(int(np.ceil(self.over_clustering * k)), len(seed_keys)))
            labels, centroids = self._partition(z, k, fixed, len(seed_keys), rng)
            labels, centroids = self._consolidate(z, labels, centroids, neighbors, ref_idx, fixed, len(seed_keys))

        self.seed_keys_ = seed_keys
        self.centroids_ = centroids
        self.reference_labels_ = labels[ref_idx]
        self.assigns_all_ = forced
        self._outlier_limits(x, labels)
        if not forced:
            labels = self._noise(labels, neighbors, fixed, x)
        if problems and not forced:
            labels = self._drop_catchalls(labels, raw)
        labels = self._relabel(labels)
        self.cohesion_ = cohesion(raw, labels, len(self.centroids_))
        self.labels_ = labels[rank]
        self.n_clusters_ = len(self.centroids_)
        return self

    def _with_detail(self, x, detail):
        # the partition space: the sentence vectors beside the encoder's word-level detail, each
        # centred on its own mean (the detail's common direction is far larger than the sentence's)
        if detail is None:
            block = np.zeros((len(x), len(self.detail_mean_)), dtype=np.float32)
        else:
            block = normalize_rows(normalize_rows(np.asarray(detail, dtype=np.float32)) - self.detail_mean_)
        return normalize_rows(np.hstack([x, self.detail_weight * block]).astype(np.float32))

    def _seed_array(self, seeds, rank, n):
        fixed = np.full(n, -1)
        keys = []
        for key, members in (seeds or {}).items():
            members = np.asarray(list(members), dtype=np.int64)
            if len(members) == 0:
                continue
            if members.min() < 0 or members.max() >= n:
                raise ValueError(f"seed group {key!r} has an index outside 0..{n - 1}")
            fixed[rank[members]] = len(keys)
            keys.append(key)
        return fixed, keys

    def _neighbors(self, x, ref_idx):
        if len(ref_idx) == len(x):
            return nearest_neighbors(x, x, self.n_neighbors, exclude_self_offset=0)
        # points outside the reference sample look for neighbours inside it
        return nearest_neighbors(x, self.reference_, self.n_neighbors)

    def _choose_k(self, z, x, rng, fixed, n_seeded):
        # over-cluster a sample once, merge the pieces hierarchically, and keep the cut whose
        # partition has the highest modularity on the sample's neighbour graph; with seeds, the
        # seed groups replace the groups of that cut they cover (modularity alone split seeded
        # topics and made groups of leftovers on StackOverflow20)
        m = min(len(z), self.sample_size)
        sample = np.sort(rng.choice(len(z), m, replace=False))
        zs, xs = z[sample], x[sample]
        graph = nearest_neighbors(xs, xs, self.n_neighbors, exclude_self_offset=0)
        n_pieces = int(min(max(K_GRID), max(2, m // 8)))
        piece_of, pieces = kmeans(zs, n_pieces, rng, max_iter=30)
        tree = linkage(pieces.astype(np.float64), method="ward")
        best_k, best_q, best_cut = 1, -np.inf, np.zeros(n_pieces, dtype=np.int64)
        for k in K_GRID:
            if k > n_pieces:
                break
            piece_to_group = fcluster(tree, k, criterion="maxclust") - 1
            q = knn_modularity(graph, piece_to_group[piece_of], self.resolution)
            if q > best_q:
                best_k, best_q, best_cut = k, q, piece_to_group
        self.modularity_ = best_q
        if n_seeded == 0:
            return best_k
        seed_piece = np.argmax(z[fixed >= 0] @ pieces.T, axis=1)
        return n_seeded + uncovered_group_count(best_cut[piece_of], best_cut[seed_piece], len(z))

    def _refine(self, z, raw, groups, order, fixed, n_seeded, rng):
        # start from the coarser groups (one group without them); points they leave out join the
        # nearest group (the noise rules judge them again below); curated groups come first and
        # are never cut
        start = np.zeros(len(z), dtype=np.int64) if groups is None else np.asarray(groups, dtype=np.int64)[order]
        if len(start) != len(z):
            raise ValueError("groups must give one label per vector")
        if (start < 0).all():
            start = np.zeros(len(z), dtype=np.int64)
        outside = start < 0
        if outside.any():
            ids, start_kept = np.unique(start[~outside], return_inverse=True)
            centres = normalize_rows(centre_sums(z[~outside], start_kept, len(ids)))
            start = np.where(outside, -1, np.searchsorted(ids, start))
            start[outside] = np.argmax(z[outside] @ centres.T, axis=1)
        start = np.where(fixed >= 0, fixed, start + n_seeded)
        if n_seeded:
            # a curated group holds only its filed threads so far: Lloyd steps with them clamped let
            # the unfiled threads of the same problem join it before the rest is cut
            ids, start = np.unique(start, return_inverse=True)
            start, _ = spherical_kmeans(z, normalize_rows(centre_sums(z, start, len(ids))), fixed=fixed, max_iter=10)
        labels = refine_to_threshold(raw, z, start, self.same_problem_similarity, self._min_size(len(z)), rng,
                                     protected=n_seeded)
        labels = join_filed_problems(raw, labels, n_seeded, self.same_problem_similarity)
        ids, labels = np.unique(labels, return_inverse=True)
        # the cuts are chosen by the sentence vectors' cohesion, which barely sees the words that tell
        # two close problems apart; Lloyd steps in the partition space (where the detail does) move the
        # boundaries to them, across themes where need be (bench/README.md, "Eighth round")
        return spherical_kmeans(z, normalize_rows(centre_sums(z, labels, len(ids))),
                                fixed=fixed if n_seeded else None, max_iter=LLOYD_STEPS)

    def _min_size(self, n):
        if self.min_cluster_size:
            return self.min_cluster_size
        return 5 if self.granularity == "problem" else max(5, n // 400)

    def _drop_catchalls(self, labels, raw):
        # a group whose members share no problem is not a pattern: its members become noise
        limit = self.catchall_similarity
        if limit is None:
            limit = CATCHALL_SHARE * self.same_problem_similarity
        values = cohesion(raw, labels, len(self.centroids_))
        catchall = ~(values >= limit)
        catchall[:len(self.seed_keys_)] = False  # a curated group is kept whatever it holds
        labels = labels.copy()
        labels[(labels >= 0) & catchall[np.maximum(labels, 0)]] = -1
        self.n_catchalls_ = int(np.sum(catchall & (np.bincount(labels[labels >= 0], minlength=len(values)) == 0)
                                       & ~np.isnan(values)))
        return labels

    def _forced_partition(self, z, k, fixed, n_seeded):
        # scikit-learn's k-means (greedy k-means++, 10 restarts): exactly k groups, as asked
        labels = KMeans(n_clusters=k, n_init=10, random_state=self.random_state).fit_predict(z)
        centroids = normalize_rows(centre_sums(z, labels, k))
        if n_seeded == 0:
            return labels, centroids
        return spherical_kmeans(z, seeded_starts(z, labels, centroids, fixed, n_seeded), fixed=fixed)

    def _partition(self, z, k, fixed, n_seeded, rng, n_init=None):
        labels, centroids = kmeans(z, k, rng, n_init=n_init or self.n_init)
        if n_seeded == 0:
            return labels, centroids
        return spherical_kmeans(z, seeded_starts(z, labels, centroids, fixed, n_seeded), fixed=fixed)

    def _consolidate(self, z, labels, centroids, neighbors, ref_idx, fixed, n_seeded):
        graph = NeighbourGraph.from_neighbors(neighbors, ref_idx)
        merged = merge_groups(graph, labels, len(centroids), self.resolution, n_protected=n_seeded)
        labels = merged[labels]
        centres = normalize_rows(centre_sums(z, labels, merged.max() + 1))
        labels, kept = dissolve_groups(graph, labels, z @ centres.T, self.resolution, n_protected=n_seeded)
        self.n_merged_ = len(centroids) - len(centres)
        self.n_dissolved_ = len(centres) - len(kept)
        renumber = np.full(len(centres), -1)
        renumber[kept] = np.arange(len(kept))
        seeded = fixed >= 0
        fixed = np.where(seeded, renumber[merged[np.where(seeded, fixed, 0)]], -1)
        # a few Lloyd steps from the consolidated groups' centres
        return spherical_kmeans(z, normalize_rows(centre_sums(z, renumber[labels], len(kept))),
                                fixed=fixed if n_seeded else None)

    def _outlier_limits(self, x, labels):
        # per group, how far from the group's (unsmoothed) centre a member may lie: a robust
        # lower fence, so a text unlike every group is not absorbed by the nearest one
        k = len(self.centroids_)
        self.raw_centroids_ = normalize_rows(centre_sums(x, labels, k))
        sims = np.einsum("ij,ij->i", x, self.raw_centroids_[labels])
        limits = np.full(k, -1.0, dtype=np.float32)
        for g in range(k):
            member_sims = sims[labels == g]
            if len(member_sims) >= 3:
                median = np.median(member_sims)
                spread = 1.4826 * np.median(np.abs(member_sims - median))
                limits[g] = median - self.outlier_spread * max(spread, 0.02)
        self.min_similarity_ = limits

    def _is_noise(self, x, labels, neighbors):
        noise = np.zeros(len(labels), dtype=bool)
        if neighbors.shape[1] and self.noise_agreement > 0:
            noise |= (self.reference_labels_[neighbors] == labels[:, None]).mean(axis=1) < self.noise_agreement
        if self.outlier_spread is not None:
            safe = np.maximum(labels, 0)
            noise |= np.einsum("ij,ij->i", x, self.raw_centroids_[safe]) < self.min_similarity_[safe]
        return noise & (labels >= 0)

    def _noise(self, labels, neighbors, fixed, x):
        labels = labels.copy()
        labels[self._is_noise(x, labels, neighbors) & (fixed < 0)] = -1
        min_size = self._min_size(len(labels))
        counts = np.bincount(labels[labels >= 0], minlength=len(self.centroids_))
        small = counts < min_size
        small[:len(self.seed_keys_)] = False  # a curated group is kept however small
        labels[(labels >= 0) & small[np.maximum(labels, 0)]] = -1
        return labels

    def _relabel(self, labels):
        # largest group first; seeded groups keep ids 0..g-1 in seed order; empty groups go
        counts = np.bincount(labels[labels >= 0], minlength=len(self.centroids_))
        g = len(self.seed_keys_)
        rest = [c for c in np.argsort(-counts[g:], kind="stable") + g if counts[c] > 0]
        keep = list(range(g)) + rest
        mapping = np.full(len(self.centroids_) + 1, -1)
        mapping[keep] = np.arange(len(keep))
        self.centroids_ = self.centroids_[keep]
        self.raw_centroids_ = self.raw_centroids_[keep]
        self.min_similarity_ = self.min_similarity_[keep]
        self.reference_labels_ = mapping[self.reference_labels_]
        return mapping[labels]

    # -- prediction ------------------------------------------------------------------------
    def comparison_space(self, X: np.ndarray, detail: np.ndarray | None = None) -> np.ndarray:
        """``X`` as the fitted groups compare vectors: seed metric, centring and detail as in ``fit``.

        Without ``detail`` (when the fit had it) the detail block is zero: the sentence vectors alone decide.
        """
        x = normalize_rows(X)
        metric = getattr(self, "metric_", None)  # absent on clusterers stored before it existed
        if metric is not None:
            x = normalize_rows(x @ metric)
        if getattr(self, "mean_", None) is not None:
            x = normalize_rows(x - self.mean_)
        if getattr(self, "detail_mean_", None) is not None:
            x = self._with_detail(x, detail)
        return x

    def predict(self, X: np.ndarray, detail: np.ndarray | None = None) -> np.ndarray:
        """Assign new unit vectors to learned groups, or -1 when their neighbours disagree.

        ``detail`` is the encoder's word-level detail of the same texts when the fit had it;
        without it the sentence vectors alone decide.
        """
        check_is_fitted(self, "centroids_")
        x = self.comparison_space(X, detail)
        neighbors = nearest_neighbors(x, self.reference_, self.n_neighbors)
        z = smooth(x, self.reference_, neighbors, self.self_weight)
        labels = np.argmax(z @ self.centroids_.T, axis=1)
        if not getattr(self, "assigns_all_", False):
            labels[self._is_noise(x, labels, neighbors)] = -1
        return labels


def match(previous: Mapping[Hashable, set], new: Mapping[Hashable, set], min_jaccard: float = 0.1) -> dict:
    """Map old group keys to new ones one-to-one, maximising membership overlap (Jaccard).

    Pairs whose Jaccard similarity is below ``min_jaccard`` stay unmatched.
    """
    old_keys, new_keys = list(previous), list(new)
    if not old_keys or not new_keys:
        return {}
    jaccard = np.zeros((len(old_keys), len(new_keys)))
    for i, a in enumerate(old_keys):
        members_a = set(previous[a])
        for j, b in enumerate(new_keys):
            members_b = set(new[b])
            union = len(members_a | members_b)
            jaccard[i, j] = len(members_a & members_b) / union if union else 0.0
    rows, cols = linear_sum_assignment(-jaccard)
    return {old_keys[i]: new_keys[j] for i, j in zip(rows, cols, strict=True) if jaccard[i, j] >= min_jaccard}
