"""How fine a pattern is: the similarity at which questions are "the same problem" for an encoder.

A pattern is meant to be one recurring problem. Modularity on the neighbour graph cannot say that:
it prefers broad topics (on HWU64's 64 intents it settles near 40 groups). What does say it is how
alike the members of a group are: the mean cosine similarity over all pairs of members
(*cohesion*). It does not depend on how many members a group has or on how many groups there are,
so one threshold serves a forum of 300 threads and one of 100,000.

For all-MiniLM-L6-v2 the questions of one real intent have a mean pairwise similarity of 0.39
(HWU64, 64 intents; 0.41 with only 35 questions per intent) and 0.49 on our generated support
questions, while the broad tags of StackOverflow20 sit at 0.23. A k-means partition whose
size-weighted cohesion first reaches 0.42 lands at 64-80 groups on HWU64 and 27-33 on the support
sets (``bench/README.md``): that is the default threshold, a property of the encoder, not of a
benchmark's number of groups.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# mean pairwise cosine of one problem's questions for all-MiniLM-L6-v2 (see the module docstring)
SAME_PROBLEM_SIMILARITY = 0.42


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


def k_grid(largest: int) -> list[int]:
    """Candidate numbers of groups from 2 to ``largest``, about 12% apart."""
    grid, k = [], 2
    while k < largest:
        grid.append(k)
        k = max(k + 1, int(round(k * 1.12)))
    return grid + [max(2, largest)]


def smallest_cohesive_k(partition, x: np.ndarray, threshold: float, largest: int) -> int:
    """The smallest k on :func:`k_grid` whose partition reaches ``threshold`` mean cohesion.

    ``partition(k)`` returns the labels of a k-group partition of the rows of ``x``. Cohesion
    grows with k (smaller groups are tighter), so the grid is searched by bisection; when no k up
    to ``largest`` reaches the threshold, ``largest`` is returned.
    """
    grid = k_grid(largest)
    low, high = 0, len(grid) - 1
    if mean_cohesion(x, partition(grid[high]), grid[high]) < threshold:
        return grid[high]
    while low < high:
        middle = (low + high) // 2
        if mean_cohesion(x, partition(grid[middle]), grid[middle]) >= threshold:
            high = middle
        else:
            low = middle + 1
    return grid[low]
