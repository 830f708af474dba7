"""Unread tracking: the marker moves as pages are read, "N new" on lists, the way to the first unread reply,
"new since your last visit", and the same number of queries per page however much there is."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from forum.extensions import db
from forum.models import ThreadRead, User, Visibility, utcnow
from forum.services.community import bookmarks, presence
from tests.forum.board.test_pages import Browser
from tests.forum.board.test_queries import counting_queries


@pytest.fixture()
def web(app):
    return lambda user=None: Browser(app, user)


def _new_badge(html: str, thread_id: int) -> str | None:
    match = re.search(rf'href="/t/{thread_id}/unread">(\d+) new<', html)
    return match.group(1) if match else None


def _marker(user, thread) -> int | None:
    db.session.expire_all()
    row = db.session.get(ThreadRead, (user.id, thread.id))
    return row.last_read_reply_id if row is not None else None


def test_reading_moves_the_marker_and_lists_count_what_came_since(app, web, make):
    reader, writer, staff = make.user(), make.user(), make.employee()
    thread = make.thread(writer, title="Marker thread")
    first = [make.reply(thread, writer, f"early {i}") for i in range(2)]
    browser = web(reader)
    assert _new_badge(browser.html("/"), thread.id) is None  # never opened: nothing counted
    assert "New since you last read" not in browser.html(f"/t/{thread.id}")
    assert _marker(reader, thread) == first[-1].id

    later = [make.reply(thread, writer, f"later {i}") for i in range(3)]
    make.reply(thread, staff, "a staff note the customer never sees", staff_note=True)
    removed = make.reply(thread, writer, "removed by a moderator")
    removed.deleted_at = utcnow()
    db.session.commit()
    assert _new_badge(browser.html("/"), thread.id) == "3"
    assert _new_badge(browser.html(f"/s/{thread.space.slug}"), thread.id) == "3"
    jump = browser.get(f"/t/{thread.id}/unread")
    assert jump.status_code == 302 and jump.headers["Location"].endswith(f"/t/{thread.id}#r{later[0].id}")

    page = browser.html(f"/t/{thread.id}")
    assert "3 new" in page and 'id="first-unread"' in page
    assert page.index('id="first-unread"') < page.index(f'id="r{later[0].id}"')
    assert page.index(f'id="r{first[-1].id}"') < page.index('id="first-unread"')
    assert _new_badge(browser.html("/"), thread.id) is None  # read to the end now
    assert browser.get(f"/t/{thread.id}/unread").headers["Location"].endswith(f"/t/{thread.id}")

    employee = web(staff)
    employee.html(f"/t/{thread.id}")
    make.reply(thread, staff, "another staff note", staff_note=True)
    assert _new_badge(employee.html("/"), thread.id) == "1"  # staff notes count for those who see them
    assert _new_badge(browser.html("/"), thread.id) is None


def test_the_first_unread_reply_on_a_later_page(app, web, make):
    app.config["REPLIES_PAGE_SIZE"] = 3
    reader, writer = make.user(), make.user()
    thread = make.thread(writer)
    replies = [make.reply(thread, writer, f"reply {i}") for i in range(3)]
    browser = web(reader)
    browser.html(f"/t/{thread.id}")  # page 1: three replies read
    assert _marker(reader, thread) == replies[-1].id
    replies += [make.reply(thread, writer, f"reply {i}") for i in range(3, 8)]
    location = browser.get(f"/t/{thread.id}/unread").headers["Location"]
    assert location.endswith(f"/t/{thread.id}?page=2#r{replies[3].id}")
    page = browser.html(f"/t/{thread.id}")  # page 1 again: the way to page 2
    assert f'href="/t/{thread.id}/unread">Jump to first unread' in page
    browser.html(f"/t/{thread.id}?page=2")
    assert _marker(reader, thread) == replies[5].id
    browser.html(f"/t/{thread.id}")  # going back does not move the marker back
    assert _marker(reader, thread) == replies[5].id
    assert browser.get(f"/t/{thread.id}/unread").headers["Location"].endswith(f"?page=3#r{replies[6].id}")


def test_new_since_the_last_visit(app, web, make):
    org, other_org = make.customer_org(), make.customer_org()
    reader, writer, outsider = make.user(org), make.user(org), make.user(other_org)
    old = make.thread(writer, title="Old news")
    fresh = make.thread(writer, title="Fresh thread")
    replied = make.thread(writer, title="Replied since")
    hidden = make.thread(outsider, Visibility.ORG_PRIVATE, title="Another org's private thread")
    before = utcnow() - timedelta(days=2)
    for thread in (old, replied):
        thread.last_activity_at = before - timedelta(days=1)
    db.session.commit()
    browser = web(reader)
    browser.html(f"/t/{replied.id}")  # read before the visit ended
    reader_row = db.session.get(User, reader.id)
    reader_row.previous_visit_at, reader_row.last_seen_at = before, utcnow()
    reply = make.reply(replied, writer, "news")
    replied.last_activity_at = utcnow()
    db.session.commit()

    page = browser.html("/new")
    assert "Fresh thread" in page and "Replied since" in page
    assert "Old news" not in page and "Another org" not in page and f"/t/{hidden.id}" not in page
    assert _new_badge(page, replied.id) == "1"
    browser.html(f"/t/{replied.id}")
    browser.html(f"/t/{fresh.id}")
    page = browser.html("/new")
    assert "Fresh thread" not in page and "Replied since" not in page and "Nothing new" in page
    assert reply.id == _marker(reader, replied)


def test_coming_back_after_a_pause_starts_a_new_visit(app, make):
    user = make.user()
    now = utcnow()
    user.last_seen_at = now - timedelta(hours=3)
    db.session.commit()
    presence.touch(user, now)
    db.session.expire_all()
    row = db.session.get(User, user.id)
    assert row.previous_visit_at == now - timedelta(hours=3) and row.last_seen_at == now
    presence.touch(row, now + timedelta(minutes=5))  # the same visit
    db.session.expire_all()
    assert db.session.get(User, user.id).previous_visit_at == now - timedelta(hours=3)


def test_queries_per_page_stay_the_same_with_unread_tracking(app, web, make):
    """Home, a space, the new-since page, a thread page and the bookmarks, each with many opened threads, new
    replies and bookmarks: as many statements with 4 threads of 3 replies as with 24 threads of 12."""
    app.config["PAGE_SIZE"] = 30
    reader, writer = make.user(), make.user()
    space = make.space("Counted")
    browser = web(reader)
    threads = []

    def grow(n_threads: int, n_replies: int) -> None:
        for _ in range(n_threads):
            thread = make.thread(writer, space=space)
            threads.append(thread)
            kept = make.reply(thread, writer, "kept")
            bookmarks.add(reader, thread)
            bookmarks.add(reader, thread, kept, note="a note")
        for thread in threads:
            for i in range(n_replies):
                make.reply(thread, writer, f"r{i}")
            browser.html(f"/t/{thread.id}")  # opened: a marker
            make.reply(thread, writer, "one more")  # and something new since

    def queries(url: str) -> int:
        browser.get(url)
        with counting_queries() as statements:
            assert browser.get(url).status_code == 200
        return len(statements)

    grow(4, 3)
    urls = ["/", f"/s/{space.slug}", "/new", f"/t/{threads[0].id}", "/bookmarks"]
    small = {url: queries(url) for url in urls}
    grow(20, 9)
    large = {url: queries(url) for url in urls[:3] + [f"/t/{threads[0].id}", "/bookmarks"]}
    assert large == small


def test_moving_the_marker_costs_one_statement(app, web, make):
    """The view that moves the marker runs one statement more than a view that does not (its write), not a
    reload of every row the page already loaded."""
    reader, writer = make.user(), make.user()
    thread = make.thread(writer)
    browser = web(reader)
    browser.html(f"/t/{thread.id}")
    browser.html(f"/t/{thread.id}")  # warm: the read marker exists, presence written
    for i in range(12):
        make.reply(thread, writer, f"new reply {i}")
    with counting_queries() as moving:
        assert browser.get(f"/t/{thread.id}").status_code == 200
    with counting_queries() as still:
        assert browser.get(f"/t/{thread.id}").status_code == 200
    writes = [s for s in moving if s.lstrip().upper().startswith(("INSERT", "UPDATE"))]
    assert len(writes) == 1 and "thread_read" in writes[0]
    assert len(moving) <= len(still) + 1, (len(moving), len(still))


def test_the_thread_page_counts_new_replies_as_each_reader_sees_them(app, web, make):
    """A customer and an employee read the same thread in one process: the thread page's "N new" counts staff
    notes for the employee only (its statement is kept per kind of reader)."""
    writer, staff = make.user(), make.employee()
    thread = make.thread(writer)
    make.reply(thread, writer, "first")
    customer, employee = web(make.user()), web(make.employee())
    customer.html(f"/t/{thread.id}")
    employee.html(f"/t/{thread.id}")
    make.reply(thread, staff, "a staff note", staff_note=True)
    make.reply(thread, writer, "a reply")
    assert "2 new" in employee.html(f"/t/{thread.id}")
    assert "1 new" in customer.html(f"/t/{thread.id}")
