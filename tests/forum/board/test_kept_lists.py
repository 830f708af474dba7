"""The home and space lists a process keeps, under the board's generation (``services.board.generation``).

A kept list is served again, with no statement but the one that reads the generation, until a commit changes what
lists can show: every such commit, from any process or connection of the app, adds one to the generation in its
own transaction. What lists do not show (a member's last visit) leaves the kept lists in use; a rolled-back change
is not counted; a transaction that changed the lists reads them itself; a write that bypasses the app shows once the
kept list is older than ``LIST_CACHE_SECONDS``; a database without the generation still commits.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from forum.extensions import db
from forum.models import BoardGeneration, Visibility, utcnow
from forum.services.board import generation, pages
from tests.browser_support import ROOT, forum_env, served_forum
from tests.forum.board.test_home_rows import forum  # noqa: F401  (fixture: one public thread, one private)
from tests.forum.board.test_pages import Browser
from tests.forum.board.test_queries import counting_queries


def _generation() -> int:
    value = db.session.execute(select(BoardGeneration.value)).scalar_one()
    db.session.commit()
    return value


def test_a_kept_list_is_served_until_a_commit_changes_what_lists_show(app, make, forum):  # noqa: F811
    anonymous = Browser(app)
    first = anonymous.html("/")
    with counting_queries() as statements:
        again = anonymous.html("/")
    assert again == first
    assert len(statements) == 1 and "board_generation" in statements[0]  # lists and spaces all kept
    with counting_queries() as statements:
        anonymous.html(f"/s/{forum['space'].slug}")
    read_again = len(statements)
    with counting_queries() as statements:
        anonymous.html(f"/s/{forum['space'].slug}")
    assert len(statements) == read_again - 2  # the space's list (rows and tags) kept, the space itself read
    make.thread(forum["author"], Visibility.PUBLIC, space=forum["space"], title="Posted after the first read")
    db.session.commit()
    assert "Posted after the first read" in anonymous.html("/")
    assert "Posted after the first read" in anonymous.html(f"/s/{forum['space'].slug}")


def test_what_lists_do_not_show_is_not_counted_and_what_they_show_is(app, forum):  # noqa: F811
    anonymous = Browser(app)
    assert "Ada Author" in anonymous.html("/")
    before = _generation()
    forum["author"].last_seen_at = utcnow()  # written as members move about the forum
    db.session.commit()
    assert _generation() == before
    forum["author"].display_name = "Ada Renamed"
    db.session.commit()
    assert _generation() == before + 1
    html = anonymous.html("/")
    assert "Ada Renamed" in html and "Ada Author" not in html


def test_a_rolled_back_change_is_not_counted_and_sql_written_as_text_is(app, forum):  # noqa: F811
    before = _generation()
    forum["public"].title = "Never saved"
    db.session.flush()
    db.session.rollback()
    assert _generation() == before
    db.session.execute(text("UPDATE thread SET title = 'Typed as SQL' WHERE id = :id"), {"id": forum["public"].id})
    db.session.commit()
    assert _generation() == before + 1
    assert "Typed as SQL" in Browser(app).html("/")


def test_a_transaction_that_changed_the_lists_reads_them_itself(app, forum):  # noqa: F811
    def titles() -> list[str]:
        return [t.title for t in pages.list_threads(None, 1, 20).items]

    assert titles() == ["Public upgrade question"]
    assert titles() == ["Public upgrade question"]  # now kept
    forum["public"].title = "Renamed in this transaction"
    db.session.flush()
    assert generation.current(db.session()) is None
    assert titles() == ["Renamed in this transaction"]
    db.session.rollback()
    assert titles() == ["Public upgrade question"]


def test_a_write_that_bypasses_the_app_shows_once_the_kept_list_expires(app, forum, database_url):  # noqa: F811
    app.config["LIST_CACHE_SECONDS"] = 1.0
    anonymous = Browser(app)
    assert "Public upgrade question" in anonymous.html("/")
    outside = create_engine(database_url)  # as SQL typed into a database shell: no hook of the app sees it
    try:
        with outside.begin() as conn:
            conn.execute(text("UPDATE thread SET title = 'Changed behind the app' WHERE id = :id"),
                         {"id": forum["public"].id})
    finally:
        outside.dispose()
    assert "Changed behind the app" not in anonymous.html("/")  # the kept list, at most a second old
    time.sleep(1.1)
    assert "Changed behind the app" in anonymous.html("/")
    app.config["LIST_CACHE_SECONDS"] = 0
    outside = create_engine(database_url)
    try:
        with outside.begin() as conn:
            conn.execute(text("UPDATE thread SET title = 'Read every time' WHERE id = :id"), {"id": forum["public"].id})
    finally:
        outside.dispose()
    assert "Read every time" in anonymous.html("/")  # 0: nothing kept


def test_a_database_without_the_generation_still_commits(database_url, db_backend, tmp_path):
    if db_backend == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'bare.sqlite'}")
    else:
        schema = f"bare_{os.getpid()}"
        with create_engine(database_url).begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine = create_engine(database_url, connect_args={"options": f"-csearch_path={schema}"})
    generation.watch(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE thread (id integer PRIMARY KEY, title varchar(200))"))
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO thread (id, title) VALUES (1, 'Saved without a generation')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT title FROM thread")).scalar_one() == "Saved without a generation"
    finally:
        if db_backend == "postgres":
            with engine.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


SEED = """
from forum.extensions import db
from forum.models import Organisation, OrgKind, Space, Thread, ThreadKind, ThreadStatus, User, Visibility

org = Organisation(name="Acme", slug="acme", kind=OrgKind.CUSTOMER)
db.session.add(org)
db.session.flush()
author = User(email="ada@acme.test", username="ada", display_name="Ada Author", organisation_id=org.id)
space = Space(slug="installation", name="Installation")
db.session.add_all([author, space])
db.session.flush()
db.session.add(Thread(space_id=space.id, author_id=author.id, organisation_id=org.id, title="Seeded before serving",
                      body_md="Body", body_html="<p>Body</p>", kind=ThreadKind.QUESTION, visibility=Visibility.PUBLIC,
                      status=ThreadStatus.OPEN))
db.session.commit()
"""


def _home(base_url: str) -> str:
    with urllib.request.urlopen(base_url + "/", timeout=10) as response:
        return response.read().decode()


@pytest.mark.slow
def test_threads_imported_from_the_command_line_show_on_every_worker_at_once(tmp_path):
    """Two gunicorn workers keep the home page's lists; ``flask import-threads``, another process, commits new
    threads; the next home page from either worker lists them (no request is served the list from before)."""
    extra = {"PUBLIC_READ": "true"}
    with served_forum(tmp_path, SEED, extra, workers=2) as (base_url, _seed):
        for _ in range(12):  # both workers have read, and keep, the list
            assert "Seeded before serving" in _home(base_url)
        now = datetime.now(UTC).isoformat()
        lines = [{"title": "Imported while the server ran", "body": "From the old tracker.", "space": "Installation",
                  "organisation": "Acme", "author": "Ada Author", "visibility": "public", "created_at": now}]
        history = tmp_path / "history.jsonl"
        history.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
        env = {**forum_env(tmp_path / "forum.sqlite"), **extra}
        result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "import-threads",
                                 str(history)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        for _ in range(12):
            assert "Imported while the server ran" in _home(base_url)
