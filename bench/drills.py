"""Fault drills against a real gunicorn + PostgreSQL (+ Redis with --broker): prints what a client would see.

    .venv/bin/python bench/drills.py                  # kill, database and fuzz drills
    .venv/bin/python bench/drills.py --broker         # and the broker drill (Celery on the local Redis)
    .venv/bin/python bench/drills.py --quick          # short versions (a few seconds each)

A bounded write load (``--clients`` threads posting threads through the API, each write retried with its own
``Idempotency-Key`` until it is acknowledged) runs while the drills, one after the other:

* kill: ``kill -9`` of a gunicorn worker every few seconds;
* broker (with --broker): the broker is unreachable for ``--outage`` seconds (a TCP proxy in front of Redis
  is stopped); then the time until every job waiting in the outbox was sent;
* database: PostgreSQL is unreachable for ``--outage`` seconds (the same kind of proxy in front of it); the
  answers during the outage, and the time from its end to the first acknowledged write;
* fuzz: ``--fuzz`` malformed requests (JSON depth, lone surrogates, NUL, huge integers, cursors).

At the end every acknowledged write is looked up in the database. Printed: acknowledged-but-lost, duplicates,
5xx by cause (drill and status), recovery times. Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust; a
throwaway ``groundwork_drill_*`` database is made and dropped) and, with --broker, Redis on 127.0.0.1:6379.
"""
from __future__ import annotations

import argparse
import base64
import collections
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.tcp_proxy import TcpProxy  # noqa: E402

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BIN = Path(sys.executable).parent


class Client:
    """The HTTP calls of the load and the fuzzer, counting every answer by drill and status."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token
        self.phase = "warm-up"
        self.counts: collections.Counter = collections.Counter()
        self.failures: list[str] = []  # each 5xx: drill, request and the start of the answer, to find its cause
        self.lock = threading.Lock()

    def call(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None,
             timeout: float = 15) -> tuple[int, bytes, dict]:
        phase = self.phase  # the drill the request is sent in; its answer may come in the next one
        request = urllib.request.Request(self.base + path, data=body, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, data, head = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            status, data, head = exc.code, exc.read(), dict(exc.headers)
        except OSError:
            status, data, head = 0, b"", {}  # connection refused or reset: a worker died under the request
        # A request the outage overlapped is the outage's, whether it was sent or answered while it lasted.
        phase = next((p for p in (phase, self.phase) if p.endswith(" down")), phase)
        with self.lock:
            self.counts[(phase, status)] += 1
            if status >= 500:
                self.failures.append(f"{phase}: {method} {path} -> {status} {data[:120]!r}")
        return status, data, head


def writer(client: Client, space_id: int, stop: threading.Event, acked: list, name: str) -> None:
    """Posts threads one after the other; each is retried with its key until acknowledged (201)."""
    n = 0
    while not stop.is_set():
        n += 1
        title = f"drill {name} write {n}"
        key = f"{name}-{n}"
        body = json.dumps({"space_id": space_id, "title": title, "body": "written during a drill"}).encode()
        for _attempt in range(200):
            status, data, _ = client.call("POST", "/api/v1/threads", body, {"Idempotency-Key": key})
            if status == 201:
                acked.append((json.loads(data)["id"], title))
                break
            if 400 <= status < 500 and status not in (409, 429):
                break  # refused: nothing was written, and a retry with this key would be refused again
            time.sleep(0.25)
        time.sleep(0.05)


def fuzz_cases(n: int, space_id: int) -> list[tuple[str, str, bytes | None]]:
    rng = random.Random(11)
    cursor = lambda value: base64.urlsafe_b64encode(json.dumps({"before": value}).encode()).decode()  # noqa: E731
    makers = [
        lambda: ("POST", "/api/v1/threads", b"[" * rng.randint(1000, 100_000) + b"]" * 10),
        lambda: ("POST", "/api/v1/threads/1/replies", b'{"body": ' + b"[" * rng.randint(1000, 50_000) + b"}"),
        lambda: ("POST", "/api/v1/threads", json.dumps({"space_id": space_id, "title": "x \\ud800 y",
                                                        "body": "b"}).replace("\\\\", "\\").encode()),
        lambda: ("POST", "/api/v1/threads", json.dumps({"space_id": space_id, "title": "nul\x00",
                                                        "body": "b\x00"}).encode()),
        lambda: ("POST", "/api/v1/threads", json.dumps({"space_id": rng.choice([2**31, 2**63, 10**30, -1]),
                                                        "title": "t", "body": "b"}).encode()),
        lambda: ("GET", rng.choice(["/api/v1/threads", "/api/v1/playbooks", "/api/v1/notifications",
                                    "/api/v1/patterns"]) + "?cursor="
                 + cursor(rng.choice([2**31, 2**31 + 7, 2**63, 10**40, -5, "x", None])), None),
        lambda: ("GET", rng.choice(["/u/%00", "/orgs/%00", "/t/99999999999", "/api/v1/threads/2147483648",
                                    "/search?q=%00", "/api/v1/search?q=%00%ff", "/?space=99999999999"]), None),
        lambda: ("GET", f"/api/v1/threads?limit={rng.choice(['0', '-1', '99999999999999', 'x', '%00'])}", None),
    ]
    return [rng.choice(makers)() for _ in range(n)]


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def wait_until(predicate, timeout: float) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.2)
    return None


def main() -> None:  # noqa: C901 - one drill after the other, in order
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--broker", action="store_true", help="also run the broker drill (Redis + a worker)")
    parser.add_argument("--quick", action="store_true", help="a few seconds per drill")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--outage", type=float, default=20.0, help="seconds the database / broker are down")
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--fuzz", type=int, default=1000)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    if args.quick:
        args.outage, args.kills, args.fuzz = min(args.outage, 5.0), min(args.kills, 2), min(args.fuzz, 200)

    name = f"groundwork_drill_{os.getpid()}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    direct_url = PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    pg_proxy = TcpProxy(("127.0.0.1", 5432)).start()
    redis_proxy = TcpProxy(("127.0.0.1", 6379)).start() if args.broker else None
    queue = f"groundwork-drill-{os.getpid()}"
    env = dict(os.environ, SECRET_KEY="drill-secret", FORUM_RATELIMIT_ENABLED="false", HF_HUB_OFFLINE="1",
               FORUM_NEW_USER_HOURS="0",
               DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{pg_proxy.port}/{name}",
               FORUM_MINING_EMBEDDER="tfidf", FORUM_OUTBOX_SWEEP_SECONDS="2", FORUM_CELERY_QUEUE=queue)
    if redis_proxy:
        env["CELERY_BROKER_URL"] = f"redis://127.0.0.1:{redis_proxy.port}/14"
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True,
                       env={**env, "DATABASE_URL": direct_url}, capture_output=True)
        token, space_id = _seed(direct_url)
        server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{args.port}", "--workers", "2",
                                   "--threads", "4", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(server)
        if args.broker:
            procs.append(subprocess.Popen([str(BIN / "celery"), "-A", "forum.celery_worker", "worker",
                                           "--concurrency", "1"], cwd=ROOT, env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        client = Client(f"http://127.0.0.1:{args.port}", token)
        if wait_until(lambda: client.call("GET", "/api/v1/me", timeout=2)[0] == 200, 60) is None:
            raise SystemExit("the server did not answer within 60 s")

        stop, acked = threading.Event(), []
        writers = [threading.Thread(target=writer, args=(client, space_id, stop, acked, f"c{i}"), daemon=True)
                   for i in range(args.clients)]
        for w in writers:
            w.start()
        time.sleep(2)
        report: dict[str, object] = {}

        client.phase = "kill"
        killed = 0
        for _ in range(args.kills):
            pids = worker_pids(server.pid)
            if pids:
                os.kill(random.choice(pids), signal.SIGKILL)
                killed += 1
            time.sleep(3)
        report["workers killed"] = killed

        if args.broker:
            client.phase = "broker down"
            redis_proxy.stop()
            time.sleep(args.outage)
            redis_proxy.start()
            client.phase = "broker back"
            drained = wait_until(lambda: _outbox_count(direct_url) == 0, 120)
            report["outbox empty after broker's return (s)"] = None if drained is None else round(drained, 1)

        client.phase = "database down"
        pg_proxy.stop()
        before = len(acked)
        time.sleep(args.outage)
        pg_proxy.start()
        client.phase = "database back"
        recovered = wait_until(lambda: len(acked) > before, 60)
        report["first acknowledged write after the database's return (s)"] = (
            None if recovered is None else round(recovered, 1))
        down_answers = {status: n for (phase, status), n in client.counts.items() if phase == "database down"}
        report["answers while the database was down"] = down_answers

        # the fuzzer counts its own answers: the writers go on meanwhile, and theirs are the load's
        client.phase = "during fuzz (writers)"
        fuzzer = Client(client.base, client.token)
        fuzzer.phase = "fuzz"
        for method, path, body in fuzz_cases(args.fuzz, space_id):
            fuzzer.call(method, path, body)
        stop.set()
        for w in writers:
            w.join(60)
        client.phase = "done"

        stored = _stored(direct_url)
        titles = collections.Counter(stored.values())
        lost = [(tid, title) for tid, title in acked if stored.get(tid) != title]
        report["acknowledged writes"] = len(acked)
        report["acknowledged but lost"] = len(lost)
        report["duplicates (same write stored twice)"] = sum(n - 1 for n in titles.values() if n > 1)
        report["5xx by drill and status"] = {f"{phase} {status}": n for (phase, status), n
                                             in sorted(client.counts.items()) if status >= 500}
        report["connection errors by drill"] = {phase: n for (phase, status), n in client.counts.items()
                                                if status == 0}
        report["fuzz cases"] = sum(fuzzer.counts.values())
        report["fuzz 5xx"] = sum(n for (_, status), n in fuzzer.counts.items() if status >= 500)
        report["all answers"] = dict(sorted((client.counts + fuzzer.counts).items()))
        # a 503 while the database is down is the answer wanted; any other 5xx is shown with its request
        report["other 5xx answers"] = [f for f in client.failures + fuzzer.failures
                                       if not (f.startswith("database down") and " -> 503 " in f)][:20]
        for key, value in report.items():
            print(f"{key}: {value}")
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        pg_proxy.stop()
        if redis_proxy:
            redis_proxy.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(url: str) -> tuple[str, int]:
    """A customer with a write token and a space to post in."""
    from forum import create_app
    from forum.extensions import db
    from forum.services.orgs.tokens import create_token
    from tests.factories import Factory

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "drill-secret", "TESTING": True})
    with app.app_context():
        make = Factory()
        user = make.user(make.customer_org("Drill customer"))
        space = make.space("Drills")
        token = create_token(user, "drill", "write")[1]
        space_id = space.id
        db.session.remove()
        db.engine.dispose()
    return token, space_id


def _outbox_count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM outbox_job")).scalar()
    finally:
        engine.dispose()


def _stored(url: str) -> dict[int, str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text("SELECT id, title FROM thread WHERE title LIKE 'drill %'")).all())
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
