import numpy as np
import pytest
from sklearn.base import clone

from mining.documents import Document
from mining.embedders import TfidfEmbedder
from mining.evaluate import clustering_scores
from mining.pipeline import PatternMiner
from mining.representation import Pattern
from tests.synthetic import make_support_questions


@pytest.fixture(scope="module")
def support():
    texts, labels = make_support_questions(n_intents=8, per_intent=40, random_state=4)
    docs = [Document(id=f"t{i}", title=t) for i, t in enumerate(texts)]
    return docs, labels


def test_parameters_stored_unchanged():
    miner = PatternMiner(n_patterns=5, lexical_weight=0.2, random_state=7)
    assert clone(miner).get_params() == miner.get_params()
    assert not hasattr(miner, "labels_") and not hasattr(miner, "embedder_")


def test_fit_describes_patterns(support):
    docs, labels = support
    miner = PatternMiner(embedder=TfidfEmbedder()).fit(docs)
    assert len(miner.labels_) == len(docs)
    assert 6 <= len(miner.patterns_) <= 12
    assert miner.centroids_.shape == (len(miner.patterns_), 128)
    pattern = miner.patterns_[0]
    assert isinstance(pattern, Pattern) and pattern.id == 0
    assert pattern.size == int(np.sum(miner.labels_ == 0)) and len(pattern.members) == pattern.size
    assert 3 <= len(pattern.representative) <= 5 and set(pattern.representative) <= set(pattern.members)
    assert pattern.keywords and pattern.name and 0 < pattern.cohesion <= 1
    assert clustering_scores(labels, miner.labels_)["nmi"] > 60
    members = miner.pattern_members()
    assert members[0] == {docs[i].id for i in pattern.members}


def test_precomputed_embeddings_and_one_document_predict(support):
    docs, _ = support
    vectors = TfidfEmbedder(n_components=64).embed([d.title for d in docs])
    miner = PatternMiner().fit(docs, embeddings=vectors)
    assert not hasattr(miner, "embedder_")  # nothing was embedded
    predicted = miner.predict(docs, embeddings=vectors)
    assert np.mean(predicted == miner.labels_) >= 0.95
    one = miner.predict(docs[:1], embeddings=vectors[:1])
    assert one.shape == (1,) and one[0] == predicted[0]
    vectors_only = miner.predict(embeddings=vectors)
    assert np.mean(vectors_only == miner.labels_) >= 0.8


def test_seeds_by_document_id(support):
    docs, labels = support
    vectors = TfidfEmbedder(n_components=64).embed([d.title for d in docs])
    first = next(i for i, lab in enumerate(labels) if lab == labels[0])
    same = [d.id for d, lab in zip(docs, labels, strict=True) if lab == labels[first]][:6]
    miner = PatternMiner().fit(docs, seeds={"curated-7": same}, embeddings=vectors)
    assert miner.seed_patterns_ == {"curated-7": 0}
    assert set(miner.labels_[[int(i[1:]) for i in same]]) == {0}


def test_wrong_embedding_shape_is_an_error(support):
    docs, _ = support
    with pytest.raises(ValueError, match="shape"):
        PatternMiner().fit(docs, embeddings=np.ones((3, 8)))
    with pytest.raises(ValueError, match="at least 2"):
        PatternMiner().fit(docs[:1], embeddings=np.ones((1, 8)))


def test_plain_strings_are_documents():
    texts, _ = make_support_questions(n_intents=4, per_intent=15, random_state=2)
    miner = PatternMiner(embedder=TfidfEmbedder(n_components=32)).fit(texts)
    assert miner.document_ids_ == list(range(len(texts)))


@pytest.mark.slow
def test_small_forum_finds_its_recurring_problems(minilm):
    """Like the forum demo: ~15 recurring problems and one-off threads, with the real model."""
    texts, labels = make_support_questions(n_intents=15, per_intent=40, n_one_offs=60, random_state=11)
    miner = PatternMiner(embedder=minilm).fit(texts)
    recurring = np.array([not str(lab).startswith("one-off") for lab in labels])
    assert 12 <= len(miner.patterns_) <= 20
    # measured: 18-28% of one-offs left unassigned, the rest absorbed by the nearest pattern (a
    # known limit: stricter noise rules cost ACC on StackOverflow20)
    assert np.mean(miner.labels_[~recurring] == -1) >= 0.12
    assert np.mean(miner.labels_[recurring] == -1) <= 0.1
    assert clustering_scores(np.array(labels)[recurring], miner.labels_[recurring])["nmi"] >= 80


class TfidfWithDetail(TfidfEmbedder):
    """The TF-IDF embedder with a second view of each text, as the sentence-transformer gives its detail."""

    def embed_with_detail(self, texts):
        vectors = self.embed(texts)
        return vectors, np.ascontiguousarray(vectors[:, ::-1])


def test_the_embedders_detail_reaches_the_patterns(support):
    docs, labels = support
    miner = PatternMiner(embedder=TfidfWithDetail(n_components=32)).fit(docs)
    assert miner.clusterer_.detail_mean_ is not None and miner.clusterer_.detail_mean_.shape == (32,)
    assert np.mean(miner.predict(docs) == miner.labels_) >= 0.95
    vectors, details = miner.embedder_.embed_with_detail([d.title for d in docs])
    np.testing.assert_array_equal(miner.predict(embeddings=vectors, details=details), miner.predict(docs))
    assert PatternMiner(detail_weight=0).fit(docs, embeddings=vectors, details=details).clusterer_.detail_mean_ is None


def test_wrong_detail_is_an_error(support):
    docs, _ = support
    vectors = np.random.RandomState(0).normal(size=(len(docs), 8))
    with pytest.raises(ValueError, match="details must have shape"):
        PatternMiner().fit(docs, embeddings=vectors, details=np.ones((3, 8)))
    with pytest.raises(ValueError, match="with the embeddings"):
        PatternMiner(embedder=TfidfEmbedder()).fit(docs, details=np.ones((len(docs), 8)))
