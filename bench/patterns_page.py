"""Server time of the common-patterns pages (/patterns and /patterns/<id>) at 100k threads / 1M replies.

Works on copies of the kept benchmark databases (bench/forum_data.py), never on the kept ones: ``prepare``
copies one, stores a synthetic vector for every thread and runs a real mining run (as bench/forum_mining.py
does), so the copy holds about a hundred patterns with their memberships. The copies are kept for later
runs (``--fresh`` makes them again).

    .venv/bin/python bench/patterns_page.py prepare [--db sqlite,postgres] [--fresh]
    .venv/bin/python bench/patterns_page.py measure [--db sqlite,postgres] [-n 100] [--cold 5] [--statements]
    .venv/bin/python bench/patterns_page.py measure --db sqlite --broker redis://127.0.0.1:6379/14   # on a worker
    .venv/bin/python bench/patterns_page.py explain --db sqlite    # the cold computation's statements and plans
"""
from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from forum_data import OUT, PG_ADMIN_URL, PG_DB_NAME, Scale, bench_config, default_url, ensure  # noqa: E402

WORK = Path(os.environ.get("BENCH_PATTERNS_DIR", Path(tempfile.gettempdir()) / "gw_patterns_page"))
PG_COPY = PG_DB_NAME + "_patterns"
LEAD_EMAIL = "staff-015@example.test"  # an employee with the lead flag in bench/forum_model.py
LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
COMPUTING = (b"Figures are being computed for these filters", b"The map and charts are being computed")


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def copy_url(backend: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{WORK / 'forum_patterns.sqlite'}"
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + PG_COPY


def marker_path(backend: str) -> Path:
    return OUT / f"patterns_page_copy_{backend}.json"


def app_for(url: str, broker: str = "", queue: str = ""):
    from forum import create_app

    # Figures are computed in a background thread, as in the embedded default (bench_config runs mining
    # inline), or with a broker on a Celery worker (``start_worker``).
    celery = {"CELERY_BROKER_URL": broker, "CELERY_QUEUE": queue} if broker else {}
    return create_app({**bench_config(url), "MAIL_SUPPRESS_SEND": True, "MINING_ASSIGN_NEW_THREADS": False,
                       "PATTERN_FIGURES_IN_BACKGROUND": True, **celery})


def start_worker(url: str, broker: str, queue: str):
    """A Celery worker process for one database (normal priority, one task at a time), as beside gunicorn."""
    import subprocess

    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY=bench_config(url)["SECRET_KEY"],
               FORUM_CELERY_BROKER_URL=broker, FORUM_CELERY_QUEUE=queue, FORUM_MINING_ASSIGN_NEW_THREADS="false",
               HF_HUB_OFFLINE="1")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "forum.celery_worker", "worker", "--pool", "solo", "--concurrency", "1",
         "-Q", queue, "--loglevel", "WARNING", "--without-heartbeat", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def copy_database(backend: str) -> str:
    """Copy the kept 100k database (which is only read); returns the copy's URL."""
    ensure(backend, Scale())
    if backend == "sqlite":
        WORK.mkdir(parents=True, exist_ok=True)
        target = WORK / "forum_patterns.sqlite"
        target.unlink(missing_ok=True)
        # The backup API copies a consistent state even while the page benchmark reads the source.
        source = sqlite3.connect(default_url("sqlite").removeprefix("sqlite:///"))
        dest = sqlite3.connect(target)
        with dest:
            source.backup(dest)
        source.close()
        dest.close()
    else:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{PG_COPY}"'))
            # Fails while anyone is connected to the source (the page benchmark): run it after that one.
            conn.execute(text(f'CREATE DATABASE "{PG_COPY}" TEMPLATE "{PG_DB_NAME}"'))
        engine.dispose()
    return copy_url(backend)


def prepare(backend: str, fresh: bool) -> dict:
    """A copy with patterns: synthetic stored vectors, then one real mining run (bench/forum_mining.py)."""
    import forum_mining
    from forum_data import _upgrade

    if marker_path(backend).exists() and not fresh:
        marker = json.loads(marker_path(backend).read_text())
        _upgrade(marker["url"])  # new migrations of ours apply to the copy in place
        return marker
    forum_mining.WORK = WORK  # its child run writes its result file there
    t0 = time.perf_counter()
    url = copy_database(backend)
    print(f"{backend}: copied in {time.perf_counter() - t0:.0f} s; load {load()}", flush=True)
    prefilled = forum_mining.prefill(url)
    print(f"{backend}: stored vectors {prefilled}; load {load()}", flush=True)
    run = forum_mining.child_run(url, f"patterns_page_{backend}")
    print(f"{backend}: mining run {run['run_s']} s, {run['patterns']} patterns; load {load()}", flush=True)
    marker = {"backend": backend, "url": url, "patterns": run["patterns"], "documents": run["documents"],
              "prepared": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    OUT.mkdir(parents=True, exist_ok=True)
    marker_path(backend).write_text(json.dumps(marker, indent=2))
    return marker


def _targets(app) -> dict:
    """The pages measured: the list (each sort; a version, product, hosting, space and date filter) and the top
    pattern's page."""
    from urllib.parse import quote

    from sqlalchemy import func, select

    from forum.extensions import db
    from forum.models import Product, ProductVersion, Space, Thread
    from forum.services.patterns import summaries as service

    with app.app_context():
        product, version = db.session.execute(
            select(Product.name, ProductVersion.name).join(Product, Product.id == ProductVersion.product_id)
            .order_by(Product.name, ProductVersion.position.desc()).limit(1)).one()
        newest = db.session.execute(select(func.max(Thread.created_at))).scalar()
        space = db.session.execute(select(Space.id).order_by(Space.position, Space.name).limit(1)).scalar()
        top = service.summarise()[0].pattern.id
    since, until = (newest.date().replace(day=1, month=1)), newest.date()
    return {
        "list": "/patterns",
        "list_growth": "/patterns?sort=growth",
        "list_unresolved": "/patterns?sort=unresolved",
        "list_recent": "/patterns?sort=recent",
        "list_version": f"/patterns?version={quote(f'{product}::{version}')}",
        "list_product": f"/patterns?product={quote(product)}",
        "list_hosting": "/patterns?hosting=cloud",
        "list_space": f"/patterns?space={space}",
        "list_dates": f"/patterns?since={since.isoformat()}&until={until.isoformat()}",
        "pattern": f"/patterns/{top}",
    }


class Cell:
    """One (database, page): a lead's signed-in client, its URL and the times measured."""

    def __init__(self, backend: str, app, log, page: str, url: str) -> None:
        from forum_pages import _signed_in_client

        self.backend, self.app, self.log, self.page, self.url = backend, app, log, page, url
        self.client = _signed_in_client(app, LEAD_EMAIL)
        self.times: dict[str, list[float]] = {"steady": [], "live": [], "cold": []}
        self.queries: dict[str, set[int]] = {"steady": set(), "live": set(), "cold": set()}
        self.computing = {"steady": 0, "live": 0, "cold": 0}  # answered "figures are being computed"
        self.figures_after: list[float] = []  # cold: from the request until the figures were stored

    def get(self, mode: str | None) -> None:
        before = self.log.count
        started = time.perf_counter()
        response = self.client.get(self.url)
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"{self.backend} {self.url}: HTTP {response.status_code}\n"
                             f"{response.get_data(as_text=True)[:2000]}")
        if mode:
            self.times[mode].append(elapsed * 1000)
            self.queries[mode].add(self.log.count - before)
            self.computing[mode] += any(marker in response.data for marker in COMPUTING)
        if mode == "cold":
            self.wait_for_figures()  # the computation the request started (or left to the background)
            self.figures_after.append((time.perf_counter() - started) * 1000)

    def wait_for_figures(self) -> None:
        """Until the figures of this page's filters are stored (for a pattern's page: the list's, and its own
        figures and the map)."""
        wait_for_background()
        query = self.url.partition("?")[2] if self.page != "pattern" else ""
        polled = [f"/patterns/figures.json?{query}"] + ([f"{self.url}/figures.json"] if self.page == "pattern" else [])
        deadline = time.monotonic() + 120
        while not all(self.client.get(url).get_json()["ready"] for url in polled):
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.backend} {self.url}: figures not stored after 120 s")
            time.sleep(0.01)

    def summary(self, mode: str) -> dict | None:
        times = self.times[mode]
        if not times:
            return None
        p50, p95 = _cuts(times)
        out = {"backend": self.backend, "page": self.page, "url": self.url, "mode": mode, "n": len(times),
               "p50_ms": p50, "p95_ms": p95, "max_ms": round(max(times), 1),
               "queries": sorted(self.queries[mode]), "computing": self.computing[mode]}
        if mode == "cold":
            out["figures_after_p50_ms"], out["figures_after_p95_ms"] = _cuts(self.figures_after)
        return out


def _cuts(times: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else [times[0]] * 99
    return round(cuts[49], 1), round(cuts[94], 1)


def forget_figures(app) -> None:
    """Drop every remembered and stored figure (the list's, each pattern page's and the map), so the next
    request computes them (the cold path)."""
    from forum.services.patterns import snapshots as pattern_snapshots

    with app.app_context():
        pattern_snapshots.forget()


def touch_a_thread(app) -> None:
    """New activity on a thread (as a reply would bring): the data fingerprint moves (changes the copy only)."""
    from sqlalchemy import func, select, update

    from forum.extensions import db
    from forum.models import Thread, utcnow

    with app.app_context():
        newest = db.session.execute(select(func.max(Thread.id))).scalar()
        db.session.execute(update(Thread).where(Thread.id == newest).values(last_activity_at=utcnow()))
        db.session.commit()


_computed: list[float] = []


def wait_for_background() -> None:
    from forum.services.patterns import snapshots as pattern_snapshots

    pattern_snapshots.wait_for_refreshes()


def _count_computations() -> None:
    from forum.services.patterns import snapshots as pattern_snapshots

    original = pattern_snapshots.compute

    def counted(filters):
        started = time.perf_counter()
        try:
            return original(filters)
        finally:
            _computed.append(time.perf_counter() - started)

    pattern_snapshots.compute = counted


def measure(backends: list[str], n: int, cold: int, warmup: int, live_every: int, broker: str = "") -> dict:
    from forum_pages import QueryLog

    from forum.extensions import db

    if broker and len(backends) > 1:
        raise SystemExit("--broker measures one database per run (one Celery app per process): add --db")
    _count_computations()
    cells: list[Cell] = []
    workers = []
    for backend in backends:
        marker = prepare(backend, fresh=False)
        queue = f"groundwork-bench-{backend}-{os.getpid()}" if broker else ""
        app = app_for(marker["url"], broker, queue)
        if broker:
            workers.append(start_worker(marker["url"], broker, queue))
        with app.app_context():
            log = QueryLog(db.engine)
        for page, url in _targets(app).items():
            cells.append(Cell(backend, app, log, page, url))
    try:
        return _measure(cells, n, cold, warmup, live_every, broker)
    finally:
        for worker in workers:
            worker.terminate()
            worker.wait(30)


def _measure(cells: list[Cell], n: int, cold: int, warmup: int, live_every: int, broker: str) -> dict:
    for cell in cells:  # once each, untimed: templates and statement caches are ready, as in a running server
        cell.get(None)
        cell.wait_for_figures()
    load_before, started = os.getloadavg(), time.perf_counter()
    # Cold: nothing remembered or stored, as for the first view of a set of filters. The request starts the
    # computation and waits for it briefly; the time until the figures are stored is recorded too.
    for _ in range(cold):
        for cell in cells:
            forget_figures(cell.app)
            cell.get("cold")
    # Steady state: what users see between data changes (figures computed once, then reused).
    for _ in range(warmup):
        for cell in cells:
            cell.get(None)
    for _ in range(n):
        for cell in cells:
            cell.get("steady")
    # Live: the data moves every ``live_every`` rounds (a thread gets activity), so the stored figures go
    # stale and are recomputed in a background thread of this process while the requests go on.
    first_live = len(_computed)
    for round_ in range(n):
        if round_ % live_every == 0:
            for app in {id(cell.app): cell.app for cell in cells}.values():
                touch_a_thread(app)
        for cell in cells:
            cell.get("live")
    wait_for_background()
    refreshes = {"count": len(_computed[first_live:]),
                 "median_s": round(statistics.median(_computed[first_live:]), 2) if _computed[first_live:] else None}
    load_after = os.getloadavg()
    summaries = [s for cell in cells for mode in ("steady", "live", "cold") if (s := cell.summary(mode))]
    if broker:
        refreshes = {"count": "on the worker, not counted", "median_s": None}
    return {"when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(), "broker": broker,
            "load_before": [round(v, 2) for v in load_before], "load_after": [round(v, 2) for v in load_after],
            "seconds": round(time.perf_counter() - started, 1), "n": n, "cold": cold, "warmup": warmup,
            "live_every": live_every, "background_refreshes": refreshes, "results": summaries}


def explain(backends: list[str], top: int, steady: bool) -> None:
    """The statements of one cold request of each page, slowest first, with their plans."""
    from forum_pages import QueryLog

    from forum.extensions import db
    from forum.services.patterns.figures import MEMBERS_TABLE

    for backend in backends:
        app = app_for(prepare(backend, fresh=False)["url"])
        with app.app_context():
            log = QueryLog(db.engine)
        for page, url in _targets(app).items():
            if page not in ("list", "pattern"):
                continue
            cell = Cell(backend, app, log, page, url)
            if steady:
                cell.get(None)
            else:
                forget_figures(app)
                app.config["PATTERN_FIGURES_WAIT_SECONDS"] = 60  # the request waits for the whole computation
            log.keep, log.statements = True, []
            started = time.perf_counter()
            cell.get(None)
            total = (time.perf_counter() - started) * 1000
            log.keep = False
            statements = sorted(log.statements, key=lambda s: -s[0])
            in_db = sum(s[0] for s in statements) * 1000
            print(f"\n### {LABELS[backend]} · {page} ({'steady' if steady else 'cold'}): {total:.0f} ms, {len(statements)} statements, "
                  f"{in_db:.0f} ms in the database")
            with app.app_context(), db.engine.connect() as conn:
                for seconds, statement, parameters in statements[:top]:
                    print(f"\n-- {seconds * 1000:.1f} ms\n{statement}\n-- params: {parameters!r}")
                    prefix = "EXPLAIN QUERY PLAN " if backend == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS) "
                    if statement.startswith("CREATE TEMPORARY TABLE"):
                        statement = statement[statement.index(" AS ") + 4:]  # the SELECT that fills it
                    elif MEMBERS_TABLE in statement:
                        print("    (no plan: it reads the temporary table of the computation, dropped since)")
                        continue
                    for row in conn.exec_driver_sql(prefix + statement, parameters):
                        print("   ", " | ".join(str(v) for v in row))


def table(summaries: list[dict], backends: list[str]) -> str:
    """The Markdown table for bench/README.md."""
    head = "| page | URL | figures | " + " | ".join(f"{LABELS[b]} p50 | {LABELS[b]} p95" for b in backends)
    names = " / ".join(LABELS[b] for b in backends)
    lines = [head + f" | SQL queries ({names}) |", "|" + "---|" * (4 + 2 * len(backends))]
    keyed = {(s["backend"], s["page"], s["mode"]): s for s in summaries}
    for mode in ("steady", "live", "cold"):
        for page in dict.fromkeys(s["page"] for s in summaries):
            row = [keyed.get((b, page, mode)) for b in backends]
            if not all(row):
                continue
            times = " | ".join(f"{s['p50_ms']:.1f} ms | {s['p95_ms']:.1f} ms" for s in row)
            queries = " / ".join("–".join(str(q) for q in sorted({min(s["queries"]), max(s["queries"])}))
                                 for s in row)
            label = {"steady": "steady (stored)", "live": "live (stale-while-revalidate)",
                     "cold": "cold (nothing stored)"}[mode]
            lines.append(f"| {page} | `{row[0]['url']}` | {label} | {times} | {queries} |")
    return "\n".join(lines)


def cold_table(summaries: list[dict], backends: list[str]) -> str:
    """The cold phase: the answer, how often it was the "being computed" page, and when the figures were in."""
    head = "| page | " + " | ".join(f"{LABELS[b]} answer p50 / p95 | answered computing | figures stored after "
                                    f"p50 / p95" for b in backends) + " |"
    lines = [head, "|" + "---|" * (1 + 3 * len(backends))]
    keyed = {(s["backend"], s["page"]): s for s in summaries if s["mode"] == "cold"}
    for page in dict.fromkeys(s["page"] for s in summaries):
        row = [keyed.get((b, page)) for b in backends]
        if all(row):
            lines.append(f"| {page} | " + " | ".join(
                f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f} ms | {s['computing']} of {s['n']} | "
                f"{s['figures_after_p50_ms']:.0f} / {s['figures_after_p95_ms']:.0f} ms" for s in row) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["prepare", "measure", "explain"])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--fresh", action="store_true", help="make the copies again")
    parser.add_argument("-n", type=int, default=100, help="steady-state requests per page and database")
    parser.add_argument("--cold", type=int, default=5, help="cold requests per page and database")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--live-every", type=int, default=10, help="rounds between data changes in the live phase")
    parser.add_argument("--top", type=int, default=6, help="statements shown by explain")
    parser.add_argument("--broker", default="", help="measure with figures computed by a Celery worker "
                                                     "on this broker (e.g. redis://127.0.0.1:6379/14)")
    parser.add_argument("--steady", action="store_true", help="explain a request after the figures are stored")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.db.split(",") if b.strip()]
    if args.what == "prepare":
        for backend in backends:
            prepare(backend, args.fresh)
    elif args.what == "measure":
        result = measure(backends, args.n, args.cold, args.warmup, args.live_every, args.broker)
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / ("patterns_page_celery.json" if args.broker else "patterns_page.json")).write_text(
            json.dumps(result, indent=2))
        print(f"\n{result['when']}, {result['cpus']} CPUs, 1-minute load average {result['load_before'][0]:.2f} "
              f"before / {result['load_after'][0]:.2f} after, {args.cold} cold and {args.n} steady requests per "
              f"page after {args.warmup} warm-up, {result['seconds']} s\n")
        print(table(result["results"], backends))
        print("\n" + cold_table(result["results"], backends))
        print(f"\nbackground refreshes in the live phase: {result['background_refreshes']}")
    else:
        explain(backends, args.top, args.steady)


if __name__ == "__main__":
    main()
