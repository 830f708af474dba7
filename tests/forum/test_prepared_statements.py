"""On PostgreSQL a transaction that only read ends in COMMIT instead of ROLLBACK, so psycopg keeps the statements
it prepared (a ROLLBACK makes it deallocate them all, and every page's statements were planned anew on every
request: bench/README.md, "Side by side with FlaskBB"). Ending a transaction that changed nothing either way
leaves the data alike; one that wrote, or failed, still ends in ROLLBACK.

A connection checked back into the pool less than ``IDLE_PING_SECONDS`` ago is handed out without a ping (a round
trip per request while the forum is busy); one idle for longer is pinged first, and replaced when its server
session has ended (a restarted database).
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.exc import DataError

from forum import IDLE_PING_SECONDS
from forum.extensions import db
from forum.models import Thread, Visibility
from tests.conftest import PG_ADMIN_URL


@pytest.fixture()
def thread(app, make, db_backend):
    if db_backend != "postgres":
        pytest.skip("psycopg's prepared statements are PostgreSQL's")
    return make.thread(make.user(make.customer_org()), Visibility.PUBLIC, title="Before")


def _prepared(conn) -> list[str]:
    return list(conn.execute(text("SELECT statement FROM pg_prepared_statements")).scalars())


def _title(thread_id: int) -> str:
    with db.engine.connect() as other:
        return other.execute(select(Thread.title).where(Thread.id == thread_id)).scalar_one()


def test_read_only_transactions_keep_prepared_statements(app, thread):
    query = select(Thread.title).where(Thread.id == thread.id)
    with db.engine.connect() as conn:
        for _ in range(7):  # one read-only transaction each, ended as a request's session ends it
            assert conn.execute(query).scalar_one() == "Before"
            conn.rollback()
        assert any("FROM thread" in statement for statement in _prepared(conn))


def test_a_transaction_that_wrote_is_still_rolled_back(app, thread):
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execute(update(Thread).where(Thread.id == thread.id).values(title="Never committed"))
        assert conn.execute(select(Thread.title).where(Thread.id == thread.id)).scalar_one() == "Never committed"
        conn.rollback()
        assert conn.execute(select(Thread.title).where(Thread.id == thread.id)).scalar_one() == "Before"
        conn.rollback()
    assert _title(thread.id) == "Before"


def test_a_session_closed_after_a_flush_writes_nothing(app, thread):
    db.session.commit()
    thread_id = thread.id
    db.session.get(Thread, thread_id).title = "Flushed only"
    db.session.flush()  # the UPDATE is sent; the session's dirty set is empty again
    db.session.remove()  # what the end of a request does
    assert _title(thread_id) == "Before"


def test_sql_written_as_text_is_rolled_back_even_when_it_starts_with_select(app, thread):
    # Only a statement built as a SELECT counts as reading: "SELECT ... INTO" creates a table, and a function
    # called from a SELECT may write.
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execute(text("SELECT id, title INTO probe_copy FROM thread"))
        conn.rollback()
    with db.engine.connect() as other:
        assert other.execute(text("SELECT to_regclass('probe_copy')")).scalar() is None


def test_a_failed_transaction_is_rolled_back_and_the_connection_serves_on(app, thread):
    db.session.commit()
    with db.engine.connect() as conn:
        with pytest.raises(DataError):  # division by zero
            conn.execute(text("SELECT 1 / 0"))
        conn.rollback()
        assert conn.execute(select(Thread.title).where(Thread.id == thread.id)).scalar_one() == "Before"
        conn.rollback()


def _count_pings(monkeypatch) -> list[int]:
    """Counts the pings the pool sends (the dialect's own ping, run on a real connection)."""
    pings: list[int] = []
    ping = db.engine.dialect.do_ping

    def counted(dbapi_connection):  # noqa: ANN001
        pings.append(1)
        return ping(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counted)
    return pings


def test_a_connection_in_use_a_moment_ago_is_not_pinged_again(app, client, thread, monkeypatch):
    app.config["PUBLIC_READ"] = True
    db.session.remove()
    pings = _count_pings(monkeypatch)
    assert client.get("/").status_code == 200
    before = len(pings)
    for _ in range(3):
        assert client.get("/").status_code == 200
    assert len(pings) == before  # a round trip per request saved while the forum is busy


def test_an_idle_connection_whose_server_session_ended_is_replaced(app, client, thread):
    app.config["PUBLIC_READ"] = True
    db.session.remove()
    assert client.get("/").status_code == 200
    with create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT").connect() as admin:
        ended = admin.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                   "WHERE datname = :name AND pid <> pg_backend_pid()"),
                              {"name": db.engine.url.database}).all()
    assert ended  # the pool's connection was among them
    time.sleep(IDLE_PING_SECONDS + 0.2)
    assert client.get("/").status_code == 200  # pinged, found gone and replaced: no error for the reader


@pytest.mark.parametrize(("url", "pinged_on_checkout"), [
    ("postgresql+psycopg://postgres@127.0.0.1:5432/test", False),  # the idle ping stands in for it
    ("postgresql+psycopg2://postgres@127.0.0.1:5432/test", True),  # no idle ping for this driver
    ("postgresql+pg8000://postgres@127.0.0.1:5432/test", True),
])
def test_only_psycopg_connections_skip_the_ping_on_checkout(url, pinged_on_checkout):
    # The configuration alone: the other drivers are not installed here, so no app can connect with them.
    from flask import Flask

    from forum import _finish_config
    from forum.config import Config

    app = Flask(__name__)
    app.config.from_object(Config)
    app.config.update(SQLALCHEMY_DATABASE_URI=url, SECRET_KEY="x" * 40, TESTING=True)
    _finish_config(app)
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is pinged_on_checkout


def test_the_home_list_is_planned_once_not_on_every_request(app, client, thread):
    """The list's LIMIT and OFFSET are written into its statement: as parameters PostgreSQL could not cost a generic
    plan for them and planned the list anew on every request (custom plans only, bench/README.md)."""
    app.config["PUBLIC_READ"] = True
    app.config["LIST_CACHE_SECONDS"] = 0  # the list read on every request, as when the board changes between them
    db.session.remove()
    # psycopg prepares from a connection's 5th run, PostgreSQL plans the 5 runs after that each anew; the pool
    # hands its idle connections out in turn, so each of them must see more than 10
    for _ in range(45):
        assert client.get("/").status_code == 200
    lists = db.session.execute(text(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements "
        "WHERE statement LIKE 'SELECT thread.id, thread.title, thread.kind%'")).all()
    assert lists, "the home list was not kept prepared"
    for statement, generic, custom in lists:
        assert "LIMIT $" not in statement and "OFFSET $" not in statement
        assert generic > 0 and custom <= 5, (generic, custom)
