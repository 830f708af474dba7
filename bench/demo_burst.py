"""A burst of new threads on a freshly started, mined SQLite demo, served exactly as ``./gw demo`` serves it.

Prepares a demo database the way ``./gw demo`` does (``flask db upgrade``, ``flask seed-demo``, ``flask mine``,
same environment; the database lives in ``bench/out/`` instead of ``instance/``), gives the demo employee a
write token, starts ``gunicorn --workers 2 --threads 4 --access-logfile - wsgi:app`` from the repository root and,
as soon as it answers, sends ``--posts`` concurrent ``POST /api/v1/threads``. Prints the answers by status,
the 5xx count and the latency (target, issue 11: 0 × 5xx, p95 <= 2 s), then how long the background pool took to
assign the new threads to patterns and how many threads each worker held.

    .venv/bin/python bench/demo_burst.py              # prepares the demo once (minutes), then the burst
    .venv/bin/python bench/demo_burst.py --rounds 3   # three fresh server starts on the same data
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT = ROOT / "bench" / "out"
EMPLOYEE = "employee@demo.test"

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import stop_serving, wait_until_serving  # noqa: E402


def demo_env(url: str) -> dict[str, str]:
    """``./gw demo``'s environment, with the database in bench/out/."""
    return dict(os.environ, FLASK_APP="wsgi", SECRET_KEY=secrets.token_hex(32), FORUM_INSECURE_COOKIES="true",
                FORUM_PATTERN_NOW="latest", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", DATABASE_URL=url)


def prepare(path: Path, rebuild: bool) -> str:
    """The mined demo database (built once, then copied fresh for every round)."""
    url = f"sqlite:///{path}"
    if path.exists() and not rebuild:
        # as ./gw demo does on every start: a database built before a migration of this code would answer 500
        subprocess.run([str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=demo_env(url), check=True,
                       capture_output=True)
        return url
    path.unlink(missing_ok=True)
    env = demo_env(url)
    for step in (["db", "upgrade"], ["seed-demo"], ["mine"]):
        started = time.perf_counter()
        subprocess.run([str(BIN / "flask"), *step], cwd=ROOT, env=env, check=True, capture_output=True)
        print(f"flask {' '.join(step)}: {time.perf_counter() - started:.1f} s", flush=True)
    return url


def write_token(url: str) -> tuple[str, int]:
    """A write token of the demo employee and a space to post in."""
    from forum import create_app
    from forum.extensions import db
    from forum.models import Space, User
    from forum.services.orgs.tokens import create_token

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench-only-" + "x" * 32})
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == EMPLOYEE)).scalar_one()
        token = create_token(user, f"burst {time.time_ns()}", "write")[1]
        space_id = db.session.execute(db.select(Space.id).order_by(Space.id)).scalars().first()
        db.session.remove()
        db.engine.dispose()
    return token, space_id


def _threads_of(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _workers(server_pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(server_pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def one_round(url: str, args, number: int) -> dict:
    base = f"http://127.0.0.1:{args.port}"
    token, space_id = write_token(url)
    before = _count(url, "SELECT max(id) FROM thread") or 0
    log = (OUT / f"demo_burst_{number}.log").open("w")
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}", "--workers", "2",
                               "--threads", "4", "--access-logfile", "-", "wsgi:app"],
                              cwd=ROOT, env=demo_env(url), stdout=log, stderr=subprocess.STDOUT)
    try:
        up = wait_until_serving(base, server, 120, poll=0.1)
        gate = threading.Barrier(args.posts)
        results: list[tuple[int, float]] = []

        def post(i: int) -> None:
            body = {"space_id": space_id, "title": f"Burst {number}.{i}: upgrade stalls at the schema step",
                    "body": f"After the upgrade of node {i} the schema migration stops with a lock timeout."}
            gate.wait()
            t0 = time.perf_counter()
            try:
                status = requests.post(f"{base}/api/v1/threads", json=body, timeout=120,
                                       headers={"Authorization": f"Bearer {token}"}).status_code
            except requests.RequestException:
                status = 0
            results.append((status, time.perf_counter() - t0))

        clients = [threading.Thread(target=post, args=(i,)) for i in range(args.posts)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        peak_threads = max((_threads_of(p) for p in _workers(server.pid)), default=0)
        burst_done = time.monotonic()
        assigned = 0
        while time.monotonic() - burst_done < args.assign_wait:
            assigned = _count(url, "SELECT count(*) FROM pattern_member pm JOIN thread t ON t.id = pm.thread_id "
                                   f"WHERE t.id > {before} AND pm.source = 'assigned'") or 0
            done = _count(url, f"SELECT count(*) FROM thread_embedding WHERE thread_id > {before}") or 0
            if done >= args.posts:
                break
            time.sleep(0.5)
        embedded_after = time.monotonic() - burst_done
        return {"up_s": up, "results": results, "peak_threads": peak_threads, "embedded_after_s": embedded_after,
                "embedded": _count(url, f"SELECT count(*) FROM thread_embedding WHERE thread_id > {before}"),
                "assigned": assigned}
    finally:
        stop_serving(server)
        log.close()


def _count(url: str, sql: str) -> int | None:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=24)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--rebuild", action="store_true", help="prepare the demo database again")
    parser.add_argument("--assign-wait", type=float, default=180, help="seconds to wait for the assignments")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    master = OUT / "demo_burst_master.sqlite"
    prepare(master, args.rebuild)
    for number in range(1, args.rounds + 1):
        fresh = OUT / "demo_burst.sqlite"
        shutil.copyfile(master, fresh)  # each round starts from the freshly mined demo
        r = one_round(f"sqlite:///{fresh}", args, number)
        statuses = [s for s, _ in r["results"]]
        times = sorted(t for _, t in r["results"])
        p95 = statistics.quantiles(times, n=100, method="inclusive")[94]
        by_status = {s: statuses.count(s) for s in sorted(set(statuses))}
        print(f"round {number}: server answered {r['up_s']:.1f} s after start; {args.posts} concurrent posts: "
              f"{by_status}; 5xx {sum(1 for s in statuses if s >= 500)}, connection errors {statuses.count(0)}; "
              f"p50 {statistics.median(times):.2f} s, p95 {p95:.2f} s, max {times[-1]:.2f} s; "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"         background: {r['embedded']} of {args.posts} embedded {r['embedded_after_s']:.1f} s after "
              f"the burst ({r['assigned']} assigned to a pattern); peak OS threads in a worker {r['peak_threads']}")


if __name__ == "__main__":
    main()
