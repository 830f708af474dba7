"""One way off the request path: a bounded pool without a broker, a transactional outbox with one."""
from __future__ import annotations

import threading
import time

import pytest
import redis

from forum import create_app
from forum.extensions import db
from forum.models import OutboxJob, Thread, ThreadEmbedding, utcnow
from forum.services import background
from forum.services.patterns import leases
from tests.conftest import base_config
from tests.forum.patterns.test_mining_runs import CountingEmbedder, forum_threads  # noqa: F401  (fixture)
from tests.tcp_proxy import TcpProxy

REDIS = ("127.0.0.1", 6379)


def _token(user):
    from forum.services.orgs.tokens import create_token

    return {"Authorization": f"Bearer {create_token(user, 'test', 'write')[1]}"}


class SlowLoadingEmbedder(CountingEmbedder):
    """Counts how many embed at once; each call holds its thread (and connection) like a model load."""

    def __init__(self) -> None:
        super().__init__()
        self.lock, self.now, self.most = threading.Lock(), 0, 0

    def embed(self, texts):
        with self.lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(0.3)
            return super().embed(texts)
        finally:
            with self.lock:
                self.now -= 1


def test_a_burst_of_new_threads_shares_the_small_pool(app, make, forum_threads, monkeypatch):  # noqa: F811
    """24 concurrent posts, no broker: every post 201, assignments on at most BACKGROUND_THREADS threads."""
    leases.carry_out(leases.create_run(None, "test").id, embedder=CountingEmbedder())
    embedder = SlowLoadingEmbedder()
    monkeypatch.setattr("forum.services.patterns.runs.get_embedder", lambda: embedder)
    app.config.update(MINING_IN_BACKGROUND=True, MINING_ASSIGN_NEW_THREADS=True, BACKGROUND_THREADS=2)
    author = make.user(make.customer_org("burst"))
    space_id, headers = make.space("Burst").id, _token(author)
    statuses: list[int] = []
    threads_before = threading.active_count()
    most_threads = [threads_before]

    def post(i: int) -> None:
        with app.app_context():  # each client thread, as a server's would
            r = app.test_client().post("/api/v1/threads", headers=headers, json={
                "space_id": space_id, "title": f"SAML login rejected on plant {i}", "body": "clock skew after move"})
            db.session.remove()
        statuses.append(r.status_code)
        most_threads.append(threading.active_count())

    clients = [threading.Thread(target=post, args=(i,)) for i in range(24)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(60)
    background.wait_all(60)

    assert statuses == [201] * 24
    assert embedder.most <= 2
    assert max(most_threads) - threads_before <= 24 + 2  # the posting clients, and the pool: no thread per post
    posted = db.session.execute(db.select(Thread.id).where(Thread.title.like("SAML login rejected on plant%")))
    embedded = db.session.execute(db.select(ThreadEmbedding.thread_id)).scalars()
    assert set(posted.scalars()) <= set(embedded)


def test_the_pool_runs_each_key_once_and_reports_idle(app):
    ran, gate = [], threading.Event()

    def job(n):
        gate.wait(5)
        ran.append(n)

    first = background.start_once(("test", 1), job, 1)
    assert background.start_once(("test", 1), job, 2) is first  # queued or running: not twice
    assert background.is_running(("test", 1))
    gate.set()
    background.wait_all(10)
    assert ran == [1] and first.is_set() and not background.is_running(("test", 1))


@pytest.fixture()
def broker_behind_proxy(app):
    """An app whose broker is the local Redis behind a proxy the test can stop (a real broker outage)."""
    try:
        redis.Redis(*REDIS, db=15).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis is not reachable at {REDIS}: {exc}")
    proxy = TcpProxy(REDIS).start()
    queue = f"groundwork-outbox-test-{time.monotonic_ns()}"
    served = create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]),
                         "CELERY_BROKER_URL": f"redis://127.0.0.1:{proxy.port}/15", "CELERY_QUEUE": queue,
                         "MINING_ASSIGN_NEW_THREADS": True, "OUTBOX_SWEEP_SECONDS": 0.5,
                         "OUTBOX_RETRY_SECONDS": 0.5})
    served.test_client_class = app.test_client_class
    yield served, proxy, queue
    # a sweeper left running would send the next test's outbox rows to this test's queue
    background.stop_sweeper(served)
    proxy.stop()
    redis.Redis(*REDIS, db=15).delete(queue)


def test_broker_down_the_post_succeeds_and_its_job_is_sent_when_it_returns(app, make, broker_behind_proxy):
    served, proxy, queue = broker_behind_proxy
    author = make.user(make.customer_org("outbox"))
    space_id, headers = make.space("Outbox").id, _token(author)
    proxy.stop()

    started = time.monotonic()
    r = served.test_client().post("/api/v1/threads", headers=headers,
                                  json={"space_id": space_id, "title": "Posted while the broker is down",
                                        "body": "the job waits in the outbox"})
    assert r.status_code == 201, r.get_data(as_text=True)
    assert time.monotonic() - started < 5
    waiting = db.session.execute(db.select(OutboxJob)).scalars().all()
    assert [(job.task, job.args) for job in waiting] == [(background.ASSIGN_THREAD, [r.json["id"]])]

    proxy.start()
    served.test_client().get("/api/v1/me", headers=headers)  # any request starts this process's sweeper
    deadline = time.monotonic() + 30
    while db.session.execute(db.select(db.func.count(OutboxJob.id))).scalar() and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.2)
    assert db.session.execute(db.select(db.func.count(OutboxJob.id))).scalar() == 0
    assert redis.Redis(*REDIS, db=15).llen(queue) == 1  # on the broker's queue for a worker


def test_a_stopped_sweeper_sends_nothing_more(app, make, broker_behind_proxy):
    served, proxy, queue = broker_behind_proxy
    served.test_client().get("/api/v1/me")  # starts the sweeper
    background.stop_sweeper(served)
    db.session.add(OutboxJob(task=background.ASSIGN_THREAD, args=[1], due_at=utcnow()))
    db.session.commit()
    time.sleep(1.5)  # three sweep intervals
    assert db.session.execute(db.select(db.func.count(OutboxJob.id))).scalar() == 1
    assert redis.Redis(*REDIS, db=15).llen(queue) == 0


def test_broker_up_the_job_leaves_at_once(app, make, broker_behind_proxy):
    served, _, queue = broker_behind_proxy
    author = make.user(make.customer_org("outbox"))
    r = served.test_client().post("/api/v1/threads", headers=_token(author),
                                  json={"space_id": make.space("Outbox").id, "title": "Posted with the broker up",
                                        "body": "sent after the commit"})
    assert r.status_code == 201
    assert db.session.execute(db.select(db.func.count(OutboxJob.id))).scalar() == 0
    assert redis.Redis(*REDIS, db=15).llen(queue) == 1


def test_a_pool_shrunk_while_busy_runs_nothing_once_held_at_zero(app):
    """Shrinking the pool stops the threads taken out of it, not whichever thread happens to wake first.

    A stop signal that any thread could pick up let an idle thread stop in place of a busy one; the busy one
    then lived on outside the pool and ran jobs while tests held the pool at 0 threads (CI).
    """
    app.config["BACKGROUND_THREADS"] = 2
    release = {1: threading.Event(), 2: threading.Event()}
    runner: dict[int, threading.Thread] = {}
    started = threading.Semaphore(0)

    def hold(n: int) -> None:
        runner[n] = threading.current_thread()
        started.release()
        release[n].wait(10)

    background.start_once("hold-1", hold, 1)
    background.start_once("hold-2", hold, 2)
    assert started.acquire(timeout=10) and started.acquire(timeout=10)
    # free the thread the pool keeps when it shrinks to one; the other stays busy
    kept = background._workers[0]
    busy = 2 if runner[1] is kept else 1
    release[3 - busy].set()
    deadline = time.monotonic() + 10
    while background._pending != 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    app.config["BACKGROUND_THREADS"] = 1
    ran: list[str] = []
    background.start_once("after-shrink", ran.append, "after-shrink")
    release[busy].set()
    background.wait_all(10)
    assert ran == ["after-shrink"]

    app.config["BACKGROUND_THREADS"] = 0
    background.start_once("while-held", ran.append, "while-held")
    time.sleep(0.5)
    assert ran == ["after-shrink"] and len(background.queued()) == 1
    background.drop_queued()
