"""German questions with the English-first MiniLM: do they land where their English originals do?

Usage: python bench/german_questions.py

bench/data/german_questions.jsonl holds 40 questions of the demo forum (title and opening sentences of threads
of 14 planted problems) with German translations of our own. Each is embedded in English and in German with the
real model (all-MiniLM-L6-v2, offline), and compared with:

- its own English original (cosine, and whether it is the nearest of the 40 English questions);
- the planted problems' patterns: a centroid per problem from the demo's other threads of that problem (title,
  body and accepted answer, as the mining run embeds them), so "same pattern" means the nearest centroid is the
  question's own problem, and the cosine to it is what assigning a new thread to a pattern would see;
- each other: the mean pairwise cosine of a problem's three questions, against the 0.42 a group needs to be
  published as one problem, in English, in German and mixed (what a forum with both languages would form).
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from forum.demo.generate import generate  # noqa: E402
from mining.documents import Document, document_text  # noqa: E402
from mining.embedders import SentenceTransformerEmbedder  # noqa: E402
from mining.granularity import SAME_PROBLEM_SIMILARITY  # noqa: E402
from mining.pipeline import PatternMiner  # noqa: E402

DATA = ROOT / "bench" / "data" / "german_questions.jsonl"


def problem_centroids(embedder, exclude: set[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """One normalised centroid per planted problem, from its demo threads not among the questions, and its
    outlier fence as a mining run computes it (the members' median cosine minus PatternMiner's
    ``outlier_spread`` robust spreads): a new text below it is left out of the pattern as noise."""
    spread = PatternMiner().outlier_spread
    texts = defaultdict(list)
    for thread in generate().threads:
        if thread.problem_key and thread.external_id not in exclude:
            accepted = thread.replies[thread.accepted_index].body_md if thread.accepted_index is not None else ""
            texts[thread.problem_key].append(document_text(Document(
                id=thread.external_id, title=thread.title, body=thread.body_md, answer=accepted)))
    keys = sorted(texts)
    centroids, fences = [], []
    for key in keys:
        vectors = embedder.embed(texts[key])
        centre = vectors.mean(axis=0)
        centre /= np.linalg.norm(centre)
        sims = vectors @ centre
        median = np.median(sims)
        fences.append(median - spread * max(1.4826 * np.median(np.abs(sims - median)), 0.02))
        centroids.append(centre)
    return keys, np.stack(centroids), np.array(fences)


def pattern_fit(vectors: np.ndarray, centroids: np.ndarray, own: np.ndarray) -> tuple[int, np.ndarray]:
    """How many rows have their own problem's centroid nearest, and each row's cosine to that centroid."""
    to_centroids = vectors @ centroids.T
    return int((to_centroids.argmax(axis=1) == own).sum()), to_centroids[np.arange(len(vectors)), own]


def cohesion(vectors: np.ndarray) -> float:
    """Mean pairwise cosine of normalised rows (the diagonal left out)."""
    sims = vectors @ vectors.T
    n = len(vectors)
    return float((sims.sum() - np.trace(sims)) / (n * (n - 1)))


def main() -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    embedder = SentenceTransformerEmbedder()
    started = time.perf_counter()
    en = embedder.embed([r["en"] for r in rows])
    de = embedder.embed([r["de"] for r in rows])
    keys, centroids, fences = problem_centroids(embedder, {r["thread"] for r in rows})
    seconds = time.perf_counter() - started
    problems = [r["problem"] for r in rows]
    own = np.array([keys.index(p) for p in problems])

    pair = np.einsum("ij,ij->i", en, de)
    cross = de @ en.T                       # German question i against every English question
    nearest_en = cross.argmax(axis=1)
    same_problem = np.array([[a == b for b in problems] for a in problems])
    np.fill_diagonal(same_problem, False)
    en_en = en @ en.T

    print(f"{len(rows)} questions, {len(keys)} problems; model {embedder.model_name}; "
          f"embedding {seconds:.1f} s; load average {os.getloadavg()[0]:.2f}")
    print()
    print("| measure | English | German |")
    print("|---|---|---|")
    print(f"| cosine to its own English original: mean / min / max | 1 | "
          f"{pair.mean():.3f} / {pair.min():.3f} / {pair.max():.3f} |")
    print(f"| nearest English question is its own original (of 40) | 40 | {int((nearest_en == np.arange(len(rows))).sum())} |")
    others_en = np.where(np.eye(len(rows), dtype=bool), -2.0, en_en)
    others_de = np.where(np.eye(len(rows), dtype=bool), -2.0, cross)
    print(f"| nearest other English question (its own original left out) is of the same problem | "
          f"{int(same_problem[np.arange(len(rows)), others_en.argmax(axis=1)].sum())} | "
          f"{int(same_problem[np.arange(len(rows)), others_de.argmax(axis=1)].sum())} |")
    print(f"| mean cosine to English questions of the same problem | {en_en[same_problem].mean():.3f} | "
          f"{cross[same_problem].mean():.3f} |")
    other = ~same_problem & ~np.eye(len(rows), dtype=bool)
    print(f"| mean cosine to English questions of other problems | {en_en[other].mean():.3f} | "
          f"{cross[other].mean():.3f} |")
    (en_hits, en_own), (de_hits, de_own) = (pattern_fit(v, centroids, own) for v in (en, de))
    print(f"| nearest pattern centroid is its own problem (of 40) | {en_hits} | {de_hits} |")
    print(f"| cosine to its own problem's centroid: mean / min | {en_own.mean():.3f} / {en_own.min():.3f} | "
          f"{de_own.mean():.3f} / {de_own.min():.3f} |")
    print(f"| above its problem's outlier fence (fences {fences.min():.2f}-{fences.max():.2f}), so assigned, "
          f"not noise | {int((en_own >= fences[own]).sum())} | {int((de_own >= fences[own]).sum())} |")
    groups = defaultdict(list)
    for i, p in enumerate(problems):
        groups[p].append(i)
    triples = [ix for ix in groups.values() if len(ix) >= 3]
    en_c = [cohesion(en[ix]) for ix in triples]
    de_c = [cohesion(de[ix]) for ix in triples]
    mixed = [cohesion(np.vstack([en[ix[:2]], de[ix[2:]]])) for ix in triples]
    print(f"| a problem's questions, mean pairwise cosine (mean over {len(triples)} problems) | "
          f"{np.mean(en_c):.3f} | {np.mean(de_c):.3f} |")
    print(f"| problems whose questions reach {SAME_PROBLEM_SIMILARITY} together | "
          f"{sum(c >= SAME_PROBLEM_SIMILARITY for c in en_c)} of {len(triples)} | "
          f"{sum(c >= SAME_PROBLEM_SIMILARITY for c in de_c)} of {len(triples)} |")
    print(f"| mixed: two English and one German question of a problem, mean pairwise cosine | "
          f"{np.mean(mixed):.3f} ({sum(c >= SAME_PROBLEM_SIMILARITY for c in mixed)} of {len(triples)} reach "
          f"{SAME_PROBLEM_SIMILARITY}) | |")
    print()
    print("Lowest German-to-English cosines:")
    for i in np.argsort(pair)[:5]:
        print(f"  {pair[i]:.3f}  {rows[i]['problem']}  {rows[i]['en'][:70]}")


if __name__ == "__main__":
    main()
