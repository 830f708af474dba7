"""How the patterns page's figures are computed: filters answered by their expression indexes, the member
rows written once to a temporary table that nothing else sees, odd snapshots counted like missing ones."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import JSON, insert, select, text, update

from forum.extensions import db
from forum.models import Thread
from forum.services.patterns import summaries as service
from forum.services.patterns.figures import MEMBERS_TABLE
from tests.forum.patterns import pattern_factories as pf
from tests.forum.patterns.test_list_page import NOW, day, world  # noqa: F401  (fixture)
from tests.forum.query_plans import query_plan


@pytest.mark.parametrize(("filters", "index"), [
    (service.PatternFilters(product="Ledger"), "ix_thread_snapshot_product_version"),
    (service.PatternFilters(version="Ledger::7.2"), "ix_thread_snapshot_product_version"),
    (service.PatternFilters(version="7.2"), "ix_thread_snapshot_version"),
    (service.PatternFilters(hosting="cloud"), "ix_thread_snapshot_hosting"),
    (service.PatternFilters(database="Oracle 19c"), "ix_thread_snapshot_database"),
])
def test_snapshot_filters_are_written_as_their_indexes(app, make, filters, index):
    """A different spelling of the expression (a bound JSON path, say) would read every member thread."""
    # Threads of three products on four versions each, two hostings and three databases: the plan is read on
    # statistics of these rows, where the index meant for a filter is also the cheapest (on an empty table
    # PostgreSQL may take any index that matches, e.g. the version index for a product and version).
    seed = make.thread(make.user(make.customer_org()))
    columns = {c.key: getattr(seed, c.key) for c in Thread.__table__.columns if c.key not in ("id", "deployment_snapshot")}
    rows = [{**columns, "title": f"Snapshot {i}", "deployment_snapshot": {
        "product": ("Ledger", "Bridge", "Lens")[i % 3], "version": ("7.1", "7.2", "7.3", "8.0")[i // 3 % 4],
        "hosting": ("cloud", "on_premises")[i % 2], "database": ("Oracle 19c", "PostgreSQL 15", "SQL Server")[i // 2 % 3]}}
        for i in range(240)]
    db.session.execute(insert(Thread), rows)
    db.session.commit()
    assert index in query_plan(select(Thread.id).where(*filters.conditions()))


def test_indexed_field_refuses_unindexed_names(app):
    with pytest.raises(ValueError):
        service.indexed_snapshot_field("topology")


def _temporary_table_exists() -> bool:
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(text(f"SELECT to_regclass('pg_temp.{MEMBERS_TABLE}')")).scalar() is not None
    return db.session.execute(text("SELECT count(*) FROM sqlite_temp_master WHERE name = :name"),
                              {"name": MEMBERS_TABLE}).scalar() > 0


@pytest.mark.parametrize("filters", [
    service.PatternFilters(), service.PatternFilters(hosting="cloud"), service.PatternFilters(database="Oracle 19c"),
    service.PatternFilters(product="Ledger", since=date(2026, 6, 1), until=NOW.date()),
    service.PatternFilters(space_id=-1)])
def test_the_computation_leaves_no_table_behind(world, filters):  # noqa: F811
    first = service.summarise(filters)
    assert not _temporary_table_exists()
    assert [(s.pattern.id, s.threads) for s in service.summarise(filters)] == [(s.pattern.id, s.threads)
                                                                               for s in first]


def test_filters_on_hosting_and_database_count_matching_threads(world):  # noqa: F811
    oracle = {s.pattern.name: s for s in service.summarise(service.PatternFilters(database="Oracle 19c"))}
    assert (oracle["LDAP sync timeout"].threads, oracle["SSO redirect loop"].threads) == (2, 4)
    on_premises = {s.pattern.name: s for s in service.summarise(service.PatternFilters(hosting="on_premises"))}
    assert list(on_premises) == ["LDAP sync timeout"] and on_premises["LDAP sync timeout"].threads == 2


def test_json_null_and_scalar_snapshots_count_as_no_environment(world, make):  # noqa: F811
    """PostgreSQL reads the snapshot with json_to_record, which refuses anything but an object."""
    odd = [make.thread(world.users["e"], space=world.space, created_at=day(6, 27), last_activity_at=day(6, 27))
           for _ in range(3)]
    db.session.execute(update(Thread).where(Thread.id == odd[0].id).values(deployment_snapshot=JSON.NULL))
    db.session.execute(update(Thread).where(Thread.id == odd[1].id).values(deployment_snapshot="a string"))
    db.session.execute(update(Thread).where(Thread.id == odd[2].id).values(deployment_snapshot=None))
    db.session.commit()
    pattern = pf.pattern("Odd snapshots", odd)
    summary = {s.pattern.id: s for s in service.summarise()}[pattern.id]
    assert (summary.threads, summary.reach, summary.deployments, summary.breakdowns) == (3, 1, 0, {})
    assert pattern.id not in {s.pattern.id for s in service.summarise(service.PatternFilters(hosting="cloud"))}
