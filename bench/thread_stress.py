"""Stress of the README's server settings: gunicorn ``--workers 2 --threads 4`` while clients read big thread pages.

Serves a benchmark database of ``bench/forum_data.py`` (100k threads, 1M replies by default) with gunicorn
exactly as ``./gw demo`` does (``--workers 2 --threads 4 wsgi:app`` from the repository root, so
``gunicorn.conf.py`` warms each worker), with ``PYTHONFAULTHANDLER=1`` so a crashing worker prints every
thread's stack into the server log. ``--clients`` signed-in customers read the data set's 50-reply thread pages
in a loop for ``--minutes``; the script then prints the requests served, the failed ones (non-200 answers and
connections cut), the latency, and the workers that died, by signal, with the first faulthandler trace.

    .venv/bin/python bench/thread_stress.py --db sqlite --minutes 10
    .venv/bin/python bench/thread_stress.py --db postgres --minutes 10 --clients 8
    .venv/bin/python bench/thread_stress.py --worker-class sync --threads 1     # the comparison without threads
    .venv/bin/python bench/thread_stress.py --gc-threshold 50   # the collector runs ~14x as often (default 700)

``--with-vectors`` serves a copy of the SQLite data set in which every thread has a stored vector under the real
model's key (random unit vectors, built once), so each thread page also ranks related threads with numpy over
the 100k-row matrix in its request thread, as a mined forum does.

``--gc-threshold`` makes the server's processes collect garbage far more often (a ``sitecustomize`` in
``bench/out/`` sets ``gc.set_threshold``), so a crash that needs the collector to meet a broken or shared object
(the faulthandler trace of the issue showed a thread "Garbage-collecting") shows up in minutes, not hours.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from forum_data import default_url, marker_path  # noqa: E402
from serving import stop_serving, wait_until_serving  # noqa: E402

WORKER_DIED = re.compile(r"Worker \(pid:(\d+)\) (?:was sent (\w+)|exited with code (\d+))")


def _marker(backend: str) -> dict:
    path = marker_path(backend, default_url(backend))
    if not path.exists():
        raise SystemExit(f"no benchmark database for {backend}: run bench/forum_data.py --db {backend} first")
    return json.loads(path.read_text())


def _with_vectors(url: str) -> str:
    """A copy of the SQLite data set with a stored vector for every thread, filed under the real model's key."""
    import shutil

    import numpy as np
    from sqlalchemy import create_engine, text

    from mining.embedders import SentenceTransformerEmbedder

    source = Path(url.removeprefix("sqlite:///"))
    target = source.with_name(source.stem + "_vectors.sqlite")
    if target.exists():
        return "sqlite:///" + str(target)
    partial = target.with_suffix(".partial")
    shutil.copyfile(source, partial)
    engine = create_engine("sqlite:///" + str(partial))
    rng = np.random.default_rng(5)
    model = SentenceTransformerEmbedder().settings_key
    created = datetime.now(UTC).replace(tzinfo=None).isoformat(" ")
    with engine.begin() as conn:
        ids = [row[0] for row in conn.execute(text("SELECT id FROM thread ORDER BY id"))]
        for start in range(0, len(ids), 10_000):
            chunk = ids[start:start + 10_000]
            vectors = rng.standard_normal((len(chunk), 384)).astype(np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
            conn.execute(text("INSERT INTO thread_embedding (thread_id, model_name, content_hash, dimensions, vector, "
                              "created_at) VALUES (:t, :m, :h, 384, :v, :c)"),
                         [{"t": t, "m": model, "h": f"h{t}", "v": v.astype("<f4").tobytes(), "c": created}
                          for t, v in zip(chunk, vectors, strict=True)])
    engine.dispose()
    partial.rename(target)
    return "sqlite:///" + str(target)


def _sign_in(base: str, email: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=60).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
        re.search(r'name="csrf_token" value="([^"]+)"', page)
    response = session.post(f"{base}/login", data={"csrf_token": token.group(1), "email": email,
                                                   "password": password, "next": ""},
                            timeout=60, allow_redirects=False)
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: {response.status_code}")
    return session


def _reader(session: requests.Session, urls: list[str], stop: threading.Event, times: list[float],
            failures: list[str], offset: int) -> None:
    i = offset
    while not stop.is_set():
        url = urls[i % len(urls)]
        i += 1
        started = time.perf_counter()
        try:
            response = session.get(url, timeout=60)
            if response.status_code != 200:
                failures.append(f"{response.status_code} {url}")
            else:
                times.append(time.perf_counter() - started)
        except requests.RequestException as exc:  # a worker that died with the request in flight
            failures.append(f"{type(exc).__name__} {url}")


def _writer(url: str, thread_id: int, stop: threading.Event) -> None:
    """Change a thread twice a second through the app's engine, so the board's generation moves and every worker
    reads its kept lists anew, in several threads at once."""
    from sqlalchemy import text

    from forum import create_app
    from forum.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "stress-only-" + "x" * 32})
    with app.app_context():
        while not stop.wait(0.5):
            db.session.execute(text("UPDATE thread SET last_activity_at = last_activity_at WHERE id = :id"),
                               {"id": thread_id})
            db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--worker-class", default="gthread", help="gthread (what --threads gives) or sync")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--with-vectors", action="store_true", help="SQLite: every thread has a stored vector")
    parser.add_argument("--gc-threshold", type=int, default=0, help="gc generation-0 threshold in the server")
    parser.add_argument("--with-lists", action="store_true",
                        help="also read home and space pages while this process changes a thread twice a second "
                             "(the lists every worker keeps are read anew by its threads at once)")
    parser.add_argument("--log", type=Path, default=ROOT / "bench" / "out" / "thread_stress.log", help="the server's log")
    args = parser.parse_args()

    marker = _marker(args.db)
    targets = marker["targets"]
    base = f"http://127.0.0.1:{args.port}"
    urls = [f"{base}/t/{tid}" for tid in targets["fifty_reply_thread_ids"]]
    if args.with_lists:
        space = f"{base}/s/{targets['space_slug']}"
        lists = [f"{base}/", space, f"{base}/?page=2", f"{space}?page=2"]
        urls = [u for i, thread in enumerate(urls) for u in (thread, lists[i % len(lists)])]
    url = default_url(args.db)
    if args.with_vectors:
        if args.db != "sqlite":
            raise SystemExit("--with-vectors is for the SQLite data set")
        url = _with_vectors(url)
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="stress-only-" + "x" * 32,
               FORUM_INSECURE_COOKIES="true", FORUM_RATELIMIT_ENABLED="false", HF_HUB_OFFLINE="1",
               PYTHONFAULTHANDLER="1")
    # As production does before it serves: the data set may predate a migration of the code under test.
    subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    command = [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}", "--workers", str(args.workers),
               "--threads", str(args.threads), "--worker-class", args.worker_class, "wsgi:app"]
    args.log.parent.mkdir(parents=True, exist_ok=True)
    if args.gc_threshold:
        site = ROOT / "bench" / "out" / "gc_stress"
        site.mkdir(parents=True, exist_ok=True)
        (site / "sitecustomize.py").write_text(f"import gc\ngc.set_threshold({args.gc_threshold}, 5, 5)\n")
        env["PYTHONPATH"] = str(site)
    with args.log.open("w") as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    stop, times, failures = threading.Event(), [], []
    try:
        wait_until_serving(base, server, 120)
        sessions = [_sign_in(base, targets["users"]["customer"], targets["password"]) for _ in range(args.clients)]
        readers = [threading.Thread(target=_reader, args=(s, urls, stop, times, failures, i * 3), daemon=True)
                   for i, s in enumerate(sessions)]
        if args.with_lists:
            readers.append(threading.Thread(target=_writer, args=(url, targets["fifty_reply_thread_ids"][0], stop),
                                            daemon=True))
        started = time.monotonic()
        for reader in readers:
            reader.start()
        while time.monotonic() - started < args.minutes * 60:
            time.sleep(5)
            if server.poll() is not None:
                break
        stop.set()
        for reader in readers:
            reader.join(70)
        elapsed = time.monotonic() - started
    finally:
        stop_serving(server)

    text = args.log.read_text(errors="replace")
    deaths = [m.group(2) or f"exit {m.group(3)}" for m in WORKER_DIED.finditer(text)]
    faults = text.count("Fatal Python error")
    trace = text[text.index("Fatal Python error"):][:3000] if faults else ""
    cuts = statistics.quantiles(times, n=100, method="inclusive") if len(times) > 1 else [0.0] * 99
    print(f"{args.db}{' with stored vectors' if args.with_vectors else ''}, {marker['scale']['threads']:,} threads / {marker['scale']['replies']:,} replies; gunicorn "
          f"--workers {args.workers} --threads {args.threads} --worker-class {args.worker_class}; "
          f"{args.clients} clients for {elapsed / 60:.1f} min; gc threshold {args.gc_threshold or 'default'}; "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"requests: {len(times) + len(failures):,} ({len(times) / max(elapsed, 1e-9):.1f}/s answered 200); "
          f"failed: {len(failures)}; p50 {cuts[49] * 1000:.0f} ms, p95 {cuts[94] * 1000:.0f} ms")
    print(f"worker deaths: {len(deaths)} {sorted(set(deaths))}; faulthandler reports: {faults}")
    if failures:
        print("failures (first 10):", failures[:10])
    if trace:
        print("first faulthandler report:\n" + trace)
    if server.returncode not in (0, -signal.SIGTERM, None):
        print(f"gunicorn exited with {server.returncode}")


if __name__ == "__main__":
    main()
