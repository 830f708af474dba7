"""Embedding throughput: the pipeline's embedder (hashing + cache) against raw SentenceTransformer.encode.

Usage: python bench/embed_throughput.py [--n-short 2000] [--n-long 200] [--rounds 2]

Both run on the same texts, alternating in one process (timings here move 25-30% between runs,
so only side-by-side figures are comparable). Short texts are StackOverflow20 titles when
../shared/data is present, else generated questions; long texts (~250 tokens) join several.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "stackoverflow20" / "titles.jsonl"
sys.path.insert(0, str(ROOT))


def texts(n_short: int, n_long: int) -> tuple[list[str], list[str]]:
    if DATA.exists():
        pool = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        from tests.synthetic import make_support_questions

        pool = make_support_questions(n_intents=30, per_intent=400)[0]
    short = pool[:n_short]
    long = [" ".join(pool[n_short + 20 * i:n_short + 20 * i + 20]) for i in range(n_long)]
    return short, long


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-short", type=int, default=2000)
    parser.add_argument("--n-long", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    from mining.embedders import CachedEmbedder, InMemoryCache, SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(batch_size=32, show_progress=False)
    model = embedder.load()
    short, long = texts(args.n_short, args.n_long)
    model.encode(short[:64], batch_size=32)  # warm-up

    def raw(batch):
        return model.encode(batch, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)

    def pipeline(batch):  # a fresh cache each time: every text is really embedded
        return CachedEmbedder(embedder, InMemoryCache()).embed(batch)

    for label, batch in (("short titles", short), ("long texts (~250 tokens)", long)):
        best = {"raw encode": float("inf"), "pipeline": float("inf")}
        cpu = {"raw encode": float("inf"), "pipeline": float("inf")}
        for _ in range(args.rounds):
            for name, run in (("raw encode", raw), ("pipeline", pipeline)):
                started, started_cpu = time.perf_counter(), time.process_time()
                run(batch)
                best[name] = min(best[name], time.perf_counter() - started)
                cpu[name] = min(cpu[name], time.process_time() - started_cpu)
        rates = {name: len(batch) / seconds for name, seconds in best.items()}
        cpu_rates = {name: len(batch) / seconds for name, seconds in cpu.items()}
        # CPU-time rates stay comparable when other processes share the machine
        print(f"{label}: raw encode {rates['raw encode']:.0f} texts/s, pipeline {rates['pipeline']:.0f} texts/s "
              f"= {100 * rates['pipeline'] / rates['raw encode']:.0f}% of raw (wall); per CPU-second "
              f"{cpu_rates['raw encode']:.0f} vs {cpu_rates['pipeline']:.0f} = "
              f"{100 * cpu_rates['pipeline'] / cpu_rates['raw encode']:.0f}% (n={len(batch)}, best of {args.rounds})")
    cached = CachedEmbedder(embedder, InMemoryCache())
    cached.embed(short)
    started = time.perf_counter()
    cached.embed(short)
    print(f"re-embedding {len(short)} unchanged texts from the cache: {time.perf_counter() - started:.3f} s")
    print(f"threads {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
