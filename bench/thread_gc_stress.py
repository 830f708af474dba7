"""The thread page in many threads of one process with the collector forced to run all the time (item 9's SIGSEGV).

A targeted companion of ``bench/thread_stress.py``: instead of gunicorn and HTTP clients for ten minutes, the app
of the benchmark data set (``bench/forum_data.py``) renders the 50-reply thread pages in ``--threads`` threads of
this process while the collector runs every few allocations (``--gc-threshold``) and one more thread calls
``gc.collect`` every ``--collect-every`` ms, so ORM code, Jinja and the database drivers meet the collector, and
each other's weakref callbacks, hundreds of thousands of times a minute. A crash kills the process with
faulthandler's report of every thread.

``--probe`` (slower) records what the collector ran as Python code (weakref callbacks and finalizers), whether
any of it set or reset a ContextVar, and how many collections started inside ``ContextVar.set`` / ``reset``:
the two conditions of CPython gh-148891 (on 3.10/3.11 a collection that starts inside ``ContextVar.set`` and runs
a callback that sets a ContextVar of the same context frees the context's HAMT while it is being updated).

    .venv/bin/python bench/thread_gc_stress.py --db sqlite --seconds 150
    .venv/bin/python bench/thread_gc_stress.py --db sqlite --seconds 60 --probe
"""
from __future__ import annotations

import argparse
import faulthandler
import gc
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import bench_config, default_url, marker_path  # noqa: E402
from forum_pages import _signed_in_client  # noqa: E402


class CollectorProbe:
    """Per-thread view of the collector: the Python code it runs and the ContextVar calls around it."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.run_by_collector: Counter[str] = Counter()
        self.contextvar_calls_by_collector: Counter[str] = Counter()
        self.started_inside_contextvar: Counter[str] = Counter()
        self.collections = 0

    def on_gc(self, phase: str, _info: dict) -> None:
        self.local.collecting = False  # the probe's own code is not counted as the collector's
        if phase == "start":
            self.collections += 1
            if getattr(self.local, "inside", None):
                self.started_inside_contextvar[self.local.inside] += 1
        self.local.collecting = phase == "start"

    def on_event(self, frame, event: str, arg) -> None:  # noqa: ANN001 - sys.setprofile's signature
        collecting = getattr(self.local, "collecting", False)
        if frame.f_code.co_filename == __file__ and frame.f_code.co_name == "on_gc":
            return
        where = f"{frame.f_code.co_filename.rsplit('site-packages/', 1)[-1]}:{frame.f_code.co_name}"
        if event == "call" and collecting:
            self.run_by_collector[where] += 1
        elif event in ("c_call", "c_return", "c_exception") and type(getattr(arg, "__self__", None)).__name__ == "ContextVar":
            if event == "c_call":
                self.local.inside = f"ContextVar.{arg.__name__} from {where}"
                if collecting:
                    self.contextvar_calls_by_collector[self.local.inside] += 1
            else:
                self.local.inside = None

    def install(self) -> None:
        gc.callbacks.append(self.on_gc)
        threading.setprofile(self.on_event)
        sys.setprofile(self.on_event)

    def report(self) -> dict:
        return {"collections": self.collections,
                "python_code_run_by_the_collector": self.run_by_collector.most_common(12),
                "contextvar_calls_by_the_collector": self.contextvar_calls_by_collector.most_common(),
                "collections_started_inside_contextvar_set_or_reset": self.started_inside_contextvar.most_common()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--gc-threshold", type=int, default=5, help="generation-0 threshold (Python's default: 700)")
    parser.add_argument("--collect-every", type=float, default=2.0, help="ms between gc.collect calls of one thread")
    parser.add_argument("--probe", action="store_true", help="report what the collector ran (much slower)")
    args = parser.parse_args()

    faulthandler.enable()
    url = default_url(args.db)
    marker_file = marker_path(args.db, url)
    if not marker_file.exists():
        raise SystemExit(f"no benchmark database for {args.db}: run bench/forum_data.py --db {args.db} first")
    targets = json.loads(marker_file.read_text())["targets"]
    from forum import create_app

    app = create_app(bench_config(url))
    urls = [f"/t/{thread_id}" for thread_id in targets["fifty_reply_thread_ids"]]
    clients = [_signed_in_client(app, targets["users"]["customer"]) for _ in range(args.threads)]
    stop = time.monotonic() + args.seconds
    pages, failures = [0] * args.threads, Counter()

    def read(i: int) -> None:
        k = i * 3
        while time.monotonic() < stop:
            status = clients[i].get(urls[k % len(urls)]).status_code
            k += 1
            pages[i] += 1
            if status != 200:
                failures[status] += 1

    def collect() -> None:
        n = 0
        while time.monotonic() < stop:
            gc.collect(n % 3)
            n += 1
            time.sleep(args.collect_every / 1000)

    probe = CollectorProbe() if args.probe else None
    if probe:
        probe.install()
    gc.set_threshold(args.gc_threshold, 5, 5)
    workers = [threading.Thread(target=read, args=(i,)) for i in range(args.threads)]
    workers.append(threading.Thread(target=collect))
    started = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.monotonic() - started
    if probe:
        sys.setprofile(None)
        threading.setprofile(None)
    gc.set_threshold(700, 10, 10)

    cext = all(name in sys.modules for name in ("sqlalchemy.engine._row_cy", "sqlalchemy.util._collections_cy"))
    print(f"{args.db}, {args.threads} threads for {elapsed:.0f} s, gc threshold {args.gc_threshold} plus gc.collect "
          f"every {args.collect_every:g} ms; SQLAlchemy Cython extensions {'loaded' if cext else 'NOT loaded'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"thread pages: {sum(pages):,}; not 200: {sum(failures.values())} {dict(failures)}; collections: "
          f"{sum(s['collections'] for s in gc.get_stats()):,} (by generation {[s['collections'] for s in gc.get_stats()]})")
    if probe:
        print(json.dumps(probe.report(), indent=1))


if __name__ == "__main__":
    main()
