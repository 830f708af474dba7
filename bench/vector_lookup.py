"""Similar threads and semantic search through the vector index at up to 1M threads (issue 16, items 2 and 5).

Builds (once) a forum of N threads whose stored vectors are the realistic set of ``bench/vector_data.py``
(real MiniLM titles, perturbed and mixed), 83% public, 9% private to one of 400 customers, 8% internal; builds
the index file with the rebuild job (timed); then, in-process, per role (a customer, an employee):

- ``suggest``: the ask page's lookup (``similar.similar_to_draft``: the visible nearest, with snippets);
- ``related``: a thread page's related threads (``similar.related_threads``), a thread not seen before;
- ``search``: the semantic half of the search page (``search._semantic_ranking``, visibility in SQL);

each timed and checked against exact search over the threads the role may see (recall@10, float32 cosine in
numpy over every stored vector). A web worker's memory with the index open is measured by
``bench/vector_index_scale.py``.

    .venv/bin/python bench/vector_lookup.py --threads 1000000 --db sqlite
    .venv/bin/python bench/vector_lookup.py --threads 200000 --db sqlite,postgres --rounds 200

``--forum-db`` measures the same lookups on a ``bench/forum_data.py`` forum instead (1M threads / 10M replies),
whose realistic vectors and index file ``bench/worker_memory.py`` stored and placed, with each role's visible
threads as the forum's own rules give them:

    .venv/bin/python bench/vector_lookup.py --threads 1000000 --forum-db sqlite:///<copy> \
        --index-dir bench/out/vector-index-sqlite-1000000
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from vector_data import dataset, queries  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MODEL = "bench-minilm-384"
CUSTOMERS = 400


def _url(db: str, threads: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{OUT / f'vector_bench_{threads}.sqlite'}"
    return PG_ADMIN.rsplit("/", 1)[0] + f"/groundwork_vector_bench_{threads}"


def _app(url: str):
    from forum import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "TESTING": False,
                       "RATELIMIT_ENABLED": False, "MINING_IN_BACKGROUND": False, "SERVER_NAME": "bench.test",
                       "VECTOR_INDEX_DIR": str(OUT / "vector-index"), "SUGGEST_MIN_SCORE": 0.0,
                       "SEARCH_MIN_SCORE": 0.0, "VECTOR_INDEX_MIN_ROWS": 10**9})


def visibility_of(threads: int) -> np.ndarray:
    """0 public, 1 private to the customer ``2 + i % CUSTOMERS``, 2 internal (the same draw every time)."""
    return np.random.default_rng(11).choice(3, size=threads, p=[0.83, 0.09, 0.08])


def build(db: str, threads: int) -> str:
    """Create and fill the database unless it already holds ``threads`` embedded threads."""
    from flask_migrate import upgrade

    from forum.extensions import db as sqla
    from forum.models import Organisation, Space, Thread, ThreadEmbedding, User

    url = _url(db, threads)
    if db == "postgres":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            name = url.rsplit("/", 1)[1]
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    OUT.mkdir(parents=True, exist_ok=True)
    app = _app(url)
    with app.app_context():
        upgrade(revision="heads")
        if sqla.session.execute(text("SELECT count(*) FROM thread_embedding")).scalar() == threads:
            return url
        started = time.perf_counter()
        vectors = dataset(threads)
        visibility = visibility_of(threads)
        status = np.random.default_rng(12).choice(["open", "answered", "resolved"], size=threads, p=[0.2, 0.5, 0.3])
        conn = sqla.session.connection()
        if db == "sqlite":
            conn.exec_driver_sql("PRAGMA synchronous=OFF")
        conn.execute(insert(Organisation), [
            {"id": 1, "name": "Vendor", "slug": "vendor", "kind": "vendor"},
            *({"id": i, "name": f"Customer {i}", "slug": f"customer-{i}", "kind": "customer"}
              for i in range(2, 2 + CUSTOMERS))])
        conn.execute(insert(User), [{"id": i, "email": f"u{i}@x.test", "username": f"u{i}", "display_name": f"U{i}",
                                     "organisation_id": i} for i in range(1, 2 + CUSTOMERS)])
        conn.execute(insert(Space), [{"id": 1, "slug": "installs", "name": "Installs"}])
        kinds = ("public", "org_private", "internal")
        for start in range(0, threads, 20_000):
            ids = range(start + 1, min(start + 20_001, threads + 1))
            conn.execute(insert(Thread), [{
                "id": i, "space_id": 1, "author_id": 2 + (i % CUSTOMERS) if visibility[i - 1] != 2 else 1,
                "organisation_id": 2 + (i % CUSTOMERS) if visibility[i - 1] != 2 else 1,
                "title": f"Thread {i}", "body_md": "Body", "body_html": "<p>Body</p>",
                "visibility": kinds[visibility[i - 1]], "status": status[i - 1]} for i in ids])
            block = np.asarray(vectors[start:start + len(ids)], dtype="<f4")
            conn.execute(insert(ThreadEmbedding), [{
                "thread_id": i, "model_name": MODEL, "content_hash": f"h{i}", "dimensions": block.shape[1],
                "vector": v.tobytes()} for i, v in zip(ids, block, strict=True)])
            if start % 100_000 == 0:
                print(f"  {start + len(ids):,} threads stored", file=sys.stderr, flush=True)
        sqla.session.commit()
        if db == "postgres":
            sqla.session.execute(text("SELECT setval('thread_id_seq', :n)"), {"n": threads})
            sqla.session.execute(text("ANALYZE"))
        else:
            sqla.session.execute(text("ANALYZE"))
        sqla.session.commit()
        print(f"built {db} with {threads:,} threads in {time.perf_counter() - started:.0f} s", flush=True)
    return url


class FixedEmbedder:
    """Returns the vector it was given last: the draft's embedding is timed apart (the worker check below)."""

    model_name = MODEL
    vector = np.zeros(384, dtype=np.float32)

    def embed(self, texts):
        return self.vector[None, :]


def _pct(samples: list[float]) -> str:
    p50, p95 = np.percentile(np.asarray(samples) * 1000, [50, 95])
    return f"{p50:.1f} ms | {p95:.1f} ms"


def exact_visible(vectors, allowed: np.ndarray, query: np.ndarray, k: int = 10) -> list[int]:
    """Thread ids (row + 1) of the exact top ``k`` among ``allowed`` rows."""
    best: list[tuple[float, int]] = []
    for start in range(0, vectors.shape[0], 200_000):
        scores = np.asarray(vectors[start:start + 200_000]) @ query
        scores[~allowed[start:start + 200_000]] = -np.inf
        part = np.argpartition(-scores, k)[:k]
        best += [(float(scores[i]), start + int(i) + 1) for i in part]
    return [tid for _score, tid in sorted(best, key=lambda item: (-item[0], item[1]))[:k]]


def measure(db: str, threads: int, rounds: int) -> None:
    """The lookups on the forum ``build`` made: its visibility draw, its customer 19 and employee 1."""
    from forum.extensions import db as sqla
    from forum.models import User
    from forum.services.vectors import index as vector_index
    from forum.services.vectors import store

    app = _app(_url(db, threads))
    visibility = visibility_of(threads)
    allowed = {"customer": (visibility == 0) | ((visibility == 1) & (np.arange(1, threads + 1) % CUSTOMERS == 17)),
               "employee": np.ones(threads, dtype=bool)}
    with app.test_request_context():
        path = store.path_for(vector_index.database_key(), MODEL)
        if not path.exists():
            started = time.perf_counter()
            store.rebuild(MODEL)
            print(f"index built by the rebuild job in {time.perf_counter() - started:.0f} s: "
                  f"{path.stat().st_size / 2**20:.0f} MB", flush=True)
        users = {"customer": sqla.session.get(User, 2 + 17), "employee": sqla.session.get(User, 1)}
        lookups(f"{db}, {threads:,} threads", MODEL, dataset(threads), allowed, users, rounds)


def measure_forum(url: str, threads: int, rounds: int, index_dir: str) -> None:
    """The lookups on a ``bench/forum_data.py`` forum whose stored vectors are the realistic set (thread ``i``
    row ``i - 1``, as ``bench/worker_memory.py`` stores them, its index file placed in ``index_dir``): the bench
    customer and employee, each thread's visibility as the forum's own rules give it."""
    import json

    from forum_data import bench_config, marker_path
    from sqlalchemy import select

    from forum import create_app
    from forum.extensions import db as sqla
    from forum.models import Thread, User
    from forum.permissions import visible_threads
    from forum.services.vectors.embeddings import embedder_key, get_embedder

    app = create_app(dict(bench_config(url), VECTOR_INDEX_DIR=index_dir, SERVER_NAME="bench.test",
                          SUGGEST_MIN_SCORE=0.0, SEARCH_MIN_SCORE=0.0))
    emails = json.loads(marker_path("sqlite" if url.startswith("sqlite") else "postgres", url).read_text())
    with app.test_request_context():
        model = embedder_key(get_embedder())  # the settings only: the model itself is not loaded
        users, allowed = {}, {}
        for role in ("customer", "employee"):
            user = sqla.session.execute(select(User).where(
                User.email == emails["targets"]["users"][role])).scalar_one()
            mask = np.zeros(threads, dtype=bool)
            ids = np.fromiter(sqla.session.execute(select(Thread.id).where(visible_threads(user))).scalars(), np.int64)
            mask[ids[ids <= threads] - 1] = True
            users[role], allowed[role] = user, mask
            print(f"{role}: sees {int(mask.sum()):,} of {threads:,} threads", flush=True)
        sqla.session.rollback()
        lookups(f"{url.rsplit('/', 1)[1]}, {threads:,} threads (bench/forum_data.py)", model, dataset(threads),
                allowed, users, rounds)


def lookups(label: str, model: str, vectors, allowed: dict[str, np.ndarray], users: dict, rounds: int) -> None:
    """Time ``suggest``, ``search`` and ``related`` per role and check each against exact search (recall@10)."""
    from forum.extensions import db as sqla
    from forum.models import Thread
    from forum.permissions import visible_threads
    from forum.services.board import search
    from forum.services.vectors import index as vector_index
    from forum.services.vectors import similar

    embedder = FixedEmbedder()
    embedder.model_name = model
    similar.query_embedder = lambda: embedder
    similar._model_key = lambda e: e.model_name
    threads = vectors.shape[0]
    from threadpoolctl import threadpool_limits

    # Exact search for the recall runs between the timed lookups: on one BLAS thread, so no spinning BLAS thread
    # is left behind to take a core from (and add CPU time to) the lookup timed next.
    with threadpool_limits(limits=1, user_api="blas"):
        vector_index.clear_caches()
        started = time.perf_counter()
        matrix = vector_index.current_matrix(model)
        print(f"\n{label}: index opened in {time.perf_counter() - started:.2f} s "
              f"({matrix.ann.count:,} vectors in the file, {matrix.tail_size} in the tail)")
        drafts = queries(rounds)
        print("| lookup | role | wall p50 | wall p95 | CPU p50 | recall@10 vs exact |\n|---|---|---|---|---|---|")
        for role, user in users.items():
            where = [visible_threads(user)]
            times = {"suggest": [], "related": [], "search": []}
            cpu = {"suggest": [], "related": [], "search": []}
            recall = {"suggest": [], "related": [], "search": []}
            for i, q in enumerate(drafts):
                embedder.vector = q
                truth = exact_visible(vectors, allowed[role], q)
                t0, c0 = time.perf_counter(), time.process_time()
                found = similar._semantic(user, matrix, q, 10, 0.0, set())
                times["suggest"].append(time.perf_counter() - t0)
                cpu["suggest"].append(time.process_time() - c0)
                recall["suggest"].append(len({item.id for item in found[:10]} & set(truth)) / 10)
                t0, c0 = time.perf_counter(), time.process_time()
                ranked = search._semantic_ranking(where, f"draft {i}")
                times["search"].append(time.perf_counter() - t0)
                cpu["search"].append(time.process_time() - c0)
                recall["search"].append(len(set(ranked[:10]) & set(truth)) / 10)
                tid = 1 + (i * 7919) % threads
                while not allowed[role][tid - 1]:
                    tid = tid % threads + 1
                thread = sqla.session.get(Thread, tid)
                t0, c0 = time.perf_counter(), time.process_time()
                related = similar.related_threads(user, thread, limit=10)
                times["related"].append(time.perf_counter() - t0)
                cpu["related"].append(time.process_time() - c0)
                own = np.asarray(vectors[tid - 1])
                mask = allowed[role].copy()
                mask[tid - 1] = False
                truth = exact_visible(vectors, mask, own)
                recall["related"].append(len({item.id for item in related} & set(truth)) / 10)
                sqla.session.rollback()
            for name in times:
                print(f"| {name} | {role} | {_pct(times[name])} | {np.median(cpu[name]) * 1000:.1f} ms |"
                      f" {np.mean(recall[name]):.3f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1_000_000)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--forum-db", help="measure on this bench/forum_data.py database instead (URL), whose "
                                           "vectors and index bench/worker_memory.py stored and placed")
    parser.add_argument("--index-dir", help="with --forum-db: the folder of its index file")
    args = parser.parse_args()
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.2f}")
    if args.forum_db:
        measure_forum(args.forum_db, args.threads, args.rounds, args.index_dir)
        print(f"load {os.getloadavg()[0]:.2f}")
        return
    for db in args.db.split(","):
        build(db, args.threads)
        measure(db, args.threads, args.rounds)
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
