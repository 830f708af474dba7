"""Bulk data for the forum page benchmark: 100k threads and 1M replies, on SQLite or PostgreSQL.

The schema comes from the migrations (``flask_migrate.upgrade`` on a fresh database). Rows are written with
SQLAlchemy Core ``insert()`` executemany in large chunks on SQLite (``synchronous=OFF`` and foreign keys
off during the load) and with ``COPY`` on PostgreSQL (foreign-key triggers off during the load, because
thread.accepted_reply_id and reply.thread_id point at each other). The data is deterministic (fixed seed),
so both databases hold the same rows. A database is kept between runs; a JSON marker in bench/out/ says what
it holds, and ``--rebuild`` starts over.

    .venv/bin/python bench/forum_data.py [--db sqlite,postgres] [--rebuild] [--threads N --replies N]
"""
from __future__ import annotations

import argparse
import enum
import json
import os
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from itertools import islice
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# BENCH_SOURCE_TREE: measure the code of another source tree (an older commit, say) on the same data sets; the
# data, its markers and the migrations stay this checkout's (bench/thread_page_ab.py --trees).
SOURCE = os.environ.get("BENCH_SOURCE_TREE") or str(ROOT)
if SOURCE not in sys.path:
    sys.path.insert(0, SOURCE)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_model import BenchData, Scale  # noqa: E402

OUT = ROOT / "bench" / "out"
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB_NAME = os.environ.get("BENCH_PG_DB", "groundwork_bench")
CHUNK = 20_000


def scale_suffix(scale: Scale | None) -> str:
    """'' for the default size; '_1000000t_10000000r' for another, so a run at another size never rebuilds (and
    so destroys) the default data set that other benchmarks share."""
    if scale is None or (scale.threads, scale.replies) == (Scale.threads, Scale.replies):
        return ""
    return f"_{scale.threads}t_{scale.replies}r"


def default_url(backend: str, scale: Scale | None = None) -> str:
    """Where the benchmark database of ``backend`` at ``scale`` lives (overridable with BENCH_SQLITE_PATH and
    BENCH_PG_DB, which then name the database of whatever size is asked for)."""
    suffix = scale_suffix(scale)
    if backend == "sqlite":
        return "sqlite:///" + os.environ.get("BENCH_SQLITE_PATH", str(OUT / f"forum_bench{suffix}.sqlite"))
    if backend == "postgres":
        name = os.environ.get("BENCH_PG_DB") or PG_DB_NAME + suffix
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    raise SystemExit(f"unknown backend {backend!r} (sqlite or postgres)")


def bench_config(url: str) -> dict[str, Any]:
    """App configuration for benchmarking: production-like (no debug, no testing), no rate limits."""
    return {
        "SQLALCHEMY_DATABASE_URI": url,
        "SECRET_KEY": "benchmark-only-" + "x" * 32,
        "RATELIMIT_ENABLED": False,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "MINING_IN_BACKGROUND": False,
    }


def _chunks(rows: Iterable[dict], size: int) -> Iterator[list[dict]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class SqliteWriter:
    """Core executemany in chunks; durability off for the load only (the marker is written after it)."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(url)
        self.conn = self.engine.connect()
        for pragma in ("synchronous=OFF", "foreign_keys=OFF", "cache_size=-262144", "temp_store=MEMORY"):
            self.conn.exec_driver_sql(f"PRAGMA {pragma}")
        self.conn.commit()
        # Secondary indexes are dropped for the load and built once at the end: inserting 10M replies with
        # random thread ids into half a dozen B-trees larger than the cache costs far more than sorting once.
        self.indexes = [sql for (sql,) in self.conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
        for (name,) in self.conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").fetchall():
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
        # The full-text triggers too: inside a transaction every row's trigger makes FTS5 flush a segment of its
        # own (a savepoint per statement), so 1M threads crawled at 20k a minute; one 'rebuild' at the end reads
        # the threads once.
        self.triggers = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND sql IS NOT NULL").fetchall()
        for name, _ in self.triggers:
            self.conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        self.conn.commit()

    def write(self, table_name: str, rows: Iterable[dict]) -> int:
        from forum.extensions import db

        table, count = db.metadata.tables[table_name], 0
        for chunk in _chunks(rows, CHUNK):
            self.conn.execute(table.insert(), chunk)
            self.conn.commit()
            count += len(chunk)
        return count

    def finish(self) -> None:
        for sql in self.indexes:
            self.conn.exec_driver_sql(sql)
        for _, sql in self.triggers:
            self.conn.exec_driver_sql(sql)
        if any(name.startswith("thread_fts") for name, _ in self.triggers):
            self.conn.exec_driver_sql("INSERT INTO thread_fts(thread_fts) VALUES ('rebuild')")
        self.conn.commit()
        self.conn.exec_driver_sql("ANALYZE")
        self.conn.commit()
        self.conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        self.conn.close()
        self.engine.dispose()


class PostgresWriter:
    """COPY ... FROM STDIN through psycopg, then sequences moved past the ids we wrote, then ANALYZE."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        self.conn.execute("SET session_replication_role = replica")
        # As on SQLite: indexes that back no constraint are built after the load, each in one sort.
        self.indexes = self.conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)").fetchall()
        for name, _ in self.indexes:
            self.conn.execute(f'DROP INDEX "{name}"')
        self.conn.commit()

    @staticmethod
    def _value(value: Any) -> Any:
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return value

    def write(self, table_name: str, rows: Iterable[dict]) -> int:
        from forum.extensions import db

        table = db.metadata.tables[table_name]
        columns = [c.name for c in table.columns]
        # COPY skips the models' Python-side defaults: apply them for the columns a row leaves out
        # (flags added by later migrations, such as thread.is_locked).
        defaults = {c.name: c.default.arg for c in table.columns if c.default is not None and c.default.is_scalar}
        quoted = ", ".join(f'"{c}"' for c in columns)
        count = 0
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table_name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row([self._value(row[c] if c in row else defaults.get(c)) for c in columns])
                count += 1
        self.conn.commit()
        return count

    def write_rows(self, table_name: str, columns: list[str], rows: Iterable[tuple]) -> int:
        """COPY rows given as tuples in the order of ``columns`` (SQLite's stored values: 0/1 for booleans, ISO
        text for times, JSON as text, which PostgreSQL's input functions accept as they are)."""
        quoted = ", ".join(f'"{c}"' for c in columns)
        count = 0
        with self.conn.cursor() as cur, cur.copy(f'COPY "{table_name}" ({quoted}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        self.conn.commit()
        return count

    def finish(self) -> None:
        from forum.extensions import db

        for table in db.metadata.sorted_tables:
            if "id" in table.columns and table.columns["id"].primary_key:
                self.conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM \"{table.name}\"), 0) + 1, false)")
        self.conn.commit()
        self.conn.execute("SET maintenance_work_mem = '512MB'")
        for _, definition in self.indexes:
            self.conn.execute(definition)
        self.conn.commit()
        self.conn.autocommit = True
        self.conn.execute("VACUUM ANALYZE")
        self.conn.close()


def _fresh_database(backend: str, url: str) -> None:
    """Drop whatever is there and build the schema by running every migration."""
    from sqlalchemy import create_engine, text


    if backend == "sqlite":
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    else:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = url.rsplit("/", 1)[1]
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    _upgrade(url)


def _upgrade(url: str) -> None:
    from flask_migrate import upgrade

    from forum import create_app
    from forum.extensions import db

    app = create_app(bench_config(url))
    with app.app_context():
        upgrade(revision="heads")  # "heads": parallel revisions before their merge, as the tests do
        db.engine.dispose()


def _analyze(url: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def migrations_head() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(ROOT / "migrations")).get_current_head() or ""


def database_revision(url: str) -> str | None:
    """The alembic revision stored in the database, or None when the database is not there."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - a missing database or table both mean "build it"
        return None
    finally:
        engine.dispose()


def marker_path(backend: str, url: str) -> Path:
    """The JSON that says what the database at ``url`` holds (written only after a complete load)."""
    name = Path(url.rsplit("/", 1)[1]).stem
    return OUT / f"marker_{backend}_{name}.json"


def build(backend: str, url: str, scale: Scale) -> dict:
    """Generate and load the whole data set into a fresh database; returns the marker it writes."""
    started = time.perf_counter()
    _fresh_database(backend, url)
    data = BenchData(scale)
    writer = SqliteWriter(url) if backend == "sqlite" else PostgresWriter(url)
    counts = {}
    for table_name, rows in data.tables():
        t0 = time.perf_counter()
        counts[table_name] = writer.write(table_name, rows)
        print(f"  {backend}: {table_name:<16} {counts[table_name]:>9,} rows  {time.perf_counter() - t0:6.1f} s",
              flush=True)
    t0 = time.perf_counter()
    writer.finish()
    print(f"  {backend}: indexes, analyze, checkpoint {time.perf_counter() - t0:.1f} s", flush=True)
    marker = {
        "backend": backend,
        "url": url,
        "scale": asdict(scale),
        "revision": database_revision(url),
        "counts": counts,
        "build_seconds": round(time.perf_counter() - started, 1),
        "targets": data.targets,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    marker_path(backend, url).write_text(json.dumps(marker, indent=2))
    return marker


def copy_from_sqlite(url: str, scale: Scale) -> dict:
    """PostgreSQL from the SQLite data set of the same scale, table by table, instead of generating it again.

    The rows are the same either way (the generator is seeded); reading them back from SQLite costs a fraction
    of planning and drawing 10M replies in Python a second time. Returns the marker it writes."""
    import sqlite3

    from sqlalchemy import JSON

    from forum.extensions import db

    source_marker = ensure("sqlite", scale)
    started = time.perf_counter()
    _fresh_database("postgres", url)
    writer = PostgresWriter(url)
    source = sqlite3.connect(source_marker["url"].removeprefix("sqlite:///"))
    counts = {}
    for table in db.metadata.sorted_tables:
        present = {row[1] for row in source.execute(f'PRAGMA table_info("{table.name}")')}
        columns = [c.name for c in table.columns if c.name in present and c.computed is None]
        if not columns or not source.execute(f'SELECT 1 FROM "{table.name}" LIMIT 1').fetchone():
            continue
        t0 = time.perf_counter()
        quoted = ", ".join(f'"{c}"' for c in columns)
        rows = source.execute(f'SELECT {quoted} FROM "{table.name}"')
        # SQLite keeps a JSON column's None as the text 'null'; the generated load writes SQL NULL, as here.
        json_at = [i for i, c in enumerate(columns) if isinstance(table.columns[c].type, JSON)]
        if json_at:
            rows = (tuple(None if i in json_at and v == "null" else v for i, v in enumerate(row)) for row in rows)
        counts[table.name] = writer.write_rows(table.name, columns, rows)
        print(f"  postgres: {table.name:<16} {counts[table.name]:>9,} rows  {time.perf_counter() - t0:6.1f} s "
              "(from SQLite)", flush=True)
    source.close()
    t0 = time.perf_counter()
    writer.finish()
    print(f"  postgres: indexes, analyze {time.perf_counter() - t0:.1f} s", flush=True)
    marker = dict(source_marker, backend="postgres", url=url, revision=database_revision(url), counts=counts,
                  build_seconds=round(time.perf_counter() - started, 1), copied_from=source_marker["url"])
    marker_path("postgres", url).write_text(json.dumps(marker, indent=2))
    return marker


def ensure(backend: str, scale: Scale, rebuild: bool = False, from_sqlite: bool = False) -> dict:
    """The marker of a loaded database of this scale, building it first when absent or asked to."""
    url = default_url(backend, scale)
    path = marker_path(backend, url)
    if not rebuild and path.exists():
        marker = json.loads(path.read_text())
        revision = database_revision(url)
        if marker.get("scale") == asdict(scale) and marker.get("url") == url and revision is not None:
            head = migrations_head()
            if revision != head:
                # New revisions are applied in place (they only add tables or indexes so far), which is
                # far cheaper than regenerating a million rows.
                print(f"upgrading the {backend} bench database from {revision} to {head}", flush=True)
                try:
                    _upgrade(url)
                    _analyze(url)  # new indexes need statistics, or SQLite takes them for selective ones
                except Exception as error:  # noqa: BLE001 - say what to do instead of a traceback
                    print(f"warning: upgrade failed ({error}); run with --rebuild", file=sys.stderr)
            return marker
    print(f"building the {backend} benchmark database at {url} ...", flush=True)
    if backend == "postgres" and from_sqlite:
        return copy_from_sqlite(url, scale)
    return build(backend, url, scale)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--threads", type=int, default=Scale.threads)
    parser.add_argument("--replies", type=int, default=Scale.replies)
    parser.add_argument("--from-sqlite", action="store_true",
                        help="fill PostgreSQL by copying the SQLite data set of the same scale (built first if absent)")
    args = parser.parse_args(argv)
    scale = Scale(threads=args.threads, replies=args.replies)
    for backend in args.db.split(","):
        marker = ensure(backend.strip(), scale, args.rebuild, args.from_sqlite)
        print(json.dumps({k: marker[k] for k in ("backend", "counts", "build_seconds", "targets")}, indent=2))


if __name__ == "__main__":
    main()
