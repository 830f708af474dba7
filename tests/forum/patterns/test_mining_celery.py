"""A real Celery worker on the local Redis carries out a mining run and a new-thread assignment."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from forum import create_app
from forum.extensions import db
from forum.models import MembershipSource, MiningRun, PatternMember, RunStatus
from forum.services import background
from forum.services.mail import sweeper as mail_sweeper
from forum.services.webhooks import sweeper as webhook_sweeper
from tests.conftest import base_config
from tests.forum.patterns.test_mining_runs import forum_threads  # noqa: F401  (fixture)

pytestmark = pytest.mark.slow

BROKER = os.environ.get("TEST_CELERY_BROKER", "redis://127.0.0.1:6379/15")
# Exactly the README's command (``.venv/bin/celery -A forum.celery_worker worker --concurrency 1``), with the
# celery script of the venv running these tests: the console script, not ``python -m celery``, which would
# put the working directory on sys.path and hide a project that is not installed.
README_WORKER = [str(Path(sys.executable).parent / "celery"), "-A", "forum.celery_worker", "worker",
                 "--concurrency", "1"]


def _wait_for(predicate, seconds: float = 120.0, log: Path | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        db.session.expire_all()
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError("timed out waiting for the worker" + (f"; its log:\n{log.read_text()}" if log else ""))


@contextmanager
def readme_worker(app, tmp_path: Path, embedder: str, worker_env: dict[str, str] | None = None, **config):
    """The README's worker command on a queue of its own; yields (an app that sends to it, the process).

    ``worker_env`` adds settings to the worker's environment (``FORUM_*``), as a deployment would set them.
    """
    try:
        redis.Redis.from_url(BROKER).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {BROKER}: {exc}")
    queue = f"groundwork-test-{os.getpid()}-{time.monotonic_ns()}"
    # The queue is chosen by the environment (FORUM_CELERY_QUEUE), so the command stays the README's own.
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="worker-test-secret",
               FORUM_CELERY_BROKER_URL=BROKER, FORUM_CELERY_QUEUE=queue, FORUM_MINING_EMBEDDER=embedder,
               HF_HUB_OFFLINE="1")
    env.update(worker_env or {})
    env.pop("PYTHONPATH", None)  # the project is found because it is installed, not because of this test run
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        # From another directory: the worker finds the project because it is installed, as from the root.
        proc = subprocess.Popen(README_WORKER, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    proc.log = log
    sender = create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]),
                         "CELERY_BROKER_URL": BROKER, "CELERY_QUEUE": queue, **config})
    try:
        yield sender, proc
    finally:
        # the sender's threads would go on sending later tests' rows to this queue, which no worker reads then
        background.stop_sweeper(sender)
        mail_sweeper.stop(sender)
        webhook_sweeper.stop(sender)
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture()
def worker(app, tmp_path):
    with readme_worker(app, tmp_path, "tfidf", MINING_EMBEDDER="tfidf", MINING_ASSIGN_NEW_THREADS=True) as started:
        yield started


def test_worker_runs_mining_and_assigns_new_threads(app, make, forum_threads, worker):  # noqa: F811
    celery_app, proc = worker
    assert "celery" in celery_app.extensions
    from forum.services.patterns import jobs as mining_jobs

    with celery_app.app_context():
        run_id = mining_jobs.start_run(None, trigger="web")

    def finished():
        run = db.session.get(MiningRun, run_id)
        if proc.poll() is not None:
            raise AssertionError(f"worker exited: {proc.log.read_text()}")
        return run if run.status in (RunStatus.FINISHED, RunStatus.FAILED) else None

    run = _wait_for(finished, log=proc.log)
    assert run.status is RunStatus.FINISHED, run.error
    assert run.documents == 33 and run.patterns_found >= 3 and run.trigger == "web"

    saml_member = db.session.execute(db.select(PatternMember).where(
        PatternMember.thread_id == forum_threads["saml"][0])).scalar_one()
    author = make.user(make.customer_org("fresh customer"))
    fresh = make.thread(author, title="SAML login rejected: assertion NotBefore in the future on finance",
                        body="We run the finance environment. SSO fails with clock skew error after moving "
                             "finance to new servers")
    with celery_app.app_context():
        job = mining_jobs.thread_posted(fresh.id)  # an outbox row, committed, then sent
        db.session.commit()
        background.dispatch(job)
    member = _wait_for(lambda: db.session.execute(db.select(PatternMember).where(
        PatternMember.thread_id == fresh.id)).scalar_one_or_none(), log=proc.log)
    assert member.source is MembershipSource.ASSIGNED and member.pattern_id == saml_member.pattern_id


def test_a_readme_workers_sender_leaves_no_sweeper_behind(app, tmp_path):
    # A sender's outbox sweeper outlived its test: every 10 s it sent the next tests' due outbox rows to its own
    # queue, which no worker reads any more (a queued mail of a later test never arrived).
    import threading

    def outbox_sweepers() -> int:
        return sum(1 for t in threading.enumerate() if t.name == "groundwork-outbox" and t.is_alive())

    before = outbox_sweepers()
    with readme_worker(app, tmp_path, "tfidf") as (sender, proc):
        with sender.app_context():
            background._ensure_sweeper()  # as the first job dispatched through the broker starts it
        assert outbox_sweepers() == before + 1
    assert outbox_sweepers() == before
