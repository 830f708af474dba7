"""Server time of the metrics page (/metrics) at 100k threads and 1M replies, on SQLite and PostgreSQL.

Uses the page benchmark's data sets (bench/forum_data.py; kept databases get new migrations applied in place).
Three figures per (database, period):

- **cold page**: the per-process cache is emptied before each request. A period of up to 5,000 questions is
  computed inside the request; a longer one starts its computation in the background and the request
  answers at once with a "computing" page that reloads itself.
- **compute**: the time to compute every figure of the period (``metrics.compute``, all queries and Python
  aggregation), i.e. how long that background computation (or a CSV export with nothing cached) takes.
- **warm page**: the figures are in the cache (kept 60 s, then refreshed in the background while the old ones
  are served), so only the session, the user and the rendering remain.

Server time is the wall time around ``client.get`` of Flask's test client, in process, as in
bench/forum_pages.py. Every request is checked for HTTP 200.

    .venv/bin/python bench/metrics_speed.py [--db sqlite,postgres] [-n 5] [--warm 50] [--periods 30,90,365,all]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import OUT, Scale, ensure  # noqa: E402
from forum_pages import LABELS, _app_for, _signed_in_client  # noqa: E402


def _quantiles(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        return round(values[0], 1), round(values[0], 1)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return round(cuts[49], 1), round(cuts[94], 1)


def _wait_for_background(metrics) -> None:
    """Let a background computation the cold request started finish, so it does not overlap the next timing."""
    while metrics._refreshing:
        time.sleep(0.05)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("-n", type=int, default=5, help="cold requests per (database, period)")
    parser.add_argument("--warm", type=int, default=50, help="warm requests per (database, period)")
    parser.add_argument("--periods", default="30,90,365,all")
    args = parser.parse_args(argv)
    from forum.services.metrics import results as metrics

    backends = [b.strip() for b in args.db.split(",") if b.strip()]
    periods = [p.strip() for p in args.periods.split(",") if p.strip()]
    load_before = os.getloadavg()
    started = time.perf_counter()
    results = []
    for backend in backends:
        marker = ensure(backend, Scale())
        app, log = _app_for(backend)
        client = _signed_in_client(app, marker["targets"]["users"]["employee"])
        for period in periods:
            url = f"/metrics/?period={period}"
            cold, compute, warm, queries, placeholder = [], [], [], set(), 0
            client.get(url)  # the first request of a process also loads templates and code: not counted
            for _ in range(args.n):
                metrics.clear_cache()
                t0 = time.perf_counter()
                response = client.get(url)
                cold.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{backend} {url}: HTTP {response.status_code}")
                placeholder += "Computing the figures" in response.get_data(as_text=True)
                _wait_for_background(metrics)
                with app.app_context():
                    before = log.count
                    t0 = time.perf_counter()
                    metrics.compute(period)
                    compute.append((time.perf_counter() - t0) * 1000)
                    queries.add(log.count - before)
            with app.app_context():
                metrics.metrics_for(period)
            for _ in range(args.warm):
                t0 = time.perf_counter()
                response = client.get(url)
                warm.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200 or "Median (not mean)" not in response.get_data(as_text=True):
                    raise SystemExit(f"{backend} {url}: HTTP {response.status_code} or no figures")
            del log.statements[:]
            (c50, c95), (k50, k95), (w50, w95) = _quantiles(cold), _quantiles(compute), _quantiles(warm)
            results.append({"backend": backend, "period": period, "cold_p50_ms": c50, "cold_p95_ms": c95,
                            "cold_answered_computing": placeholder, "compute_p50_ms": k50,
                            "compute_p95_ms": k95, "warm_p50_ms": w50, "warm_p95_ms": w95, "cold_n": len(cold),
                            "warm_n": len(warm), "queries": sorted(queries)})
            print(f"{backend} {period}: cold p50 {c50} p95 {c95} ms ({placeholder}/{len(cold)} 'computing'), "
                  f"compute p50 {k50} p95 {k95} ms, warm p50 {w50} p95 {w95} ms", flush=True)
    load_after = os.getloadavg()
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.2f} before / {load_after[0]:.2f} after, {args.n} cold and {args.warm} warm requests "
          f"per cell, {time.perf_counter() - started:.0f} s\n")
    print("| database | period | cold page p50 / p95 | answered 'computing' | compute p50 / p95 | warm page p50 / p95 |"
          " queries (compute) |\n|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {LABELS[r['backend']]} | {r['period']} | {r['cold_p50_ms']} / {r['cold_p95_ms']} ms | "
              f"{r['cold_answered_computing']} of {r['cold_n']} | {r['compute_p50_ms']} / {r['compute_p95_ms']} ms | "
              f"{r['warm_p50_ms']} / {r['warm_p95_ms']} ms | {', '.join(map(str, r['queries']))} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "metrics_speed.json").write_text(json.dumps({
        "load_before": load_before, "load_after": load_after, "results": results}, indent=2))


if __name__ == "__main__":
    main()
