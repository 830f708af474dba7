"""The deflection metric: impressions, clicks and posts tied together by a draft key."""
from __future__ import annotations

from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import SuggestionEvent, utcnow
from forum.services.board import deflection
from forum.services.board.deflection import deflection_stats, record_click, record_impressions, record_posted
from tests.forum.board.test_pages import Browser
from tests.forum.vectors.test_similar import DRAFT, _fresh_caches, fake_embedder, world  # noqa: F401  (fixtures)

KEY = "a" * 32


def _key(n: int) -> str:
    return f"{n:032x}"


def test_stats_on_a_hand_made_sequence(app, make):
    user, other = make.user(), make.user()
    threads = [make.thread(user) for _ in range(3)]
    t1, t2, t3 = (t.id for t in threads)
    # Draft 1: shown two threads, opened one, never posted -> a deflection.
    assert record_impressions(user, _key(1), [t1, t2]) == 2
    assert record_impressions(user, _key(1), [t1, t2, t3]) == 1  # each suggestion counts once per draft
    assert record_click(user, _key(1), thread_id=t1)
    # Draft 2: shown, opened, then posted anyway -> not a deflection.
    record_impressions(user, _key(2), [t1])
    assert record_click(user, _key(2), thread_id=t1)
    assert record_posted(user, _key(2), threads[0])
    assert not record_posted(user, _key(2), threads[0])  # once per draft
    # Draft 3: shown, nothing opened, posted.  Draft 4: shown, nothing else.
    record_impressions(other, _key(3), [t2])
    assert record_posted(other, _key(3), threads[1])
    record_impressions(other, _key(4), [t3], playbook_id=None)
    # Draft 5: never shown anything: neither a click nor a post counts.
    assert not record_click(other, _key(5), thread_id=t1)
    assert not record_posted(other, _key(5), threads[2])
    # A click on something the draft was not shown, or by someone else, is not counted.
    assert not record_click(user, _key(1), thread_id=t3 + 1000)
    assert not record_click(other, _key(1), thread_id=t1)

    stats = deflection_stats()
    assert (stats.impressions, stats.clicks, stats.posted, stats.deflections, stats.drafts) == (6, 2, 2, 1, 4)
    assert stats.rate == pytest.approx(0.25)

    # Older events fall outside ``since``.
    db.session.execute(db.update(SuggestionEvent).where(SuggestionEvent.draft_key == _key(1))
                       .values(created_at=utcnow() - timedelta(days=60)))
    db.session.commit()
    recent = deflection_stats(since=utcnow() - timedelta(days=30))
    assert (recent.impressions, recent.clicks, recent.deflections, recent.drafts) == (3, 1, 0, 3)
    assert deflection_stats().deflections == 1


def test_empty_stats_and_bad_keys(app, make):
    user = make.user()
    assert deflection_stats().rate == 0.0
    for bad in (None, "", "short", "x" * 41, "bad key with spaces!", 12345):
        assert deflection.valid_draft_key(bad) is None
        assert record_impressions(user, bad, [1]) == 0


def test_the_ask_page_flow_records_impressions_clicks_and_posts(app, world, fake_embedder):  # noqa: F811
    fake_embedder(world["threads"].values())
    customer = world["people"]["customer_b"]
    browser = Browser(app, customer)
    token = browser.token()

    def suggest(key):
        return browser.open("POST", "/suggest/similar", json=dict(DRAFT, draft_key=key),
                            headers={"X-CSRFToken": token}).get_json()

    shown = suggest(_key(7))
    suggest(_key(7))  # typing on: the same suggestions are not counted again
    assert deflection_stats().impressions == len(shown["threads"]) > 0
    target = shown["threads"][0]["id"]
    # The page sends clicks with navigator.sendBeacon: a form body with the CSRF token in it.
    response = browser.open("POST", "/suggest/event", data={
        "csrf_token": token, "draft_key": _key(7), "kind": "click", "thread_id": str(target)})
    assert response.status_code == 204
    assert browser.open("POST", "/suggest/event", data={"draft_key": _key(7), "kind": "click",
                                                         "thread_id": str(target)}).status_code == 400  # no CSRF
    assert browser.open("POST", "/suggest/event", json={"draft_key": "nope", "kind": "click"},
                        headers={"X-CSRFToken": token}).status_code == 400
    assert deflection_stats().deflections == 1

    # A second visit posts its question: the hidden draft_key field ties the post to the suggestions.
    suggest(_key(8))
    ask = browser.open("POST", "/ask", data={
        "csrf_token": token, "title": "Connection pool exhausted again", "body": "Still exhausted.",
        "space": str(world["space"].id), "kind": "question", "visibility": "public", "deployment": "0",
        "tags": "", "draft_key": _key(8)})
    assert ask.status_code == 302
    stats = deflection_stats()
    assert (stats.posted, stats.deflections, stats.drafts) == (1, 1, 2)


def test_ask_page_carries_the_suggestion_panel(app, world):  # noqa: F811
    html = Browser(app, world["people"]["customer_b"]).html("/ask")
    assert 'id="suggest-panel"' in html and "/static/suggest.js" in html
    assert "data-similar-url=\"/suggest/similar\"" in html


def test_suggestion_endpoints_are_rate_limited(app, database_url, make, monkeypatch):
    from forum import create_app
    from forum.extensions import limiter
    from tests.conftest import base_config
    from tests.factories import Factory, csrf_token_from, login_as

    saved = limiter.enabled
    try:
        limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True, "RATELIMIT_SUGGEST": "3 per minute"})
        limiter.reset()
        user = make.user()
        client = limited.test_client()
        with limited.app_context():
            login_as(client, user, Factory.PASSWORD)
            token = csrf_token_from(client.get("/ask").get_data(as_text=True))
            answers = [client.post("/suggest/similar", json={"title": "Connection pool exhausted"},
                                   headers={"X-CSRFToken": token}).status_code for _ in range(4)]
            assert answers == [200, 200, 200, 429]
    finally:
        limiter.enabled = saved
        limiter.reset()
