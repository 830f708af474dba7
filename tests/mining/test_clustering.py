import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.metrics import adjusted_rand_score

from mining.clustering import PatternClusterer, match

from .conftest import sphere_blobs


def test_estimator_conventions(blobs):
    x, _ = blobs
    est = PatternClusterer(n_neighbors=7, resolution=1.2, random_state=3)
    params = est.get_params()
    assert params["n_neighbors"] == 7 and params["resolution"] == 1.2
    twin = clone(est)
    assert twin.get_params() == params
    assert not hasattr(est, "labels_")
    with pytest.raises(NotFittedError):
        est.predict(x)
    assert est.fit(x) is est
    assert hasattr(est, "labels_") and hasattr(est, "centroids_")
    assert est.get_params() == params  # fit never rewrites parameters


def test_finds_number_of_groups(blobs):
    x, y = blobs
    est = PatternClusterer().fit(x)
    assert est.n_clusters_ == 6
    assert adjusted_rand_score(y, est.labels_) > 0.9


def test_forced_k():
    x, _ = sphere_blobs(n_groups=6)
    assert PatternClusterer(n_clusters=4).fit(x).n_clusters_ == 4


def test_deterministic_and_order_invariant(blobs):
    x, _ = blobs
    first = PatternClusterer(random_state=5).fit(x).labels_
    np.testing.assert_array_equal(first, PatternClusterer(random_state=5).fit(x).labels_)
    perm = np.random.RandomState(1).permutation(len(x))
    shuffled = PatternClusterer(random_state=5).fit(x[perm]).labels_
    unshuffled = np.empty_like(shuffled)
    unshuffled[perm] = shuffled
    np.testing.assert_array_equal(first, unshuffled)  # same partition, same ids (largest first)


def test_predict_agrees_with_fit(blobs):
    x, _ = blobs
    est = PatternClusterer().fit(x)
    assert np.mean(est.predict(x) == est.labels_) >= 0.97


def test_outlier_is_noise(blobs):
    x, _ = blobs
    outliers = np.random.RandomState(2).normal(size=(20, x.shape[1])).astype(np.float32)
    labels = PatternClusterer().fit(np.vstack([x, outliers])).labels_
    assert np.mean(labels[-20:] == -1) >= 0.8
    assert np.mean(labels[:-20] == -1) <= 0.05
    est = PatternClusterer().fit(x)
    assert np.all(est.predict(outliers) == -1)


def test_seeds_are_kept_and_guide(blobs):
    x, y = blobs
    # two groups the data would split apart are filed together by a lead: the seeds win for them
    seeds = {"lead-A": list(np.flatnonzero(y == 0)[:10]), "lead-B": list(np.flatnonzero(y == 1)[:10])}
    est = PatternClusterer().fit(x, seeds=seeds)
    assert est.seed_keys_ == ["lead-A", "lead-B"]
    assert set(est.labels_[seeds["lead-A"]]) == {0} and set(est.labels_[seeds["lead-B"]]) == {1}
    assert np.mean(est.labels_[y == 0] == 0) > 0.9


def test_bad_seed_index_is_an_error(blobs):
    x, _ = blobs
    with pytest.raises(ValueError, match="outside"):
        PatternClusterer().fit(x, seeds={"g": [len(x) + 5]})


def test_match_one_to_one():
    previous = {"a": {1, 2, 3, 4}, "b": {5, 6, 7}, "gone": {20, 21}}
    new = {10: {5, 6, 7, 8}, 11: {1, 2, 3}, 12: {30, 31}}
    assert match(previous, new) == {"a": 11, "b": 10}
    assert match({}, new) == {}


def test_match_keeps_identities_after_rerun_with_new_documents():
    x, _ = sphere_blobs(n_per_group=80, n_groups=8)
    extra, _ = sphere_blobs(n_per_group=4, n_groups=8, random_state=1)  # 5% more, other noise
    before = PatternClusterer(random_state=0).fit(x).labels_
    both = np.vstack([x, extra])
    after = PatternClusterer(random_state=1).fit(both[::-1]).labels_[::-1]
    groups = lambda labels: {g: set(np.flatnonzero(labels == g)) for g in set(labels) if g >= 0}  # noqa: E731
    mapping = match(groups(before), groups(after))
    assert len(mapping) == 8
    for old, new in mapping.items():
        old_members = np.flatnonzero(before == old)
        assert np.mean(after[old_members] == new) > 0.95


def _merged_pairs():
    # three groups of sentence vectors, each holding two problems that only the detail tells apart
    rng = np.random.RandomState(4)
    problems = np.repeat(np.arange(6), 50)
    x, _ = sphere_blobs(n_per_group=100, n_groups=3, random_state=4)
    directions = rng.normal(size=(6, 16))
    detail = directions[problems] + 0.3 * rng.normal(size=(300, 16))
    return x, (detail / np.linalg.norm(detail, axis=1, keepdims=True)).astype(np.float32), problems


def test_detail_separates_problems_the_sentence_vectors_merge():
    x, detail, problems = _merged_pairs()
    without = PatternClusterer(granularity="problem", n_clusters=6).fit(x)
    est = PatternClusterer(granularity="problem", n_clusters=6).fit(x, detail=detail)
    assert adjusted_rand_score(problems, without.labels_) < 0.7
    assert adjusted_rand_score(problems, est.labels_) > 0.95
    assert np.mean(est.predict(x, detail=detail) == est.labels_) >= 0.97
    # without the detail a new text is placed by its sentence vector alone, in one of the groups
    assert set(est.predict(x[:10]).tolist()) <= set(range(6))
    with pytest.raises(ValueError, match="one row per vector"):
        PatternClusterer(granularity="problem").fit(x, detail=detail[:-1])


def test_detail_weight_zero_is_the_sentence_vectors_alone(blobs):
    x, _ = blobs
    detail = np.random.RandomState(0).normal(size=(len(x), 8)).astype(np.float32)
    plain = PatternClusterer(granularity="problem").fit(x).labels_
    off = PatternClusterer(granularity="problem", detail_weight=0).fit(x, detail=detail).labels_
    np.testing.assert_array_equal(plain, off)
