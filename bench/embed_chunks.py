"""Embedding in chunks: overhead against raw SentenceTransformer.encode, and 1 vs 2 README-started workers.

Usage: .venv/bin/python bench/embed_chunks.py [--threads 2000] [--chunk 128]

Builds a scratch PostgreSQL database (BENCH_PG_ADMIN_URL's server, database groundwork_bench_chunks) holding
``--threads`` threads made of StackOverflow20 titles (a title and four more as its body, about 60 tokens).
1. Raw ``SentenceTransformer.encode`` on the run's exact texts, against the chunked path in this process
   (split, claim, read the documents, embed, store, mark done), alternating, the same torch threads.
2. Worker processes started exactly as the README says, each with one torch thread (MINING_EMBED_THREADS=1),
   one then two, on the same texts; the bench process only sends the chunks and watches. Each worker loads
   the model on a warm-up chunk first, so the figure is steady throughput.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DATA = ROOT.parent / "shared" / "data" / "stackoverflow20" / "titles.jsonl"
BROKER = os.environ.get("BENCH_CELERY_BROKER", "redis://127.0.0.1:6379/14")
WORKER = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "forum.celery_worker", "worker", "--concurrency", "1"]


def titles(n: int) -> list[str]:
    if DATA.exists():
        pool = [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        from tests.synthetic import make_support_questions

        pool = make_support_questions(n_intents=30, per_intent=400)[0]
    return [pool[i % len(pool)] for i in range(n * 5)]


def build(url: str, n: int) -> None:
    import forum_data

    from forum import create_app
    from forum.extensions import db
    from tests.factories import Factory

    forum_data._fresh_database("postgres", url)
    app = create_app(forum_data.bench_config(url))
    pool = titles(n)
    with app.app_context():
        make = Factory()
        author = make.user(make.customer_org("bench customer"))
        space = make.space("Installations")
        from forum.markdown import render_markdown
        from forum.models import Thread, ThreadKind, ThreadStatus, Visibility

        for i in range(n):
            body = " ".join(pool[n + 4 * i:n + 4 * i + 4])
            db.session.add(Thread(space_id=space.id, author_id=author.id, organisation_id=author.organisation_id,
                                  title=pool[i][:200], body_md=body, body_html=render_markdown(body),
                                  kind=ThreadKind.QUESTION, visibility=Visibility.PUBLIC, status=ThreadStatus.OPEN))
        db.session.commit()
        db.engine.dispose()


def clear_embeddings(app) -> None:
    from forum.extensions import db
    from forum.models import EmbeddingChunk, ThreadEmbedding

    with app.app_context():
        db.session.execute(db.delete(ThreadEmbedding))
        db.session.execute(db.delete(EmbeddingChunk))
        db.session.commit()


def new_run(app) -> int:
    from forum.extensions import db
    from forum.models import MiningRun, RunStatus
    from forum.services.patterns import leases

    with app.app_context():
        db.session.execute(db.update(MiningRun).where(MiningRun.status.in_([RunStatus.QUEUED, RunStatus.RUNNING]))
                           .values(status=RunStatus.INTERRUPTED))
        db.session.commit()
        return leases.create_run(None, "bench").id


def overhead(app, chunk: int, rounds: int, control: bool = False) -> dict:
    from forum.services.patterns import chunks
    from forum.services.vectors.embeddings import get_embedder, texts_for, thread_documents

    with app.app_context():
        embedder = get_embedder()
        model = embedder.load()
        items = texts_for(thread_documents())
        ids = [item.thread_id for item in items]
        texts = [item.text for item in items]
        model.encode(texts[:64], batch_size=embedder.batch_size)  # warm
    raw, chunked, raw_cpu, chunked_cpu, again, again_cpu = [], [], [], [], [], []
    inside: list[dict] = []
    for _ in range(rounds):
        started, cpu = time.perf_counter(), time.process_time()
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
        raw.append(time.perf_counter() - started)
        raw_cpu.append(time.process_time() - cpu)
        clear_embeddings(app)
        run_id = new_run(app)
        with app.app_context(), _timed_encode(model) as spent:
            app.config["MINING_EMBED_CHUNK"] = chunk
            started, cpu = time.perf_counter(), time.process_time()
            made = chunks.embed_run(run_id, ids, embedder)
            chunked.append(time.perf_counter() - started)
            chunked_cpu.append(time.process_time() - cpu)
        inside.append(spent)
        assert made == len(ids), made
        if control:  # the same raw call once more: how far two runs of identical work differ in one round
            started, cpu = time.perf_counter(), time.process_time()
            model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True)
            again.append(time.perf_counter() - started)
            again_cpu.append(time.process_time() - cpu)
    best_raw, best_chunked = min(raw), min(chunked)
    # The chunked path's own work is what it does outside the model's encode, measured in the same round as the
    # encode it wraps: load on the machine stretches both, so this share holds still where wall-time differences
    # between two rounds do not. How the chunks' batches encode against one call on every text is the rest.
    outside = [100 * (c - i["wall"]) / r for c, i, r in zip(chunked, inside, raw, strict=True)]
    outside_cpu = [100 * (c - i["cpu"]) / r for c, i, r in zip(chunked_cpu, inside, raw_cpu, strict=True)]
    batches = [100 * (i["cpu"] - r) / r for i, r in zip(inside, raw_cpu, strict=True)]
    return {"texts": len(ids), "raw_s": [round(x, 2) for x in raw], "chunked_s": [round(x, 2) for x in chunked],
            "overhead_pct": round(100 * (best_chunked - best_raw) / best_raw, 1),
            "overhead_pct_per_round": [round(100 * (c - r) / r, 1) for r, c in zip(raw, chunked, strict=True)],
            # CPU seconds of this process (torch's threads included; the database server's are not): steadier
            # than wall time when other work shares the cores
            "raw_cpu_s": [round(x, 2) for x in raw_cpu], "chunked_cpu_s": [round(x, 2) for x in chunked_cpu],
            "cpu_overhead_pct": round(100 * (min(chunked_cpu) - min(raw_cpu)) / min(raw_cpu), 1),
            "encode_calls_in_chunks": [i["calls"] for i in inside],
            "outside_encode_pct_of_raw": [round(x, 2) for x in outside],
            "outside_encode_cpu_pct_of_raw": [round(x, 2) for x in outside_cpu],
            "chunk_batches_cpu_pct_vs_raw": [round(x, 1) for x in batches],
            "median_overhead_pct": round(statistics.median(100 * (c - r) / r for r, c in zip(raw, chunked, strict=True)), 1),
            **({"raw_again_pct_per_round": [round(100 * (a - r) / r, 1) for r, a in zip(raw, again, strict=True)],
                "raw_again_cpu_pct_per_round": [round(100 * (a - r) / r, 1)
                                                for r, a in zip(raw_cpu, again_cpu, strict=True)]} if control else {})}


def paired(app, chunk: int, rounds: int) -> dict:
    """Each chunk against raw ``encode`` of its own texts, the two timed back to back (which goes first
    alternates): what the path adds per chunk, measured where the machine's drift is the same for both."""
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import EmbeddingChunk
    from forum.services.patterns import chunks
    from forum.services.vectors.embeddings import get_embedder, texts_for, thread_documents

    with app.app_context():
        embedder = get_embedder()
        model = embedder.load()
        items = texts_for(thread_documents())
        ids = [item.thread_id for item in items]
        embedder.embed([item.text for item in items[:64]])  # warm, and torch's threads as the path sets them
    worker = chunks.worker_name()
    raw, path, raw_cpu, path_cpu = [], [], [], []
    for round_number in range(rounds):
        clear_embeddings(app)
        run_id = new_run(app)
        with app.app_context():
            chunks.split(run_id, ids, chunk)
            held = db.session.execute(select(EmbeddingChunk.id, EmbeddingChunk.thread_ids)
                                      .where(EmbeddingChunk.run_id == run_id).order_by(EmbeddingChunk.id)).all()
            db.session.rollback()
            for number, (chunk_id, thread_ids) in enumerate(held):
                texts = [item.text for item in texts_for(thread_documents(thread_ids))]
                db.session.rollback()

                def raw_call(texts=texts):
                    model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True)

                def path_call(chunk_id=chunk_id, texts=texts):
                    assert chunks.claim(chunk_id, worker)
                    assert chunks.embed_chunk(chunk_id, worker, embedder) == len(texts)

                calls = [(raw_call, raw, raw_cpu), (path_call, path, path_cpu)]
                for call, walls, cpus in (calls if (round_number + number) % 2 == 0 else calls[::-1]):
                    started, cpu = time.perf_counter(), time.process_time()
                    call()
                    walls.append(time.perf_counter() - started)
                    cpus.append(time.process_time() - cpu)
    per_pair = [100 * (p - r) / r for r, p in zip(raw, path, strict=True)]
    per_pair_cpu = [100 * (p - r) / r for r, p in zip(raw_cpu, path_cpu, strict=True)]
    return {"pairs": len(raw), "chunk": chunk,
            "overhead_pct_median": round(statistics.median(per_pair), 1),
            "overhead_pct_of_sums": round(100 * (sum(path) - sum(raw)) / sum(raw), 1),
            "overhead_pct_per_pair": [round(x, 1) for x in per_pair],
            "cpu_overhead_pct_median": round(statistics.median(per_pair_cpu), 1),
            "cpu_overhead_pct_of_sums": round(100 * (sum(path_cpu) - sum(raw_cpu)) / sum(raw_cpu), 1),
            "raw_s": round(sum(raw), 2), "path_s": round(sum(path), 2)}


@contextmanager
def _timed_encode(model):
    """Wall and CPU seconds spent inside ``model.encode`` while the block runs, and how many calls."""
    spent = {"wall": 0.0, "cpu": 0.0, "calls": 0}
    original = model.encode

    def timed(*args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent["wall"] += time.perf_counter() - wall
            spent["cpu"] += time.process_time() - cpu
            spent["calls"] += 1

    model.encode = timed
    try:
        yield spent
    finally:
        del model.encode  # the class's method again


def start_workers(url: str, count: int, queue: str, log_dir: Path) -> list[subprocess.Popen]:
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-only-" + "x" * 32, FORUM_CELERY_BROKER_URL=BROKER,
               FORUM_CELERY_QUEUE=queue, FORUM_MINING_EMBEDDER="minilm", FORUM_MINING_EMBED_THREADS="1",
               HF_HUB_OFFLINE="1")
    env.pop("PYTHONPATH", None)
    procs = []
    for i in range(count):
        out = (log_dir / f"worker{i}.log").open("w")
        procs.append(subprocess.Popen([*WORKER, "-n", f"bench{i}@%h"], cwd=log_dir, env=env, stdout=out,
                                      stderr=subprocess.STDOUT))
    return procs


def run_workers(url: str, count: int, chunk: int, log_dir: Path) -> dict:
    import forum_data

    from forum import create_app
    from forum.extensions import db
    from forum.models import EmbeddingChunk, Thread
    from forum.services import background
    from forum.services.patterns import chunks

    queue = f"bench-chunks-{os.getpid()}-{count}"
    app = create_app({**forum_data.bench_config(url), "CELERY_BROKER_URL": BROKER, "CELERY_QUEUE": queue})
    procs = start_workers(url, count, queue, log_dir)
    try:
        with app.app_context():
            ids = list(db.session.execute(db.select(Thread.id).order_by(Thread.id)).scalars())

        def send_all(run_id: int, thread_ids: list[int], size: int) -> None:
            with app.app_context():
                chunks.split(run_id, thread_ids, size)
                for chunk_id in db.session.execute(db.select(EmbeddingChunk.id).where(
                        EmbeddingChunk.run_id == run_id)).scalars().all():
                    background.send(chunks.EMBED_CHUNK, chunk_id)

        def wait(run_id: int) -> None:
            with app.app_context():
                while True:
                    done, total = chunks.counts(run_id)
                    if total and done >= total:
                        return
                    if any(p.poll() is not None for p in procs):
                        raise SystemExit("a worker exited; see " + str(log_dir))
                    time.sleep(0.2)

        clear_embeddings(app)
        warm = new_run(app)  # every worker loads its model on a small chunk of its own
        send_all(warm, ids[:count * 4], 4)
        wait(warm)
        clear_embeddings(app)
        run_id = new_run(app)
        started = time.perf_counter()
        send_all(run_id, ids, chunk)
        wait(run_id)
        seconds = time.perf_counter() - started
        with app.app_context():
            holders = {h for (h,) in db.session.execute(db.select(EmbeddingChunk.claimed_by).where(
                EmbeddingChunk.run_id == run_id)).all()}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {"workers": count, "texts": len(ids), "seconds": round(seconds, 2),
            "texts_per_s": round(len(ids) / seconds, 1), "processes_that_held_chunks": len(holders)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2000)
    parser.add_argument("--chunk", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--overhead-only", action="store_true", help="skip the 1 vs 2 worker runs")
    parser.add_argument("--paired", action="store_true",
                        help="only each chunk against raw encode of its own texts, back to back")
    parser.add_argument("--control", action="store_true",
                        help="encode the raw texts a second time in each round: the spread of identical work")
    args = parser.parse_args()

    import forum_data

    from forum import create_app

    url = forum_data.PG_ADMIN_URL.rsplit("/", 1)[0] + "/groundwork_bench_chunks"
    build(url, args.threads)
    print(f"load before: {os.getloadavg()}", flush=True)
    app = create_app(forum_data.bench_config(url))
    if args.paired:
        print(json.dumps({"paired": paired(app, args.chunk, args.rounds)}), flush=True)
        return
    result = {"overhead": overhead(app, args.chunk, args.rounds, args.control)}
    print(json.dumps(result["overhead"]), flush=True)
    if args.overhead_only:
        return
    with tempfile.TemporaryDirectory() as tmp:
        one = run_workers(url, 1, args.chunk, Path(tmp))
        print(json.dumps(one), flush=True)
        two = run_workers(url, 2, args.chunk, Path(tmp))
        print(json.dumps(two), flush=True)
    result.update(one_worker=one, two_workers=two, ratio=round(two["texts_per_s"] / one["texts_per_s"], 2),
                  load_after=os.getloadavg())
    print(json.dumps({"ratio_2_vs_1": result["ratio"], "load_after": result["load_after"]}), flush=True)


if __name__ == "__main__":
    main()
