"""PatternMiner: documents -> vectors -> patterns (one problem each) and themes above them, with fit / predict."""

from __future__ import annotations

import sys
import time
from collections.abc import Hashable, Iterable, Mapping, Sequence

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from mining.clustering import PatternClusterer
from mining.documents import Document, document_signatures, document_text
from mining.embedders import Embedder, SentenceTransformerEmbedder, TfidfEmbedder, embed_with_detail
from mining.granularity import SAME_PROBLEM_SIMILARITY
from mining.kmeans import normalize_rows
from mining.representation import Pattern, Theme, build_patterns, build_themes, themes_of_patterns


def as_documents(items: Iterable[Document | str]) -> list[Document]:
    """Accept Documents or plain strings (a string becomes a title, its position the id)."""
    return [item if isinstance(item, Document) else Document(id=i, title=str(item)) for i, item in enumerate(items)]


def _unit_rows(name: str, values, n_documents: int) -> np.ndarray:
    rows = np.asarray(values, dtype=np.float32)
    if rows.ndim != 2 or len(rows) != n_documents:
        raise ValueError(f"{name} must have shape (n_documents, dim); got {rows.shape} for {n_documents} documents")
    return normalize_rows(rows)


def lexical_text(text: str, signatures: Sequence[str]) -> str:
    """Text for the lexical channel: the words plus each error signature as two extra tokens."""
    tokens = [s.replace(" ", "_").replace(":", "") for s in signatures]
    return " ".join([text] + tokens * 2)


class PatternMiner(BaseEstimator):
    """Find recurring patterns in forum threads, and the themes they fall under.

    Two levels come from one fit: **themes**, broad topics for browsing (modularity on the
    neighbour graph of the vectors plus a lexical channel), and **patterns** within them, each one
    recurring problem: themes are cut until their pieces are, on average, as alike as one
    problem's questions are for the encoder (``mining.granularity``), in a space where the sentence
    vectors sit beside the encoder's word-level detail (``details``), then Lloyd steps in that space
    move the boundaries. A pattern belongs to the theme most of its members fall in.

    Parameters
    ----------
    embedder : Embedder or None
        Turns texts into unit vectors; ``None`` uses all-MiniLM-L6-v2 (loaded on first use).
        Not needed when ``fit``/``predict`` get ``embeddings``.
    n_patterns : int or None
        Force the number of patterns: exactly this many, every document assigned; ``None`` finds
        it from the data.
    n_themes : int or None
        Force the number of themes; ``None`` finds it from the data.
    same_problem_similarity : float or None
        Mean pairwise cosine similarity of one problem's questions; ``None`` takes the embedder's
        ``same_problem_similarity`` or, without one, all-MiniLM-L6-v2's (0.42).
    lexical_weight : float
        Weight of a TF-IDF (+ error signature) channel appended to the embedding when finding
        themes; 0 turns it off. Patterns use the embedding alone: on fine-grained sets the
        channel cost points (shared product names mislead it), on StackOverflow20's broad tags
        it is what finds the tags.
    resolution : float
        Modularity resolution used to choose the number of themes (higher: more, smaller).
    n_neighbors : int
        Neighbours used for smoothing, for choosing k and for the noise test.
    noise_agreement : float
        A document is left unassigned (-1) when fewer than this fraction of its neighbours
        share its pattern.
    outlier_spread : float
        A document is left unassigned when its similarity to its pattern's centre falls more than
        this many robust standard deviations below the pattern's median. 4 rather than the
        clusterer's 3: with unassigned documents counted wrong, the looser fence scored higher on
        every fine-grained set at every random state tried (HWU64 +2 ARI, its 35-per-intent samples
        +1 to +3, the generated support questions +1.5 ACC; ``bench/README.md``).
    min_pattern_size : int or None
        Smaller groups become noise; ``None`` means ``max(5, n // 400)``.
    max_reference : int
        Neighbour searches use at most this many training documents (linear cost beyond).
    seed_metric_weight : float
        With seeds, how much the distances learned from the seed groups replace plain cosine
        (``PatternClusterer``); 0 turns it off.
    detail_weight : float
        Weight of the encoder's word-level detail beside the sentence vectors when patterns are
        found (``mining.embedders.DETAIL_LAYER``); 0 turns it off. 0.5: on HWU64 +0.4 to +1.0 NMI
        and +1 to +3 ACC over none at random states 0-2 and on 35-per-intent samples; 0.7 gave the
        same, 1.0 less (``bench/README.md``, "Eighth round").
    random_state : int
        Seed; results are deterministic for a fixed value.
    show_progress : bool or None
        Report stages and embedding progress; ``None`` means only when stderr is a terminal.
    """

    def __init__(self, embedder: Embedder | None = None, n_patterns: int | None = None, n_themes: int | None = None,
                 same_problem_similarity: float | None = None, lexical_weight: float = 0.5,
                 resolution: float = 1.5, n_neighbors: int = 10, noise_agreement: float = 0.1,
                 outlier_spread: float = 4.0, min_pattern_size: int | None = None, max_reference: int = 20000, seed_metric_weight: float = 0.25,
                 detail_weight: float = 0.5, random_state: int = 0, show_progress: bool | None = None):
        self.embedder = embedder
        self.n_patterns = n_patterns
        self.n_themes = n_themes
        self.same_problem_similarity = same_problem_similarity
        self.lexical_weight = lexical_weight
        self.resolution = resolution
        self.n_neighbors = n_neighbors
        self.noise_agreement = noise_agreement
        self.outlier_spread = outlier_spread
        self.min_pattern_size = min_pattern_size
        self.max_reference = max_reference
        self.seed_metric_weight = seed_metric_weight
        self.detail_weight = detail_weight
        self.random_state = random_state
        self.show_progress = show_progress

    # -- helpers ---------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        show = self.show_progress if self.show_progress is not None else sys.stderr.isatty()
        if show:
            print(f"[mining {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)

    def _embed(self, texts: list[str], embeddings, details=None) -> tuple[np.ndarray, np.ndarray | None]:
        if embeddings is not None:
            vectors = _unit_rows("embeddings", embeddings, len(texts))
            return vectors, None if details is None else _unit_rows("details", details, len(texts))
        if details is not None:
            raise ValueError("details are given with the embeddings they belong to")
        if not hasattr(self, "embedder_"):
            self.embedder_ = self.embedder if self.embedder is not None else SentenceTransformerEmbedder()
        self._say(f"embedding {len(texts)} texts with {self.embedder_.model_name}")
        vectors, details = embed_with_detail(self.embedder_, texts)
        return normalize_rows(vectors), None if details is None else normalize_rows(details)

    def _features(self, vectors: np.ndarray, lexical: list[str]) -> np.ndarray:
        if not self.lexical_weight:
            return vectors
        return normalize_rows(np.hstack([vectors, self.lexical_weight * self.lexical_.embed(lexical)]))

    def _same_problem_similarity(self) -> float:
        if self.same_problem_similarity is not None:
            return self.same_problem_similarity
        embedder = getattr(self, "embedder_", None) or self.embedder
        return getattr(embedder, "same_problem_similarity", SAME_PROBLEM_SIMILARITY)

    @staticmethod
    def _seed_indices(seeds: Mapping[Hashable, Iterable] | None, documents: list[Document]) -> dict:
        if not seeds:
            return {}
        index_of = {doc.id: i for i, doc in enumerate(documents)}
        resolved = {}
        for key, members in seeds.items():
            members = list(members)
            # members are document ids when they all are; otherwise positions
            if members and all(m in index_of for m in members):
                resolved[key] = [index_of[m] for m in members]
            else:
                resolved[key] = [int(m) for m in members]
        return resolved

    # -- estimator API ---------------------------------------------------------------------
    def fit(self, documents: Sequence[Document | str], seeds: Mapping[Hashable, Iterable] | None = None,
            embeddings: np.ndarray | None = None, details: np.ndarray | None = None) -> PatternMiner:
        """Learn patterns from ``documents``.

        ``seeds`` maps a curated group id to its known members (document ids, or indices);
        ``embeddings`` gives precomputed vectors, one row per document, to skip embedding.
        """
        documents = as_documents(documents)
        if len(documents) < 2:
            raise ValueError("need at least 2 documents")
        if self.lexical_weight < 0:
            raise ValueError("lexical_weight must be >= 0")
        started = time.perf_counter()
        texts = [document_text(d) for d in documents]
        signatures = [document_signatures(d) for d in documents]
        vectors, details = self._embed(texts, embeddings, details)
        lexical = [lexical_text(t, s) for t, s in zip(texts, signatures, strict=True)]
        if self.lexical_weight:
            self.lexical_ = TfidfEmbedder(random_state=self.random_state).fit(lexical)
        seed_index = self._seed_indices(seeds, documents)

        self._say(f"finding themes among {len(documents)} documents")
        self.theme_clusterer_ = PatternClusterer(
            n_clusters=self.n_themes, granularity="topic", n_neighbors=self.n_neighbors,
            resolution=self.resolution, max_reference=self.max_reference, random_state=self.random_state,
        ).fit(self._features(vectors, lexical))

        self._say("finding the patterns within them")
        self.clusterer_ = PatternClusterer(
            n_clusters=self.n_patterns, granularity="problem",
            same_problem_similarity=self._same_problem_similarity(), n_neighbors=self.n_neighbors,
            noise_agreement=self.noise_agreement, outlier_spread=self.outlier_spread,
            min_cluster_size=self.min_pattern_size,
            max_reference=self.max_reference, seed_metric_weight=self.seed_metric_weight,
            detail_weight=self.detail_weight, random_state=self.random_state,
        ).fit(vectors, seeds=seed_index, groups=self.theme_clusterer_.labels_, detail=details)
        self.labels_ = self.clusterer_.labels_
        self.seed_patterns_ = {key: i for i, key in enumerate(self.clusterer_.seed_keys_)}

        topic_labels = self.theme_clusterer_.labels_
        topic_of_pattern = themes_of_patterns(self.labels_, topic_labels, self.clusterer_.n_clusters_,
                                              self.clusterer_.centroids_)

        titles = [d.title for d in documents]
        self.patterns_: list[Pattern] = build_patterns(texts, titles, signatures, vectors, self.labels_,
                                                       themes=topic_of_pattern)
        self.themes_: list[Theme] = build_themes(self.patterns_, titles, self.labels_)
        # a document's theme is the topic it falls in (renumbered as build_themes numbered them; a
        # topic holding no pattern is no theme); a pattern's is the one most of its members share
        theme_of_topic = np.full(int(topic_labels.max(initial=-1)) + 2, -1)
        for pattern in self.patterns_:
            theme_of_topic[topic_of_pattern[pattern.id]] = pattern.theme
        self.theme_labels_ = theme_of_topic[topic_labels]
        self.pattern_themes_ = np.array([p.theme for p in self.patterns_], dtype=np.int64)
        dim = vectors.shape[1]
        self.centroids_ = (np.stack([p.centroid for p in self.patterns_]) if self.patterns_
                           else np.zeros((0, dim), dtype=np.float32))
        self.document_ids_ = [d.id for d in documents]
        self.noise_fraction_ = float(np.mean(self.labels_ < 0))
        self._say(f"{len(self.patterns_)} patterns in {len(self.themes_)} themes, {self.noise_fraction_:.1%} "
                  f"unassigned, {time.perf_counter() - started:.1f} s")
        return self

    def predict(self, documents: Sequence[Document | str] | None = None,
                embeddings: np.ndarray | None = None, details: np.ndarray | None = None) -> np.ndarray:
        """Pattern index of each new document, or -1 where it fits none.

        ``details`` are the embedder's word-level detail of the same documents (``embeddings`` and
        ``details`` are computed here when neither is given).
        """
        check_is_fitted(self, "clusterer_")
        if documents is None and embeddings is None:
            raise ValueError("give documents, embeddings, or both")
        texts = [""] * len(embeddings) if documents is None else [document_text(d) for d in as_documents(documents)]
        vectors, details = self._embed(texts, embeddings, details)
        labels = self.clusterer_.predict(vectors, detail=details)
        # a group that became noise in fit has no pattern; keep ids within patterns_
        labels[labels >= len(self.patterns_)] = -1
        return labels

    def pattern_members(self) -> dict[int, set]:
        """Pattern index -> set of document ids, the input ``mining.clustering.match`` expects."""
        check_is_fitted(self, "labels_")
        return {p.id: {self.document_ids_[i] for i in p.members} for p in self.patterns_}
