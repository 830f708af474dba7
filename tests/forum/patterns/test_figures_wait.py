"""A set of filters nobody looked at: computed off the request path, waited for briefly, else the page lists
the patterns without figures and fills them in by itself; on a Celery worker when a broker is configured."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from forum import tasks
from forum.extensions import db
from forum.models import PatternSnapshot
from forum.services import background
from forum.services.patterns import snapshots as pattern_snapshots
from forum.services.patterns import summaries as service
from tests.forum.patterns.test_list_page import NOW, world  # noqa: F401  (fixture)
from tests.forum.patterns.test_mining_celery import _wait_for, worker  # noqa: F401  (fixture)

COMPUTING = "Figures are being computed for these filters"
HOSTING = service.PatternFilters(hosting="cloud")


@pytest.fixture(autouse=True)
def _in_the_background(app):
    app.config.update(PATTERN_CACHE_SECONDS=600, PATTERN_FIGURES_IN_BACKGROUND=True, PATTERN_FIGURES_WAIT_SECONDS=0)
    pattern_snapshots._decoded.clear()
    pattern_snapshots._sent.clear()
    yield
    background.wait_all()
    pattern_snapshots._decoded.clear()
    pattern_snapshots._sent.clear()


@pytest.fixture()
def held_threads(held_jobs):
    """Background jobs are queued but not run; the test runs them itself, in its own thread."""
    return held_jobs


def _ready(client, query: str) -> bool:
    response = client.get(f"/patterns/figures.json?{query}")
    assert response.status_code == 200
    return response.get_json()["ready"]


def test_first_view_lists_the_patterns_and_fills_in_the_figures(world, client, login, held_threads):  # noqa: F811
    login(world.employee)
    html = client.get("/patterns/?hosting=cloud&sort=growth").get_data(as_text=True)
    assert COMPUTING in html and "Figures as of" not in html
    assert "LDAP sync timeout" in html and "SSO redirect loop" in html and "Dismissed noise" not in html
    assert "pattern-stats" not in html and "breakdowns" not in html   # names and terms only, no figure
    assert 'data-status-url="/patterns/figures.json?hosting=cloud' in html
    assert not _ready(client, "hosting=cloud")
    assert COMPUTING in client.get("/patterns/?hosting=cloud").get_data(as_text=True)
    assert len(held_threads) == 1                                     # one computation however many ask
    held_threads[0].run()
    assert _ready(client, "hosting=cloud")
    html = client.get("/patterns/?hosting=cloud").get_data(as_text=True)
    assert COMPUTING not in html and "Figures as of" in html
    live = {s.pattern.name: s.threads for s in service.summarise(HOSTING)}
    shown = {s.pattern.name: s.threads for s in pattern_snapshots.page_figures(HOSTING).summaries}
    assert shown == live == {"LDAP sync timeout": 2, "SSO redirect loop": 4}


def test_figures_of_other_filters_are_never_shown_for_these(world, client, login, held_threads):  # noqa: F811
    held_threads.clear()
    pattern_snapshots.refresh_default()                               # the unfiltered figures are stored
    login(world.employee)
    assert "Figures as of" in client.get("/patterns/").get_data(as_text=True)
    page = pattern_snapshots.page_figures(HOSTING, wait=0)
    assert page.computing and page.summaries == [] and page.computed_at is None
    assert COMPUTING in client.get("/patterns/?hosting=cloud").get_data(as_text=True)


def test_a_quick_computation_is_shown_in_the_first_answer(world, app, client, login):  # noqa: F811
    app.config["PATTERN_FIGURES_WAIT_SECONDS"] = 30                   # the small world computes in milliseconds
    login(world.employee)
    html = client.get("/patterns/?hosting=cloud").get_data(as_text=True)
    assert COMPUTING not in html and "Figures as of" in html


def test_a_pattern_page_with_nothing_stored_computes_that_pattern_alone(world, held_threads):  # noqa: F811
    live = {s.pattern.id: s for s in service.summarise()}
    assert pattern_snapshots.pattern_summary(world.x) == live[world.x.id]
    assert len(held_threads) == 1                                     # the whole list: in the background
    held_threads[0].run()
    assert db.session.execute(db.select(PatternSnapshot.key)).scalar_one() == pattern_snapshots.snapshot_key(
        service.PatternFilters())


def test_inline_when_not_in_the_background(world, app, held_threads):  # noqa: F811
    app.config["PATTERN_FIGURES_IN_BACKGROUND"] = False
    page = pattern_snapshots.page_figures(HOSTING, wait=0)
    assert not page.computing and page.computed_at is not None and not held_threads


def test_filters_travel_to_a_worker_and_back():
    filters = service.PatternFilters(product="Ledger", version="Ledger::7.2", hosting="cloud", database="Oracle 19c",
                                     since=NOW.date() - timedelta(days=30), until=NOW.date(), space_id=3)
    assert service.PatternFilters.from_dict(filters.as_dict()) == filters


@pytest.fixture()
def celery_app(app):
    """The app as configured with a broker; tasks are recorded instead of sent."""
    from forum import create_app
    from tests.conftest import base_config

    return create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]),
                       "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15", "PATTERN_NOW": NOW.isoformat()})


def test_with_a_broker_the_computation_goes_to_a_worker(world, celery_app, monkeypatch, held_threads):  # noqa: F811
    sent = []
    monkeypatch.setattr(background, "send", lambda name, *args: sent.append(args))
    with celery_app.app_context():
        assert pattern_snapshots.page_figures(HOSTING, wait=0).computing
        assert pattern_snapshots.page_figures(HOSTING, wait=0).computing   # asked once, not at every view
        assert len(sent) == 1 and not held_threads                       # nothing computes in this process
        filters, requested_at = sent[0]
        assert filters == HOSTING.as_dict()
    monkeypatch.undo()
    with celery_app.app_context():
        tasks.pattern_figures_task(filters, requested_at)                # what the worker runs
        page = pattern_snapshots.page_figures(HOSTING, wait=0)
        assert not page.computing
        assert {s.pattern.name: s.threads for s in page.summaries} == {"LDAP sync timeout": 2,
                                                                         "SSO redirect loop": 4}
        computed_at = page.computed_at
        # A duplicate of the same request (another web process asked too) finds newer figures and skips.
        assert not pattern_snapshots.compute_requested(HOSTING, computed_at - timedelta(seconds=1))
        assert pattern_snapshots.page_figures(HOSTING, wait=0).computed_at == computed_at


def test_stale_figures_are_refreshed_on_the_worker(world, celery_app, monkeypatch, make):  # noqa: F811
    with celery_app.app_context():
        pattern_snapshots.compute(HOSTING)
    make.reply(world.t3, world.solver)                                 # the data moves
    celery_app.config["PATTERN_FIGURES_MIN_SECONDS"] = 0
    sent = []
    monkeypatch.setattr(background, "send", lambda name, *args: sent.append(args))
    started = threading.active_count()
    with celery_app.app_context():
        page = pattern_snapshots.page_figures(HOSTING, wait=0)
    assert not page.computing and len(sent) == 1 and threading.active_count() == started
    monkeypatch.undo()
    with celery_app.app_context():
        assert pattern_snapshots.compute_requested(HOSTING, pattern_snapshots.utcnow())      # moved: computed
        assert not pattern_snapshots.compute_requested(HOSTING, pattern_snapshots.utcnow())  # current: skipped


@pytest.mark.slow
def test_a_real_worker_computes_the_figures(world, worker):  # noqa: F811
    """A Celery worker on the local Redis computes and stores what a view asked for."""
    celery_app, proc = worker
    with celery_app.app_context():
        assert pattern_snapshots.page_figures(HOSTING, wait=0).computing
    key = pattern_snapshots.snapshot_key(HOSTING)

    def stored():
        if proc.poll() is not None:
            raise AssertionError(f"worker exited: {proc.stdout.read()}")
        return db.session.execute(db.select(PatternSnapshot.id).where(PatternSnapshot.key == key)).scalar()

    _wait_for(stored, 60)
    with celery_app.app_context():
        page = pattern_snapshots.page_figures(HOSTING, wait=0)
    assert {s.pattern.name: s.threads for s in page.summaries} == {"LDAP sync timeout": 2, "SSO redirect loop": 4}
