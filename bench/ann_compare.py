"""Vector-index libraries side by side on the realistic vector set (``bench/vector_data.py``).

For each library and setting: build time (2 threads), size in memory or on disk, one-query latency on one
thread (p50 / p95 over the queries) and recall@10 against exact search (float32 cosine, numpy).

    python bench/ann_compare.py --size 200000                    # every library in the list
    python bench/ann_compare.py --size 1000000 --only usearch-i8

The libraries are optional here (only the chosen one is in requirements.txt); a missing one is skipped.
"""
from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from vector_data import dataset, queries  # noqa: E402

K = 10


def exact_top(vectors: np.ndarray, query: np.ndarray, k: int = K) -> np.ndarray:
    """Row numbers of the exact top ``k`` for each query (float32 cosine on unit vectors)."""
    best_rows = np.zeros((query.shape[0], 0), dtype=np.int64)
    best_scores = np.zeros((query.shape[0], 0), dtype=np.float32)
    for start in range(0, vectors.shape[0], 100_000):
        block = np.asarray(vectors[start:start + 100_000])
        scores = query @ block.T
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        best_rows = np.hstack([best_rows, part + start])
        best_scores = np.hstack([best_scores, np.take_along_axis(scores, part, axis=1)])
        keep = np.argsort(-best_scores, axis=1)[:, :k]
        best_rows = np.take_along_axis(best_rows, keep, axis=1)
        best_scores = np.take_along_axis(best_scores, keep, axis=1)
    return best_rows


def recall(found: list[np.ndarray], truth: np.ndarray) -> float:
    return float(np.mean([len(set(map(int, f[:K])) & set(map(int, t))) / K for f, t in zip(found, truth, strict=True)]))


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


# --- the libraries: build(vectors) -> (search(query, k) -> ids, bytes) --------------------------

def usearch_builder(dtype: str, connectivity: int, expansion_search: int):
    def build(vectors: np.ndarray):
        from usearch.index import Index

        index = Index(ndim=vectors.shape[1], metric="cos", dtype=dtype, connectivity=connectivity,
                      expansion_add=128, expansion_search=expansion_search)
        for start in range(0, vectors.shape[0], 100_000):
            block = np.ascontiguousarray(vectors[start:start + 100_000])
            index.add(np.arange(start, start + block.shape[0], dtype=np.uint64), block, threads=2)
        path = Path(tempfile.mkdtemp()) / "index.usearch"
        index.save(str(path))
        del index
        view = Index.restore(str(path), view=True)  # memory-mapped, as a web worker would open it

        def search(query: np.ndarray, k: int) -> np.ndarray:
            return view.search(query, k, threads=1).keys

        def tune(ef: int) -> None:
            view.expansion_search = ef

        search.tune = tune
        return search, path.stat().st_size
    return build


def faiss_hnsw_builder(kind: str, m: int, ef: int):
    def build(vectors: np.ndarray):
        import faiss

        faiss.omp_set_num_threads(2)
        d = vectors.shape[1]
        # The metric is a constructor argument: set afterwards, HNSW kept building by L2 (recall 0 in a first run).
        index = (faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, m, faiss.METRIC_INNER_PRODUCT) if kind == "sq8"
                 else faiss.IndexHNSWFlat(d, m, faiss.METRIC_INNER_PRODUCT))
        index.hnsw.efConstruction = 128
        if kind == "sq8":
            index.train(np.ascontiguousarray(vectors[:100_000]))
        for start in range(0, vectors.shape[0], 100_000):
            index.add(np.ascontiguousarray(vectors[start:start + 100_000]))
        faiss.omp_set_num_threads(1)
        index.hnsw.efSearch = ef

        def search(query: np.ndarray, k: int) -> np.ndarray:
            return index.search(query.reshape(1, -1), k)[1][0]

        def tune(value: int) -> None:
            index.hnsw.efSearch = value

        search.tune = tune
        return search, faiss.serialize_index(index).nbytes
    return build


def faiss_ivf_builder(nlist: int, nprobe: int):
    def build(vectors: np.ndarray):
        import faiss

        faiss.omp_set_num_threads(2)
        d = vectors.shape[1]
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        sample = np.ascontiguousarray(vectors[np.random.default_rng(0).choice(vectors.shape[0],
                                                                             min(vectors.shape[0], nlist * 40),
                                                                             replace=False)])
        index.train(sample)
        for start in range(0, vectors.shape[0], 100_000):
            index.add(np.ascontiguousarray(vectors[start:start + 100_000]))
        faiss.omp_set_num_threads(1)
        index.nprobe = nprobe

        def search(query: np.ndarray, k: int) -> np.ndarray:
            return index.search(query.reshape(1, -1), k)[1][0]

        def tune(value: int) -> None:
            index.nprobe = value

        search.tune = tune
        return search, faiss.serialize_index(index).nbytes
    return build


def voyager_builder(storage: str, m: int, ef: int):
    def build(vectors: np.ndarray):
        from voyager import Index, Space, StorageDataType

        index = Index(Space.Cosine, num_dimensions=vectors.shape[1], M=m, ef_construction=128,
                      storage_data_type=getattr(StorageDataType, storage))
        for start in range(0, vectors.shape[0], 100_000):
            block = np.array(vectors[start:start + 100_000], dtype=np.float32)  # writable: a memory map is not
            index.add_items(block, list(range(start, start + block.shape[0])), 2)
        state = {"ef": ef}

        def search(query: np.ndarray, k: int) -> np.ndarray:
            return index.query(query, k=k, query_ef=state["ef"])[0]

        def tune(value: int) -> None:
            state["ef"] = value

        search.tune = tune
        path = Path(tempfile.mkdtemp()) / "index.voy"
        index.save(str(path))
        return search, path.stat().st_size
    return build


LIBRARIES = {
    "usearch-i8": (usearch_builder("i8", 16, 64), (32, 64, 128)),
    "usearch-f16": (usearch_builder("f16", 16, 64), (32, 64, 128)),
    "faiss-hnsw-sq8": (faiss_hnsw_builder("sq8", 16, 64), (32, 64, 128)),
    "faiss-ivf-sq8": (faiss_ivf_builder(2048, 16), (8, 16, 32, 64)),
    "voyager-e4m3": (voyager_builder("E4M3", 16, 64), (32, 64, 128)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--only", default=",".join(LIBRARIES))
    args = parser.parse_args()
    vectors = dataset(args.size)
    query = queries(args.queries)
    started = time.perf_counter()
    truth = exact_top(vectors, query)
    print(f"{args.size:,} vectors, {args.queries} queries; exact search {1000 * (time.perf_counter() - started) / len(query):.1f} ms"
          f" per query (numpy, float32); load {os.getloadavg()[0]:.2f}")
    print("| library | setting | build | size | p50 | p95 | recall@10 |")
    print("|---|---|---|---|---|---|---|")
    for name in args.only.split(","):
        build, sweep = LIBRARIES[name]
        gc.collect()
        try:
            started = time.perf_counter()
            search, size = build(vectors)
        except ImportError as exc:
            print(f"| {name} | not installed ({exc}) |")
            continue
        built = time.perf_counter() - started
        for value in sweep:
            search.tune(value)
            for q in query[:20]:
                search(q, K)
            times, found = [], []
            for q in query:
                t0 = time.perf_counter()
                found.append(np.asarray(search(q, K)))
                times.append(1000 * (time.perf_counter() - t0))
            p50, p95 = np.percentile(times, [50, 95])
            print(f"| {name} | ef/nprobe {value} | {built:.0f} s | {size / 2**20:.0f} MB | {p50:.2f} ms | {p95:.2f} ms |"
                  f" {recall(found, truth):.3f} |", flush=True)
        del search
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
