"""A pattern's own page right after its members change: its figures and the map are computed off the request
path and waited for briefly, else the page shows its live rows and fills in the rest by itself; an edit of a
member thread's text makes them computed again; on a Celery worker when a broker is configured."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from forum import tasks
from forum.extensions import db
from forum.models import PatternSnapshot, utcnow
from forum.services import background
from forum.services.board import threads
from forum.services.patterns import pages as pattern_pages
from forum.services.patterns import snapshots as pattern_snapshots
from tests.forum.patterns.test_figures_wait import celery_app  # noqa: F401  (fixture)
from tests.forum.patterns.test_list_page import world  # noqa: F401  (fixture)

COMPUTING = "The map and charts are being computed"


@pytest.fixture(autouse=True)
def _in_the_background(app):
    app.config.update(PATTERN_CACHE_SECONDS=600, PATTERN_FIGURES_IN_BACKGROUND=True, PATTERN_FIGURES_WAIT_SECONDS=0.05)
    pattern_snapshots._decoded.clear()
    pattern_snapshots._sent.clear()
    pattern_pages.forget()
    yield
    background.wait_all()
    pattern_snapshots._decoded.clear()
    pattern_snapshots._sent.clear()
    pattern_pages.forget()


@pytest.fixture()
def slow_figures(monkeypatch):
    """The pattern's figures take as long as the test wants: they finish only when ``release`` is set."""
    release = threading.Event()
    original = pattern_pages._compute_figures

    def slow(pattern):
        assert release.wait(60), "the test never released the computation"
        return original(pattern)

    monkeypatch.setattr(pattern_pages, "_compute_figures", slow)
    yield release
    release.set()
    background.wait_all()


def _ready(client, pattern_id: int) -> bool:
    response = client.get(f"/patterns/{pattern_id}/figures.json")
    assert response.status_code == 200
    return response.get_json()["ready"]


def test_a_slow_computation_does_not_hold_the_first_view(world, client, login, slow_figures):  # noqa: F811
    login(world.employee)
    response = client.get(f"/patterns/{world.x.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and COMPUTING in html
    # What is cheap and live is there: name, terms, representative and member threads.
    assert "LDAP sync timeout" in html and "LDAP sync times out at night" in html and "LDAP-504" in html
    assert f'data-status-url="/patterns/{world.x.id}/figures.json"' in html
    assert '<noscript><meta http-equiv="refresh"' in html and "patterns.js" in html
    assert "of 5 threads" not in html                                 # no keyword hit counted yet
    assert not _ready(client, world.x.id)
    assert COMPUTING in client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    slow_figures.set()
    background.wait_all()
    assert _ready(client, world.x.id)
    html = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    assert COMPUTING not in html and "patterns.js" not in html
    assert "in 1 of 5 threads" in html                                # "ldap" in t1's title only
    assert "Customer A" in html                                       # the customers, from the stored figures


def test_a_quick_computation_is_shown_in_the_first_answer(world, app, client, login):  # noqa: F811
    app.config["PATTERN_FIGURES_WAIT_SECONDS"] = 30                   # the small world computes in milliseconds
    login(world.employee)
    html = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    assert COMPUTING not in html and "in 1 of 5 threads" in html
    keys = set(db.session.execute(db.select(PatternSnapshot.key)).scalars())
    assert {pattern_pages.page_key(world.x.id), pattern_pages.MAP_KEY} <= keys   # shared by every process


def test_an_edit_of_a_member_thread_counts_again(world, app, client, login):  # noqa: F811
    app.config["PATTERN_FIGURES_WAIT_SECONDS"] = 30
    login(world.employee)
    first = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    assert "Why these belong together" in first
    assert "LDAP-504</code> in" not in first                          # no member question mentions it yet
    stored = db.session.execute(db.select(PatternSnapshot.computed_at).where(
        PatternSnapshot.key == pattern_pages.page_key(world.x.id))).scalar_one()
    threads.edit_thread(world.users["c"], world.t3, title=world.t3.title, body="Sync fails with LDAP-504 again.")
    html = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    assert "<code class=\"signature\">LDAP-504</code> in 1 of 5 threads" in html
    assert "in 2 of 5 threads" in html                                # "ldap" now in t1 and t3
    db.session.expire_all()
    assert db.session.execute(db.select(PatternSnapshot.computed_at).where(
        PatternSnapshot.key == pattern_pages.page_key(world.x.id))).scalar_one() > stored


def test_an_edit_of_another_pattern_s_thread_keeps_the_stored_figures(world, app, client, login):  # noqa: F811
    app.config["PATTERN_FIGURES_WAIT_SECONDS"] = 30
    login(world.employee)
    client.get(f"/patterns/{world.x.id}")
    before = pattern_pages.page_fingerprint(world.x)
    threads.edit_thread(world.users["b"], world.y_threads[0], title="Another title", body="Another body")
    assert pattern_pages.page_fingerprint(world.x) == before


def test_the_readiness_endpoint_is_for_employees_only(world, app, client, login):  # noqa: F811
    assert client.get(f"/patterns/{world.x.id}/figures.json").status_code in (302, 404)   # signed out
    for who in (world.users["a"], world.solver):                      # a customer, a partner
        other = app.test_client()
        login(who, other)
        for url in (f"/patterns/{world.x.id}/figures.json", "/patterns/999999/figures.json"):
            response = other.get(url)
            assert response.status_code == 404 and b"ready" not in response.data and b"LDAP" not in response.data
    login(world.employee)
    assert client.get("/patterns/999999/figures.json").status_code == 404
    assert set(client.get(f"/patterns/{world.x.id}/figures.json").get_json()) == {"ready"}


def test_inline_when_not_in_the_background(world, app, client, login, monkeypatch):  # noqa: F811
    app.config["PATTERN_FIGURES_IN_BACKGROUND"] = False
    monkeypatch.setattr(threading.Thread, "start", lambda self: pytest.fail("no thread when inline"))
    login(world.employee)
    html = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    assert COMPUTING not in html and "in 1 of 5 threads" in html


def test_with_a_broker_the_page_is_computed_by_the_list_s_task(world, celery_app, monkeypatch):  # noqa: F811
    sent = []
    monkeypatch.setattr(background, "send", lambda name, *args: sent.append(args))
    monkeypatch.setattr(threading.Thread, "start", lambda self: pytest.fail("nothing computes in this process"))
    with celery_app.app_context():
        page = pattern_pages.stored_parts(world.x, wait=0)
        assert page.computing and page.figures is None
        assert pattern_pages.stored_parts(world.x, wait=0).computing
        pattern_sends = [args for args in sent if len(args) == 3]
        assert len(pattern_sends) == 1                                  # asked once, not at every view
        filters, requested_at, pattern_id = pattern_sends[0]
        assert pattern_id == world.x.id
    monkeypatch.undo()
    with celery_app.app_context():
        tasks.pattern_figures_task(filters, requested_at, pattern_id)  # what the worker runs
        page = pattern_pages.stored_parts(world.x, wait=0)
        assert not page.computing and page.figures.keyword_hits == [("ldap", 1), ("sync", 1)]
        assert pattern_pages.page_ready(world.x)


def test_the_worker_skips_current_figures_but_refreshes_old_ones(world, app):  # noqa: F811
    pattern_pages.compute(world.x.id)
    assert not pattern_pages.compute_requested(world.x.id, utcnow() - timedelta(seconds=5))   # stored since
    assert not pattern_pages.compute_requested(world.x.id, utcnow() + timedelta(seconds=5))   # current, young
    db.session.execute(db.update(PatternSnapshot).where(PatternSnapshot.key == pattern_pages.page_key(world.x.id))
                       .values(computed_at=utcnow() - timedelta(seconds=601)))
    db.session.commit()
    assert pattern_pages.compute_requested(world.x.id, utcnow())  # older than PATTERN_CACHE_SECONDS: again
