"""Idempotent API writes: a POST retried with the same Idempotency-Key creates nothing the second time."""
from __future__ import annotations

import hashlib
import threading

import pytest

from forum.extensions import db
from forum.models import Reply, Thread
from forum.services import idempotency


def _auth(user, key: str | None = None):
    from forum.services.orgs.tokens import create_token

    headers = {"Authorization": f"Bearer {create_token(user, 'test', 'write')[1]}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


@pytest.fixture()
def poster(make):
    user = make.user(make.customer_org())
    return {"user": user, "space": make.space().id}


def _count(model) -> int:
    return db.session.execute(db.select(db.func.count(model.id))).scalar()


def test_without_a_key_a_retry_creates_a_duplicate(client, poster):
    headers = _auth(poster["user"])
    body = {"space_id": poster["space"], "title": "Retried question", "body": "same body"}
    assert client.post("/api/v1/threads", headers=headers, json=body).status_code == 201
    assert client.post("/api/v1/threads", headers=headers, json=body).status_code == 201
    assert _count(Thread) == 2  # what a key is for


def test_a_retry_with_the_key_returns_the_first_result_and_creates_nothing(client, poster):
    headers = _auth(poster["user"], "retry-1")
    body = {"space_id": poster["space"], "title": "Retried question", "body": "same body"}
    first = client.post("/api/v1/threads", headers=headers, json=body)
    again = client.post("/api/v1/threads", headers=headers, json=body)
    assert first.status_code == again.status_code == 201
    assert again.json == first.json and again.headers["Idempotent-Replayed"] == "true"
    assert _count(Thread) == 1
    reply_headers = {**headers, "Idempotency-Key": "reply-1"}
    path = f"/api/v1/threads/{first.json['id']}/replies"
    assert client.post(path, headers=reply_headers, json={"body": "once"}).status_code == 201
    assert client.post(path, headers=reply_headers, json={"body": "once"}).json["id"] == \
        db.session.execute(db.select(Reply.id)).scalar_one()


def test_the_same_key_for_another_request_is_refused(client, poster):
    headers = _auth(poster["user"], "retry-2")
    client.post("/api/v1/threads", headers=headers, json={"space_id": poster["space"], "title": "One", "body": "b"})
    r = client.post("/api/v1/threads", headers=headers, json={"space_id": poster["space"], "title": "Two", "body": "b"})
    assert r.status_code == 422 and _count(Thread) == 1


def test_keys_belong_to_their_user(client, poster, make):
    body = {"space_id": poster["space"], "title": "Same key, two people", "body": "b"}
    other = make.user(poster["user"].organisation)
    assert client.post("/api/v1/threads", headers=_auth(poster["user"], "k"), json=body).status_code == 201
    assert client.post("/api/v1/threads", headers=_auth(other, "k"), json=body).status_code == 201
    assert _count(Thread) == 2


def test_a_retry_while_the_first_is_served_is_told_to_wait(client, poster):
    body = {"space_id": poster["space"], "title": "Slow one", "body": "b"}
    headers = _auth(poster["user"], "busy")
    fingerprint_of_other = "x" * 64
    idempotency.begin(poster["user"].id, "busy-other", fingerprint_of_other)  # a first request still running
    db.session.commit()
    r = client.post("/api/v1/threads", headers={**headers, "Idempotency-Key": "busy-other"}, json=body)
    assert r.status_code in (409, 422)
    # Same request, first one still in progress: 409 with Retry-After.
    path = "/api/v1/threads"
    raw = client.application.json.dumps(body).encode()
    fingerprint = hashlib.sha256(b"POST " + path.encode() + b"\n" + raw).hexdigest()
    idempotency.begin(poster["user"].id, "busy", fingerprint)
    db.session.commit()
    r = client.post(path, headers={**headers, "Content-Type": "application/json"}, data=raw)
    assert r.status_code == 409 and r.headers["Retry-After"] == "1" and _count(Thread) == 0


def test_concurrent_retries_create_one_thread(app, poster):
    headers = _auth(poster["user"], "burst-key")
    body = {"space_id": poster["space"], "title": "Sent five times at once", "body": "b"}
    statuses: list[int] = []

    def post() -> None:
        with app.app_context():
            statuses.append(app.test_client().post("/api/v1/threads", headers=headers, json=body).status_code)
            db.session.remove()

    clients = [threading.Thread(target=post) for _ in range(5)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(30)
    assert set(statuses) <= {201, 409} and 201 in statuses
    assert _count(Thread) == 1


def test_a_key_whose_request_died_after_its_commit_never_repeats_the_write(client, poster, app):
    """What a kill -9 between the commit and the stored response leaves: the key taken, no response."""
    body = {"space_id": poster["space"], "title": "Killed after commit", "body": "b"}
    path, raw = "/api/v1/threads", client.application.json.dumps(body).encode()
    fingerprint = hashlib.sha256(b"POST " + path.encode() + b"\n" + raw).hexdigest()
    idempotency.begin(poster["user"].id, "died", fingerprint)
    db.session.commit()
    app.config["IDEMPOTENCY_PENDING_SECONDS"] = 0
    r = client.post(path, headers={**_auth(poster["user"], "died"), "Content-Type": "application/json"}, data=raw)
    assert r.status_code == 409 and "Retry-After" not in r.headers and _count(Thread) == 0

