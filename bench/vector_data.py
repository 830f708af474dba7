"""A realistic set of up to millions of 384-d vectors for the vector-index benchmarks (issue 16, item 5).

Uniform random vectors have no neighbourhoods, so recall measured on them means little. This set keeps the
structure of real embeddings:

1. every text of ``shared/data/stackoverflow20`` (20,000 titles) and ``shared/data/hwu64`` (11,036
   utterances) is encoded once with all-MiniLM-L6-v2 (cached in ``bench/out/real_titles.npy``);
2. each synthetic vector mixes a real vector with another real vector **of the same label**
   (``(1 - t) a + t b``, ``t`` uniform in [0, 0.35]) and adds Gaussian noise (sigma 0.02 per dimension,
   about cosine 0.9 to the mix), then is normalised; so the set has the real labels' clusters and the
   real titles' fine structure, at any size;
3. the queries are made the same way from the real vectors with another seed (a new question near
   existing ones), plus the real vectors themselves.

    .venv/bin/python bench/vector_data.py --size 1000000      # writes bench/out/vectors_1000000.npy
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
DATA = ROOT.parent / "shared" / "data"
SOURCES = (("stackoverflow20", "titles.jsonl"), ("hwu64", "all.jsonl"))
MIX, NOISE = 0.35, 0.02


def real_texts() -> tuple[list[str], list[str]]:
    """Every real text, in the order of ``real_vectors``, and its label (prefixed by its set)."""
    texts, labels = [], []
    for number, (folder, name) in enumerate(SOURCES):
        for line in (DATA / folder / name).read_text().splitlines():
            row = json.loads(line)
            texts.append(row["text"])
            labels.append(f"{number}:{row['label']}")
    return texts, labels


def real_vectors() -> tuple[np.ndarray, np.ndarray]:
    """The MiniLM vectors of every real text and their labels (distinct across the two sets), cached."""
    OUT.mkdir(parents=True, exist_ok=True)
    cache, labels_file = OUT / "real_titles.npy", OUT / "real_titles_labels.npy"
    if cache.exists() and labels_file.exists():
        return np.load(cache), np.load(labels_file)
    texts, labels = real_texts()
    from mining.embedders import SentenceTransformerEmbedder

    started = time.perf_counter()
    vectors = SentenceTransformerEmbedder(batch_size=32, show_progress=False).embed(texts).astype(np.float32)
    print(f"encoded {len(texts):,} real texts in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    codes = np.unique(np.asarray(labels), return_inverse=True)[1].astype(np.int32)
    np.save(cache, vectors)
    np.save(labels_file, codes)
    return vectors, codes


def synthesise(real: np.ndarray, labels: np.ndarray, size: int, seed: int,
               with_sources: bool = False) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """``size`` unit vectors, each a noisy mix of two real vectors of one label.

    With ``with_sources`` also the index of the real vector each one starts from (its label and text).
    """
    rng = np.random.default_rng(seed)
    by_label = [np.flatnonzero(labels == code) for code in range(int(labels.max()) + 1)]
    out = np.empty((size, real.shape[1]), dtype=np.float32)
    sources = np.empty(size, dtype=np.int64)
    step = 100_000
    for start in range(0, size, step):
        n = min(step, size - start)
        first = rng.integers(0, real.shape[0], n)
        second = np.array([by_label[labels[i]][rng.integers(0, len(by_label[labels[i]]))] for i in first])
        t = rng.uniform(0.0, MIX, (n, 1)).astype(np.float32)
        block = (1 - t) * real[first] + t * real[second]
        block += rng.normal(0.0, NOISE, block.shape).astype(np.float32)
        out[start:start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
        sources[start:start + n] = first
    return (out, sources) if with_sources else out


def dataset(size: int) -> np.ndarray:
    """The ``size``-vector set (built once, then read from ``bench/out``)."""
    path = OUT / f"vectors_{size}.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    real, labels = real_vectors()
    vectors = synthesise(real, labels, size, seed=size)
    np.save(path, vectors)
    return vectors


def queries(count: int) -> np.ndarray:
    """``count`` query vectors: half new mixes near real texts, half real texts themselves."""
    real, labels = real_vectors()
    rng = np.random.default_rng(99)
    mixed = synthesise(real, labels, count - count // 2, seed=12345)
    return np.vstack([mixed, real[rng.choice(real.shape[0], count // 2, replace=False)]]).astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    vectors = dataset(args.size)
    print(f"{vectors.shape[0]:,} vectors of {vectors.shape[1]} dimensions in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
