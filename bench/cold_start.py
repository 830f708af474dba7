"""First search and first "similar threads" suggestion on a freshly started server, at a large data size.

Uses ``bench/similar_lookup.py``'s data set (N threads with stored 384-d vectors in clusters, built once), copied
with its vectors filed under the real embedder's key (all-MiniLM-L6-v2), so the server embeds each query with
the real model and ranks it against N stored vectors, as production does. Starts gunicorn as the README's
production command does (``gunicorn wsgi:app`` from the repository root, so ``gunicorn.conf.py`` warms each
worker as it starts; ``--workers 2 --threads 4``), signs a customer in and times, per round:

- ``at once``: the first ``GET /search`` and the first ``POST /suggest/similar`` sent the moment the server
  answers (the warm-up has only just begun);
- ``after N s``: the same on a new server start, sent ``--settle`` seconds after it answers.

Each is sent twice at the same time, so both workers answer a first one. Target (issue 11): <= 1 s.

    .venv/bin/python bench/cold_start.py --threads 100000 --rounds 2
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
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
sys.path.insert(0, str(Path(__file__).resolve().parent))

from serving import stop_serving, wait_until_serving  # noqa: E402
from similar_lookup import build  # noqa: E402

PASSWORD = "bench password, not a secret"
EMAIL = "u2@x.test"  # a customer of similar_lookup's data set


def prepare(threads: int) -> str:
    """A copy of similar_lookup's SQLite data set whose vectors are filed under the real model's key."""
    from forum.passwords import hash_password
    from mining.embedders import SentenceTransformerEmbedder

    target = OUT / f"cold_start_{threads}.sqlite"
    url = f"sqlite:///{target}"
    if target.exists():
        # a data set built before a migration of this code would answer 500: migrate it, as a deploy does
        env = dict(os.environ, DATABASE_URL=url, HF_HUB_OFFLINE="1", SECRET_KEY="bench-only-" + "x" * 32)
        subprocess.run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, check=True,
                       capture_output=True, env=env)
        return url
    source = build("sqlite", threads)
    shutil.copyfile(source.removeprefix("sqlite:///"), target)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE thread_embedding SET model_name = :m"),
                     {"m": SentenceTransformerEmbedder().settings_key})
        conn.execute(text("UPDATE user_account SET password_hash = :h WHERE email = :e"),
                     {"h": hash_password(PASSWORD), "e": EMAIL})
    engine.dispose()
    return url


def _signed_in(base: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    page = session.get(f"{base}/login", timeout=60).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    answer = session.post(f"{base}/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD,
                                                 "next": ""}, timeout=60, allow_redirects=False)
    if answer.status_code != 302:
        raise SystemExit(f"sign-in failed: {answer.status_code}")
    ask = session.get(f"{base}/ask", timeout=60).text
    return session, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', ask).group(1)


def _both(call) -> list[tuple[int, float]]:
    """``call`` twice at the same moment (two workers, one first request each): (status, seconds) each."""
    out: list[tuple[int, float]] = []
    gate = threading.Barrier(2)

    def run() -> None:
        gate.wait()
        t0 = time.perf_counter()
        status = call()
        out.append((status, time.perf_counter() - t0))

    workers = [threading.Thread(target=run) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return out


def one_start(url: str, port: int, settle: float) -> dict:
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-only-" + "x" * 32, FORUM_INSECURE_COOKIES="true",
               FORUM_RATELIMIT_ENABLED="false", HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    log = (OUT / "cold_start.log").open("w")
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--threads", "4", "wsgi:app"], cwd=ROOT, env=env, stdout=log,
                              stderr=subprocess.STDOUT)
    try:
        up = wait_until_serving(base, server, 180, poll=0.05)
        # Two sessions, so that each request may land on either worker as a visitor's would.
        sessions = [_signed_in(base) for _ in range(2)]
        time.sleep(settle)
        pick = iter(range(10))

        def search() -> int:
            session, _ = sessions[next(pick) % 2]
            return session.get(f"{base}/search", params={"q": "upgrade stalls at schema migration lock timeout"},
                               timeout=120).status_code

        def suggest() -> int:
            session, csrf = sessions[next(pick) % 2]
            return session.post(f"{base}/suggest/similar", timeout=120, headers={"X-CSRFToken": csrf},
                                json={"title": "SAML login fails after the certificate rotation",
                                      "body": "Users get an invalid signature error since Monday."}).status_code

        return {"up_s": up, "search": _both(search), "suggest": _both(suggest)}
    finally:
        stop_serving(server)
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--settle", type=float, default=20.0, help="seconds to wait in the 'after' start")
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    url = prepare(args.threads)
    print(f"SQLite, {args.threads:,} threads with stored all-MiniLM-L6-v2-keyed vectors; gunicorn --workers 2 "
          f"--threads 4 wsgi:app (gunicorn.conf.py warm-up)")
    for number in range(1, args.rounds + 1):
        for label, settle in (("at once", 0.0), (f"after {args.settle:.0f} s", args.settle)):
            r = one_start(url, args.port, settle)
            fmt = ", ".join(f"{s} in {t:.2f} s" for s, t in sorted(r["search"], key=lambda x: x[1]))
            fmt2 = ", ".join(f"{s} in {t:.2f} s" for s, t in sorted(r["suggest"], key=lambda x: x[1]))
            print(f"round {number}, {label:>10}: server up {r['up_s']:.1f} s; first searches: {fmt}; "
                  f"first suggestions: {fmt2}; load average {os.getloadavg()[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
