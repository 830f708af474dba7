"""A database outage answers 503 with Retry-After on pages and the API, and the app recovers by itself.

The outage is real: the test database stops accepting connections and its sessions are ended (PostgreSQL's
``ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``), as when the server restarts; nothing is mocked.
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, text

from forum.extensions import db
from tests.conftest import PG_ADMIN_URL

PATHS = ["/", "/api/v1/threads", "/api/v1/search?q=upgrade", "/t/{thread}", "/u/{user}", "/inbox"]


def _set_allow_connections(name: str, allowed: bool) -> None:
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allowed).lower()}'))
            if not allowed:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": name})
    finally:
        admin.dispose()


@pytest.fixture()
def world(app, make, db_backend):
    if db_backend != "postgres":
        pytest.skip("the outage drill stops a PostgreSQL database (SQLite has no server to lose)")
    from forum.services.orgs.tokens import create_token

    user = make.user(make.customer_org())
    thread = make.thread(user, space=make.space(), title="Upgrade question", body="upgrade body")
    token = create_token(user, "test", "read")[1]
    world = {"user": user, "username": user.username, "thread": thread.id,
             "auth": {"Authorization": f"Bearer {token}"}, "name": db.engine.url.database}
    yield world
    _set_allow_connections(world["name"], True)


def _get(client, world, path):
    path = path.format(thread=world["thread"], user=world["username"])
    return client.get(path, headers=world["auth"] if path.startswith("/api/") else {})


def test_outage_is_503_with_retry_after_and_recovers_without_restart(client, world, login):
    login(world["user"])
    db.session.remove()  # the test's own session holds no connection through the outage
    for path in PATHS:
        assert _get(client, world, path).status_code == 200, path

    _set_allow_connections(world["name"], False)
    for path in PATHS:
        r = _get(client, world, path)
        assert r.status_code == 503, (path, r.status_code)
        assert int(r.headers["Retry-After"]) > 0
        if path.startswith("/api/"):
            assert r.json["error"]["code"] == 503

    _set_allow_connections(world["name"], True)
    started = time.monotonic()
    for path in PATHS:
        assert _get(client, world, path).status_code == 200, path
    assert time.monotonic() - started < 5
