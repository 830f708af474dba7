"""Fewer, truer groups: merge and dissolve the groups of an over-split partition by modularity.

k-means given about the right number of groups sometimes puts two topics in one group and splits
another in two; nothing later can undo the first mistake. Started with twice as many groups it
rarely joins two topics, and the pieces of one topic are then joined again where that raises the
modularity of the partition on the neighbour graph of all documents. A group of leftovers (texts
whose neighbours lie in many groups) raises modularity when it is dissolved into the groups its
members are closest to, so it goes too. Figures in ``bench/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NeighbourGraph:
    """Directed k-nearest-neighbour edges ``source -> target`` over points 0..n-1, read as undirected."""

    source: np.ndarray
    target: np.ndarray
    degree: np.ndarray

    @classmethod
    def from_neighbors(cls, neighbors: np.ndarray, reference_index: np.ndarray) -> NeighbourGraph:
        """``neighbors[i]`` are rows of the reference sample, ``reference_index`` their point ids."""
        n, k = neighbors.shape
        source = np.repeat(np.arange(n), k)
        target = reference_index[neighbors.ravel()]
        degree = np.bincount(source, minlength=n) + np.bincount(target, minlength=n)
        return cls(source, target, degree.astype(np.float64))

    def modularity(self, labels: np.ndarray, resolution: float = 1.0) -> float:
        """Modularity of the partition ``labels`` (group ids 0..) on this graph."""
        inside = np.mean(labels[self.source] == labels[self.target])
        share = np.bincount(labels, weights=self.degree) / self.degree.sum()
        return float(inside - resolution * (share ** 2).sum())

    def group_links(self, labels: np.ndarray, n_groups: int) -> np.ndarray:
        """Symmetric matrix of edge counts between groups (both directions counted)."""
        pairs = labels[self.source] * n_groups + labels[self.target]
        links = np.bincount(pairs, minlength=n_groups * n_groups).reshape(n_groups, n_groups)
        return (links + links.T).astype(np.float64)


def merge_groups(graph: NeighbourGraph, labels: np.ndarray, n_groups: int, resolution: float,
                 n_protected: int = 0) -> np.ndarray:
    """Join pairs of groups while that raises modularity; return each old group's new group.

    Groups ``0..n_protected-1`` (curated seed groups) are never joined to each other. The new
    groups are numbered 0.. in the order of their lowest old id, so protected groups keep theirs.
    """
    links = graph.group_links(labels, n_groups)
    total = links.sum()
    owner = np.arange(n_groups)
    alive = np.ones(n_groups, dtype=bool)
    protected = np.arange(n_groups) < n_protected
    while alive.sum() > 1:
        ids = np.flatnonzero(alive)
        share = links[np.ix_(ids, ids)] / total
        degree = share.sum(axis=1)
        # the modularity change of joining groups i and j
        gain = 2 * (share - resolution * np.outer(degree, degree))
        np.fill_diagonal(gain, -np.inf)
        gain[np.ix_(protected[ids], protected[ids])] = -np.inf
        i, j = np.unravel_index(np.argmax(gain), gain.shape)
        if gain[i, j] <= 0:
            break
        keep, gone = ids[min(i, j)], ids[max(i, j)]
        links[keep] += links[gone]
        links[:, keep] += links[:, gone]
        links[gone] = 0
        links[:, gone] = 0
        alive[gone] = False
        owner[owner == gone] = keep
    renumber = np.cumsum(alive) - 1
    return renumber[owner]


def dissolve_groups(graph: NeighbourGraph, labels: np.ndarray, affinity: np.ndarray, resolution: float,
                    n_protected: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Dissolve groups, one at a time, while moving their members elsewhere raises modularity.

    A dissolved group's members go to the remaining group of highest ``affinity`` (points x groups).
    Returns the new labels and the ids of the groups kept (labels refer to the old ids).
    """
    labels = labels.copy()
    n_groups = affinity.shape[1]
    alive = np.ones(n_groups, dtype=bool)
    total = graph.degree.sum()
    group_degree = np.bincount(labels, weights=graph.degree, minlength=n_groups)
    while alive.sum() > max(1, n_protected):
        best_gain, best = 0.0, None
        for group in np.flatnonzero(alive[n_protected:]) + n_protected:
            members = labels == group
            candidates = np.where(alive & (np.arange(n_groups) != group), affinity[members], -np.inf)
            moved = labels.copy()
            moved[members] = np.argmax(candidates, axis=1)
            # only edges that touch the group change whether they lie inside one group
            touching = members[graph.source] | members[graph.target]
            src, dst = graph.source[touching], graph.target[touching]
            inside_change = (np.sum(moved[src] == moved[dst]) - np.sum(labels[src] == labels[dst])) / total * 2
            new_degree = group_degree.copy()
            new_degree[group] = 0
            new_degree += np.bincount(moved[members], weights=graph.degree[members], minlength=n_groups)
            penalty_change = resolution * (np.sum((new_degree / total) ** 2) - np.sum((group_degree / total) ** 2))
            gain = inside_change - penalty_change
            if gain > best_gain:
                best_gain, best = gain, (group, moved, new_degree)
        if best is None:
            break
        group, labels, group_degree = best
        alive[group] = False
    return labels, np.flatnonzero(alive)
