"""The home page's "unanswered" and "needs staff" side lists read their few threads from indexes of their own.

Through the list index (``ix_thread_list``) both databases walked the newest threads one by one and dropped every
answered one, or every one not waiting for staff: 286-349 rows for 6 at 100k threads on PostgreSQL, 0.4-0.7 ms a
page (bench/README.md), and more wherever most recent threads are answered, which is what a healthy forum looks
like. Statistics are set the way a live database keeps them (``query_plan`` analyzes the test's own rows).
"""
from __future__ import annotations

import pytest

from forum.models import ThreadStatus, Visibility
from forum.services.board import pages
from tests.forum.query_plans import query_plan


@pytest.fixture()
def forum(app, make):
    """Threads in the shares of the benchmark's forum (bench/forum_model.py: about 9% unanswered and 5% waiting for
    staff, most of the rest answered), in two organisations: too many of each kind for reading them all and sorting
    them to be the cheaper plan, as in a forum of any size."""
    customer = make.user(make.customer_org())
    other = make.user(make.customer_org())
    for author in (customer, other):
        make.copies(make.thread(author, Visibility.PUBLIC, reply_count=3, status=ThreadStatus.ANSWERED), 2500)
        make.copies(make.thread(author, Visibility.ORG_PRIVATE, reply_count=1, status=ThreadStatus.RESOLVED), 500)
        make.copies(make.thread(author, Visibility.PUBLIC), 300)  # unanswered: no reply, open
        make.copies(make.thread(author, Visibility.PUBLIC, reply_count=2, status=ThreadStatus.NEEDS_STAFF), 180)
    return {"customer": customer, "employee": make.employee(), "anonymous": None}


@pytest.mark.parametrize("reader", ["anonymous", "customer", "employee"])
@pytest.mark.parametrize("only, index", [("unanswered", "ix_thread_unanswered"),
                                         ("needs_staff", "ix_thread_needs_staff")])
def test_side_lists_read_their_own_index(app, forum, reader, only, index):
    app.config["PUBLIC_READ"] = True
    query = pages.threads_query(forum[reader], only=only, brief=True).limit(6)
    plan = query_plan(query)
    if pages.db.engine.dialect.name == "sqlite" and reader == "anonymous":
        # SQLite prefers searching the public threads in activity order (an equality on the leading column) to
        # scanning the small partial index, whatever its statistics say: about 0.26 ms at 100k threads
        assert "ix_thread_visibility_activity" in plan and "TEMP B-TREE" not in plan, plan
        return
    assert index in plan, plan
    if pages.db.engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # the index gives the order
