"""Similar-threads lookup at scale: server time of the ask-page suggestions and of related threads.

Builds (once) a forum of N threads with stored 384-d vectors in clusters (so every draft has real
neighbours), then times, in-process, per role:

- ``suggest``: ``suggestions.suggest()`` for a draft, as POST /suggest/similar runs it, with the draft's
  vector given (the embedding of the draft itself is timed apart with the real model, ``--minilm``);
- ``related``: ``similar.related_threads()`` for a thread, as the thread page runs it;
- ``mask``: the fallback that ranks over exactly the visible rows (forced), first call and cached.

    .venv/bin/python bench/similar_lookup.py                 # SQLite and PostgreSQL, 100k threads
    .venv/bin/python bench/similar_lookup.py --threads 20000 --db sqlite --minilm
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from sqlalchemy import create_engine, insert, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PG_ADMIN = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DIM, CLUSTERS = 384, 2000


def _url(db: str, threads: int) -> str:
    if db == "sqlite":
        return f"sqlite:///{OUT / f'similar_bench_{threads}.sqlite'}"
    return PG_ADMIN.rsplit("/", 1)[0] + f"/groundwork_similar_bench_{threads}"


def _app(url: str):
    from forum import create_app

    return create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only", "TESTING": False,
                       "RATELIMIT_ENABLED": False, "MINING_IN_BACKGROUND": False, "SERVER_NAME": "bench.test"})


def _centroids() -> np.ndarray:
    rng = np.random.default_rng(7)
    c = rng.standard_normal((CLUSTERS, DIM)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def build(db: str, threads: int) -> str:
    """Create and fill the database unless it already holds ``threads`` embedded threads."""
    from flask_migrate import upgrade

    from forum.extensions import db as sqla
    from forum.models import Organisation, Space, Thread, ThreadEmbedding, User

    url = _url(db, threads)
    if db == "postgres":
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": url.rsplit("/", 1)[1]}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.rsplit("/", 1)[1]}"'))
        admin.dispose()
    OUT.mkdir(parents=True, exist_ok=True)
    app = _app(url)
    with app.app_context():
        upgrade()
        have = sqla.session.execute(text("SELECT count(*) FROM thread_embedding")).scalar()
        if have == threads:
            return url
        started = time.perf_counter()
        rng = np.random.default_rng(11)
        conn = sqla.session.connection()
        conn.execute(insert(Organisation), [
            {"id": 1, "name": "Vendor", "slug": "vendor", "kind": "vendor"},
            *({"id": i, "name": f"Customer {i}", "slug": f"customer-{i}", "kind": "customer"} for i in range(2, 402)),
            {"id": 402, "name": "Partner", "slug": "partner", "kind": "partner"}])
        conn.execute(insert(User), [{"id": i, "email": f"u{i}@x.test", "username": f"u{i}", "display_name": f"U{i}",
                                     "organisation_id": 1 if i == 1 else (402 if i == 402 else i)}
                                    for i in range(1, 403)])
        conn.execute(insert(Space), [{"id": 1, "slug": "installs", "name": "Installs"}])
        centroids = _centroids()
        visibility = rng.choice(["public", "org_private", "internal"], size=threads, p=[0.83, 0.09, 0.08])
        status = rng.choice(["open", "answered", "resolved"], size=threads, p=[0.2, 0.5, 0.3])
        cluster = rng.integers(0, CLUSTERS, size=threads)
        for start in range(0, threads, 10_000):
            ids = range(start + 1, min(start + 10_001, threads + 1))
            org = [2 + (i % 400) for i in ids]
            conn.execute(insert(Thread), [{
                "id": i, "space_id": 1, "author_id": o, "organisation_id": o if visibility[i - 1] != "internal" else 1,
                "title": f"Problem {cluster[i - 1]} seen in thread {i}", "body_md": "Body", "body_html": "<p>Body</p>",
                "visibility": visibility[i - 1], "status": status[i - 1]} for i, o in zip(ids, org, strict=True)])
            noise = rng.standard_normal((len(ids), DIM)).astype(np.float32) * 0.045
            vectors = centroids[cluster[start:start + len(ids)]] + noise
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            conn.execute(insert(ThreadEmbedding), [{
                "thread_id": i, "model_name": "bench-384", "content_hash": f"h{i}", "dimensions": DIM,
                "vector": v.astype("<f4").tobytes()} for i, v in zip(ids, vectors, strict=True)])
        sqla.session.commit()
        if db == "postgres":
            sqla.session.execute(text("SELECT setval('thread_id_seq', :n)"), {"n": threads})
            sqla.session.commit()
        print(f"built {db} with {threads:,} threads in {time.perf_counter() - started:.0f} s", flush=True)
    return url


class FixedEmbedder:
    """Returns the vector it was given last: the draft's embedding is timed apart."""

    model_name = "bench-384"
    vector = np.zeros(DIM, dtype=np.float32)

    def embed(self, texts):
        return self.vector[None, :]


def _ms(samples: list[float]) -> str:
    samples = sorted(samples)
    return f"p50 {statistics.median(samples) * 1000:6.1f} ms   p95 {samples[int(len(samples) * 0.95) - 1] * 1000:6.1f} ms"


def measure(db: str, threads: int, rounds: int) -> None:
    from forum.extensions import db as sqla
    from forum.models import Thread, User
    from forum.services.board import suggestions
    from forum.services.vectors import index as vector_index
    from forum.services.vectors import similar

    app = _app(_url(db, threads))
    embedder = FixedEmbedder()
    similar.query_embedder = lambda: embedder
    similar._model_key = lambda e: e.model_name
    centroids = _centroids()
    rng = np.random.default_rng(3)
    with app.test_request_context():
        users = {"customer": sqla.session.get(User, 2), "employee": sqla.session.get(User, 1)}
        started = time.perf_counter()
        vector_index.current_matrix("bench-384")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\n{db}, {threads:,} threads: matrix load {time.perf_counter() - started:.2f} s, peak RSS {rss:.0f} MB")
        for role, user in users.items():
            times, related, found = [], [], 0
            for i in range(rounds):
                q = centroids[i % CLUSTERS] + rng.standard_normal(DIM).astype(np.float32) * 0.045
                embedder.vector = q / np.linalg.norm(q)
                t0 = time.perf_counter()
                result = suggestions.suggest(user, f"Draft {i}", "body", draft_key=None)
                times.append(time.perf_counter() - t0)
                found += len(result.threads)
                thread = sqla.session.get(Thread, 1 + (i * 7919) % threads)
                t0 = time.perf_counter()
                similar.related_threads(user, thread)
                related.append(time.perf_counter() - t0)
                sqla.session.rollback()
            print(f"  {role:8s} suggest  {_ms(times)}   ({found / rounds:.1f} threads per draft)")
            print(f"  {role:8s} related  {_ms(related)}")
        # The mask path: ranking over exactly the visible rows (forced by an empty candidate pool).
        similar.CANDIDATE_POOL = -5
        first, cached = [], []
        for i in range(min(rounds, 40)):
            vector_index.clear_caches() if i % 2 == 0 else None
            vector_index.current_matrix("bench-384")
            q = centroids[i % CLUSTERS]
            embedder.vector = q
            t0 = time.perf_counter()
            similar.similar_to_draft(users["customer"], f"Draft {i}", "body")
            (first if i % 2 == 0 else cached).append(time.perf_counter() - t0)
        print(f"  customer mask path, first call {_ms(first)};  cached {_ms(cached)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--minilm", action="store_true", help="also time embedding a draft with all-MiniLM-L6-v2")
    args = parser.parse_args()
    for db in args.db.split(","):
        build(db, args.threads)
        measure(db, args.threads, args.rounds)
    if args.minilm:
        import torch

        from mining.embedders import SentenceTransformerEmbedder

        drafts = [f"Connection pool exhausted after upgrade {i}. Workers fail under load at night." for i in range(100)]
        model = SentenceTransformerEmbedder()
        model.embed(["warm up"])
        for threads in (1, 2):
            torch.set_num_threads(threads)
            times = []
            for d in drafts:
                t0 = time.perf_counter()
                model.embed([d])
                times.append(time.perf_counter() - t0)
            print(f"\nembedding one draft with all-MiniLM-L6-v2 on {threads} torch thread(s): {_ms(times)}")


if __name__ == "__main__":
    main()
