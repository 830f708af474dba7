"""Quality on real labelled data, each level on the set of its granularity.

* Themes on a StackOverflow20 sample (150 titles of each of 20 broad tags): ACC 77.3 / NMI 75.2 when
  the floors were set.
* Patterns on an HWU64 sample (the first 40 requests of each of 64 fine-grained intents, vectors and
  word-level detail of the raw texts): ACC 64.1-66.9, NMI 79.3-80.1, ARI 53.1-56.7 at random states
  0-2, 65 groups at 0; with 10% seeds of 48 intents NMI and ARI rise by 0.83 and 1.54 points on
  average over three random states and two draws of seeds.
* Seeds on the generated support questions (30 intents, 10% seeds of 22): ACC 90.3 -> 92.0, 33 -> 30
  groups (before the leftovers of a filed problem were joined to it: ACC 70.9, 55 groups).

The floors sit a few points lower so run-to-run noise does not fail them.
"""

import numpy as np
import pytest

from mining.evaluate import choose_seeds, clustering_scores, load_labelled
from mining.pipeline import PatternMiner
from tests.synthetic import make_support_questions

from .conftest import ROOT

pytestmark = pytest.mark.slow
HWU64 = ROOT.parent / "shared" / "data" / "hwu64" / "all.jsonl"


@pytest.fixture(scope="module")
def sample(so20_rows, minilm):
    counts: dict = {}
    rows = []
    for row in so20_rows:
        if counts.get(row["label"], 0) < 150:
            counts[row["label"]] = counts.get(row["label"], 0) + 1
            rows.append(row)
    texts = [r["text"] for r in rows]
    labels = [r["label"] for r in rows]
    return texts, labels, *minilm.embed_with_detail(texts)


@pytest.fixture(scope="module")
def fine_sample(minilm):
    if not HWU64.exists():
        pytest.skip("HWU64 not found at ../shared/data/hwu64/all.jsonl; skipping")
    texts, labels = load_labelled(HWU64)
    counts: dict = {}
    keep = []
    for i, label in enumerate(labels):
        if counts.get(label, 0) < 40:
            counts[label] = counts.get(label, 0) + 1
            keep.append(i)
    texts = [texts[i] for i in keep]
    labels = [labels[i] for i in keep]
    return texts, labels, *minilm.embed_with_detail(texts)


def test_theme_quality_floor_on_broad_tags(sample):
    texts, labels, vectors, details = sample
    miner = PatternMiner().fit(texts, embeddings=vectors, details=details)
    scores = clustering_scores(labels, miner.theme_labels_)
    print("themes", scores, len(miner.themes_))
    assert scores["nmi"] >= 71, scores
    assert scores["acc"] >= 72, scores
    assert 15 <= len(miner.themes_) <= 30
    assert np.mean(miner.theme_labels_ < 0) < 0.15
    # patterns are finer than themes and nest in them
    assert len(miner.patterns_) > len(miner.themes_)
    assert all(0 <= p.theme < len(miner.themes_) for p in miner.patterns_)


def test_pattern_quality_floor_on_fine_intents(fine_sample):
    texts, labels, vectors, details = fine_sample
    miner = PatternMiner().fit(texts, embeddings=vectors, details=details)
    scores = clustering_scores(labels, miner.labels_)
    print("patterns", scores, len(miner.patterns_))
    assert scores["nmi"] >= 75 and scores["acc"] >= 58, scores
    assert 51 <= len(miner.patterns_) <= 96  # 0.8-1.5 x the 64 intents, not told how many
    assert np.mean(miner.labels_ < 0) < 0.10


def test_seeds_improve_pattern_quality(fine_sample):
    # one draw of seeds and random state moves the gain by more than the floor (with the word-level
    # detail: +0.42 NMI / -0.44 ARI at the worst of six draws, +1.52 / +4.54 at the best), so the
    # floor is on the mean gain over three random states and two draws of seeds
    texts, labels, vectors, details = fine_sample
    gains = []
    for state in (0, 1, 2):
        plain = clustering_scores(labels, PatternMiner(random_state=state).fit(
            texts, embeddings=vectors, details=details).labels_)
        for draw in (0, 1):
            seeds = choose_seeds(labels, 0.1, random_state=draw)
            seeded = clustering_scores(labels, PatternMiner(random_state=state).fit(
                texts, seeds=seeds, embeddings=vectors, details=details).labels_)
            gains.append((seeded["nmi"] - plain["nmi"], seeded["ari"] - plain["ari"]))
    nmi, ari = np.mean(gains, axis=0)
    print("seeded - plain", gains)
    assert nmi >= 0.5, gains
    assert ari >= 1, gains


def test_seeds_do_not_split_the_problems_they_name(minilm):
    # 10% of the questions of 75% of the intents filed as seeds: the leftovers of a filed problem
    # once became groups of their own beside it (55 groups for 30 intents, ACC 90 -> 71)
    texts, labels = make_support_questions(n_intents=30, per_intent=60, random_state=1)
    vectors, details = minilm.embed_with_detail(texts)
    plain = clustering_scores(labels, PatternMiner().fit(texts, embeddings=vectors, details=details).labels_)
    miner = PatternMiner().fit(texts, seeds=choose_seeds(labels, 0.1), embeddings=vectors, details=details)
    seeded = clustering_scores(labels, miner.labels_)
    print("plain", plain, "seeded", seeded, len(miner.patterns_))
    assert 24 <= len(miner.patterns_) <= 45  # 0.8-1.5 x the 30 intents
    assert seeded["acc"] >= plain["acc"] - 2, (plain, seeded)
    assert seeded["nmi"] >= plain["nmi"] - 1, (plain, seeded)
