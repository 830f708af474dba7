"""Memory of a gunicorn web worker serving the forum of ``bench/forum_data.py`` with its vector index loaded.

The forum gets one stored vector per thread (the realistic set of ``bench/vector_data.py``, thread ``i`` the
set's row ``i - 1``) and the index file of that set (``bench/vector_index_scale.py --build``, keyed the same
way) is put where the server looks for it, with the watermark of those rows, so the server opens it as it would
open a file its rebuild job wrote. Then ``gunicorn wsgi:app`` starts from the repository root as the README
documents (one worker, ``gunicorn.conf.py`` warming the model and the vectors), and over HTTP as the bench
customer: the home, space and thread pages, thread pages of many threads (each asks the index for related
threads) and ask-page suggestions (each embeds a draft and asks the index). The worker's RSS, and how much of it
is its own (anonymous) or shared file pages (the memory-mapped index, the model's weights), is read from
``/proc`` after each stage.

It writes into the database it measures (the vectors, and the customer's reading state of every thread page it
requests), so it is run on a copy of a data set that other benchmarks read (``BENCH_SQLITE_PATH``).

    .venv/bin/python bench/worker_memory.py --threads 1000000 --clustered --build-only   # the index first
    BENCH_SQLITE_PATH=<copy> .venv/bin/python bench/worker_memory.py --threads 1000000 --db sqlite --clustered
    BENCH_SQLITE_PATH=<copy> .venv/bin/python bench/worker_memory.py --threads 1000000 --db sqlite --query-worker

``--query-worker`` serves as the README's ``FORUM_QUERY_EMBEDDING=worker`` deployment: the README's query worker
embeds the drafts (its memory is reported apart: one per machine, whatever the number of web workers).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from forum_data import OUT, Scale, bench_config, default_url, marker_path  # noqa: E402

SECRET = "benchmark-only-" + "x" * 32


def clustered_vectors(size: int) -> np.ndarray:
    """``--clustered``: unit vectors around 5,000 random centres (cached in bench/out), for when the realistic set
    of ``bench/vector_data.py`` is not built: encoding its 31,036 texts with MiniLM takes 1,000 s of CPU. The
    index's file, and so the worker's memory, does not depend on what the vectors mean; recall does (it is
    measured on the realistic set, "At 1M vectors" in bench/README.md)."""
    path = OUT / f"vectors_{size}_clustered.npy"
    if path.exists():
        return np.load(path, mmap_mode="r")
    rng = np.random.default_rng(size)
    centres = rng.normal(size=(5_000, 384)).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(size, 384))
    for start in range(0, size, 100_000):
        n = min(100_000, size - start)
        block = centres[rng.integers(0, len(centres), n)] + rng.normal(0.0, 0.6, (n, 384)).astype(np.float32)
        out[start:start + n] = block / np.linalg.norm(block, axis=1, keepdims=True)
    out.flush()
    return np.load(path, mmap_mode="r")


def vectors_for(size: int, clustered: bool) -> np.ndarray:
    if clustered:
        return clustered_vectors(size)
    from vector_data import dataset

    return dataset(size)


def index_file(size: int, clustered: bool) -> Path:
    from vector_index_scale import index_path

    plain = index_path(size)
    return plain.with_name(f"{plain.stem}-clustered{plain.suffix}") if clustered else plain


def build_index(size: int, clustered: bool) -> Path:
    """The index of the set with the product's settings (as ``bench/vector_index_scale.py --build``)."""
    from mining.ann import VectorIndex

    path = index_file(size, clustered)
    if path.exists():
        return path
    vectors = vectors_for(size, clustered)
    started = time.perf_counter()
    index = VectorIndex()
    for start in range(0, size, 50_000):
        block = np.asarray(vectors[start:start + 50_000])
        index.add(np.arange(start + 1, start + 1 + block.shape[0]), block)
    index.save(path)
    print(f"index of {size:,} built in {time.perf_counter() - started:.0f} s: {path.stat().st_size / 2**20:.0f} MB",
          flush=True)
    return path


def _model_key(app) -> str:
    from forum.services.vectors.embeddings import embedder_key, get_embedder

    with app.app_context():
        return embedder_key(get_embedder())  # the model itself loads lazily: this only reads its settings


def fill_embeddings(url: str, model: str, size: int, clustered: bool) -> int:
    """Store thread ``i``'s vector as row ``i`` (once); the highest row id."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        have = conn.execute(text("SELECT COUNT(*) FROM thread_embedding WHERE model_name = :m"), {"m": model}).scalar()
    engine.dispose()
    if have >= size:
        return size
    vectors = vectors_for(size, clustered)
    started = time.perf_counter()
    created = "2026-11-01 12:00:00"
    if url.startswith("sqlite"):
        import sqlite3

        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("DELETE FROM thread_embedding")
        for start in range(0, size, 20_000):
            block = np.ascontiguousarray(vectors[start:start + 20_000], dtype="<f4")
            conn.executemany(
                "INSERT INTO thread_embedding (id, thread_id, model_name, content_hash, dimensions, vector, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                ((start + i + 1, start + i + 1, model, "bench", block.shape[1], block[i].tobytes(), created)
                 for i in range(block.shape[0])))
            conn.commit()
        conn.close()
    else:
        import psycopg

        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            conn.execute("DELETE FROM thread_embedding")
            with conn.cursor() as cur, cur.copy(
                    "COPY thread_embedding (id, thread_id, model_name, content_hash, dimensions, vector, created_at)"
                    " FROM STDIN") as copy:
                for start in range(0, size, 20_000):
                    block = np.ascontiguousarray(vectors[start:start + 20_000], dtype="<f4")
                    for i in range(block.shape[0]):
                        copy.write_row((start + i + 1, start + i + 1, model, "bench", block.shape[1],
                                        block[i].tobytes(), created))
            conn.execute("SELECT setval(pg_get_serial_sequence('thread_embedding', 'id'), %s)", (size,))
    print(f"stored {size:,} thread vectors in {time.perf_counter() - started:.0f} s", flush=True)
    return size


def place_index(app, model: str, size: int, watermark: int, clustered: bool) -> Path:
    """The prebuilt index file, hard-linked where the server looks for this database's file."""
    from forum.services.vectors import store
    from forum.services.vectors.index import database_key

    with app.app_context():
        target = store.path_for(database_key(), model)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = build_index(size, clustered)
    if not target.exists():
        os.link(source, target)
    target.with_suffix(".json").write_text(json.dumps(
        {"model": model, "watermark": watermark, "count": size, "dimensions": 384}))
    return target


def memory(pid: int) -> dict[str, int]:
    """RSS and its parts (MB) from /proc: anonymous (the worker's own), file-backed (shared page cache), PSS."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
    rollup = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:])

    def mb(value: str) -> int:
        return int(value.split()[0]) // 1024

    return {"rss": mb(status["VmRSS"]), "anon": mb(status["RssAnon"]), "file": mb(status["RssFile"]),
            "pss": mb(rollup["Pss"]), "peak": mb(status["VmHWM"])}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def session_cookie(app, email: str) -> tuple[str, str]:
    """A signed session cookie of the user as a finished sign-in leaves it, and a CSRF token for it."""
    from itsdangerous import URLSafeTimedSerializer
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import User
    from forum.views.signin import FACTOR, factor_due

    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        raw = os.urandom(20).hex()
        data = {"_user_id": user.get_id(), "_fresh": True, FACTOR: "passed" if factor_due(user) else "none",
                "csrf_token": raw}
        cookie = app.session_interface.get_signing_serializer(app).dumps(data)
        token = URLSafeTimedSerializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key,
                                       salt="wtf-csrf-token").dumps(raw)
        db.session.remove()
    return f"{app.config['SESSION_COOKIE_NAME']}={cookie}", token


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--threads", type=int, default=1_000_000)
    parser.add_argument("--replies", type=int, default=10_000_000)
    parser.add_argument("--thread-pages", type=int, default=300, help="thread pages of distinct threads")
    parser.add_argument("--suggestions", type=int, default=100, help="ask-page suggestion lookups")
    parser.add_argument("--clustered", action="store_true", help="clustered random vectors instead of the realistic set")
    parser.add_argument("--build-only", action="store_true", help="only make the vectors and the index file")
    parser.add_argument("--query-worker", action="store_true",
                        help="FORUM_QUERY_EMBEDDING=worker: the README's query worker embeds the drafts, not the web worker")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/12", help="the broker of --query-worker")
    args = parser.parse_args()
    if args.build_only:
        build_index(args.threads, args.clustered)
        return
    import requests

    from forum import create_app

    scale = Scale(threads=args.threads, replies=args.replies)
    url = default_url(args.db, scale)
    marker = json.loads(marker_path(args.db, url).read_text())
    index_dir = OUT / f"vector-index-{args.db}-{args.threads}"
    config = dict(bench_config(url), VECTOR_INDEX_DIR=str(index_dir))
    app = create_app(config)
    model = _model_key(app)
    watermark = fill_embeddings(url, model, args.threads, args.clustered)
    place_index(app, model, args.threads, watermark, args.clustered)
    cookie, csrf = session_cookie(app, marker["targets"]["users"]["customer"])
    with app.app_context():
        from sqlalchemy import select

        from forum.extensions import db
        from forum.models import Thread, Visibility

        rows = db.session.execute(select(Thread.id, Thread.title).where(
            Thread.visibility == Visibility.PUBLIC, Thread.id % max(1, args.threads // 2_000) == 0).order_by(Thread.id)).all()
        db.session.remove()
    rng = random.Random(16)
    public = rng.sample(rows, min(len(rows), args.thread_pages + args.suggestions))

    port = _free_port()
    env = dict(os.environ, SECRET_KEY=SECRET, DATABASE_URL=url, FORUM_VECTOR_INDEX_DIR=str(index_dir),
               FORUM_RATELIMIT_ENABLED="false", FORUM_MINING_IN_BACKGROUND="false", HF_HUB_OFFLINE="1",
               TRANSFORMERS_OFFLINE="1")
    queries = None
    if args.query_worker:
        env.update(CELERY_BROKER_URL=args.broker, FORUM_QUERY_EMBEDDING="worker")
        # The README's query worker command, from the repository root, beside gunicorn in the same environment.
        queries = subprocess.Popen([str(ROOT / ".venv" / "bin" / "celery"), "-A", "forum.celery_worker", "worker",
                                    "-Q", "groundwork.queries", "--pool", "solo"], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=open(OUT / "worker_memory_queries.log", "w"))
    print(f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {os.getloadavg()[0]:.2f}; "
          f"{url}, index in {index_dir}{'; drafts embedded by the query worker' if queries else ''}", flush=True)
    server = subprocess.Popen([str(ROOT / ".venv" / "bin" / "gunicorn"), "wsgi:app", "--workers", "1",
                               "--bind", f"127.0.0.1:{port}", "--timeout", "300"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=open(OUT / "worker_memory_gunicorn.log", "w"))
    stages: dict[str, dict] = {}
    try:
        base, headers = f"http://127.0.0.1:{port}", {"Cookie": cookie}
        for _ in range(600):
            try:
                requests.get(base + "/login", timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        worker = int(subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout.split()[0])
        stages["started"] = memory(worker)
        time.sleep(60)  # the warm-up loads the model and the vectors on the worker's background pool
        stages["warmed up (60 s)"] = memory(worker)
        timings: dict[str, list[float]] = {}

        def get(kind: str, path: str) -> None:
            started = time.perf_counter()
            response = requests.get(base + path, headers=headers, timeout=120, allow_redirects=False)
            timings.setdefault(kind, []).append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"{path}: HTTP {response.status_code}")

        targets = marker["targets"]
        for _ in range(20):
            get("home", "/")
            get("space", f"/s/{targets['space_slug']}")
            get("thread (50 replies)", f"/t/{targets['thread_id']}")
        stages["home, space and 50-reply thread pages x 20"] = memory(worker)
        for tid, _title in public[:args.thread_pages]:
            get("thread pages, related threads from the index", f"/t/{tid}")
        stages[f"{args.thread_pages} thread pages of other threads"] = memory(worker)
        found, reply = 0, {}
        for _tid, title in public[args.thread_pages:]:
            started = time.perf_counter()
            response = requests.post(base + "/suggest/similar", headers=dict(headers, **{"X-CSRFToken": csrf}),
                                     json={"title": title, "body": ""}, timeout=120)
            timings.setdefault("suggestion (draft embedded, index lookup)", []).append(time.perf_counter() - started)
            if response.status_code != 200:
                raise SystemExit(f"/suggest/similar: HTTP {response.status_code} {response.text[:300]}")
            reply = response.json()
            found += bool(reply["threads"])
        stages[f"{len(public) - args.thread_pages} suggestions"] = memory(worker)
        for _tid, title in public[args.thread_pages:]:  # the same titles as searches: full text blended with meaning
            get("search (query embedded, full text and index lookup)", "/search?" + urlencode({"q": title}))
        stages[f"{len(public) - args.thread_pages} searches"] = memory(worker)
        method = reply.get("method")
        if queries is not None:
            stages["the query worker (one per machine, not a web worker)"] = memory(queries.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        if queries is not None:
            queries.send_signal(signal.SIGTERM)
            queries.wait(timeout=60)
    print(f"load average {os.getloadavg()[0]:.2f}; suggestions answered by {method!r}, "
          f"{found} of {len(public) - args.thread_pages} with threads\n")
    print("| stage | RSS | anonymous | file-backed | PSS | peak RSS |\n|---|---|---|---|---|---|")
    for stage, m in stages.items():
        print(f"| {stage} | {m['rss']:,} MB | {m['anon']:,} MB | {m['file']:,} MB | {m['pss']:,} MB | {m['peak']:,} MB |")
    print("\n| request (over HTTP) | n | p50 | p95 |\n|---|---|---|---|")
    for kind, values in timings.items():
        p50, p95 = np.percentile(np.asarray(values) * 1000, [50, 95])
        print(f"| {kind} | {len(values)} | {p50:.1f} ms | {p95:.1f} ms |")
    (OUT / "worker_memory.json").write_text(json.dumps({"stages": stages, "load": os.getloadavg()}, indent=2))


if __name__ == "__main__":
    main()
