"""Incremental mining run at 1M threads: the embedding stage after 1% new threads, against a full embedding.

Usage:
    nice -n 10 .venv/bin/python bench/incremental_1m.py                # a copy of the 1M SQLite data set
    nice -n 10 .venv/bin/python bench/incremental_1m.py --db postgres  # a TEMPLATE copy of the PostgreSQL one

On a copy of the 1M-thread / 10M-reply data set (bench/forum_data.py; the kept one is only read), in one
process, with the steps of ``forum.services.patterns.runs._mine`` up to the end of its embedding stage:

1. documents stage, timed: ``thread_documents()`` over every thread, announcements left out, ``texts_for``;
2. setup, not timed: a vector stored for every thread but the newest 1% (by id), keyed as the app keys them
   (``embedder_key(get_embedder())`` and each thread's current ``content_hash``); the vectors are random unit
   vectors around 200 centres, since only the look-up and the encoding of the missing 1% are measured here;
3. embedding stage, timed: ``missing_items``, the missing threads sorted by length, ``chunks.embed_run`` (this
   process claims every chunk: no broker) and the final ``ensure_embeddings(items, embedder)``, with the real
   MiniLM embedder; model load, encoding and the stored-row look-ups are timed inside it;
4. the per-text rate of a full embedding, same process and model: a random sample of existing threads'
   texts, embedded once in calls of 64 (``ensure_embeddings``' default batch) and once in one call (as a
   chunk does); "full embedding" = rate x the number of documents.

Prints a Markdown table row and a JSON line; the JSON also goes to bench/out/incremental_1m_<db>.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from forum_mining import N_CENTRES, NEW_FRACTION, OUT, load, time_embedding  # noqa: E402  (the 100k runs' settings)

WORK = Path(os.environ.get("BENCH_INCREMENTAL_DIR", Path(tempfile.gettempdir()) / "gw_incremental_1m"))
INSERT_CHUNK = 20_000


def peak_rss_mib() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def copy_database(backend: str, threads: int, replies: int) -> tuple[str, object]:
    """A copy of the kept data set to work on: its URL and a function that removes it."""
    from forum_data import PG_ADMIN_URL, default_url
    from forum_model import Scale

    scale = Scale(threads=threads, replies=replies)
    source_url = default_url(backend, scale)
    if backend == "sqlite":
        source = Path(source_url.removeprefix("sqlite:///"))
        if not source.exists():
            raise SystemExit(f"{source} not found: build it with bench/forum_data.py first")
        WORK.mkdir(parents=True, exist_ok=True)
        copy = WORK / "incremental.sqlite"
        subprocess.run(["cp", "--sparse=always", str(source), str(copy)], check=True)
        # Committed pages not yet checkpointed live in the -wal file: the copy needs them too.
        wal = source.with_name(source.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + "-wal"))

        def remove() -> None:
            for suffix in ("", "-wal", "-shm", "-journal"):
                copy.with_name(copy.name + suffix).unlink(missing_ok=True)

        return f"sqlite:///{copy}", remove

    from sqlalchemy import create_engine, text

    source_name = source_url.rsplit("/", 1)[1]
    name = source_name + "_incremental"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        # Fails while anyone is connected to the source: run it when no page benchmark reads it.
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source_name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, drop


def store_vectors(items: list, model: str, seed: int = 7) -> None:
    """Setup: a stored vector for each item, keyed as the app keys them; generated chunk by chunk so the setup
    adds little to the process's peak memory."""
    import numpy as np

    from forum.extensions import db
    from forum.models import ThreadEmbedding

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((N_CENTRES, 384)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = 1.0 / np.arange(1, N_CENTRES + 1) ** 0.8
    table = ThreadEmbedding.__table__
    db.session.execute(table.delete().where(table.c.model_name == model))
    for start in range(0, len(items), INSERT_CHUNK):
        part = items[start:start + INSERT_CHUNK]
        which = rng.choice(N_CENTRES, size=len(part), p=weights / weights.sum())
        vectors = centres[which] + rng.standard_normal((len(part), 384)).astype(np.float32) * 0.07
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        db.session.execute(table.insert(), [
            {"thread_id": it.thread_id, "model_name": model, "content_hash": it.content_hash, "dimensions": 384,
             "vector": vectors[i].astype("<f4").tobytes()} for i, it in enumerate(part)])
        db.session.commit()


def measure(url: str, rate_sample: int) -> dict:
    import numpy as np
    from forum_mining import app_for
    from sqlalchemy import select

    from forum.extensions import db
    from forum.models import MiningRun, Thread, ThreadKind
    from forum.services.patterns import chunks, leases
    from forum.services.vectors import embeddings as emb

    result: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()), "load_start": load()}
    app = app_for(url)
    with app.app_context():
        # 1. documents stage, as _mine does it
        t0 = time.perf_counter()
        documents = [d for d in emb.thread_documents() if d is not None]
        t_docs = time.perf_counter()
        kinds = dict(db.session.execute(select(Thread.id, Thread.kind)).all())
        documents = [d for d in documents if kinds.get(d.id) is not ThreadKind.ANNOUNCEMENT]
        items = emb.texts_for(documents)
        t_texts = time.perf_counter()
        del kinds
        result.update(documents=len(documents), documents_stage_s=round(t_texts - t0, 1),
                      thread_documents_s=round(t_docs - t0, 1), texts_for_s=round(t_texts - t_docs, 1),
                      rss_after_documents_mib=peak_rss_mib(), load_after_documents=load())
        print(f"documents stage: {len(items):,} texts in {t_texts - t0:.1f} s "
              f"(thread_documents {t_docs - t0:.1f} s); peak RSS {peak_rss_mib()} MiB; load {load()}", flush=True)

        # 2. setup, not timed: the newest 1% have no vector
        embedder = emb.get_embedder()
        model = emb.embedder_key(embedder)
        n_new = round(len(items) * NEW_FRACTION)
        t_setup = time.perf_counter()
        store_vectors(items[:-n_new], model)
        new_ids = {it.thread_id for it in items[-n_new:]}
        run = leases.create_run(None, "bench")
        leases.claim(run.id)
        run = db.session.get(MiningRun, run.id)
        db.session.commit()
        result.update(model=model, stored=len(items) - n_new, setup_s=round(time.perf_counter() - t_setup, 1),
                      rss_after_setup_mib=peak_rss_mib())
        print(f"setup: {len(items) - n_new:,} vectors stored in {result['setup_s']} s; load {load()}", flush=True)

        # 3. embedding stage, as _mine does it, with its parts timed from inside
        clock, original_embed = time_embedding(embedder)
        clock.update(lookup_s=0.0, lookups=[])
        timed_embed, embedder.embed = embedder.embed, original_embed  # timed during the stage only
        original_stored = emb._stored_rows

        def stored_rows(thread_ids, model_name):
            t = time.perf_counter()
            rows = original_stored(thread_ids, model_name)
            spent = time.perf_counter() - t
            clock["lookup_s"] += spent
            if len(thread_ids) > chunks_size:
                clock["lookups"].append(round(spent, 2))
            return rows

        def report(stage: str, done: int, total: int) -> None:  # the run's progress, committed as _mine's is
            run.stage, run.progress_done, run.progress_total = stage, done, total
            db.session.commit()

        chunks_size = int(app.config.get("MINING_EMBED_CHUNK", 256))
        embedder.embed = timed_embed
        emb._stored_rows = stored_rows
        load_before = load()
        t0 = time.perf_counter()
        try:
            missing = emb.missing_items(items, model)
            t_missing = time.perf_counter()
            report("embedding", 0, len(missing))
            by_length = sorted(missing, key=lambda item: (len(item.text), item.thread_id))
            chunks.embed_run(run.id, [item.thread_id for item in by_length], embedder,
                             progress=lambda d, t: report("embedding", d, t))
            t_chunks = time.perf_counter()
            vectors, late = emb.ensure_embeddings(items, embedder)
            stage = time.perf_counter() - t0
        finally:
            emb._stored_rows = original_stored
            embedder.embed = original_embed
        assert {it.thread_id for it in missing} == new_ids and late == 0 and vectors.shape == (len(items), 384)
        result.update(
            embedded=clock["texts"], embedding_stage_s=round(stage, 1), model_load_s=round(clock["load_s"], 1),
            encoding_s=round(clock["encode_s"], 1), encode_calls=clock["calls"],
            lookup_s=round(clock["lookup_s"], 1), full_lookups_s=clock["lookups"],
            missing_items_s=round(t_missing - t0, 1), chunks_s=round(t_chunks - t_missing, 1),
            final_ensure_s=round(t0 + stage - t_chunks, 1),
            new_mean_chars=round(sum(len(it.text) for it in missing) / max(1, len(missing))),
            rss_after_embedding_mib=peak_rss_mib(), load_before_embedding=load_before, load_after_embedding=load())
        print(f"embedding stage: {json.dumps({k: result[k] for k in list(result)[-14:]})}", flush=True)
        del vectors

        # 4. per-text rate of a full embedding: existing threads' texts, same model, loaded
        sample = random.Random(3).sample(items[:-n_new], rate_sample)
        texts = [it.text for it in sample]
        t = time.perf_counter()
        for start in range(0, len(texts), 64):  # ensure_embeddings' default batch
            np.asarray(original_embed(texts[start:start + 64]))
        rate_64 = (time.perf_counter() - t) / len(texts)
        t = time.perf_counter()
        np.asarray(original_embed(texts))  # one call, as one chunk is embedded
        rate_one = (time.perf_counter() - t) / len(texts)
        full_64, full_one = rate_64 * len(items), rate_one * len(items)
        # the faster rate makes the smaller full embedding, hence the larger (stricter) ratio
        full = min(full_64, full_one)
        result.update(
            rate_texts=len(texts), sample_mean_chars=round(sum(map(len, texts)) / len(texts)),
            per_text_ms_batch64=round(rate_64 * 1000, 1), per_text_ms_one_call=round(rate_one * 1000, 1),
            full_embedding_s=round(full), full_embedding_batch64_s=round(full_64),
            stage_ratio=round(result["embedding_stage_s"] / full, 4),
            encoding_ratio=round(result["encoding_s"] / full, 4),
            stage_ratio_batch64=round(result["embedding_stage_s"] / full_64, 4),
            peak_rss_mib=peak_rss_mib(), load_end=load(),
            finished=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()))
        # PostgreSQL drops the copy only once no connection to it is left open
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--threads", type=int, default=1_000_000)
    parser.add_argument("--replies", type=int, default=10_000_000)
    parser.add_argument("--rate-sample", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the copy (default: removed at the end)")
    args = parser.parse_args(argv)
    os.environ["HF_HUB_OFFLINE"] = "1"

    t = time.perf_counter()
    url, remove = copy_database(args.db, args.threads, args.replies)
    print(f"{args.db}: copied in {time.perf_counter() - t:.0f} s; load {load()}", flush=True)
    try:
        r = measure(url, args.rate_sample)
    finally:
        if not args.keep:
            remove()
    r["db"] = args.db
    print(f"| {args.db} | {r['started'][11:16]}–{r['finished'][11:16]} | {r['documents']:,} | "
          f"{r['documents_stage_s']} s | {r['embedded']:,} | {r['embedding_stage_s']} s | {r['model_load_s']} s | "
          f"{r['lookup_s']} s | {r['encoding_s']} s | {r['per_text_ms_one_call']} ms | {r['full_embedding_s']:,} s | "
          f"**{r['stage_ratio']:.2%}** | {r['encoding_ratio']:.2%} | {r['peak_rss_mib']:,} MiB | "
          f"{r['load_start']} → {r['load_end']} |")
    print(json.dumps(r))
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"incremental_1m_{args.db}.json").write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
