"""Bookmarks of threads and replies: kept from the thread page, a note and a reminder date on the bookmarks
page, bad input refused on the form, and nothing shown of what the owner can no longer see."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Bookmark, Visibility, utcnow
from tests.forum.board.test_pages import Browser


@pytest.fixture()
def web(app):
    return lambda user=None: Browser(app, user)


def _bookmarks() -> list[Bookmark]:
    db.session.expire_all()
    return list(db.session.execute(select(Bookmark).order_by(Bookmark.id)).scalars())


def test_keeping_a_thread_and_a_reply_with_a_note_and_a_reminder(app, web, make):
    reader, writer = make.user(), make.user()
    thread = make.thread(writer, title="Kerberos setup for the upgrade")
    reply = make.reply(thread, writer, "Set the SPN **before** the upgrade.")
    browser = web(reader)
    page = browser.html(f"/t/{thread.id}")
    assert page.count("☆ Bookmark") == 2  # the question and the reply
    assert browser.post("/bookmarks", thread_id=str(thread.id)).status_code == 302
    response = browser.post("/bookmarks", thread_id=str(thread.id), reply_id=str(reply.id))
    assert response.headers["Location"].endswith(f"/t/{thread.id}#r{reply.id}")
    browser.post("/bookmarks", thread_id=str(thread.id))  # again: still one
    assert [(b.thread_id, b.reply_id) for b in _bookmarks()] == [(thread.id, None), (thread.id, reply.id)]
    assert browser.html(f"/t/{thread.id}").count("★ Bookmarked") == 2

    listing = browser.html("/bookmarks")
    assert listing.count("Kerberos setup for the upgrade") == 2 and "Set the SPN before the upgrade." in listing
    kept = _bookmarks()[1]
    when = (utcnow() + timedelta(days=400)).strftime("%Y-%m-%dT09:30")
    assert browser.post(f"/bookmarks/{kept.id}", note="Try this on Monday", remind_at=when).status_code == 302
    kept = _bookmarks()[1]
    assert kept.note == "Try this on Monday" and kept.remind_at.isoformat() == when + ":00"
    assert f'value="{when}"' in browser.html("/bookmarks")

    for bad, message in (("yesterday", "as a date"), ("2001-01-01", "in the future"),
                         ((utcnow() + timedelta(days=6 * 366)).strftime("%Y-%m-%d"), "five years")):
        response = browser.post(f"/bookmarks/{kept.id}", note="changed?", remind_at=bad)
        assert response.status_code == 400 and message in response.get_data(as_text=True)
    response = browser.post(f"/bookmarks/{kept.id}", note="x" * 501, remind_at="")
    assert response.status_code == 400 and "500 characters" in response.get_data(as_text=True)
    assert _bookmarks()[1].note == "Try this on Monday"  # nothing saved

    assert browser.post(f"/bookmarks/{kept.id}/delete").status_code == 302
    assert [b.reply_id for b in _bookmarks()] == [None]


def test_a_bookmark_of_something_no_longer_visible_shows_nothing_of_it(app, web, make):
    org = make.customer_org()
    reader, writer, staff = make.user(org), make.user(org), make.employee()
    thread = make.thread(writer, Visibility.ORG_PRIVATE, title="Secret migration plan")
    reply = make.reply(thread, writer, "The secret reply text")
    browser = web(reader)
    browser.post("/bookmarks", thread_id=str(thread.id))
    browser.post("/bookmarks", thread_id=str(thread.id), reply_id=str(reply.id))
    assert "Secret migration plan" in browser.html("/bookmarks")
    reader.organisation_id = make.customer_org().id  # moves to another customer: the thread is out of sight
    db.session.commit()
    listing = browser.html("/bookmarks")
    assert "Secret migration plan" not in listing and "The secret reply text" not in listing
    assert listing.count("something you can no longer see") == 2
    assert f"/t/{thread.id}" not in listing
    assert staff  # employees would still see it; the owner's view is what counts here


def test_bookmarks_of_others_and_of_hidden_threads_are_refused(app, web, make):
    org = make.customer_org()
    owner, writer, other = make.user(org), make.user(org), make.user()
    private = make.thread(writer, Visibility.ORG_PRIVATE, title="Org only")
    public = make.thread(writer, title="Public")
    elsewhere_reply = make.reply(public, writer, "in another thread")
    web(owner).post("/bookmarks", thread_id=str(public.id))
    [mine] = _bookmarks()
    intruder = web(other)
    before = db.session.execute(select(func.count(Bookmark.id))).scalar_one()
    assert intruder.post("/bookmarks", thread_id=str(private.id)).status_code == 404
    assert intruder.post("/bookmarks", thread_id=str(private.id), reply_id=str(elsewhere_reply.id)).status_code == 404
    assert intruder.post("/bookmarks", thread_id="abc").status_code == 400
    assert intruder.post("/bookmarks", thread_id=str(2**40)).status_code == 404
    assert intruder.post(f"/bookmarks/{mine.id}", note="mine now", remind_at="").status_code == 404
    assert intruder.post(f"/bookmarks/{mine.id}/delete").status_code == 404
    assert db.session.execute(select(func.count(Bookmark.id))).scalar_one() == before
    assert _bookmarks()[0].note == ""
    assert "Public" not in intruder.html("/bookmarks")
    assert re.search(r"No bookmarks yet", intruder.html("/bookmarks"))
