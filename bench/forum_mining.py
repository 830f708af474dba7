"""Mining runs in the forum: `flask mine` on the demo data, and full / incremental runs at 100k threads.

Usage:
    .venv/bin/python bench/forum_mining.py demo        # flask mine on the demo data, empty then cached
    .venv/bin/python bench/forum_mining.py large       # 100k threads (SQLite copy): full run, then +1% threads
    .venv/bin/python bench/forum_mining.py large --db postgres   # the same on a copy of the PostgreSQL one
    .venv/bin/python bench/forum_mining.py all

Every timed run is a separate process under ``/usr/bin/time -v`` so peak RSS is the whole process's.
The 100k runs work on a copy of the kept benchmark database (bench/forum_data.py), which stays unchanged.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

VENV = ROOT / ".venv" / "bin"
OUT = ROOT / "bench" / "out"
WORK = Path(os.environ.get("BENCH_MINING_DIR", Path(tempfile.gettempdir()) / "gw_forum_mining"))
N_CENTRES = 200
NEW_FRACTION = 0.01
RATE_SAMPLE = 500


def load() -> str:
    """The 1/5/15-minute load averages, as uptime prints them."""
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def time_embedding(embedder) -> tuple[dict, Callable]:  # noqa: ANN001 - the forum's embedder
    """Wrap ``embedder.embed`` (same object, same key) to add up, in the returned dict, the seconds of the model's
    load (``load_s``) and of encoding (``encode_s``), the texts encoded (``texts``) and the calls (``calls``);
    also returns the unwrapped ``embed``."""
    original, clock = embedder.embed, {"load_s": 0.0, "encode_s": 0.0, "texts": 0, "calls": 0}

    def embed(texts):  # noqa: ANN001, ANN202
        started = time.perf_counter()
        if not embedder.loaded:
            embedder.load()
            clock["load_s"] += time.perf_counter() - started
        started = time.perf_counter()
        vectors = original(texts)
        clock["encode_s"] += time.perf_counter() - started
        clock["texts"] += len(texts)
        clock["calls"] += 1
        return vectors

    embedder.embed = embed
    return clock, original


def timed(cmd: list[str], env: dict | None = None) -> dict:
    """Run ``cmd`` under /usr/bin/time -v; wall seconds, peak RSS (MiB), output, load before/after."""
    before = load()
    started = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-v", *cmd], cwd=ROOT, env={**os.environ, **(env or {})},
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"failed: {' '.join(cmd)}")
    return {"wall_s": round(wall, 1), "peak_rss_mib": round(int(rss.group(1)) / 1024) if rss else None,
            "stdout": proc.stdout.strip(), "load_before": before, "load_after": load()}


# --- 1. flask mine on the demo data -----------------------------------------------------------------

def bench_demo() -> dict:
    WORK.mkdir(parents=True, exist_ok=True)
    path = WORK / "demo.sqlite"
    path.unlink(missing_ok=True)
    env = {"FLASK_DEBUG": "1", "DATABASE_URL": f"sqlite:///{path}"}
    flask = [str(VENV / "flask"), "--app", "wsgi"]
    for step in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([*flask, *step], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True)
    result = {}
    for name in ("empty", "cached"):
        r = timed([*flask, "mine"], env)
        summary = [line for line in r["stdout"].splitlines() if line.startswith("Mining run")]
        r["summary"] = summary[-1] if summary else r["stdout"][-300:]
        del r["stdout"]
        result[name] = r
        print(f"demo, {name} embedding table: {r['wall_s']} s wall, {r['peak_rss_mib']} MiB peak RSS, "
              f"load {r['load_before']} -> {r['load_after']}\n  {r['summary']}", flush=True)
    return result


# --- 2./3. 100k threads --------------------------------------------------------------------------------

def app_for(url: str):
    from forum_data import bench_config

    from forum import create_app

    return create_app({**bench_config(url), "MAIL_SUPPRESS_SEND": True, "MINING_ASSIGN_NEW_THREADS": False})


def prefill(url: str, seed: int = 7) -> dict:
    """Store a vector for every thread, keyed exactly as the app keys them (random, ~200 centres)."""
    import numpy as np

    from forum.extensions import db
    from forum.models import ThreadEmbedding
    from forum.services.vectors.embeddings import embedder_key, get_embedder, texts_for, thread_documents

    app = app_for(url)
    with app.app_context():
        t0 = time.perf_counter()
        items = texts_for(thread_documents())
        model = embedder_key(get_embedder())
        t_texts = time.perf_counter() - t0
        rng = np.random.default_rng(seed)
        centres = rng.standard_normal((N_CENTRES, 384)).astype(np.float32)
        centres /= np.linalg.norm(centres, axis=1, keepdims=True)
        # Zipf-like sizes: a few big recurring problems, many small ones; 10% have no centre at all.
        weights = 1.0 / np.arange(1, N_CENTRES + 1) ** 0.8
        which = rng.choice(N_CENTRES, size=len(items), p=weights / weights.sum())
        vectors = centres[which] + rng.standard_normal((len(items), 384)).astype(np.float32) * 0.07
        lone = rng.random(len(items)) < 0.10
        vectors[lone] = rng.standard_normal((int(lone.sum()), 384)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        table = ThreadEmbedding.__table__
        db.session.execute(table.delete().where(table.c.model_name == model))
        for start in range(0, len(items), 20_000):
            rows = [{"thread_id": it.thread_id, "model_name": model, "content_hash": it.content_hash,
                     "dimensions": 384, "vector": vectors[start + i].astype("<f4").tobytes()}
                    for i, it in enumerate(items[start:start + 20_000])]
            db.session.execute(table.insert(), rows)
        db.session.commit()
    return {"threads": len(items), "model_name": model, "texts_s": round(t_texts, 1),
            "total_s": round(time.perf_counter() - t0, 1)}


def add_threads(url: str, count: int, seed: int = 11) -> list[int]:
    """Insert ``count`` new short questions, authored like existing ones; returns their ids."""
    from forum_text import THREAD_PARAGRAPHS, body_pool, make_title
    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.models import Thread, ThreadKind, ThreadStatus, Visibility, utcnow

    rng = random.Random(seed)
    app = app_for(url)
    with app.app_context():
        t = Thread.__table__
        authors = db.session.execute(select(t.c.space_id, t.c.author_id, t.c.organisation_id)
                                     .where(t.c.kind == ThreadKind.QUESTION).limit(5000)).all()
        first = db.session.execute(select(func.max(t.c.id))).scalar() + 1
        bodies = body_pool(THREAD_PARAGRAPHS, 200, 2, rng)
        now = utcnow()
        rows = []
        for i in range(count):
            space_id, author_id, org_id = rng.choice(authors)
            md, html = rng.choice(bodies)
            rows.append({"id": first + i, "space_id": space_id, "author_id": author_id,
                         "organisation_id": org_id, "title": make_title(rng), "body_md": md, "body_html": html,
                         "kind": ThreadKind.QUESTION, "visibility": Visibility.PUBLIC,
                         "status": ThreadStatus.OPEN, "reply_count": 0, "created_at": now, "updated_at": now,
                         "last_activity_at": now, "is_locked": False, "is_pinned": False})
        db.session.execute(t.insert(), rows)
        db.session.commit()
        return list(range(first, first + count))


def run_once(url: str, out: Path, rate_sample: int) -> None:
    """(In the child process.) One mining run as the app runs it, with stage times; optionally the
    per-text embedding rate on ``rate_sample`` existing threads afterwards, model already loaded."""
    import numpy as np

    from forum.services.patterns.leases import carry_out, create_run
    from forum.services.vectors.embeddings import get_embedder, texts_for, thread_documents

    app = app_for(url)
    with app.app_context():
        embedder = get_embedder()
        clock, original = time_embedding(embedder)
        stages: dict[str, float] = {}

        def stage(name, done, total):
            stages.setdefault(name, time.perf_counter())

        t0 = time.perf_counter()
        run = create_run(None, "bench")
        run = carry_out(run.id, embedder=embedder, stage=stage)
        total = time.perf_counter() - t0
        marks = sorted(stages.items(), key=lambda kv: kv[1])
        spans = {}
        for (name, start), nxt in zip(marks, [m[1] for m in marks[1:]] + [t0 + total], strict=True):
            spans[name] = round(nxt - start, 2)
        result = {"run_s": round(total, 1), "before_embedding_s": round(marks[0][1] - t0, 1) if marks else None,
                  "stages_s": spans, "documents": run.documents, "embedded": run.embedded,
                  "patterns": run.patterns_found, "noise": run.noise_fraction,
                  "model_loaded": embedder.loaded, "load_s": round(clock["load_s"], 1),
                  "encode_s": round(clock["encode_s"], 1), "encoded_texts": clock["texts"]}
        if rate_sample:
            ids = random.Random(3).sample(range(1, 100_001), rate_sample)
            texts = [it.text for it in texts_for(thread_documents(ids))]
            t1 = time.perf_counter()
            for start in range(0, len(texts), 64):  # the batch size ensure_embeddings uses
                np.asarray(original(texts[start:start + 64]))
            result["rate_texts"] = len(texts)
            result["rate_s"] = round(time.perf_counter() - t1, 1)
        out.write_text(json.dumps(result))


def child_run(url: str, name: str, rate_sample: int = 0) -> dict:
    out = WORK / f"{name}.json"
    r = timed([str(VENV / "python"), str(Path(__file__)), "_run", "--url", url, "--out", str(out),
               "--rate-sample", str(rate_sample)])
    r.update(json.loads(out.read_text()))
    del r["stdout"]
    return r


def copy_database(backend: str) -> str:
    """A copy of the kept 100k database to work on; returns its URL (the kept one is only read)."""
    from forum_data import PG_ADMIN_URL, PG_DB_NAME, default_url, ensure
    from forum_model import Scale

    t0 = time.perf_counter()
    if backend == "sqlite":
        source = default_url("sqlite").removeprefix("sqlite:///")
        if not Path(source).exists():  # build it once; a kept one is not upgraded from here
            ensure("sqlite", Scale())
        WORK.mkdir(parents=True, exist_ok=True)
        copy = WORK / "forum_mining.sqlite"
        shutil.copyfile(source, copy)
        url = f"sqlite:///{copy}"
    else:
        from sqlalchemy import create_engine, text

        name = PG_DB_NAME + "_mining"
        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            # Fails if anyone is connected to the source: run it when the page benchmark is not running.
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{PG_DB_NAME}"'))
        engine.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    print(f"{backend}: copied the 100k database in {time.perf_counter() - t0:.0f} s; load {load()}", flush=True)
    return url


def bench_large(backend: str) -> dict:
    url = copy_database(backend)
    result = {"prefill": prefill(url)}
    print(f"prefilled: {result['prefill']}; load {load()}", flush=True)
    result["full"] = full = child_run(url, "full")
    print(f"full run, embeddings cached: {json.dumps(full)}", flush=True)
    new_ids = add_threads(url, int(100_000 * NEW_FRACTION))
    result["new_threads"] = len(new_ids)
    result["incremental"] = inc = child_run(url, "incremental", RATE_SAMPLE)
    per_text = inc["rate_s"] / inc["rate_texts"]
    full_embed = per_text * 100_000
    inc_embed = inc["stages_s"].get("embedding", 0.0)
    inc["per_text_ms"] = round(per_text * 1000, 1)
    inc["full_embedding_estimate_s"] = round(full_embed)
    inc["embedding_stage_ratio"] = round(inc_embed / full_embed, 4)
    inc["encode_ratio"] = round(inc["encode_s"] / full_embed, 4)
    inc["encode_plus_load_ratio"] = round((inc["encode_s"] + inc["load_s"]) / full_embed, 4)
    print(f"incremental run after {len(new_ids)} new threads: {json.dumps(inc)}", flush=True)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["demo", "large", "all", "_run"])
    parser.add_argument("--url")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--rate-sample", type=int, default=0)
    parser.add_argument("--db", default="sqlite", help="sqlite, postgres or both (sqlite,postgres) for the 100k runs")
    args = parser.parse_args(argv)
    if args.what == "_run":
        run_once(args.url, args.out, args.rate_sample)
        return
    results = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_at_start": load()}
    if args.what in ("demo", "all"):
        results["demo"] = bench_demo()
    if args.what in ("large", "all"):
        for backend in args.db.split(","):
            results[f"large_{backend}"] = bench_large(backend)
    results["load_at_end"] = load()
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"forum_mining_{args.what}_{args.db.replace(',', '_')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
