"""The vector index at 1M threads: the product's lookup over an index file of the realistic 1M set, and the
memory of a web worker that holds it.

A forum database of 1M threads takes longer to fill on this shared 2-core machine than there was time for (the
full-text triggers index every thread), so the two database steps of a lookup are served from memory here and
measured end to end at 100k threads by ``bench/vector_lookup.py``: the stored float vectors of the candidates
(one query by primary key there) come from the set's own float32 file, and which candidates the reader may see
(one query by primary key there) from the same visibility draw as that script. Everything else is the product's
code: ``similar._semantic`` (growing pool, visibility, exact order) over ``index.nearest`` (the memory-mapped
usearch file plus the exact tail).

    .venv/bin/python bench/vector_index_scale.py --build          # builds bench/out/prebuilt/threads-1000000.usearch
    .venv/bin/python bench/vector_index_scale.py --rounds 300
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from vector_data import dataset, queries  # noqa: E402
from vector_lookup import CUSTOMERS, exact_visible, visibility_of  # noqa: E402

OUT = ROOT / "bench" / "out" / "prebuilt"


def index_path(size: int) -> Path:
    return OUT / f"threads-{size}.usearch"


def build(size: int) -> None:
    """The index of the whole set, keyed by thread id (row + 1), with the product's settings."""
    from mining.ann import VectorIndex

    vectors = dataset(size)
    started = time.perf_counter()
    index = VectorIndex()
    for start in range(0, size, 50_000):
        block = np.asarray(vectors[start:start + 50_000])
        index.add(np.arange(start + 1, start + 1 + block.shape[0]), block)
    index.save(index_path(size))
    print(f"built {size:,} in {time.perf_counter() - started:.0f} s: {index_path(size).stat().st_size / 2**20:.0f} MB")


def measure(size: int, rounds: int) -> None:
    from forum.services.vectors import index as vector_index
    from forum.services.vectors import similar, store
    from forum.services.vectors.index import VectorMatrix
    from mining.ann import VectorIndex

    vectors = dataset(size)
    visibility = visibility_of(size)
    allowed = {"customer": (visibility == 0) | ((visibility == 1) & (np.arange(1, size + 1) % CUSTOMERS == 17)),
               "employee": np.ones(size, dtype=bool)}
    started = time.perf_counter()
    opened = store.OpenIndex(VectorIndex.open(index_path(size)), size, size, (0, 0))
    print(f"{size:,} vectors: index opened in {(time.perf_counter() - started) * 1000:.0f} ms (memory map)")
    matrix = VectorMatrix("bench", (size, "h"), np.zeros(0, np.int64), np.zeros((0, 384), np.float32),
                          time.monotonic(), ann=opened, top_row=size)

    def stored(_model, ids):  # the candidates' float vectors: one primary-key query in the product
        ids = np.asarray(ids, dtype=np.int64)
        return ids, np.asarray(vectors[ids - 1], dtype=np.float32)

    vector_index.stored_unit_vectors = stored
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")  # as in vector_lookup.py: no spinning BLAS thread between lookups
    drafts = queries(rounds)
    print("| lookup | role | wall p50 | wall p95 | CPU p50 | recall@10 vs exact | pool grew |\n|---|---|---|---|---|---|---|")
    for role in ("customer", "employee"):
        def visible_among(_user, ids, role=role):  # which candidates the reader may see: SQL in the product
            return {tid: (tid, f"Thread {tid}", None, None) for tid in ids if allowed[role][tid - 1]}

        similar._visible_among = visible_among
        times, cpu, recall, grew = [], [], [], 0
        original, calls = vector_index.nearest, []

        def counted(*args, calls=calls, original=original, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        vector_index.nearest = counted
        for q in drafts:
            calls.clear()
            t0, c0 = time.perf_counter(), time.process_time()
            found = similar._semantic(None, matrix, q, 10, 0.0, set())
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            grew += len(calls) > 1
            truth = exact_visible(vectors, allowed[role], q)
            recall.append(len({item.id for item in found[:10]} & set(truth)) / 10)
        vector_index.nearest = original
        p50, p95 = np.percentile(np.asarray(times) * 1000, [50, 95])
        print(f"| index lookup, visible top 10 | {role} | {p50:.1f} ms | {p95:.1f} ms | {np.median(cpu) * 1000:.1f} ms | "
              f"{np.mean(recall):.3f} | {grew} of {len(drafts)} |", flush=True)


WORKER = """
import json, sys, time, numpy as np
sys.path.insert(0, {root!r}); sys.path.insert(0, {bench!r})
from vector_data import queries
def rss():
    fields = dict(line.split(':', 1) for line in open('/proc/self/status'))
    return {{k: int(fields[k].split()[0]) // 1024 for k in ('VmRSS', 'RssAnon', 'RssFile', 'VmHWM')}}
from forum import create_app
app = create_app({{"SECRET_KEY": "bench-only", "SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": False}})
from mining.ann import VectorIndex
from mining.embedders import SentenceTransformerEmbedder
stages = {{"app": rss()}}
index = VectorIndex.open({path!r})
stages["index opened"] = rss()
model = SentenceTransformerEmbedder(num_threads=1)
model.embed(["Connection pool exhausted after the upgrade to 4.2"])
stages["model loaded, one draft embedded"] = rss()
for q in queries({rounds}):
    index.search(q, 110)
stages["after {rounds} lookups"] = rss()
print(json.dumps(stages))
"""


def worker_memory(size: int, rounds: int) -> None:
    """RSS of a fresh process with the app, the index file open and MiniLM loaded, as a web worker holds them."""
    code = WORKER.format(root=str(ROOT), bench=str(ROOT / "bench"), path=str(index_path(size)), rounds=rounds)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if done.returncode:
        print(done.stderr[-3000:])
        return
    stages = json.loads(done.stdout.strip().splitlines()[-1])
    print("\nworker memory (MB):")
    for stage, m in stages.items():
        print(f"- {stage}: RSS {m['VmRSS']} (anonymous {m['RssAnon']}, file-backed {m['RssFile']}), peak {m['VmHWM']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--build", action="store_true")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}")
    if args.build or not index_path(args.size).exists():
        build(args.size)
    measure(args.size, args.rounds)
    worker_memory(args.size, args.rounds)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
