"""The home page's "open in your organisation" list reads an organisation's threads in activity order by index.

Without an index on (organisation_id, last_activity_at) both databases found the organisation's threads by
``ix_thread_organisation_id`` and sorted all of them for the 6 the list shows: a cost that grows with the forum
(bench/README.md, "At 1M threads / 10M replies").

The plan must not depend on what an earlier test left in the planner's statistics: tables are emptied between
tests by DELETE, which keeps PostgreSQL's statistics, and on statistics of a forum with a single organisation
the planner read every thread in activity order instead (a failure seen in a PostgreSQL run of the suite).
"""
from __future__ import annotations

from sqlalchemy import text

from forum.extensions import db
from forum.models import Visibility
from forum.services.board import pages
from tests.forum.query_plans import query_plan


def test_statistics_of_a_one_organisation_forum_are_left_behind(app, make):
    # Runs first in this file: the planner's statistics then say every thread belongs to one organisation.
    member = make.user(make.customer_org())
    for _ in range(200):
        make.thread(member, Visibility.PUBLIC)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("ANALYZE thread"))
        db.session.commit()


def test_org_open_list_uses_the_organisation_activity_index(app, make):
    # Twenty organisations, as in any forum the list serves, each with far more threads than the list shows:
    # the member's organisation holds a twentieth of them (with only a few, reading them all and sorting them
    # is the cheaper plan, and the right one).
    for _ in range(19):
        make.copies(make.thread(make.user(make.customer_org()), Visibility.PUBLIC), 99)
    member = make.user(make.customer_org())
    make.copies(make.thread(member, Visibility.PUBLIC), 99)
    query = pages.threads_query(member, only="org_open", brief=True).limit(6)
    plan = query_plan(query)
    assert "ix_thread_org_activity" in plan, plan
    if db.engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # the index gives the order: no sort of the organisation's threads
