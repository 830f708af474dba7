"""Server time of the metrics page (/metrics) at 100k threads and 1M replies, on SQLite and PostgreSQL.

Uses the page benchmark's data sets (bench/forum_data.py; kept databases get new migrations applied in place).
**Cold**: the per-process cache is emptied before each request, so every figure is computed from the
database. **Warm**: the figures are in the cache (the usual case: they are kept 60 s per process), so only
the session, the user and the rendering remain. Server time is the wall time around ``client.get`` of
Flask's test client, in process, as in bench/forum_pages.py. Every request is checked for HTTP 200.

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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("-n", type=int, default=5, help="cold requests per (database, period)")
    parser.add_argument("--warm", type=int, default=50, help="warm requests per (database, period)")
    parser.add_argument("--periods", default="30,90,365,all")
    parser.add_argument("--csv", action="store_true", help="also time a cold CSV export (customers)")
    args = parser.parse_args(argv)
    from forum.services import metrics

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
            cold, warm, queries = [], [], set()
            client.get(url)  # the first request of a process also loads templates and code: not counted
            for _ in range(args.n):
                metrics.clear_cache()
                before = log.count
                t0 = time.perf_counter()
                response = client.get(url)
                cold.append((time.perf_counter() - t0) * 1000)
                queries.add(log.count - before)
                if response.status_code != 200:
                    raise SystemExit(f"{backend} {url}: HTTP {response.status_code}")
            for _ in range(args.warm):
                t0 = time.perf_counter()
                response = client.get(url)
                warm.append((time.perf_counter() - t0) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{backend} {url}: HTTP {response.status_code}")
            del log.statements[:]
            (c50, c95), (w50, w95) = _quantiles(cold), _quantiles(warm)
            results.append({"backend": backend, "period": period, "cold_p50_ms": c50, "cold_p95_ms": c95,
                            "warm_p50_ms": w50, "warm_p95_ms": w95, "cold_n": len(cold), "warm_n": len(warm),
                            "queries_cold": sorted(queries)})
            print(f"{backend} {period}: cold p50 {c50} ms p95 {c95} ms, warm p50 {w50} ms p95 {w95} ms, "
                  f"queries {sorted(queries)}", flush=True)
    load_after = os.getloadavg()
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, load average "
          f"{load_before[0]:.2f} before / {load_after[0]:.2f} after, {args.n} cold and {args.warm} warm requests "
          f"per cell, {time.perf_counter() - started:.0f} s\n")
    print("| database | period | cold p50 | cold p95 | warm p50 | warm p95 | queries (cold) |\n|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {LABELS[r['backend']]} | {r['period']} | {r['cold_p50_ms']} ms | {r['cold_p95_ms']} ms | "
              f"{r['warm_p50_ms']} ms | {r['warm_p95_ms']} ms | {', '.join(map(str, r['queries_cold']))} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "metrics_speed.json").write_text(json.dumps({
        "load_before": load_before, "load_after": load_after, "results": results}, indent=2))


if __name__ == "__main__":
    main()
