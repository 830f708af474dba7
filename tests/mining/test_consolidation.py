"""Merging and dissolving groups by modularity on the neighbour graph."""

import numpy as np
from sklearn.metrics import adjusted_rand_score

from mining.clustering import PatternClusterer, knn_modularity, nearest_neighbors
from mining.consolidation import NeighbourGraph, dissolve_groups, merge_groups
from tests.mining.conftest import sphere_blobs


def graph_of(x: np.ndarray, k: int = 10) -> tuple[np.ndarray, NeighbourGraph]:
    neighbors = nearest_neighbors(x, x, k, exclude_self_offset=0)
    return neighbors, NeighbourGraph.from_neighbors(neighbors, np.arange(len(x)))


def test_group_links_count_every_edge_both_ways():
    x, _ = sphere_blobs(n_per_group=20, n_groups=3)
    neighbors, graph = graph_of(x, k=5)
    labels = np.repeat([0, 1, 2], 20)
    links = graph.group_links(labels, 3)
    assert np.array_equal(links, links.T)
    assert links.sum() == 2 * neighbors.size
    assert graph.degree.sum() == 2 * neighbors.size


def test_halves_of_a_group_are_joined_and_separate_groups_are_not():
    x, truth = sphere_blobs(n_per_group=60, n_groups=4, spread=0.2)
    neighbors, graph = graph_of(x)
    # each true group cut in two arbitrary halves: eight groups
    halves = truth * 2 + (np.arange(len(x)) % 2)
    new_group = merge_groups(graph, halves, 8, resolution=1.0)
    merged = new_group[halves]
    assert len(np.unique(merged)) == 4
    assert adjusted_rand_score(truth, merged) == 1.0
    assert knn_modularity(neighbors, merged) > knn_modularity(neighbors, halves)


def test_protected_groups_are_never_joined_to_each_other():
    x, truth = sphere_blobs(n_per_group=60, n_groups=3, spread=0.2)
    _, graph = graph_of(x)
    halves = truth * 2 + (np.arange(len(x)) % 2)  # groups 0 and 1 are halves of one true group
    new_group = merge_groups(graph, halves, 6, resolution=1.0, n_protected=2)
    assert new_group[0] == 0 and new_group[1] == 1  # protected groups keep their ids
    assert len(np.unique(new_group)) == 4  # the two unprotected pairs were still joined


def test_a_group_of_leftovers_is_dissolved_into_its_members_neighbours():
    x, truth = sphere_blobs(n_per_group=60, n_groups=3, spread=0.2)
    _, graph = graph_of(x)
    labels = truth.copy()
    leftovers = np.arange(len(x)) % 6 == 0  # a sixth of every group, filed under a fourth group
    labels[leftovers] = 3
    centres = np.stack([x[labels == g].mean(axis=0) for g in range(4)])
    new_labels, kept = dissolve_groups(graph, labels, x @ centres.T, resolution=1.0)
    assert list(kept) == [0, 1, 2]
    assert np.array_equal(new_labels, truth)


def test_a_real_group_is_not_dissolved():
    x, truth = sphere_blobs(n_per_group=60, n_groups=4, spread=0.2)
    _, graph = graph_of(x)
    centres = np.stack([x[truth == g].mean(axis=0) for g in range(4)])
    new_labels, kept = dissolve_groups(graph, truth, x @ centres.T, resolution=1.0, n_protected=1)
    assert list(kept) == [0, 1, 2, 3]
    assert np.array_equal(new_labels, truth)


def test_over_clustering_gives_the_same_partition_at_every_random_state():
    x, truth = sphere_blobs(n_per_group=80, n_groups=8, spread=0.3)
    partitions = [PatternClusterer(random_state=state).fit(x).labels_ for state in range(4)]
    for labels in partitions:
        assigned = labels >= 0
        assert len(np.unique(labels[assigned])) == 8
        assert adjusted_rand_score(truth[assigned], labels[assigned]) > 0.95
    assert all(adjusted_rand_score(partitions[0], other) > 0.95 for other in partitions[1:])
