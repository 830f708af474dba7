"""Pages deep in the space and home lists: the same threads as OFFSET gives, found by their ids in the index.

Deep pages walked past every earlier thread with its author and space joined: page 1,000 of the largest space
took 50 ms on SQLite and 156 ms on PostgreSQL at 100k threads, the home page's page 4,000 147 / 290 ms
(bench/README.md, "Deep list pages"). From ``pages.DEEP_PAGE`` on, a page reads its ids first, in an index that
holds the list's order and what ``permissions.visible_threads`` asks of a thread.
"""
from __future__ import annotations

import pytest
from sqlalchemy import update

from forum.extensions import db
from forum.models import Thread, Visibility
from forum.services.board import pages
from tests.forum.query_plans import query_plan

PER_PAGE = 3


@pytest.fixture
def forum(make):
    """A space of public, private, internal, hidden and merged threads from two organisations, a few pinned."""
    space = make.space()
    ours, theirs = make.customer_org(), make.customer_org()
    customer, other = make.user(ours), make.user(theirs)
    employee = make.employee()
    make.copies(make.thread(customer, Visibility.PUBLIC, space=space), 30)
    make.copies(make.thread(other, Visibility.ORG_PRIVATE, space=space), 15)
    make.copies(make.thread(customer, Visibility.ORG_PRIVATE, space=space), 10)
    make.copies(make.thread(employee, Visibility.INTERNAL, space=space), 10)
    make.copies(make.thread(other, Visibility.PUBLIC), 20)  # another space: on the home page only
    ids = db.session.scalars(db.select(Thread.id).where(Thread.space_id == space.id).order_by(Thread.id)).all()
    db.session.execute(update(Thread).where(Thread.id.in_(ids[::9])).values(is_pinned=True))
    db.session.execute(update(Thread).where(Thread.id.in_(ids[4::11])).values(hidden_at=Thread.created_at))
    db.session.execute(update(Thread).where(Thread.id.in_(ids[6::13])).values(merged_into_id=ids[0]))
    db.session.commit()
    return {"space": space, "customer": customer, "employee": employee, "anonymous": None}


def _offset_page(query, page):
    return db.session.scalars(query.limit(PER_PAGE + 1).offset((page - 1) * PER_PAGE)).all()


@pytest.mark.parametrize("reader", ["customer", "employee", "anonymous"])
@pytest.mark.parametrize("where", ["space", "home"])
def test_deep_pages_list_what_offset_lists(app, forum, reader, where):
    app.config["PUBLIC_READ"] = True
    user = forum[reader]
    filters = {"space_id": forum["space"].id} if where == "space" else {}
    query = pages.threads_query(user, **filters)
    last = pages.DEEP_PAGE + 20
    seen = []
    for number in range(pages.DEEP_PAGE - 1, last):
        expected = _offset_page(query, number)
        page = pages.list_threads(user, number, PER_PAGE, **filters)
        assert [t.id for t in page.items] == [t.id for t in expected[:PER_PAGE]], number
        assert page.has_next == (len(expected) > PER_PAGE), number
        seen += [t.id for t in page.items]
    assert seen, "the forum is too small for deep pages"
    assert len(seen) == len(set(seen))


@pytest.mark.parametrize("where, index", [("space", "ix_thread_space_list"), ("home", "ix_thread_list")])
def test_a_deep_page_skips_threads_in_the_index_alone(app, make, where, index):
    # A forum large enough that a deep page is worth an index to the planner: 2,400 threads of 20 organisations
    # (with a few threads each, reading them all and sorting them is the cheaper plan, and the right one).
    space = make.space()
    for _ in range(20):
        author = make.user(make.customer_org())
        make.copies(make.thread(author, Visibility.PUBLIC, space=space), 79)
        make.copies(make.thread(author, Visibility.ORG_PRIVATE, space=space), 19)
        make.copies(make.thread(author, Visibility.PUBLIC), 19)
    filters = {"space_id": space.id} if where == "space" else {}
    query = pages.threads_query(author, **filters)
    plan = query_plan(pages.page_keys(query, Thread.id, pages.DEEP_PAGE, 20))
    assert index in plan, plan
    if db.engine.dialect.name == "sqlite":
        assert f"COVERING INDEX {index}" in plan, plan  # the skipped threads are never read from the table
        assert "TEMP B-TREE" not in plan, plan


@pytest.mark.parametrize("reader", ["customer", "partner", "employee", "anonymous"])
def test_the_list_indexes_hold_every_column_the_visibility_rule_reads(app, make, reader):
    # The covering indexes name the columns of permissions.visible_threads (models/board.py); a rule that read
    # one more would send deep pages back to the table, silently.
    from sqlalchemy.sql import visitors

    from forum import permissions
    from forum.models import OrgKind

    app.config["PUBLIC_READ"] = True
    user = {"customer": lambda: make.user(make.customer_org()),
            "partner": lambda: make.user(make.org(OrgKind.PARTNER)),
            "employee": make.employee, "anonymous": lambda: None}[reader]()
    read = {c.name for c in visitors.iterate(permissions.visible_threads(user))
            if getattr(c, "table", None) is Thread.__table__}
    indexes = {index.name: [c.name for c in index.columns] for index in Thread.__table__.indexes}
    for name in ("ix_thread_space_list", "ix_thread_list"):
        assert read <= set(indexes[name]), (name, read - set(indexes[name]))
    assert "merged_into_id" in read and (reader == "employee" or {"visibility", "hidden_at"} <= read)
