"""Clustering at 1M vectors: SampledPatternMiner's wall time and peak RSS at 100k, 300k and 1M, and its quality.

Usage: python bench/mining_scale.py [--sizes 100000,300000,1000000] [--sample-size 50000] [--quality 100000]
                                    [--neighbours] [--real] [--skip-scale]

Data (``bench/vector_data.py``): real MiniLM vectors of StackOverflow20's titles and HWU64's utterances, each
synthetic vector a noisy mix of two real vectors of one label; it keeps the label and the text of the real
vector it starts from, so the miner has texts to name patterns with and the result has labels to score.

* scale: each size runs in its own process (its peak RSS is its own: the vectors, the fit and the assignment);
  prints wall and CPU seconds, peak RSS and the growth exponent (log time ratio / log size ratio);
* quality (``--quality``): at that size the full ``PatternMiner`` fit and the sampled one side by side in one
  process: NMI / ACC / ARI against the labels (noise counts as wrong) and NMI between the two partitions;
* ``--real``: StackOverflow20 and HWU64 at their own size (the sample is larger, so the sampled miner must
  give the full fit's partition), and forced to a sample of a quarter of the set, for comparison.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def labelled_set(size: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """``size`` synthetic vectors with the text and label of the real vector each starts from."""
    from vector_data import real_texts, real_vectors, synthesise

    real, codes = real_vectors()
    texts, _ = real_texts()
    vectors, sources = synthesise(real, codes, size, seed=size, with_sources=True)
    return [texts[i] for i in sources], vectors, codes[sources]


def miner(sample_size: int | None, assign: str = "centre"):
    """The sampled miner (or, with ``None``, the plain one) with the forum's defaults."""
    from mining.pipeline import PatternMiner
    from mining.sampled import SampledPatternMiner

    plain = PatternMiner(show_progress=False)
    return plain if sample_size is None else SampledPatternMiner(plain, sample_size=sample_size, assign=assign)


def timed_fit(estimator, texts, vectors) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    estimator.fit(texts, embeddings=vectors)
    return time.perf_counter() - wall, time.process_time() - cpu


def scale_child(size: int, sample_size: int) -> None:
    from mining.evaluate import clustering_scores, peak_rss_mb

    texts, vectors, labels = labelled_set(size)
    # warm-up: one-time imports (torch for top-k, usearch, scikit-learn parts) are not fit cost
    miner(200).fit(texts[:400], embeddings=vectors[:400])
    before = peak_rss_mb()
    estimator = miner(sample_size)
    wall, cpu = timed_fit(estimator, texts, vectors)
    print(json.dumps({"n": size, "wall": round(wall, 1), "cpu": round(cpu, 1), "patterns": len(estimator.patterns_),
                      "noise": round(estimator.noise_fraction_, 3), "peak_rss_mb": round(peak_rss_mb()),
                      "rss_before_fit_mb": round(before), "load": round(os.getloadavg()[0], 1),
                      **clustering_scores(labels, estimator.labels_)}))


def compare(name: str, texts, vectors, labels, sample_sizes: list[int], neighbours: bool = False) -> None:
    """The full fit and sampled fits of one set side by side; one Markdown row each."""
    from mining.evaluate import clustering_scores

    def row(label: str, fitted, seconds: float, agreement: str) -> None:
        s = clustering_scores(labels, fitted.labels_)
        print(f"| {name} | {label} | {seconds:.0f} s | {len(fitted.patterns_)} | {100 * fitted.noise_fraction_:.1f}% "
              f"| {s['nmi']:.2f} | {s['acc']:.2f} | {s['ari']:.2f} | {agreement} |", flush=True)

    full = miner(None)
    row("full fit", full, timed_fit(full, texts, vectors)[0], "")
    runs = [(size, "centre") for size in sample_sizes] + ([(sample_sizes[0], "neighbours")] if neighbours else [])
    for size, assign in runs:
        sampled = miner(size, assign)
        seconds = timed_fit(sampled, texts, vectors)[0]
        engaged = "" if len(sampled.sample_) < len(texts) else " (not engaged: set <= sample)"
        row(f"sample {size:,}{', neighbour rule' if assign == 'neighbours' else ''}{engaged}", sampled, seconds,
            f"{clustering_scores(full.labels_.astype(str), sampled.labels_)['nmi']:.2f}")


def real_set(folder: str, name: str):
    from vector_data import real_texts, real_vectors

    real, _ = real_vectors()
    texts, labels = real_texts()
    rows = [i for i, label in enumerate(labels) if label.startswith(f"{('stackoverflow20', 'hwu64').index(folder)}:")]
    return [texts[i] for i in rows], real[rows], np.asarray(labels)[rows], name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,300000,1000000")
    parser.add_argument("--sample-size", type=int, default=50_000)
    parser.add_argument("--quality", type=int, default=100_000, help="size of the full-vs-sampled check; 0 skips")
    parser.add_argument("--real", action="store_true", help="also the real labelled sets at their size")
    parser.add_argument("--neighbours", action="store_true", help="also place by predict's neighbour rule")
    parser.add_argument("--skip-scale", action="store_true")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scale_child(args.child, args.sample_size)
        return
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    if args.quality or args.real:
        print("| set | fit | wall | patterns | unassigned | NMI | ACC | ARI | NMI vs full fit |\n"
              "|---|---|---|---|---|---|---|---|---|")
    if args.quality:
        texts, vectors, labels = labelled_set(args.quality)
        compare(f"synthetic {args.quality:,}", texts, vectors, labels, [args.sample_size], args.neighbours)
    if args.real:
        for folder, name in (("stackoverflow20", "StackOverflow20"), ("hwu64", "HWU64")):
            texts, vectors, labels, title = real_set(folder, name)
            compare(f"{title} ({len(texts):,})", texts, vectors, labels, [args.sample_size, len(texts) // 4])
    if args.skip_scale:
        return
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--sample-size", str(args.sample_size)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(r)
        print(f"n={r['n']:>8,}  {r['wall']:6.1f} s wall  {r['cpu']:6.1f} s CPU  peak RSS {r['peak_rss_mb']:,} MiB "
              f"(before fit {r['rss_before_fit_mb']:,})  patterns {r['patterns']}  unassigned {100 * r['noise']:.1f}%  "
              f"NMI {r['nmi']:.2f}  load {r['load']}", flush=True)
    for first, last in zip(results, results[1:], strict=False):
        for key in ("wall", "cpu"):
            exponent = math.log(last[key] / first[key]) / math.log(last["n"] / first["n"])
            print(f"growth exponent of {key} time {first['n']:,} -> {last['n']:,}: {exponent:.2f}")
    if len(results) > 2:
        first, last = results[0], results[-1]
        exponent = math.log(last["wall"] / first["wall"]) / math.log(last["n"] / first["n"])
        print(f"growth exponent of wall time {first['n']:,} -> {last['n']:,}: {exponent:.2f}")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
