"""Server time of the search page (/search) at 100k threads, on SQLite (FTS5) and PostgreSQL (tsvector).

Uses the page benchmark's data sets (bench/forum_data.py; kept databases get new migrations, the full-text
one included, applied in place). Every round requests every (database, role, query) once, so load from other
processes falls on all cells alike. Server time is the wall time around ``client.get`` of Flask's test
client, in process, as in bench/forum_pages.py.

    .venv/bin/python bench/search_speed.py [--db sqlite,postgres] [-n 20] [--roles customer,employee]
    .venv/bin/python bench/search_speed.py --semantic    # the blend with stored vectors (similar_lookup's data)

The page benchmark's data set has no stored embeddings, so it measures full text alone. ``--semantic`` uses
the 100k-thread, 384-d data set of bench/similar_lookup.py instead, with the query's vector given (a
cluster centre, as that benchmark does; embedding the query text with the real model is timed there).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import OUT, Scale, ensure  # noqa: E402
from forum_pages import LABELS, _app_for, _signed_in_client  # noqa: E402

# Matches from none to 38% of the threads, with and without filters, and hostile text.
QUERIES = {
    "rare code": {"q": "ORA-01950"},
    "two words": {"q": "installer hangs"},
    "three words": {"q": "ldap sync skips users"},
    "phrase-like": {"q": "saml assertion rejected"},
    "common word": {"q": "ledger"},
    "common + product/version": {"q": "heap", "product": "Ledger", "version": "9.1"},
    "space filter": {"q": "kafka consumer lag", "space": "integrations"},
    "status + dates": {"q": "deadlocks under load", "status": "resolved", "since": "2025-01-01",
                       "until": "2025-12-31"},
    "tag filter": {"q": "timeout", "tag": "timeout"},
    "page 5": {"q": "upgrade script", "page": "5"},
    "syntax soup": {"q": '"unbalanced AND OR NOT NEAR(x) * ^ foo:bar OPS-306 🙂'},
    "10 kB": {"q": "backup restore " * 700},
}


# On the similar-threads data set every title reads "Problem <cluster> seen in thread <id>".
SEMANTIC_QUERIES = {
    "cluster words": {"q": "problem 17"},
    "one thread": {"q": "thread 4242"},
    "common word": {"q": "problem"},
    "no match": {"q": "zebra"},
}


def _semantic_setup(backend: str):
    """The similar-threads data set (built or migrated by its own script) and an app whose embedder
    returns a cluster centre, so the blend has real neighbours."""
    import similar_lookup

    from forum.services.vectors import similar

    url = similar_lookup.build(backend, 100_000)
    app = similar_lookup._app(url)
    embedder = similar_lookup.FixedEmbedder()
    embedder.vector = similar_lookup._centroids()[17]
    similar.query_embedder = lambda: embedder
    similar._model_key = lambda e: e.model_name
    return app, {"customer": "u2@x.test", "employee": "u1@x.test"}


def _quantiles(values: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[49], 1), round(cuts[94], 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("-n", type=int, default=20, help="measured rounds (each requests every query once)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--roles", default="customer,employee")
    parser.add_argument("--semantic", action="store_true", help="measure the blend on similar_lookup's data set")
    args = parser.parse_args(argv)
    queries = SEMANTIC_QUERIES if args.semantic else QUERIES
    backends = [b.strip() for b in args.db.split(",") if b.strip()]
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]

    cells = []
    for backend in backends:
        if args.semantic:
            app, users = _semantic_setup(backend)
        else:
            marker = ensure(backend, Scale())
            app, _queries = _app_for(backend)
            users = marker["targets"]["users"]
        if backend == "postgres":
            # Statistics for the generated search column (added in place after the data set was analysed).
            from sqlalchemy import text

            from forum.extensions import db

            with app.app_context():
                with db.engine.begin() as conn:
                    conn.execute(text("ANALYZE thread"))
        for role in roles:
            client = _signed_in_client(app, users[role])
            for name, params in queries.items():
                cells.append({"backend": backend, "role": role, "query": name, "client": client,
                              "url": "/search?" + urlencode(params), "times": []})

    def run(record: bool) -> None:
        for cell in cells:
            started = time.perf_counter()
            response = cell["client"].get(cell["url"])
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                raise SystemExit(f"{cell['backend']} {cell['url'][:80]}: HTTP {response.status_code}")
            if args.semantic and record and "similar meaning" not in response.get_data(as_text=True) \
                    and "zebra" not in cell["url"]:
                raise SystemExit(f"{cell['backend']} {cell['url']}: the semantic blend was not used")
            if record:
                cell["times"].append(elapsed)

    load_before = os.getloadavg()
    started = time.perf_counter()
    for _ in range(args.warmup):
        run(False)
    for _ in range(args.n):
        run(True)
    load_after = os.getloadavg()

    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.2f} before / {load_after[0]:.2f} after, {args.n} rounds of {len(queries)} queries "
          f"after {args.warmup} warm-up, {time.perf_counter() - started:.0f} s\n")
    summary = []
    print("| database | role | p50 | p95 | max | requests |\n|---|---|---|---|---|---|")
    for backend in backends:
        for role in roles:
            times = [t for c in cells if c["backend"] == backend and c["role"] == role for t in c["times"]]
            p50, p95 = _quantiles(times)
            summary.append({"backend": backend, "role": role, "p50_ms": p50, "p95_ms": p95,
                            "max_ms": round(max(times), 1), "n": len(times)})
            print(f"| {LABELS[backend]} | {role} | {p50} ms | {p95} ms | {max(times):.1f} ms | {len(times)} |")
    print("\n| query | " + " | ".join(f"{LABELS[b]} p50 | {LABELS[b]} p95" for b in backends) + " |")
    print("|---|" + "---|---|" * len(backends))
    per_query = []
    for name in queries:
        row = []
        for backend in backends:
            times = [t for c in cells if c["backend"] == backend and c["query"] == name for t in c["times"]]
            p50, p95 = _quantiles(times)
            row.append(f"{p50} ms | {p95} ms")
            per_query.append({"backend": backend, "query": name, "p50_ms": p50, "p95_ms": p95})
        print(f"| {name} | " + " | ".join(row) + " |")
    OUT.mkdir(parents=True, exist_ok=True)
    name = "search_speed_semantic.json" if args.semantic else "search_speed.json"
    (OUT / name).write_text(json.dumps({
        "load_before": load_before, "load_after": load_after, "n": args.n, "summary": summary,
        "per_query": per_query, "queries": queries}, indent=2))


if __name__ == "__main__":
    main()
