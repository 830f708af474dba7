"""How known groups (seeds) guide the clustering: a metric, the number of free groups, the starts.

Measured on StackOverflow20 and the generated support questions (``bench/README.md``):

* the seed groups show which directions vary *within* a topic (phrasing, question form);
  shrinking them before clustering gave higher NMI on StackOverflow20 at every random state
  tried and kept seeded runs above unseeded ones, at some cost on the support questions;
* seeds say how many groups the data-chosen number already covers: a group of that cut where
  seeds are about as frequent as elsewhere is explained by the seed groups, one where they are
  rare is a topic nobody filed yet;
* starting the free centres where an unseeded k-means put its groups (rather than by k-means++
  from the seeded centres) keeps topics that lie near a seeded one from being absorbed by it;
* a curated group holds few of its problem's questions; the rest of them, cut off as groups of
  their own, are joined to it when together they are as alike as one problem's questions
  (without this, 10% seeds of the generated support questions gave 55 groups for 30 intents).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.covariance import ledoit_wolf_shrinkage

# A group of the modularity cut counts as covered by the seeds when its seed density is at least
# this share of the overall density (seeded topics sit near it, unseeded ones near zero).
COVERED_SEED_SHARE = 0.5


def within_group_metric(x: np.ndarray, fixed: np.ndarray, n_seeded: int, weight: float) -> np.ndarray | None:
    """A linear map that shrinks the directions along which seed groups vary.

    The map is ``(1 - weight) * I + weight * S^(-1/2)``, with ``S`` the pooled within-group
    scatter of the seeded points, shrunk towards its mean variance and scaled so that an
    average direction keeps its length. ``None`` when there is nothing to learn from.

    The shrinkage is Ledoit and Wolf's estimate: a few hundred seeded points do not pin down
    hundreds of directions, and an inverse of their raw scatter would blow up the directions the
    seeds happen not to vary in. A fixed 10% helped StackOverflow20 (1,500 seeded titles) but made
    seeded runs worse than unseeded ones on the support questions (132 seeded questions); the
    estimate shrinks those about half-way and StackOverflow20's about 17%.
    """
    members = np.flatnonzero(fixed >= 0)
    if weight <= 0 or n_seeded == 0 or len(members) <= n_seeded:
        return None
    group = fixed[members]
    sums = np.zeros((n_seeded, x.shape[1]))
    np.add.at(sums, group, x[members].astype(np.float64))
    means = sums / np.bincount(group, minlength=n_seeded)[:, None]
    residuals = x[members].astype(np.float64) - means[group]
    scatter = residuals.T @ residuals / len(members)
    dim = scatter.shape[0]
    average = np.trace(scatter) / dim
    if average <= 0:
        return None
    shrinkage = ledoit_wolf_shrinkage(residuals, assume_centered=True)
    scatter = (1 - shrinkage) * scatter + shrinkage * average * np.eye(dim)
    values, vectors = np.linalg.eigh(scatter)
    inverse_root = (vectors * np.sqrt(average / values)) @ vectors.T
    return ((1 - weight) * np.eye(dim) + weight * inverse_root).astype(np.float32)


def uncovered_group_count(group_of_point: np.ndarray, seeded_groups: np.ndarray, n_total: int) -> int:
    """Groups of a partition of a sample in which seeds are rare (topics the seeds do not cover).

    ``group_of_point`` is the group of each sampled point, ``seeded_groups`` the group each seeded
    point (of the whole set, ``n_total`` points) falls in.
    """
    n_groups = int(max(group_of_point.max(), seeded_groups.max(initial=0))) + 1
    size = np.bincount(group_of_point, minlength=n_groups) * n_total / len(group_of_point)
    density = np.bincount(seeded_groups, minlength=n_groups) / np.maximum(size, 1.0)
    overall = len(seeded_groups) / n_total
    return int(np.sum((size > 0) & (density < COVERED_SEED_SHARE * overall)))


def join_filed_problems(x: np.ndarray, labels: np.ndarray, n_seeded: int, threshold: float) -> np.ndarray:
    """Join free groups to the curated group they belong to: the same problem, cut off from it.

    Groups ``0..n_seeded-1`` are curated. A free group joins the curated group whose union with it
    has the highest cohesion (mean pairwise cosine on ``x``), when that cohesion reaches
    ``threshold`` (the same-problem similarity); the pair with the most alike union goes first.
    """
    labels = labels.copy()
    if n_seeded == 0:
        return labels
    n_groups = int(labels.max(initial=-1)) + 1
    kept = labels >= 0
    sums = np.zeros((n_groups, x.shape[1]))
    np.add.at(sums, labels[kept], x[kept].astype(np.float64))
    counts = np.bincount(labels[kept], minlength=n_groups).astype(np.float64)
    free = [g for g in range(n_seeded, n_groups) if counts[g] > 0]
    while free:
        union = sums[free][:, None, :] + sums[None, :n_seeded, :]
        size = counts[free][:, None] + counts[None, :n_seeded]
        alike = (np.einsum("fcd,fcd->fc", union, union) - size) / np.maximum(size * (size - 1), 1)
        g, c = np.unravel_index(np.argmax(alike), alike.shape)
        if alike[g, c] < threshold:
            break
        group = free.pop(g)
        labels[labels == group] = c
        sums[c] += sums[group]
        counts[c] += counts[group]
    return labels


def seeded_starts(z: np.ndarray, labels: np.ndarray, centroids: np.ndarray, fixed: np.ndarray,
                  n_seeded: int) -> np.ndarray:
    """Starting centres: the seed groups' means, then the unseeded clusters no seed group claims.

    Each seed group claims one cluster of the unseeded partition (``labels``, ``centroids``),
    one-to-one by the most members in common; the claimed clusters' centres are dropped.
    """
    members = fixed >= 0
    seeded = np.stack([z[fixed == g].mean(axis=0) for g in range(n_seeded)])
    seeded /= np.maximum(np.linalg.norm(seeded, axis=1, keepdims=True), 1e-12)
    votes = np.zeros((n_seeded, len(centroids)))
    np.add.at(votes, (fixed[members], labels[members]), 1)
    _, claimed = linear_sum_assignment(-votes)
    free = np.setdiff1d(np.arange(len(centroids)), claimed)
    return np.vstack([seeded.astype(centroids.dtype), centroids[free]])
