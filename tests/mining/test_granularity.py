import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from mining.clustering import PatternClusterer
from mining.granularity import cohesion, k_grid, mean_cohesion, smallest_cohesive_k

from .conftest import sphere_blobs


def test_cohesion_is_the_mean_pairwise_similarity():
    rng = np.random.RandomState(0)
    x = rng.normal(size=(7, 5))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    labels = np.array([0, 0, 0, 1, 1, -1, 2])
    values = cohesion(x, labels, 3)
    pairs = [x[i] @ x[j] for i in range(3) for j in range(3) if i < j]
    assert values[0] == pytest.approx(np.mean(pairs))
    assert values[1] == pytest.approx(x[3] @ x[4])
    assert np.isnan(values[2])  # one member: no pair
    assert mean_cohesion(x, labels, 3) == pytest.approx((3 * values[0] + 2 * values[1]) / 5)


def test_grid_is_increasing_and_ends_at_the_largest():
    grid = k_grid(300)
    assert grid[0] == 2 and grid[-1] == 300 and all(b > a for a, b in zip(grid, grid[1:], strict=False))


def test_smallest_cohesive_k_finds_the_threshold_crossing():
    # two pairs of identical vectors, the pairs orthogonal: one group has cohesion 1/3, two have 1
    x = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    together, apart = np.zeros(4, dtype=int), np.array([0, 0, 1, 1])
    asked = []

    def splits_from_22(k):
        asked.append(k)
        return apart if k >= 22 else together

    found = smallest_cohesive_k(splits_from_22, x, 0.5, 100)
    grid = k_grid(100)
    assert found == min(k for k in grid if k >= 22)
    assert len(asked) < len(grid) / 2  # bisection, not a scan
    assert smallest_cohesive_k(lambda k: together, x, 0.5, 100) == 100  # never reached: the largest


def test_problem_granularity_finds_each_problem_of_a_topic():
    # 4 topics, each made of 3 tight problems: members of one problem have cosine ~0.94, of one
    # topic ~0.5; a threshold between the two finds the problems
    rng = np.random.RandomState(0)
    topics = rng.normal(size=(4, 48))
    points, truth = [], []
    for t, centre in enumerate(topics):
        for p in range(3):
            problem = centre + 0.9 * rng.normal(size=48)
            for _ in range(40):
                points.append(problem + 0.35 * rng.normal(size=48))
                truth.append(3 * t + p)
    x = np.asarray(points)
    problems = PatternClusterer(granularity="problem", same_problem_similarity=0.92, random_state=0).fit(x)
    assert 12 <= problems.n_clusters_ <= 14
    assert adjusted_rand_score(truth, problems.labels_) > 0.9
    assert np.nanmin(problems.cohesion_) > 0.4  # no catch-all published


def test_catchall_groups_become_noise():
    x, _ = sphere_blobs(n_groups=4)
    rng = np.random.RandomState(1)
    scattered = rng.normal(size=(60, x.shape[1]))  # unrelated texts: no shared direction
    est = PatternClusterer(granularity="problem", catchall_similarity=0.3, random_state=0).fit(np.vstack([x, scattered]))
    assert np.all(est.cohesion_[~np.isnan(est.cohesion_)] >= 0.3)
    assert np.mean(est.labels_[len(x):] == -1) > 0.8


@pytest.mark.parametrize("k", [3, 9, 25])
def test_forced_k_gives_exactly_k_groups_and_assigns_everything(k):
    x, _ = sphere_blobs(n_groups=6)
    est = PatternClusterer(granularity="problem", n_clusters=k).fit(x)
    assert est.n_clusters_ == k and len(set(est.labels_.tolist())) == k and (est.labels_ >= 0).all()
    assert (est.predict(x[:20]) >= 0).all()


def test_granularity_is_checked():
    with pytest.raises(ValueError, match="granularity"):
        PatternClusterer(granularity="fine").fit(np.eye(3))
