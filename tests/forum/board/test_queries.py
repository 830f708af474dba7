"""No N+1: the home, space and thread pages run the same number of SQL statements as the data grows."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import Confirmation, Tag, ThreadStatus, Visibility, Vote
from tests.forum.board.test_pages import Browser


@pytest.fixture()
def web(app):
    """``web(user=None)``: a new browser, signed in as ``user`` when given."""
    return lambda user=None: Browser(app, user)


@contextmanager
def counting_queries():
    statements: list[str] = []

    def _count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def queries_for(browser, url: str) -> int:
    browser.get(url)  # warm-up: the first request may load things once per process
    with counting_queries() as statements:
        response = browser.get(url)
    assert response.status_code == 200
    return len(statements)


@pytest.fixture()
def world(make):
    customer_org, partner_org = make.customer_org(), make.partner_org()
    make.engage(partner_org, customer_org)
    return {
        "customer_org": customer_org,
        "space": make.space("Installs"),
        "viewers": {
            "customer": make.user(customer_org, is_org_admin=True),
            "partner": make.user(partner_org),
            "moderator": make.employee(is_moderator=True),
        },
    }


def _add_threads(make, world, n: int) -> None:
    tag = db.session.execute(db.select(Tag).filter_by(name="upgrade")).scalar_one_or_none() or Tag(name="upgrade")
    for i in range(n):
        org = world["customer_org"] if i % 3 == 0 else make.customer_org()
        author = make.user(org)
        visibility = Visibility.ORG_PRIVATE if i % 3 == 0 else Visibility.PUBLIC
        thread = make.thread(author, visibility, space=world["space"] if i % 2 else make.space(), title=f"T{i}",
                             status=ThreadStatus.OPEN if i % 4 else ThreadStatus.ANSWERED)
        thread.tags = [tag, Tag(name=f"tag-{thread.id}")]  # ids never repeat; id(thread) did
        db.session.commit()


@pytest.mark.parametrize("viewer", ["customer", "partner", "moderator"])
def test_home_and_space_queries_do_not_grow(app, web, make, world, viewer):
    app.config["PAGE_SIZE"] = 50
    browser = web(world["viewers"][viewer])
    slug = world["space"].slug
    _add_threads(make, world, 5)
    small = {url: queries_for(browser, url) for url in ("/", f"/s/{slug}", "/search?q=T", "/?show=unanswered")}
    _add_threads(make, world, 35)
    large = {url: queries_for(browser, url) for url in small}
    assert large == small
    assert small["/"] <= 16, small


def _thread_with_replies(make, world, n: int):
    asker = make.user(world["customer_org"])
    thread = make.thread(asker, Visibility.ORG_PRIVATE, space=world["space"],
                         body="Upgrade stalls", deployment_snapshot={"product": "Ledger", "version": "1.0"})
    replies = []
    for i in range(n):
        author = make.employee() if i % 5 == 0 else make.user(make.partner_org() if i % 2 else make.customer_org())
        replies.append(make.reply(thread, author, body=f"reply {i}", staff_note=(i % 7 == 3)))
    for reply in replies:
        if not reply.is_staff_note:
            for viewer in world["viewers"].values():
                if viewer.id != reply.author_id:
                    db.session.add(Vote(reply_id=reply.id, user_id=viewer.id, value=1))
    accepted = next(r for r in replies if not r.is_staff_note)
    thread.accepted_reply_id = accepted.id
    thread.status = ThreadStatus.RESOLVED
    replies[-1].deleted_at = replies[-1].created_at
    db.session.commit()
    for _ in range(min(n, 3)):
        other = make.customer_org()
        db.session.add(Confirmation(reply_id=accepted.id, user_id=make.user(other).id,
                                    deployment_id=make.deployment(other).id))
    db.session.commit()
    return thread


@pytest.mark.parametrize("viewer", ["customer", "partner", "moderator"])
def test_thread_page_queries_do_not_grow(app, web, make, world, viewer):
    browser = web(world["viewers"][viewer])
    small = _thread_with_replies(make, world, 5)
    large = _thread_with_replies(make, world, 40)
    counts = (queries_for(browser, f"/t/{small.id}"), queries_for(browser, f"/t/{large.id}"))
    assert counts[0] == counts[1], counts
    assert counts[0] <= 20, counts  # a ceiling for the page and what other areas add to it (playbooks, patterns)
    html = browser.html(f"/t/{large.id}")
    assert "reply 39" not in html or viewer == "moderator"  # removed text for moderators only
    assert "Confirmed at 3 deployments" in html
