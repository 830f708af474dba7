"""Latency of PatternMiner.predict for one new document, model loaded, after a fit on 20k titles.

Usage: python bench/mining_predict.py [--cache DIR] [--repeats 50]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "groundwork-embedding-cache"))
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()
    from mining_fit import DATA, corpus

    if not DATA.exists():
        sys.exit(f"skipped: {DATA.name} not found under ../shared/data")
    from mining.documents import Document
    from mining.embedders import SentenceTransformerEmbedder
    from mining.pipeline import PatternMiner

    texts, vectors = corpus(20000, args.cache)
    embedder = SentenceTransformerEmbedder(show_progress=False)
    miner = PatternMiner(embedder=embedder, show_progress=False).fit(texts, embeddings=vectors)
    embedder.embed(["warm-up"])
    new = [Document(id=f"n{i}", title=t, body="We followed the install guide step by step and it still fails.")
           for i, t in enumerate(texts[:args.repeats])]
    with_text, vector_only = [], []
    for doc in new:
        started = time.perf_counter()
        miner.predict([doc])
        with_text.append(1000 * (time.perf_counter() - started))
    for row in vectors[:args.repeats]:
        started = time.perf_counter()
        miner.predict(embeddings=row[None, :])
        vector_only.append(1000 * (time.perf_counter() - started))
    for label, times in (("document (embed + assign)", with_text), ("stored vector (assign only)", vector_only)):
        print(f"predict one {label}: median {statistics.median(times):.1f} ms, "
              f"p90 {sorted(times)[int(0.9 * len(times))]:.1f} ms over {len(times)}")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
