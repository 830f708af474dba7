"""Search's product and version filters: answered by the snapshot expression indexes, with the same results
as testing every thread's snapshot, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum import permissions
from forum.extensions import db
from forum.models import Thread, Visibility
from forum.services.board import fulltext
from forum.services.board.search import MAX_RANKED, SearchFilters, _conditions, search_threads, snapshot_field
from tests.forum.query_plans import query_plan

# Near misses on purpose: case, prefixes, a missing key, a quote, a non-ASCII name, no snapshot at all.
SNAPSHOTS = [
    {"product": "Ledger", "version": "9.1"},
    {"product": "Ledger", "version": "9.10"},
    {"product": "ledger", "version": "9.1"},
    {"product": "Ledger Cloud", "version": "9.1"},
    {"product": "Stockroom", "version": "9.1"},
    {"product": "Ledger"},
    {"version": "9.1"},
    {"product": 'Ledger "X"', "version": "9.1"},
    {"product": "Grünbuch", "version": "1.0"},
    None,
]
FILTERS = [
    {"product": "Ledger"}, {"version": "9.1"}, {"product": "Ledger", "version": "9.1"},
    {"product": "ledger"}, {"product": 'Ledger "X"'}, {"product": "Grünbuch", "version": "1.0"},
    {"product": "Ledger", "version": "9.10"}, {"product": "Nothing"}, {"product": "%"}, {"version": "9._"},
]


@pytest.fixture()
def threads(make):
    customer_org = make.customer_org()
    customer = make.user(customer_org)
    other = make.user(make.customer_org())
    employee = make.employee()
    space = make.space()
    made = []
    for n, snapshot in enumerate(SNAPSHOTS * 3):
        author, visibility = [(customer, Visibility.PUBLIC), (other, Visibility.ORG_PRIVATE),
                              (employee, Visibility.INTERNAL)][n % 3]
        made.append(make.thread(author, visibility=visibility, space=space, title=f"Heap usage {n}",
                                body="heap", deployment_snapshot=snapshot))
    return {"customer": customer, "employee": employee, "threads": made}


def _expected(user, threads: list[Thread], filters: dict) -> set[int]:
    return {t.id for t in threads if permissions.can_view(user, t)
            and all((t.deployment_snapshot or {}).get(k) == v for k, v in filters.items())}


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "+".join(f"{k}={v}" for k, v in f.items()))
@pytest.mark.parametrize("role", ["customer", "employee"])
def test_indexed_filter_gives_the_same_threads(threads, filters, role):
    """The id pre-filter from the index changes nothing: same ids as without it and as a test in Python."""
    user = threads[role]
    search = SearchFilters(**filters)
    where, among = _conditions(user, search)
    assert among is not None
    terms = fulltext.terms_of("heap")
    with_index = {row[0] for row in db.session.execute(fulltext.backend().ranked(where, terms, MAX_RANKED, among))}
    without = {row[0] for row in db.session.execute(fulltext.backend().ranked(where, terms, MAX_RANKED))}
    expected = _expected(user, threads["threads"], filters)
    assert with_index == without == expected
    assert {t.id for t in search_threads(user, "heap", 1, 100, search).items} == expected


@pytest.mark.parametrize(("filters", "index"), [
    ({"product": "Ledger", "version": "9.1"}, "ix_thread_snapshot_product_version"),
    ({"product": "Ledger"}, "ix_thread_snapshot_product_version"),
    ({"version": "9.1"}, "ix_thread_snapshot_version"),
])
def test_filters_are_written_as_their_indexes(threads, filters, index):
    """The query's expressions are the indexed ones (a different spelling would silently scan every row)."""
    condition = [snapshot_field(name) == value for name, value in filters.items()]
    assert index in query_plan(select(Thread.id).where(*condition))


def test_snapshot_field_refuses_unindexed_names():
    with pytest.raises(ValueError):
        snapshot_field("database")
