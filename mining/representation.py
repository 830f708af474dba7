"""Groups -> keywords (class-based TF-IDF), representative documents, names and cohesion."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer


@dataclass
class Pattern:
    """One recurring group of documents."""

    id: int
    size: int
    name: str
    keywords: list[str]
    signatures: list[str]
    representative: list[int]  # document indices, most central first
    cohesion: float  # mean cosine similarity of members to the centroid
    centroid: np.ndarray = field(repr=False)
    members: list[int] = field(default_factory=list, repr=False)


def class_tfidf_keywords(texts: list[str], labels: np.ndarray, n_keywords: int = 8) -> dict[int, list[str]]:
    """Top uni- and bi-gram keywords per label by class-based TF-IDF (noise, -1, is ignored).

    Each group's texts are treated as one document; a term scores by its frequency in the group
    times ``log(1 + average group size in words / term frequency over all groups)``.
    """
    labels = np.asarray(labels)
    groups = sorted(int(g) for g in set(labels.tolist()) if g >= 0)
    if not groups:
        return {}
    joined = [" ".join(texts[i] for i in np.flatnonzero(labels == g)) for g in groups]
    try:
        vectorizer = CountVectorizer(ngram_range=(1, 2), stop_words="english", token_pattern=r"(?u)\b[\w#+.-]*\w\b")
        counts = vectorizer.fit_transform(joined).astype(np.float64).toarray()
    except ValueError:  # nothing but stop words
        return {g: [] for g in groups}
    terms = vectorizer.get_feature_names_out()
    per_group_words = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(per_group_words, 1)
    idf = np.log(1 + per_group_words.mean() / np.maximum(counts.sum(axis=0), 1))
    scores = tf * idf
    keywords = {}
    for row, g in enumerate(groups):
        chosen: list[str] = []
        for j in np.argsort(-scores[row]):
            if scores[row, j] <= 0 or len(chosen) == n_keywords:
                break
            term = str(terms[j])
            # skip a unigram already inside a chosen bigram, and vice versa
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
        keywords[g] = chosen
    return keywords


def pattern_name(keywords: list[str], central_title: str, max_chars: int = 70) -> str:
    """A short name: the top keywords, then the most central title, shortened."""
    title = central_title.strip()
    if len(title) > 48:
        title = title[:47].rsplit(" ", 1)[0] + "…"
    head = " / ".join(keywords[:3])
    name = f"{head}: {title}" if head and title else head or title
    return name[:max_chars]


def _short_central_title(titles: list[str], order: np.ndarray) -> str:
    # the shortest of the three most central titles reads best as a name
    return min((titles[i] for i in order[:3]), key=len)


def build_patterns(texts: list[str], titles: list[str], signatures: list[list[str]], vectors: np.ndarray,
                   labels: np.ndarray, n_representative: int = 5, n_keywords: int = 8) -> list[Pattern]:
    """Describe every group in ``labels`` (ids 0..k-1) from its members' texts and vectors."""
    labels = np.asarray(labels)
    keywords = class_tfidf_keywords(texts, labels, n_keywords)
    patterns = []
    for g in sorted(int(v) for v in set(labels.tolist()) if v >= 0):
        members = np.flatnonzero(labels == g)
        centroid = vectors[members].mean(axis=0)
        centroid = centroid / max(np.linalg.norm(centroid), 1e-12)
        sims = vectors[members] @ centroid
        order = members[np.argsort(-sims, kind="stable")]
        counts = Counter(s for i in members for s in set(signatures[i]))
        common = [s for s, c in counts.most_common(5) if c >= max(2, 0.05 * len(members))]
        patterns.append(Pattern(
            id=g, size=len(members), name=pattern_name(keywords.get(g, []), _short_central_title(titles, order)),
            keywords=keywords.get(g, []), signatures=common,
            representative=[int(i) for i in order[:n_representative]],
            cohesion=float(sims.mean()), centroid=centroid.astype(np.float32),
            members=[int(i) for i in members]))
    return patterns
