"""The persisted vector index: one file per database and model in the instance folder, built by a background job.

The file holds every stored thread vector up to a watermark (the highest ``thread_embedding.id`` it read). A
process opens it read-only as a memory map, once, and reopens it only when a rebuild replaced it; vectors stored
after the watermark (new threads, a mining run's fresh embeddings) are kept beside it in memory and searched
exactly (``index.current_matrix``), so a thread is findable as soon as it is embedded. When that tail grows past
``REBUILD_TAIL_ROWS`` (or a tenth of the file), or a database reaches ``VECTOR_INDEX_MIN_ROWS`` vectors without
a file, a rebuild is queued by task name; the worker writes the new file beside the old one and swaps it in
atomically. A re-embedded thread (an edit) keeps its row id, so its new vector reaches the file at the next
rebuild; until then lookups use the vector it had.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from flask import current_app
from sqlalchemy import func, select

from mining.ann import VectorIndex

from ...extensions import db
from ...models import ThreadEmbedding
from .. import background

log = logging.getLogger(__name__)

REBUILD_INDEX = "groundwork.rebuild_vector_index"
REBUILD_TAIL_ROWS = 20_000
READ_CHUNK = 20_000
REQUEUE_SECONDS = 600  # one process asks for a rebuild of one file at most this often


@dataclass
class OpenIndex:
    """An opened index file and what it covers."""

    index: VectorIndex
    watermark: int  # the highest thread_embedding.id in the file
    count: int
    stamp: tuple  # (inode, mtime) of the file when opened: a rebuild changes it


def min_rows() -> int:
    """Stored vectors from which a database gets an index file (below it, exact search is as fast)."""
    return int(current_app.config.get("VECTOR_INDEX_MIN_ROWS", 50_000))


def folder() -> Path:
    """Where index files live: ``VECTOR_INDEX_DIR``, or ``vector-index`` in the instance folder."""
    return Path(current_app.config.get("VECTOR_INDEX_DIR") or os.path.join(current_app.instance_path, "vector-index"))


def path_for(database: str, model: str) -> Path:
    """The index file of one database and model (both hashed into the name)."""
    digest = hashlib.sha256(f"{database}\n{model}".encode()).hexdigest()[:20]
    return folder() / f"threads-{digest}.usearch"


def _meta_path(path: Path) -> Path:
    return path.with_suffix(".json")


_opened: dict[Path, OpenIndex] = {}
_asked: dict[Path, float] = {}
_lock = threading.Lock()


def _stamp(path: Path) -> tuple | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_ino, status.st_mtime_ns


def opened(database: str, model: str) -> OpenIndex | None:
    """The index file of this database and model, opened once per process (again after a rebuild); None without."""
    path = path_for(database, model)
    stamp = _stamp(path)
    cached = _opened.get(path)
    if stamp is None:
        return None
    if cached is not None and cached.stamp == stamp:
        return cached
    try:
        meta = json.loads(_meta_path(path).read_text())
        index = VectorIndex.open(path, expansion_search=int(current_app.config.get("VECTOR_INDEX_EF", 128)))
    except (OSError, ValueError, RuntimeError):
        log.warning("vector index %s unreadable; exact search until it is rebuilt", path, exc_info=True)
        return None
    result = OpenIndex(index, int(meta["watermark"]), int(meta["count"]), stamp)
    with _lock:
        _opened[path] = result
    return result


def forget_opened() -> None:
    """Close every opened index (tests; after removing files)."""
    with _lock:
        _opened.clear()
        _asked.clear()


def ask_for_rebuild(database: str, model: str) -> None:
    """Queue a rebuild of this index by task name, at most once per ``REQUEUE_SECONDS`` from this process.

    Sent without an outbox row: a rebuild that does not arrive (the broker was down) is asked for again by a
    later lookup, and the lookup's own session is left alone.
    """
    path = path_for(database, model)
    now = time.monotonic()
    with _lock:
        if now - _asked.get(path, -REQUEUE_SECONDS) < REQUEUE_SECONDS:
            return
        _asked[path] = now
    if background.has_broker():
        background.send(REBUILD_INDEX, model)
    else:
        background.dispatch(background.enqueue(REBUILD_INDEX, model))


def needs_rebuild(opened_index: OpenIndex | None, tail_rows: int, total_rows: int) -> bool:
    """Whether the file is missing (on a database big enough for one) or its tail grew too long to search exactly."""
    if opened_index is None:
        return total_rows >= min_rows()
    return tail_rows > max(REBUILD_TAIL_ROWS, opened_index.count // 10)


def rebuild(model: str) -> int | None:
    """Build the index file of this database and model from every stored vector; the watermark, or None if
    another process is building it right now. Reads the vectors in chunks, so memory stays near the index's size."""
    database = db.engine.url.render_as_string(hide_password=True)
    path = path_for(database, model)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        started = time.perf_counter()
        index, watermark, count = VectorIndex(), 0, 0
        # Its own connection: run inline (no pool, as in tests) it must not touch the caller's session.
        with db.engine.connect() as conn:
            top = conn.execute(select(func.max(ThreadEmbedding.id)).where(ThreadEmbedding.model_name == model)).scalar()
            if top is not None and path.exists() and _meta_watermark(path) == top:
                return top  # another worker built it up to the newest row already
            while True:
                rows = conn.execute(
                    select(ThreadEmbedding.id, ThreadEmbedding.thread_id, ThreadEmbedding.dimensions,
                           ThreadEmbedding.vector)
                    .where(ThreadEmbedding.model_name == model, ThreadEmbedding.id > watermark)
                    .order_by(ThreadEmbedding.id).limit(READ_CHUNK)).all()
                if not rows:
                    break
                width = rows[0].dimensions if index.dimensions == 0 else index.dimensions
                kept = [r for r in rows if r.dimensions == width and len(r.vector) == width * 4]
                if kept:
                    keys = np.fromiter((r.thread_id for r in kept), dtype=np.int64, count=len(kept))
                    vectors = np.frombuffer(b"".join(r.vector for r in kept), dtype="<f4").reshape(-1, width)
                    index.add(keys, vectors)
                    count += len(kept)
                watermark = rows[-1].id
        if not count:
            return watermark
        index.save(path)
        meta = {"model": model, "watermark": watermark, "count": len(index), "dimensions": index.dimensions,
                "seconds": round(time.perf_counter() - started, 1)}
        partial = _meta_path(path).with_name(f".{path.stem}.json.{os.getpid()}.partial")
        partial.write_text(json.dumps(meta))
        # The meta file is read after the index by its readers: swapped after it, and a reader that sees the
        # new index with the old watermark only searches a few already indexed rows twice.
        os.replace(partial, _meta_path(path))
        os.utime(path)  # a new stamp for processes that opened the old file
        log.info("vector index %s: %d vectors up to row %d in %.1f s", path.name, len(index), watermark,
                 time.perf_counter() - started)
        return watermark


def _meta_watermark(path: Path) -> int | None:
    try:
        return int(json.loads(_meta_path(path).read_text())["watermark"])
    except (OSError, ValueError, KeyError):
        return None


background.register(REBUILD_INDEX, rebuild)
