"""Compare clustering designs on StackOverflow20 and on generated support questions; prints a Markdown table.

Usage: python bench/mining_compare.py [--cache DIR] [--sets so20,support]

Every method gets the same MiniLM vectors (from the on-disk cache). Noise counts as wrong.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "stackoverflow20" / "titles.jsonl"
sys.path.insert(0, str(ROOT))

from mining.__main__ import make_embedder  # noqa: E402
from mining.clustering import PatternClusterer, nearest_neighbors, smooth  # noqa: E402
from mining.documents import Document, document_text  # noqa: E402
from mining.embedders import TfidfEmbedder  # noqa: E402
from mining.evaluate import choose_seeds, clustering_scores  # noqa: E402
from mining.kmeans import kmeans  # noqa: E402
from mining.pipeline import PatternMiner  # noqa: E402
from tests.synthetic import make_support_questions  # noqa: E402


def load_sets(names: list[str]):
    sets = {}
    if "so20" in names and DATA.exists():
        rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
        sets["StackOverflow20 (20,000 titles, 20 tags)"] = ([r["text"] for r in rows], [r["label"] for r in rows])
    if "support" in names:
        texts, labels = make_support_questions(n_intents=30, per_intent=60, random_state=1)
        sets["support questions (1,800, 30 intents)"] = (texts, labels)
    return sets


def silhouette_k(z, rng):
    from sklearn.metrics import silhouette_score

    sample = z[rng.choice(len(z), min(4000, len(z)), replace=False)]
    best = (0, -1.0)
    for k in [5, 8, 10, 12, 15, 18, 20, 22, 25, 30, 35, 40, 50, 60]:
        if k >= len(sample) / 10:
            break
        labels, _ = kmeans(sample, k, np.random.RandomState(0))
        score = silhouette_score(sample, labels, metric="cosine")
        best = max(best, (k, score), key=lambda t: t[1])
    return best[0]


def methods(texts, labels, x):
    n_true = len(set(map(str, labels)))
    rng = np.random.RandomState(0)
    min_size = max(10, len(x) // 400)

    def km(z, k):
        return kmeans(z, k, np.random.RandomState(0), n_init=3)[0]

    def smoothed(z):
        return smooth(z, z, nearest_neighbors(z, z, 10, exclude_self_offset=0), 0.5)

    def hdbscan(z):
        from sklearn.cluster import HDBSCAN
        from sklearn.decomposition import PCA

        reduced = PCA(50, random_state=0).fit_transform(z)
        return HDBSCAN(min_cluster_size=min_size, copy=True).fit_predict(reduced)

    def agglomerative(z):
        from sklearn.cluster import AgglomerativeClustering
        from sklearn.neighbors import kneighbors_graph

        graph = kneighbors_graph(z, 10, include_self=False)
        model = AgglomerativeClustering(n_clusters=None, distance_threshold=0.4, metric="cosine",
                                        linkage="average", connectivity=graph)
        found = model.fit_predict(z)
        counts = np.bincount(found)
        return np.where(counts[found] >= min_size, found, -1)

    tfidf = TfidfEmbedder().embed(texts)
    yield "TF-IDF + k-means", "yes", lambda: km(tfidf, n_true)
    yield "MiniLM + k-means", "yes", lambda: km(x, n_true)
    yield "MiniLM + k-means, k by silhouette", "no", lambda: km(x, silhouette_k(x, rng))
    yield "MiniLM + PCA-50 + HDBSCAN (min size n/400)", "no", lambda: hdbscan(x)
    if len(x) <= 5000:  # scikit-learn's connectivity-constrained average linkage ran > 10 min at 20k
        yield "MiniLM + agglomerative (average, cosine 0.4, kNN-sparse)", "no", lambda: agglomerative(x)
    yield "MiniLM kNN-smoothed + k-means", "yes", lambda: km(smoothed(x), n_true)
    yield "kNN-smoothed + k-means, k by silhouette", "no", lambda: km(smoothed(x), silhouette_k(smoothed(x), rng))
    yield "PatternClusterer on MiniLM only (lexical_weight=0)", "no", lambda: PatternClusterer(
        resolution=1.5).fit(x).labels_
    yield "**PatternMiner defaults** (MiniLM + TF-IDF channel)", "no", lambda: PatternMiner().fit(
        texts, embeddings=x).labels_
    yield "PatternMiner defaults + 10% seeds of 75% of labels", "no", lambda: PatternMiner().fit(
        texts, seeds=choose_seeds(labels, 0.1), embeddings=x).labels_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "groundwork-embedding-cache"))
    parser.add_argument("--sets", default="so20,support")
    parser.add_argument("--skip", type=int, default=0, help="skip the first N methods (to resume a long run)")
    args = parser.parse_args()
    embedder = make_embedder("minilm", args.cache)
    for name, (texts, labels) in load_sets(args.sets.split(",")).items():
        x = embedder.embed([document_text(Document(id=i, title=t)) for i, t in enumerate(texts)])
        print(f"\n{name}\n")
        print("| method | k given | ACC | NMI | ARI | clusters | noise | seconds |")
        print("|---|---|---|---|---|---|---|---|")
        for number, (method, given, run) in enumerate(methods(texts, labels, x)):
            if number < args.skip:
                continue
            started = time.perf_counter()
            predicted = np.asarray(run())
            seconds = time.perf_counter() - started
            s = clustering_scores(labels, predicted)
            print(f"| {method} | {given} | {s['acc']:.1f} | {s['nmi']:.1f} | {s['ari']:.1f} | "
                  f"{len(set(predicted[predicted >= 0].tolist()))} | {100 * np.mean(predicted < 0):.1f}% | "
                  f"{seconds:.1f} |", flush=True)


if __name__ == "__main__":
    main()
