"""Drafts embedded by a query worker (``QUERY_EMBEDDING=worker``): the web worker never loads torch or the model.

gunicorn serves the forum and the query worker runs as the README starts it, both on the local Redis; a
customer's draft gets semantic suggestions, the web worker's memory map holds no torch library, and with the
query worker stopped the same request answers by keywords within the configured wait.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests

from tests.browser_support import ROOT, forum_env, served_forum

pytestmark = pytest.mark.slow

BROKER = os.environ.get("TEST_QUERY_BROKER", "redis://127.0.0.1:6379/14")
# The README's query worker command, with the celery script of the venv running these tests.
README_QUERY_WORKER = [str(Path(sys.executable).parent / "celery"), "-A", "forum.celery_worker", "worker",
                       "-Q", "groundwork.queries", "--pool", "solo"]
PASSWORD = "a long query worker passphrase 8"
SEED = f"""
import json
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Organisation, OrgKind, Space, Thread, User
from forum.passwords import hash_password
from forum.services.vectors.embeddings import ensure_embeddings, get_embedder, texts_for, thread_documents

acme = Organisation(name="Acme Retail", slug="acme", kind=OrgKind.CUSTOMER)
db.session.add(acme)
db.session.flush()
ann = User(email="ann@acme.test", username="ann", display_name="Ann", password_hash=hash_password({PASSWORD!r}),
           organisation_id=acme.id)
space = Space(slug="installations", name="Installations")
db.session.add_all([ann, space])
db.session.flush()
titles = ["Connection pool exhausted after the 7.2 upgrade", "Licence server not reachable from the DMZ",
          "Nightly export to the data lake keeps failing", "SAML sign-in rejected because of clock skew"]
for title in titles:
    db.session.add(Thread(space_id=space.id, author_id=ann.id, organisation_id=acme.id, title=title,
                          body_md=title, body_html=render_markdown(title)))
db.session.commit()
ensure_embeddings(texts_for(thread_documents()), get_embedder())
db.session.commit()
print(json.dumps({{"pool_thread": 1}}))
"""
# Says what the first thread says in other words: keywords find nothing, meaning does.
DRAFT = {"title": "All pooled connections in use after upgrading", "body": ""}


def _sign_in(base_url: str) -> tuple[requests.Session, str]:
    session = requests.Session()
    # A connection kept alive across the waits below could be closed by gunicorn's keep-alive timeout (2 s) just
    # as it is reused, which the client sees as a reset: every request on a connection of its own.
    session.headers["Connection"] = "close"
    page = session.get(f"{base_url}/login", timeout=10).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = session.post(f"{base_url}/login", data={"csrf_token": token, "email": "ann@acme.test",
                                                        "password": PASSWORD}, timeout=10)
    assert response.ok and "/login" not in response.url, response.url
    ask = session.get(f"{base_url}/ask", timeout=10).text
    return session, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', ask).group(1)


def _suggest(session: requests.Session, base_url: str, token: str) -> tuple[dict, float]:
    started = time.monotonic()
    response = session.post(f"{base_url}/suggest/similar", json=DRAFT, headers={"X-CSRFToken": token}, timeout=30)
    assert response.status_code == 200, response.text[:500]
    return response.json(), time.monotonic() - started


def _gunicorn_pids(port: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if "gunicorn" in command and f"127.0.0.1:{port}" in command:
            pids.append(int(entry.name))
    return pids


def _maps_torch(pid: int) -> bool:
    return "libtorch" in Path(f"/proc/{pid}/maps").read_text()


def test_a_query_worker_embeds_drafts_and_the_web_worker_never_loads_torch(tmp_path):
    try:
        redis.Redis.from_url(BROKER).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {BROKER}: {exc}")
    settings = {"CELERY_BROKER_URL": BROKER, "FORUM_QUERY_EMBEDDING": "worker", "FORUM_MINING_EMBEDDER": "minilm",
                "FORUM_QUERY_EMBEDDING_TIMEOUT": "2.0"}
    worker_env = {**forum_env(tmp_path / "forum.sqlite"), **settings}
    worker_env.pop("PYTHONPATH", None)  # found because the project is installed, as the README runs it
    log = tmp_path / "query-worker.log"
    with served_forum(tmp_path, SEED, settings) as (base_url, _seed), log.open("w") as out:
        worker = subprocess.Popen(README_QUERY_WORKER, cwd=ROOT, env=worker_env, stdout=out, stderr=subprocess.STDOUT)
        try:
            session, token = _sign_in(base_url)
            deadline = time.monotonic() + 120
            found, _ = _suggest(session, base_url, token)
            while found["method"] != "semantic" and time.monotonic() < deadline:
                assert worker.poll() is None, log.read_text()[-3000:]
                time.sleep(2)  # the worker is still loading the model; the web worker answers by keywords
                found, _ = _suggest(session, base_url, token)
            assert found["method"] == "semantic", log.read_text()[-3000:]
            assert found["threads"] and found["threads"][0]["title"] == "Connection pool exhausted after the 7.2 upgrade", found

            port = int(base_url.rsplit(":", 1)[1])
            pids = _gunicorn_pids(port)
            assert len(pids) == 2, pids  # the master and its one worker
            assert not any(_maps_torch(pid) for pid in pids)
            assert _maps_torch(worker.pid)  # the query worker is where the model lives
        finally:
            worker.terminate()
            worker.wait(timeout=30)

        # No query worker: the draft still gets an answer, by keywords, after at most the configured wait.
        found, seconds = _suggest(session, base_url, token)
        assert found["method"] != "semantic", found
        assert seconds < 2.0 + 3.0, seconds
