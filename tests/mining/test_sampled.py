"""Sample-then-assign: the miner learns patterns from a sample and places every other document by its rules."""
from __future__ import annotations

import numpy as np
import pytest

from mining.ann import VectorIndex
from mining.evaluate import clustering_scores
from mining.pipeline import PatternMiner
from mining.sampled import SampledPatternMiner
from tests.mining.conftest import sphere_blobs


def _miner() -> PatternMiner:
    return PatternMiner(lexical_weight=0, show_progress=False)


@pytest.fixture(scope="module")
def groups_and_outsiders():
    """Eight clear groups of 150 documents, then 30 documents unlike every group and each other."""
    x, labels = sphere_blobs(n_per_group=150, n_groups=8, dim=64, spread=0.25, random_state=3)
    rng = np.random.RandomState(7)
    outsiders = rng.normal(size=(30, 64)).astype(np.float32)
    outsiders /= np.linalg.norm(outsiders, axis=1, keepdims=True)
    vectors = np.vstack([x, outsiders])
    texts = [f"group {g} question {i}" for i, g in enumerate(labels)] + [f"stray {i}" for i in range(30)]
    return texts, vectors, np.concatenate([labels, np.full(30, -1)])


@pytest.fixture(scope="module")
def fits(groups_and_outsiders):
    texts, vectors, _ = groups_and_outsiders
    full = _miner().fit(texts, embeddings=vectors)
    sampled = SampledPatternMiner(_miner(), sample_size=400, batch_size=300).fit(texts, embeddings=vectors)
    return full, sampled


def test_every_document_outside_the_sample_is_placed_and_patterns_count_all_members(groups_and_outsiders, fits):
    texts, _, truth = groups_and_outsiders
    full, sampled = fits
    assert len(sampled.sample_) == 400 and len(sampled.labels_) == len(texts)
    placed = np.setdiff1d(np.arange(len(texts)), sampled.sample_)
    in_groups = placed[truth[placed] >= 0]
    # the documents of a group that were not sampled are assigned as often as the full fit assigns them (the
    # outlier fence leaves about 1% of a group out either way)
    assert np.mean(sampled.labels_[in_groups] >= 0) >= min(0.97, np.mean(full.labels_[in_groups] >= 0) - 0.02)
    for pattern in sampled.patterns_:
        assert pattern.members == np.flatnonzero(sampled.labels_ == pattern.id).tolist()
        assert pattern.size == len(pattern.members)
        assert set(pattern.representative) <= set(pattern.members)
        assert 0 < pattern.cohesion <= 1 and abs(np.linalg.norm(pattern.centroid) - 1) < 1e-4
    assert sum(p.size for p in sampled.patterns_) == int(np.sum(sampled.labels_ >= 0))
    assert sum(t.size for t in sampled.themes_) == sum(p.size for p in sampled.patterns_)
    assert sampled.pattern_members()[0] == set(sampled.patterns_[0].members)


def test_documents_unlike_every_pattern_stay_unassigned(groups_and_outsiders, fits):
    _, _, truth = groups_and_outsiders
    full, sampled = fits
    outsiders = np.flatnonzero(truth < 0)
    assert np.all(full.labels_[outsiders] == -1)
    # the sample's rule, not a catch-all: not one stray joins a pattern, sampled or assigned
    assert np.all(sampled.labels_[outsiders] == -1)
    assert np.setdiff1d(outsiders, sampled.sample_).size > 0


def test_the_sampled_partition_matches_the_full_fit(groups_and_outsiders, fits):
    _, _, truth = groups_and_outsiders
    full, sampled = fits
    assert len(sampled.patterns_) == len(full.patterns_)
    assert clustering_scores(full.labels_.astype(str), sampled.labels_)["nmi"] >= 95
    # within 2 NMI points of the full fit against the truth with a sample of a third of 1,230 documents (50 per
    # group to place each group's outlier fence); the 1-point target at 100k is bench/mining_scale.py's
    assert clustering_scores(truth.astype(str), sampled.labels_)["nmi"] >= clustering_scores(
        truth.astype(str), full.labels_)["nmi"] - 2


def test_a_set_no_larger_than_the_sample_is_fitted_whole(groups_and_outsiders):
    texts, vectors, _ = groups_and_outsiders
    texts, vectors = texts[:600], vectors[:600]
    sampled = SampledPatternMiner(_miner(), sample_size=600).fit(texts, embeddings=vectors)
    full = _miner().fit(texts, embeddings=vectors)
    assert np.array_equal(sampled.labels_, full.labels_)
    assert [p.name for p in sampled.patterns_] == [p.name for p in full.patterns_]
    assert np.array_equal(sampled.predict(embeddings=vectors[:50]), full.predict(embeddings=vectors[:50]))


def test_seeded_documents_are_always_in_the_sample(groups_and_outsiders):
    texts, vectors, truth = groups_and_outsiders
    filed = np.flatnonzero(truth == 5)[:20].tolist()
    sampled = SampledPatternMiner(_miner(), sample_size=300, random_state=1).fit(
        texts, seeds={"filed": filed}, embeddings=vectors)
    assert set(filed) <= set(sampled.sample_.tolist())
    pattern = sampled.seed_patterns_["filed"]
    assert set(filed) <= set(sampled.patterns_[pattern].members)
    # the rest of that group, mostly outside the sample, joins the curated pattern
    assert np.mean(sampled.labels_[truth == 5] == pattern) >= 0.95


def test_search_many_finds_each_querys_nearest_keys():
    x, _ = sphere_blobs(n_per_group=100, n_groups=5, dim=32, random_state=2)
    index = VectorIndex(dtype="f32").fit(np.arange(len(x)), x)
    found = index.search_many(x[:40], 5)
    exact = np.argsort(-(x[:40] @ x.T), axis=1)[:, :5]
    assert found.shape == (40, 5)
    assert np.array_equal(found[:, 0], np.arange(40))
    assert np.mean([len(set(f) & set(e)) / 5 for f, e in zip(found, exact, strict=True)]) >= 0.95


def test_neighbour_assignment_applies_predicts_rule_and_matches_the_full_fit(groups_and_outsiders, fits):
    texts, vectors, truth = groups_and_outsiders
    full, _ = fits
    sampled = SampledPatternMiner(_miner(), sample_size=400, assign="neighbours").fit(texts, embeddings=vectors)
    assert np.all(sampled.labels_[truth < 0] == -1)
    assert clustering_scores(full.labels_.astype(str), sampled.labels_)["nmi"] >= 95
    with pytest.raises(ValueError, match="assign"):
        SampledPatternMiner(_miner(), sample_size=400, assign="nearest").fit(texts, embeddings=vectors)


def test_details_reach_the_sample_and_the_assignment(groups_and_outsiders):
    texts, vectors, truth = groups_and_outsiders
    details = np.ascontiguousarray(vectors[:, ::-1])
    sampled = SampledPatternMiner(_miner(), sample_size=400, batch_size=300).fit(texts, embeddings=vectors,
                                                                                 details=details)
    assert sampled.miner_.clusterer_.detail_mean_ is not None
    grouped = truth >= 0
    assert clustering_scores(truth[grouped], sampled.labels_[grouped])["acc"] >= 95
    assert np.mean(sampled.labels_[~grouped] == -1) >= 0.8
    np.testing.assert_array_equal(sampled.predict(embeddings=vectors[:50], details=details[:50]),
                                  sampled.miner_.predict(embeddings=vectors[:50], details=details[:50]))
