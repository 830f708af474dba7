"""How fine a pattern is: the similarity at which questions are "the same problem" for an encoder.

A pattern is meant to be one recurring problem. Modularity on the neighbour graph cannot say that:
it prefers broad topics (on HWU64's 64 intents it settles near 40 groups). What does say it is how
alike the members of a group are: the mean cosine similarity over all pairs of members
(*cohesion*). It does not depend on how many members a group has or on how many groups there are,
so one threshold serves a forum of 300 threads and one of 100,000.

For all-MiniLM-L6-v2 the questions of one real intent have a mean pairwise similarity of 0.39
(HWU64, 64 intents; 0.41 with only 35 questions per intent) and 0.49 on our generated support
questions, while the broad tags of StackOverflow20 sit at 0.23. The default threshold, 0.42, is a
property of the encoder, not of a benchmark's number of groups.

Patterns are found by refining the topics (themes): the group whose cut in two gains the most
cohesion (weighted by size) is cut, again and again, until the partition's size-weighted mean
cohesion reaches the threshold. Loose groups of unrelated texts gain little from a cut and are
left for the catch-all rule; a topic that holds two problems gains a lot and is cut first.
Figures in ``bench/README.md``.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from mining.kmeans import kmeans

# mean pairwise cosine of one problem's questions for all-MiniLM-L6-v2 (see the module docstring)
SAME_PROBLEM_SIMILARITY = 0.42
# points a trial cut is computed on
TRIAL_SAMPLE = 2000


def group_sums(x: np.ndarray, labels: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Sum of the member vectors and member count of each group 0..n_groups-1 (-1 is ignored)."""
    kept = labels >= 0
    rows = labels[kept]
    one_hot = sparse.csr_matrix((np.ones(len(rows), dtype=np.float64), (rows, np.flatnonzero(kept))),
                                shape=(n_groups, len(labels)))
    return np.asarray(one_hot @ x.astype(np.float64)), np.bincount(rows, minlength=n_groups)


def cohesion(x: np.ndarray, labels: np.ndarray, n_groups: int) -> np.ndarray:
    """Mean cosine similarity over all pairs of members of each group (unit rows ``x``).

    Computed from the group sums: ``(|s|^2 - n) / (n (n - 1))``. A group of fewer than two
    members has ``nan``.
    """
    sums, counts = group_sums(x, labels, n_groups)
    pairs = counts * (counts - 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts >= 2, (np.einsum("ij,ij->i", sums, sums) - counts) / pairs, np.nan)


def mean_cohesion(x: np.ndarray, labels: np.ndarray, n_groups: int) -> float:
    """Cohesion of a partition: the groups' cohesion weighted by their size."""
    values = cohesion(x, labels, n_groups)
    counts = np.bincount(labels[labels >= 0], minlength=n_groups)
    known = ~np.isnan(values)
    if not known.any():
        return 0.0
    return float(np.average(values[known], weights=counts[known]))


def _pair_cohesion(x: np.ndarray) -> float:
    n = len(x)
    total = x.sum(axis=0, dtype=np.float64)
    return float((total @ total - n) / (n * (n - 1))) if n > 1 else 1.0


def refine_to_threshold(x: np.ndarray, z: np.ndarray, labels: np.ndarray, threshold: float, min_size: int,
                        rng: np.random.RandomState, protected: int = 0) -> np.ndarray:
    """Cut groups in two until the size-weighted mean cohesion of ``labels`` reaches ``threshold``.

    ``x`` are the vectors cohesion is measured on, ``z`` those the cuts are made in (2-means);
    groups ``0..protected-1`` (curated ones) are never cut, nor are groups under ``2 * min_size``
    or cuts leaving a piece under ``min_size``. Each step cuts the group whose cut gains the most
    size-weighted cohesion. Returns new labels; new groups are numbered after the old ones.
    """
    labels = labels.copy()
    counted = labels >= 0
    if not counted.any():
        return labels
    next_id = int(labels.max()) + 1
    members = {g: np.flatnonzero(labels == g) for g in range(next_id)}
    weighted = {g: len(m) * _pair_cohesion(x[m]) for g, m in members.items() if len(m)}
    total = float(counted.sum())

    def trial(group: int):
        rows = members[group]
        if group < protected or len(rows) < 2 * min_size:
            return None
        # a large group is cut as a sample of it is; the rest follow the nearer centre
        sample = rows if len(rows) <= TRIAL_SAMPLE else rng.choice(rows, TRIAL_SAMPLE, replace=False)
        _, centres = kmeans(z[sample], 2, rng, n_init=2, max_iter=20)
        halves = np.argmax(z[rows] @ centres.T, axis=1)
        sizes = np.bincount(halves, minlength=2)
        if sizes.min() < min_size:
            return None
        parts = [rows[halves == h] for h in (0, 1)]
        gain = sum(len(p) * _pair_cohesion(x[p]) for p in parts) - weighted[group]
        return gain, parts

    cuts = {g: trial(g) for g in members if len(members[g])}
    while sum(weighted.values()) / total < threshold:
        open_cuts = [(cut[0], g) for g, cut in cuts.items() if cut is not None and cut[0] > 0]
        if not open_cuts:
            break
        _, group = max(open_cuts)
        first, second = cuts[group][1]
        labels[second] = next_id
        for g, rows in ((group, first), (next_id, second)):
            members[g] = rows
            weighted[g] = len(rows) * _pair_cohesion(x[rows])
            cuts[g] = trial(g)
        next_id += 1
    return labels
