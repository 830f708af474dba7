"""Webhook events delivered by a real Celery worker started as the README says, on the local Redis, to a real
receiver that verifies every signature: each event arrives once, and none is lost while the receiver is down."""
from __future__ import annotations

import os
import signal
import time

import pytest
import redis
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import DeliveryStatus, OutboxJob, Space, User, WebhookDelivery
from forum.services.board import threads
from forum.services.webhooks import subscriptions, sweeper
from tests.forum.patterns.test_mining_celery import BROKER, _wait_for, readme_worker
from tests.forum.webhooks.receiver import Receiver

pytestmark = pytest.mark.slow

# Short retries so an outage of a few seconds is several failed attempts; the same settings for the worker
# (which records a failed attempt and its backoff) and for the sending process (whose sweep hands due retries over).
RETRIES = {"WEBHOOK_ALLOW_PRIVATE": True, "WEBHOOK_RETRY_SECONDS": 0.2, "WEBHOOK_RETRY_MAX_SECONDS": 1,
           "WEBHOOK_MAX_ATTEMPTS": 1000, "WEBHOOK_DISABLE_AFTER": 100000, "WEBHOOK_TIMEOUT_SECONDS": 2}


def _deliveries() -> list[WebhookDelivery]:
    return db.session.execute(select(WebhookDelivery).order_by(WebhookDelivery.id)).scalars().all()


def test_a_readme_worker_delivers_each_event_once_signed_and_loses_none_while_the_receiver_is_down(
        app, make, tmp_path):
    receiver = Receiver().start()
    admin, asker = make.employee(is_admin=True), make.user()
    space = make.space()
    app.config.update(RETRIES)
    hook, receiver.secret = subscriptions.create_webhook(admin, receiver.url, ["thread.created"])
    worker_env = {f"FORUM_{name}": str(value).lower() if isinstance(value, bool) else str(value)
                  for name, value in RETRIES.items()}
    # The worker reads the webhook's secret with the forum's key, as every process of one deployment does.
    worker_env["SECRET_KEY"] = app.config["SECRET_KEY"]
    sender_config = dict(RETRIES, EXTERNAL_URL="https://forum.example", WEBHOOK_SWEEP_SECONDS=0.2)
    try:
        with readme_worker(app, tmp_path, "tfidf", worker_env=worker_env, **sender_config) as (sender, proc):
            def ask(titles: list[str]) -> list[int]:
                with sender.app_context():
                    author, where = db.session.get(User, asker.id), db.session.get(Space, space.id)
                    return [threads.create_thread(author, space=where, title=title, body="Body", kind="question",
                                                  visibility="public").id for title in titles]

            # Held still, the worker cannot deliver: each event is stored and handed to the broker, not sent.
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                first = ask([f"Question {i}" for i in range(10)])
                rows = _deliveries()
                assert len(rows) == 10 and all(r.status is DeliveryStatus.PENDING and r.attempts == 0 for r in rows), \
                    [(r.id, r.status, r.attempts, r.last_status_code, r.last_error) for r in rows]
                assert db.session.execute(select(func.count()).select_from(OutboxJob)).scalar_one() == 0, \
                    "the jobs were not handed to the broker"
                assert receiver.received == []
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            _wait_for(lambda: len(receiver.received) >= 10, 120, proc.log)
            _wait_for(lambda: all(r.status is DeliveryStatus.DELIVERED for r in _deliveries()), 30)

            # The receiver goes down: the worker's attempts fail, the sweep hands the due retries to the worker
            # again, and every event arrives once when the receiver is back.
            receiver.stop()
            sweeper.start(sender)
            try:
                second = ask([f"Asked while down {i}" for i in range(10)])
                _wait_for(lambda: all(r.attempts >= 2 for r in _deliveries() if r.subject_id in second), 120,
                          proc.log)
                assert all(r.status is DeliveryStatus.PENDING for r in _deliveries() if r.subject_id in second)
                receiver.start()
                _wait_for(lambda: len(receiver.received) >= 20, 120, proc.log)
                _wait_for(lambda: all(r.status is DeliveryStatus.DELIVERED for r in _deliveries()), 30)
                time.sleep(1)  # a duplicate would come right behind
            finally:
                sweeper.stop(sender)
            assert proc.poll() is None, proc.log.read_text()
    finally:
        receiver.stop()
    received = list(receiver.received)
    ids = sorted(r["payload"]["data"]["thread"]["id"] for r in received)
    assert ids == sorted(first + second), "an event was lost or sent twice"
    assert len({r["delivery"] for r in received}) == 20
    assert all(r["signed"] and r["event"] == "thread.created" for r in received)
    assert all(r["payload"]["data"]["thread"]["url"].startswith("https://forum.example/t/") for r in received)
    rows = _deliveries()
    assert all(r.last_status_code == 200 and r.response_ms is not None for r in rows)
    assert max(r.attempts for r in rows if r.subject_id in second) >= 2


def test_while_the_worker_is_away_the_sweep_does_not_hand_a_delivery_over_again_each_round(app, make, tmp_path):
    """Each sweep round handed every due delivery to the broker again while no worker took them (10 deliveries and
    9 rounds: 100 messages queued); a copy still waiting in the broker is not sent again before a claim could have
    expired, so the queue holds at most one more copy of each, and the worker, back, delivers each once."""
    receiver = Receiver().start()
    admin, asker, space = make.employee(is_admin=True), make.user(), make.space()
    app.config.update(RETRIES)
    hook, receiver.secret = subscriptions.create_webhook(admin, receiver.url, ["thread.created"])
    worker_env = {"FORUM_WEBHOOK_ALLOW_PRIVATE": "true", "SECRET_KEY": app.config["SECRET_KEY"]}
    try:
        with readme_worker(app, tmp_path, "tfidf", worker_env=worker_env, WEBHOOK_ALLOW_PRIVATE=True,
                           WEBHOOK_SWEEP_SECONDS=0.2) as (sender, proc):
            queue = redis.Redis.from_url(BROKER)
            os.kill(proc.pid, signal.SIGSTOP)
            try:
                with sender.app_context():
                    author, where = db.session.get(User, asker.id), db.session.get(Space, space.id)
                    asked = [threads.create_thread(author, space=where, title=f"Q{i}", body="Body", kind="question",
                                                   visibility="public").id for i in range(10)]
                assert queue.llen(sender.config["CELERY_QUEUE"]) == 10
                sweeper.start(sender)
                try:
                    time.sleep(3)  # about 15 rounds of the sweep
                finally:
                    sweeper.stop(sender)
                assert queue.llen(sender.config["CELERY_QUEUE"]) <= 20, "handed over again at every round"
            finally:
                os.kill(proc.pid, signal.SIGCONT)
            _wait_for(lambda: all(r.status is DeliveryStatus.DELIVERED for r in _deliveries()), 120, proc.log)
            time.sleep(1)  # a duplicate would come right behind
    finally:
        receiver.stop()
    assert sorted(r["payload"]["data"]["thread"]["id"] for r in receiver.received) == sorted(asked)
