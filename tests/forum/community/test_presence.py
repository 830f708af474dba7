"""Presence: last_seen_at written at most once a minute, online indicators, staff count, thread viewers."""
from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import User, utcnow
from forum.services.community import presence


@pytest.fixture(autouse=True)
def _fresh_presence():
    presence.reset_memory()
    yield
    presence.reset_memory()


def _count_last_seen_writes(fn) -> int:
    writes = []

    def listener(conn, cursor, statement, params, context, executemany):  # noqa: ANN001
        if statement.lstrip().upper().startswith("UPDATE USER_ACCOUNT") and "last_seen_at" in statement:
            writes.append(statement)

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    return len(writes)


def test_last_seen_is_written_at_most_once_a_minute(app, client, make, login):
    user = make.user()
    login(user)
    writes = _count_last_seen_writes(lambda: [client.get("/") for _ in range(5)])
    assert writes <= 1
    db.session.expire_all()
    first = db.session.get(User, user.id).last_seen_at
    assert first is not None and utcnow() - first < timedelta(seconds=30)
    # A minute later the next request writes again, once.
    db.session.get(User, user.id).last_seen_at = first - timedelta(seconds=61)
    db.session.commit()
    assert _count_last_seen_writes(lambda: [client.get("/") for _ in range(3)]) == 1
    # Static files never write.
    db.session.get(User, user.id).last_seen_at = first - timedelta(seconds=61)
    db.session.commit()
    assert _count_last_seen_writes(lambda: client.get("/static/groundwork.css")) == 0


def test_online_now_on_profiles_and_thread_headers_and_staff_online(app, client, make, login):
    customer = make.customer_org()
    viewer = make.user(customer)
    asker = make.user(customer, last_seen_at=utcnow() - timedelta(minutes=2))
    away = make.user(customer, last_seen_at=utcnow() - timedelta(minutes=30))
    make.employee(last_seen_at=utcnow() - timedelta(minutes=1))
    make.employee(last_seen_at=utcnow() - timedelta(hours=1))
    thread = make.thread(asker)
    login(viewer)
    assert "Online now" in client.get(f"/u/{asker.username}").get_data(as_text=True)
    assert "Online now" not in client.get(f"/u/{away.username}").get_data(as_text=True)
    page = client.get(f"/t/{thread.id}").get_data(as_text=True)
    assert f"{asker.display_name} is online now" in page
    assert "1 staff online" in page


def test_people_viewing_a_thread_in_process(app, make, login):
    asker = make.user()
    thread = make.thread(asker)
    clients = []
    for _ in range(3):
        c = app.test_client()
        login(make.user(), c)
        clients.append(c)
    assert "people viewing" not in clients[0].get(f"/t/{thread.id}").get_data(as_text=True)  # only oneself
    clients[1].get(f"/t/{thread.id}")
    assert "3 people viewing" in clients[2].get(f"/t/{thread.id}").get_data(as_text=True)
    assert presence.view_thread(thread.id, None, now=presence.time.time() + presence.VIEWER_SECONDS + 1) == 0


def test_thread_list_queries_do_not_grow_with_presence(app, client, make, login):
    viewer = make.user()
    login(viewer)
    app.config["LIST_CACHE_SECONDS"] = 0  # every request reads its list, as when the board changes between them

    def count(path: str) -> int:
        seen = []
        listener = lambda *args: seen.append(1)  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            client.get(path)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return len(seen)

    space = make.space()
    for _ in range(2):
        make.thread(make.user(last_seen_at=utcnow()), space=space)
    client.get(f"/s/{space.slug}")
    small = count(f"/s/{space.slug}")
    for _ in range(8):
        make.thread(make.user(last_seen_at=utcnow()), space=space)
    assert count(f"/s/{space.slug}") == small


@pytest.fixture()
def redis_presence(app):
    import redis

    prefix = f"groundwork-test-{uuid.uuid4().hex[:8]}:"
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/14"
    app.config["PRESENCE_KEY_PREFIX"] = prefix
    client = redis.Redis.from_url(app.config["REDIS_URL"])
    try:
        client.ping()
    except redis.RedisError:
        pytest.skip("no Redis at 127.0.0.1:6379")
    yield client
    for key in client.scan_iter(prefix + "*"):
        client.delete(key)


def test_viewers_and_staff_online_in_redis(app, make, login, redis_presence):
    thread = make.thread(make.user())
    staff = make.employee()
    clients = []
    for user in (make.user(), staff):
        c = app.test_client()
        login(user, c)
        clients.append(c)
    clients[0].get(f"/t/{thread.id}")
    page = clients[1].get(f"/t/{thread.id}").get_data(as_text=True)
    assert "2 people viewing" in page
    prefix = app.config["PRESENCE_KEY_PREFIX"]
    assert redis_presence.zcard(f"{prefix}viewers:{thread.id}") == 2
    assert redis_presence.zcard(f"{prefix}staff") == 1
    assert "1 staff online" in page
    presence.reset_memory()  # the in-process fallback is not what answered
    assert presence.view_thread(thread.id, None) == 2


def test_anonymous_public_reader_sees_the_thread_without_watch_or_presence_writes(app, client, make):
    app.config["PUBLIC_READ"] = True
    thread = make.thread(make.user(last_seen_at=utcnow()))
    page = client.get(f"/t/{thread.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Watch thread" not in html and "is online now" in html


def test_header_figures_stay_each_readers_and_follow_the_clock(app, make, login, monkeypatch):
    """The header's statement is built once per process and run with each request's values: the reader's own
    unread items and conversations, and staff seen in the five minutes before *this* request."""
    from forum.models import Notification, NotificationKind
    from forum.services.messages import conversations

    busy, quiet = make.user(), make.user()
    for _ in range(2):
        db.session.add(Notification(user_id=busy.id, kind=NotificationKind.REPLY))
    db.session.commit()
    conversations.start(make.employee(), [busy], "Licence keys", "Which key do you use?")
    make.employee(last_seen_at=utcnow() - timedelta(minutes=1))
    browsers = {}
    for name, user in (("busy", busy), ("quiet", quiet)):
        browsers[name] = app.test_client()
        login(user, browsers[name])

    def header(name: str) -> str:
        page = browsers[name].get("/").get_data(as_text=True)
        return page[:page.index("<main")]

    for _ in range(2):  # alternating readers, the same process
        busy_header, quiet_header = header("busy"), header("quiet")
        assert "Inbox, 3 unread" in busy_header and 'aria-label="1 unread"' in busy_header
        assert "unread" not in quiet_header
        assert "1 staff online" in busy_header and "1 staff online" in quiet_header
    later = utcnow() + timedelta(minutes=10)
    monkeypatch.setattr(presence, "utcnow", lambda: later)
    assert "staff online" not in header("busy") and "staff online" not in header("quiet")
