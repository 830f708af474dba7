"""The home page's "open in your organisation" list reads an organisation's threads in activity order by index.

Without an index on (organisation_id, last_activity_at) both databases found the organisation's threads by
``ix_thread_organisation_id`` and sorted all of them for the 6 the list shows: a cost that grows with the forum
(bench/README.md, "At 1M threads / 10M replies").
"""
from __future__ import annotations

from forum.extensions import db
from forum.models import Visibility
from forum.services.board import pages
from tests.forum.query_plans import query_plan


def test_org_open_list_uses_the_organisation_activity_index(app, make):
    org = make.customer_org()
    member = make.user(org)
    for _ in range(3):
        make.thread(member, Visibility.PUBLIC)
    query = pages.threads_query(member, only="org_open", brief=True).limit(6)
    plan = query_plan(query)
    assert "ix_thread_org_activity" in plan, plan
    if db.engine.dialect.name == "sqlite":
        assert "TEMP B-TREE" not in plan, plan  # the index gives the order: no sort of the organisation's threads
