"""Score a clustering against known labels: ACC (Hungarian), NMI, ARI, with noise counted as wrong."""

from __future__ import annotations

import json
import math
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score


def clustering_scores(truth: Sequence, predicted: Sequence[int]) -> dict[str, float]:
    """ACC, NMI and ARI in percent; noise (-1) is one extra group that ACC never counts as right."""
    truth = np.unique(np.asarray(truth, dtype=str), return_inverse=True)[1]
    predicted = np.asarray(predicted, dtype=np.int64)
    n = len(truth)
    if n == 0 or n != len(predicted):
        raise ValueError("truth and predicted must be non-empty and of equal length")
    assigned = predicted >= 0
    acc = 0.0
    if assigned.any():
        groups, group_index = np.unique(predicted[assigned], return_inverse=True)
        table = np.zeros((len(groups), truth.max() + 1))
        np.add.at(table, (group_index, truth[assigned]), 1)
        rows, cols = linear_sum_assignment(-table)
        acc = table[rows, cols].sum() / n
    with_noise = np.where(assigned, predicted, predicted.max() + 1)
    return {
        "acc": round(100 * float(acc), 2),
        "nmi": round(100 * float(normalized_mutual_info_score(truth, with_noise)), 2),
        "ari": round(100 * float(adjusted_rand_score(truth, with_noise)), 2),
    }


def load_labelled(path: str | Path) -> tuple[list[str], list]:
    """Read ``{"text": ..., "label": ...}`` lines; labels may be strings or numbers."""
    texts, labels = [], []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                texts.append(str(row["text"]))
                labels.append(row["label"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: expected a JSON object with 'text' and 'label'") from exc
    if not texts:
        raise ValueError(f"{path}: no labelled lines")
    return texts, labels


def choose_seeds(labels: Sequence, fraction: float, label_share: float = 0.75,
                 random_state: int = 0) -> dict[str, list[int]]:
    """Seeds as an implementation lead would file them: ``fraction`` of the items of 75% of the labels."""
    if not 0 < fraction <= 1:
        raise ValueError("seed fraction must be in (0, 1]")
    keys = np.asarray([str(label) for label in labels])
    distinct = sorted(set(keys.tolist()))
    rng = np.random.RandomState(random_state)
    n_labels = max(1, round(label_share * len(distinct)))
    chosen = sorted(rng.choice(len(distinct), n_labels, replace=False))
    seeds = {}
    for i in chosen:
        members = np.flatnonzero(keys == distinct[i])
        take = max(1, math.ceil(fraction * len(members)))
        seeds[distinct[i]] = sorted(int(m) for m in rng.choice(members, take, replace=False))
    return seeds


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def purity(truth: Sequence, predicted: Sequence[int]) -> float:
    """Size-weighted purity: the share of all items that are in their group's majority label (noise never is)."""
    truth = np.unique(np.asarray(truth, dtype=str), return_inverse=True)[1]
    predicted = np.asarray(predicted, dtype=np.int64)
    assigned = predicted >= 0
    if not assigned.any():
        return 0.0
    groups = np.unique(predicted[assigned], return_inverse=True)[1]
    table = np.zeros((groups.max() + 1, truth.max() + 1))
    np.add.at(table, (groups, truth[assigned]), 1)
    return round(float(table.max(axis=1).sum() / len(truth)), 4)


def level_scores(truth: Sequence, predicted: Sequence[int]) -> dict:
    """ACC / NMI / ARI, group count, noise share and size-weighted purity of one level."""
    predicted = np.asarray(predicted, dtype=np.int64)
    result = clustering_scores(truth, predicted)
    result.update({
        "n_clusters": int(len(np.unique(predicted[predicted >= 0]))),
        "noise_fraction": round(float(np.mean(predicted < 0)), 4),
        "purity": purity(truth, predicted),
    })
    return result


def kmeans_baseline(vectors: np.ndarray, k: int, random_state: int = 0) -> np.ndarray:
    """Plain k-means (scikit-learn, 10 restarts) on the same vectors: the reference a design must beat."""
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=10, random_state=random_state).fit_predict(vectors)


def evaluate_file(path: str | Path, k: int | None = None, seed_fraction: float | None = None,
                  embedder=None, embeddings: np.ndarray | None = None, baseline: str | None = None,
                  details: np.ndarray | None = None, **miner_params) -> dict:
    """Mine a labelled file and score both levels (patterns and themes) against its labels.

    With ``baseline="kmeans"`` plain k-means runs on the same sentence vectors, given the true number
    of labels (or ``k`` when given), and each level's ratio to it is reported. ``details`` go with
    given ``embeddings`` (the encoder's word-level detail, ``mining.embedders``).
    """
    from mining.documents import document_text
    from mining.embedders import SentenceTransformerEmbedder, embed_with_detail
    from mining.pipeline import PatternMiner, as_documents

    texts, labels = load_labelled(path)
    seeds = choose_seeds(labels, seed_fraction) if seed_fraction else None
    started = time.perf_counter()
    if embeddings is None:
        # embedded once here, so the baseline clusters exactly the vectors the miner saw
        embedder = embedder if embedder is not None else SentenceTransformerEmbedder()
        embeddings, details = embed_with_detail(embedder, [document_text(d) for d in as_documents(texts)])
    miner = PatternMiner(embedder=embedder, n_patterns=k, **miner_params)
    miner.fit(texts, seeds=seeds, embeddings=embeddings, details=details)
    seconds = time.perf_counter() - started
    result = {
        "patterns": level_scores(labels, miner.labels_),
        "themes": level_scores(labels, miner.theme_labels_),
        "n_labels": len(set(map(str, labels))),
        "seconds": round(seconds, 2),
    }
    if baseline == "kmeans":
        vectors = np.asarray(embeddings, dtype=np.float32)
        n_groups = k or result["n_labels"]
        base = level_scores(labels, kmeans_baseline(vectors, n_groups, miner.random_state))
        base["k"] = n_groups
        result["kmeans"] = base
        result["ratio"] = {level: {metric: round(result[level][metric] / base[metric], 3) if base[metric] else None
                                   for metric in ("acc", "nmi", "ari")} for level in ("patterns", "themes")}
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    return result
