"""Fit time and peak memory of PatternMiner on cached embeddings: 5k, 20k and 100k documents.

Usage: python bench/mining_fit.py [--sizes 5000,20000,100000] [--cache DIR]

Texts are StackOverflow20 titles (read from ../shared/data); 100k repeats them five times with
small perturbations (a suffix on the text, noise on the vector). Each size runs in its own
process so its peak RSS is its own. Prints wall and CPU seconds and the growth exponent.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "stackoverflow20" / "titles.jsonl"
sys.path.insert(0, str(ROOT))


def corpus(n: int, cache: str):
    """n texts, their (cached) MiniLM vectors and word-level detail."""
    import numpy as np

    from mining.__main__ import make_embedder
    from mining.documents import Document, document_text

    titles = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    base, base_detail = make_embedder("minilm", cache).embed_with_detail(
        [document_text(Document(id=0, title=t)) for t in titles])
    rng = np.random.RandomState(0)
    texts, vectors, details = [], [], []
    for copy in range(math.ceil(n / len(titles))):
        suffix = "" if copy == 0 else f" ({copy})"
        texts += [t + suffix for t in titles]
        noise = 0 if copy == 0 else rng.normal(scale=0.01, size=base.shape).astype(np.float32)
        detail_noise = 0 if copy == 0 else rng.normal(scale=0.01, size=base_detail.shape).astype(np.float32)
        vectors.append(base + noise)
        details.append(base_detail + detail_noise)
    order = rng.permutation(len(texts))[:n] if n < len(texts) else np.arange(n)
    return [texts[i] for i in order], np.vstack(vectors)[order], np.vstack(details)[order]


def child(n: int, cache: str) -> None:
    from mining.evaluate import peak_rss_mb
    from mining.pipeline import PatternMiner

    texts, vectors, details = corpus(n, cache)
    # warm-up on a few documents: one-time imports (torch for top-k, scikit-learn parts) are not fit cost
    PatternMiner(show_progress=False).fit(texts[:300], embeddings=vectors[:300], details=details[:300])
    before = peak_rss_mb()
    wall, cpu = time.perf_counter(), time.process_time()
    miner = PatternMiner(show_progress=False).fit(texts, embeddings=vectors, details=details)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(json.dumps({"n": n, "wall": round(wall, 1), "cpu": round(cpu, 1), "patterns": len(miner.patterns_),
                      "noise": round(float((miner.labels_ < 0).mean()), 3),
                      "peak_rss_mb": round(peak_rss_mb(), 0), "rss_before_fit_mb": round(before, 0)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "groundwork-embedding-cache"))
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not DATA.exists():
        sys.exit(f"skipped: {DATA.name} not found under ../shared/data")
    if args.child:
        child(args.child, args.cache)
        return
    results = []
    for n in [int(s) for s in args.sizes.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--child", str(n), "--cache", args.cache],
                             capture_output=True, text=True, check=True)
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"n={r['n']:>7}  fit {r['wall']:6.1f} s wall  {r['cpu']:6.1f} s CPU  patterns {r['patterns']:3d}  "
              f"noise {100 * r['noise']:4.1f}%  peak RSS {r['peak_rss_mb']:.0f} MiB", flush=True)
    if len(results) >= 2:
        first, last = results[0], results[-1]
        for key in ("wall", "cpu"):
            exponent = math.log(last[key] / first[key]) / math.log(last["n"] / first["n"])
            print(f"growth exponent of fit {key} time {first['n']}->{last['n']}: {exponent:.2f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
