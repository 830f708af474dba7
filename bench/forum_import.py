"""Time `import-threads` on a synthetic JSON Lines file (100k threads by default), on SQLite and PostgreSQL.

Each database is measured in its own process (a fresh, migrated database): the first import, then a
re-run of the same file (everything skipped). Wall time and the process's CPU time are both printed (the
CPU time is what this process itself spent, so it says more than wall time on a busy machine; the
database server's own work is in the wall time only). Peak memory is the child process's maximum RSS.

    .venv/bin/python bench/forum_import.py [-n 100000] [--db sqlite,postgres] [--file /tmp/gw_import.jsonl]

The file is generated (fixed seed) unless it exists with the same line count; it is not kept in the repo.

Measured 2026-11-26 on the shared 2-core machine while other work ran (load average 13-15), 100,000 threads
(147 MB, 233,045 replies; 2,000 organisations, 208,335 placeholder people, 52,557 deployments created),
whole file in one transaction, full-text triggers / generated tsvector in place:

    SQLite      first import 289 s wall, 67 s CPU; re-run (all skipped) 31 s wall, 9 s CPU; peak RSS 200 MB
    PostgreSQL  first import 306 s wall, 52 s CPU; re-run (all skipped) 30 s wall, 11 s CPU; peak RSS 205 MB

About half of the CPU time is Markdown rendering (every body here is distinct); the wall times are mostly
waiting for a CPU on the loaded machine.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PG_DB = "groundwork_import_bench"

WORDS = ("installer schema upgrade lock timeout cluster node certificate proxy LDAP SSO memory heap index "
         "migration rollback backup restore license port firewall kerberos latency queue worker cache "
         "replication failover patch driver connection pool tablespace").split()
SHORT_REPLIES = ["Thanks, that worked.", "Same here.", "Any update?", "Fixed after the patch.", "+1"]


def generate(path: Path, n: int, seed: int = 7) -> None:
    """Write ``n`` varied thread lines: organisations, authors, spaces, replies, deployments."""
    rng = random.Random(seed)
    start = datetime(2022, 1, 1)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            org = f"Customer {rng.randrange(2000):04d}"
            created = start + timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            words = rng.sample(WORDS, 6)
            line = {
                "external_id": f"legacy-{i}", "title": f"{' '.join(words[:4]).capitalize()} problem #{i}",
                "body": f"After the upgrade the **{words[0]}** fails.\n\n```\nERR-{rng.randrange(999)}: {words[1]}\n```\n"
                        + " ".join(rng.choices(WORDS, k=rng.randrange(20, 120))),
                "organisation": org, "author": f"Person {rng.randrange(8)} of {org}",
                "space": rng.choice(["Installation", "Upgrades", "Integrations", "Performance", "Security"]),
                "created_at": created.isoformat() + "Z",
                "visibility": rng.choices(["public", "org_private", "internal"], [8, 1, 1])[0],
                "tags": rng.sample(WORDS, rng.randrange(0, 4)),
            }
            if rng.random() < 0.6:
                line.update(product=rng.choice(["Ledger", "Vault"]), version=rng.choice(["1.0", "2.0", "2.1"]),
                            hosting=rng.choice(["cloud", "on-premises", "hybrid"]),
                            database=rng.choice(["PostgreSQL 15", "Oracle 19c", "SQL Server 2019"]),
                            topology=rng.choice(["single node", "cluster"]))
            replies = []
            for r in range(rng.choices([0, 1, 2, 3, 5, 8], [2, 3, 3, 2, 1, 1])[0]):
                text = rng.choice(SHORT_REPLIES) if rng.random() < 0.4 else " ".join(rng.choices(WORDS, k=30))
                replies.append({"author": f"Helper {rng.randrange(300)}", "body": text,
                                "created_at": (created + timedelta(hours=r + 1)).isoformat() + "Z"})
            if replies and rng.random() < 0.5:
                rng.choice(replies)["accepted"] = True
            line["replies"] = replies
            out.write(json.dumps(line) + "\n")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(db: str, path: Path) -> None:
    """Migrate a fresh database, import twice, print one JSON line of figures."""
    from flask_migrate import upgrade
    from sqlalchemy import create_engine, func, select, text

    from forum import create_app
    from forum.extensions import db as sa_db
    from forum.importing.importer import import_file
    from forum.models import Product, ProductVersion, Reply, Thread

    if db == "sqlite":
        file = Path("/tmp/gw_import_bench.sqlite")
        for suffix in ("", "-wal", "-shm"):
            Path(str(file) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{file}"
    else:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{PG_DB}"'))
        admin.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_DB
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": url,
                      "MINING_IN_BACKGROUND": False})
    with app.app_context():
        upgrade()
        for name in ("Ledger", "Vault"):  # a catalog, so deployments are matched and created
            product = Product(name=name, slug=name.lower())
            sa_db.session.add(product)
            sa_db.session.flush()
            sa_db.session.add_all([ProductVersion(product_id=product.id, name=v) for v in ("1.0", "2.0", "2.1")])
        sa_db.session.commit()
        started, cpu = time.perf_counter(), _cpu()
        first = import_file(path)
        first_s, first_cpu = time.perf_counter() - started, _cpu() - cpu
        started, cpu = time.perf_counter(), _cpu()
        again = import_file(path)
        again_s, again_cpu = time.perf_counter() - started, _cpu() - cpu
        threads = sa_db.session.execute(select(func.count()).select_from(Thread)).scalar_one()
        replies = sa_db.session.execute(select(func.count()).select_from(Reply)).scalar_one()
    print(json.dumps({"db": db, "threads": threads, "replies": replies, "import_s": round(first_s, 1),
                      "import_cpu_s": round(first_cpu, 1), "rerun_s": round(again_s, 1),
                      "rerun_cpu_s": round(again_cpu, 1), "load_avg": os.getloadavg()[0], "skipped_on_rerun": again.skipped, "created": first.created,
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--file", type=Path, default=Path("/tmp/gw_import.jsonl"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file)
        return
    if not args.file.exists() or sum(1 for _ in args.file.open("rb")) != args.n:
        started = time.perf_counter()
        generate(args.file, args.n)
        print(f"generated {args.n} lines, {args.file.stat().st_size / 1e6:.0f} MB in "
              f"{time.perf_counter() - started:.1f} s")
    for db in args.db.split(","):
        out = subprocess.run([sys.executable, __file__, "--child", db, "--file", str(args.file)],
                             capture_output=True, text=True, cwd=ROOT)
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            continue
        print(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
