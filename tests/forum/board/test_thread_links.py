"""A thread page builds its links with a fixed number of URL builds, however many replies it shows.

Every ``url_for`` goes through the routing map's ``build``; per-reply links come from one build per action and
page (``templating.id_url``) or are the same URL for every reply (adding a bookmark), so the count stays flat.
"""
from __future__ import annotations

from collections.abc import Callable

import pytest
from werkzeug.routing import MapAdapter

from forum.models import Visibility
from tests.forum.board.test_pages import Browser


@pytest.fixture()
def url_builds(monkeypatch):
    """``url_builds(browser, url)``: the endpoints the routing map built URLs for while rendering ``url``."""
    calls: list[str] = []
    build = MapAdapter.build

    def counted(self, endpoint, *args, **kwargs):  # noqa: ANN001, ANN202
        calls.append(endpoint)
        return build(self, endpoint, *args, **kwargs)

    # Counted, not replaced: the real build runs, so the page is what it would be.
    monkeypatch.setattr(MapAdapter, "build", counted)

    def _builds(browser: Browser, url: str) -> list[str]:
        browser.get(url)  # warm-up
        calls.clear()
        response = browser.get(url)
        assert response.status_code == 200
        return list(calls)

    return _builds


def at_5_and_25_replies(make, thread, writers: list, measure: Callable[[], list]) -> tuple[list, list]:
    """``measure()`` of the thread page with 5 replies, then with 25 (the writers taking turns)."""
    for i in range(5):
        make.reply(thread, writers[i % len(writers)], body=f"Reply {i}")
    few = measure()
    for i in range(20):
        make.reply(thread, writers[i % len(writers)], body=f"More {i}")
    return few, measure()


@pytest.mark.parametrize("viewer", ["customer", "moderator"])
def test_thread_page_url_builds_do_not_grow_with_replies(app, make, url_builds, viewer):
    org = make.customer_org()
    author, customer = make.user(org), make.user(org)
    reader = customer if viewer == "customer" else make.employee(is_moderator=True)
    thread = make.thread(author, Visibility.PUBLIC)
    others = [make.user(make.customer_org()) for _ in range(3)]
    browser = Browser(app, reader)
    few, many = at_5_and_25_replies(make, thread, others, lambda: url_builds(browser, f"/t/{thread.id}"))
    assert "reading.add_bookmark" in few  # the bookmark buttons are on the page
    assert len(many) == len(few), sorted(set(many) - set(few)) or many
