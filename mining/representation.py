"""Groups -> keywords (class-based TF-IDF), representative documents, names and cohesion; themes above them."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

# what a tokenizer leaves of contractions and numbering: never a keyword nor the edge of a name
FILLER = frozenset({"t", "s", "d", "ll", "ve", "re", "m", "didn", "doesn", "isn", "wasn", "aren", "weren", "don",
                    "won", "can", "couldn", "shouldn", "wouldn", "hasn", "haven", "hadn", "ain", "im", "ive",
                    "hi", "hello", "thanks", "thank", "please", "help", "question", "issue", "problem", "anyone",
                    "way", "using", "use", "does", "know", "need", "want", "get", "got", "trying", "tried"})
# a name is read off the most central titles: beyond a few hundred they only cost time
NAME_TITLES = 200
WORD = re.compile(r"[A-Za-z0-9][\w.+#/-]*[\w+#]|[A-Za-z0-9]")


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
    theme: int = -1  # index into the miner's themes_
    pair_similarity: float | None = None  # mean cosine similarity over all pairs of members


@dataclass
class Theme:
    """A broad topic: a set of patterns, for browsing."""

    id: int
    name: str
    patterns: list[int]  # pattern ids, largest first
    size: int  # documents in its patterns


def is_filler(term: str) -> bool:
    """A keyword that says nothing: stop words, contraction stubs, bare numbers, one letter."""
    words = term.lower().split()
    return all(w in FILLER or w in ENGLISH_STOP_WORDS or w.isdigit() or len(w) < 2 for w in words)


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
        counts = vectorizer.fit_transform(joined).astype(np.float64).tocsr()
    except ValueError:  # nothing but stop words
        return {g: [] for g in groups}
    terms = vectorizer.get_feature_names_out()
    # sparse throughout: a thousand patterns times a hundred thousand terms would not fit densely
    per_group_words = np.asarray(counts.sum(axis=1)).ravel()
    idf = np.log(1 + per_group_words.mean() / np.maximum(np.asarray(counts.sum(axis=0)).ravel(), 1))
    scores = sparse.diags(1 / np.maximum(per_group_words, 1)) @ counts @ sparse.diags(idf)
    scores = scores.tocsr()
    keywords = {}
    for row, g in enumerate(groups):
        start, stop = scores.indptr[row], scores.indptr[row + 1]
        values, columns = scores.data[start:stop], scores.indices[start:stop]
        chosen: list[str] = []
        for j in columns[np.argsort(-values, kind="stable")]:
            if len(chosen) == n_keywords:
                break
            term = str(terms[j])
            if is_filler(term) or any(w in FILLER or len(w) < 2 or w.isdigit() for w in term.split()):
                continue
            # skip a unigram already inside a chosen bigram, and vice versa
            if any(term in c.split() or c in term.split() for c in chosen):
                continue
            chosen.append(term)
        keywords[g] = chosen
    return keywords


@lru_cache(maxsize=1 << 16)
def _edge_word(token: str) -> bool:
    # a phrase may neither start nor end with a word that carries no meaning on its own
    low = token.lower()
    return low in ENGLISH_STOP_WORDS or low in FILLER or (len(low) < 2 and not low.isdigit())


def shared_phrases(titles: list[str], max_words: int = 6, min_share: float = 0.2) -> list[tuple[str, int]]:
    """Word sequences that many ``titles`` contain, best first, with how many titles contain each.

    A phrase scores by the titles containing it times the square root of its meaningful words, so
    "handshake failure after TLS" beats "handshake" unless far fewer titles say it. Each phrase is
    given in the casing most titles use.
    """
    counts: Counter = Counter()
    spelling: dict[tuple, Counter] = {}
    for title in titles:
        tokens = WORD.findall(title)
        lowered = [t.lower() for t in tokens]
        # each token judged once, not once per word sequence it starts or ends (7.6M calls at 100k threads)
        edge = [_edge_word(t) for t in lowered]
        seen = set()
        for start in range(len(tokens)):
            if edge[start]:
                continue
            for stop in range(start + 1, min(start + max_words, len(tokens)) + 1):
                if edge[stop - 1]:
                    continue
                key = tuple(lowered[start:stop])
                if key in seen:
                    continue
                seen.add(key)
                counts[key] += 1
                spelling.setdefault(key, Counter())[" ".join(tokens[start:stop])] += 1
    least = max(2, int(np.ceil(min_share * len(titles))))
    scored = []
    for key, df in counts.items():
        meaningful = sum(1 for w in key if not _edge_word(w))
        if df >= least and meaningful:
            scored.append((df * np.sqrt(meaningful), df, spelling[key].most_common(1)[0][0], key))
    scored.sort(key=lambda item: (-item[0], -len(item[3]), item[2]))
    return [(text, df) for _, df, text, _ in scored]


def _stem(word: str) -> str:
    # enough to see "Sessions" and "session", "Exporting" and "export" as one word in a name
    low = word.lower()
    for ending in ("ing", "ed", "es", "s"):
        if low.endswith(ending) and len(low) - len(ending) >= 3:
            return low[: -len(ending)]
    return low


def _typical_position(phrase: str, titles: list[str]) -> float:
    """Median relative position of ``phrase`` in the titles that contain it (0 start, 1 end)."""
    low = phrase.lower()
    spots = [t.lower().find(low) / max(len(t), 1) for t in titles if low in t.lower()]
    return float(np.median(spots)) if spots else 1.0


def _shared_span(titles: list[str], first: str, second: str, max_gap: int = 4) -> str | None:
    """The words from ``first`` to ``second`` as at least two titles say them, gap of ``max_gap`` words at most.

    "Deadlock victim" and "posting" become "Deadlock victim errors when posting" when titles say it
    so; the most common wording wins, then the shorter. ``None`` when no wording recurs.
    """
    a, b = first.lower(), second.lower()
    wordings: Counter = Counter()
    for title in titles:
        low = title.lower()
        start = low.find(a)
        end = low.find(b, start + len(a)) if start >= 0 else -1
        if end < 0:
            continue
        span = title[start:end + len(b)]
        if len(WORD.findall(title[start + len(a):end])) <= max_gap and span.count("(") == span.count(")"):
            wordings[span] += 1
    recurring = [(count, -len(span), span) for span, count in wordings.items() if count >= 2]
    return max(recurring)[2] if recurring else None


def _joined(titles: list[str], first: str, second: str, max_gap: int = 4) -> str | None:
    """Two shared phrases with the words between them, as titles say them: a wording two titles share, else
    the most central title's own (``titles`` come most central first); ``None`` when no title says both."""
    orders = ((first, second), (second, first))
    for a, b in orders:
        span = _shared_span(titles, a, b, max_gap)
        if span:
            return span
    for title in titles:
        low = title.lower()
        for a, b in orders:
            start = low.find(a.lower())
            end = low.find(b.lower(), start + len(a)) if start >= 0 else -1
            span = title[start:end + len(b)] if end >= 0 else ""
            if span and len(WORD.findall(title[start + len(a):end])) <= max_gap and span.count("(") == span.count(")"):
                return span
    return None


# words a name may not start or end with when it is widened around one word: sklearn's stop words would also
# refuse "found" and "out", and "Session not found" or "Logged out" are what titles say
_FUNCTION_WORDS = frozenset("a an the of to for with and or in on at by from as is are was were be been it its we "
                            "our us you your my me i after before when every this that these those do does did not "
                            "no any all some very behind under over into via during since about than without between across "
                            "through per while".split())


def _may_edge(token: str) -> bool:
    return token not in _FUNCTION_WORDS and token not in FILLER and (len(token) > 1 or token.isdigit())


def _widened(titles: list[str], word: str, max_words: int = 4) -> str | None:
    """The wording of two to ``max_words`` words around ``word`` that most titles say (two at least)."""
    low = word.lower()
    counts: Counter = Counter()
    spelling: dict[tuple, Counter] = {}
    for title in titles:
        tokens = WORD.findall(title)
        lowered = [t.lower() for t in tokens]
        seen = set()
        for at in (i for i, t in enumerate(lowered) if t == low):
            for size in range(2, max_words + 1):
                for first in range(max(0, at - size + 1), min(at, len(tokens) - size) + 1):
                    key = tuple(lowered[first:first + size])
                    if key in seen or not (_may_edge(key[0]) and _may_edge(key[-1])):
                        continue
                    seen.add(key)
                    counts[key] += 1
                    spelling.setdefault(key, Counter())[" ".join(tokens[first:first + size])] += 1
    recurring = [(df, len(key), key) for key, df in counts.items() if df >= 2]
    if not recurring:
        return None
    key = max(recurring)[2]
    return spelling[key].most_common(1)[0][0]


def pattern_name(titles: list[str], signatures: list[str] | None = None, keywords: list[str] | None = None,
                 max_chars: int = 80, max_words: int = 6) -> str:
    """A short name a person would write: what the member titles share, never cut mid-word.

    The phrase most titles share leads; an error signature most members carry and a second,
    separate shared phrase follow when they fit in ``max_chars``. Without a shared phrase the
    top keywords stand in; without those, the first title's words up to the limit.
    """
    phrases = shared_phrases(titles, max_words=max_words)
    parts: list[str] = []
    used: set[str] = set()
    for text, _ in phrases[:12]:
        words = {_stem(w) for w in WORD.findall(text)}
        if words & used:
            continue
        parts.append(text)
        used |= words
        if len(parts) == 2:
            break
    if len(parts) == 2:
        joined = _joined(titles, *parts)
        # two phrases no title says together are no name ("Users session"): the better one alone
        parts = [joined] if joined and len(joined) <= max_chars else parts[:1]
    if len(parts) == 1 and len(WORD.findall(parts[0])) == 1:
        parts = [_widened(titles, parts[0]) or parts[0]]
    if not parts and keywords:
        parts = [k for k in keywords[:2] if not is_filler(k)]
    for signature in signatures or []:
        if signature.lower() not in " ".join(parts).lower():
            parts.append(signature)
            break
    name = ""
    for part in parts:
        candidate = f"{name} · {part}" if name else part
        if len(candidate) > max_chars:
            continue
        name = candidate
    if not name and titles:
        for word in titles[0].split():
            if len(name) + len(word) + 1 > max_chars:
                break
            name = f"{name} {word}".strip()
    return name[:1].upper() + name[1:]


def build_patterns(texts: list[str], titles: list[str], signatures: list[list[str]], vectors: np.ndarray,
                   labels: np.ndarray, n_representative: int = 5, n_keywords: int = 8,
                   themes: np.ndarray | None = None) -> list[Pattern]:
    """Describe every group in ``labels`` (ids 0..k-1) from its members' texts and vectors."""
    labels = np.asarray(labels)
    keywords = class_tfidf_keywords(texts, labels, n_keywords)
    patterns = []
    for g in sorted(int(v) for v in set(labels.tolist()) if v >= 0):
        members = np.flatnonzero(labels == g)
        total = vectors[members].sum(axis=0)
        centroid = total / max(np.linalg.norm(total), 1e-12)
        sims = vectors[members] @ centroid
        order = members[np.argsort(-sims, kind="stable")]
        counts = Counter(s for i in members for s in set(signatures[i]))
        common = [s for s, c in counts.most_common(5) if c >= max(2, 0.05 * len(members))]
        named_by = [s for s, c in counts.most_common(1) if c >= max(2, 0.5 * len(members))]
        size = len(members)
        pairs = float((total @ total - size) / (size * (size - 1))) if size > 1 else None
        patterns.append(Pattern(
            id=g, size=size, name=pattern_name([titles[i] for i in order[:NAME_TITLES]], named_by, keywords.get(g, [])),
            keywords=keywords.get(g, []), signatures=common,
            representative=[int(i) for i in order[:n_representative]],
            cohesion=float(sims.mean()), centroid=centroid.astype(np.float32),
            members=[int(i) for i in members],
            theme=int(themes[g]) if themes is not None and g < len(themes) else -1,
            pair_similarity=pairs))
    return patterns


def themes_of_patterns(pattern_labels: np.ndarray, theme_labels: np.ndarray, n_patterns: int,
                       pattern_centroids: np.ndarray) -> np.ndarray:
    """The theme of each pattern: the one most of its members fall in.

    A pattern none of whose members has a theme takes the theme of the most similar pattern
    that has one. Returns ``-1`` for every pattern only when no document has a theme.
    """
    n_themes = int(theme_labels.max()) + 1 if len(theme_labels) else 0
    votes = np.zeros((n_patterns, max(n_themes, 1)))
    both = (pattern_labels >= 0) & (theme_labels >= 0)
    np.add.at(votes, (pattern_labels[both], theme_labels[both]), 1)
    themes = np.where(votes.sum(axis=1) > 0, votes.argmax(axis=1), -1)
    orphans, placed = np.flatnonzero(themes < 0), np.flatnonzero(themes >= 0)
    if len(orphans) and len(placed):
        nearest = np.argmax(pattern_centroids[orphans] @ pattern_centroids[placed].T, axis=1)
        themes[orphans] = themes[placed[nearest]]
    return themes


def build_themes(patterns: list[Pattern], titles: list[str], labels: np.ndarray) -> list[Theme]:
    """Themes that hold at least one pattern, renumbered 0.. by size; patterns' ``theme`` follow."""
    by_theme: dict[int, list[Pattern]] = {}
    for pattern in patterns:
        if pattern.theme >= 0:
            by_theme.setdefault(pattern.theme, []).append(pattern)
    ordered = sorted(by_theme.items(), key=lambda item: (-sum(p.size for p in item[1]), item[0]))
    themes = []
    for new_id, (_, members) in enumerate(ordered):
        members.sort(key=lambda p: -p.size)
        if len(members) == 1:
            # its one pattern's topic again: a second, shorter name for it only read worse ("Calls after
            # credential" beside "Client secret · AUTH-0401" on the demo)
            name = members[0].name
        else:
            member_titles = [titles[i] for p in members for i in p.representative]
            name = pattern_name(member_titles, max_chars=48, max_words=3) or members[0].name
        themes.append(Theme(id=new_id, name=name, patterns=[p.id for p in members],
                            size=sum(p.size for p in members)))
        for pattern in members:
            pattern.theme = new_id
    return themes
