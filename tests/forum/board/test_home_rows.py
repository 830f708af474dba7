"""The home page's per-request work: thread rows rendered once per process for the same inputs, and the side
lists reading only the columns they show (bench/README.md, "Side by side with FlaskBB").

A row's HTML is kept under everything it is made of (the thread's shown fields, its space, author, tags, the
"N new" count, the reader's language and the age phrase's unit), so a change to any of them renders the row
anew and a reader is only ever given the row of a thread their own, permission-filtered, list returned.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from forum import templating
from forum.extensions import db
from forum.models import Tag, Thread, ThreadKind, ThreadStatus, Visibility
from tests.forum.board.test_pages import Browser
from tests.forum.board.test_queries import counting_queries


@pytest.fixture()
def forum(app, make):
    app.config["PUBLIC_READ"] = True
    org = make.customer_org("Acme")
    author = make.user(org, display_name="Ada Author")
    space = make.space("Installs")
    public = make.thread(author, Visibility.PUBLIC, space=space, title="Public upgrade question")
    private = make.thread(author, Visibility.ORG_PRIVATE, space=space, title="Acme private question")
    public.tags = [Tag(name="upgrade")]
    db.session.commit()
    return {"org": org, "author": author, "space": space, "public": public, "private": private}


def _rows(html: str) -> list[str]:
    return re.findall(r'<li class="thread-row">.*?</li>', html, flags=re.S)


def _fresh(browser: Browser, url: str, **kwargs) -> str:
    templating.thread_rows.clear()
    return browser.html(url, **kwargs)


def test_the_same_rows_are_rendered_once_per_process(app, forum):
    anonymous, member = Browser(app), Browser(app, forum["author"])
    first = _fresh(anonymous, "/")
    misses, hits = templating.thread_rows.misses, templating.thread_rows.hits
    again = anonymous.html("/")
    assert again == first
    assert templating.thread_rows.misses == misses  # every row came from the memo
    assert templating.thread_rows.hits - hits == len(_rows(first)) > 0
    signed_in = member.html("/")
    misses = templating.thread_rows.misses
    assert _rows(member.html("/")) == _rows(signed_in)  # (the page around them holds a fresh CSRF token)
    assert templating.thread_rows.misses == misses
    assert "Acme private question" in signed_in and "Acme private question" not in again
    assert "Acme private question" not in anonymous.html("/")  # the member's row is never given to others


def test_rows_follow_every_change_to_what_they_show(app, make, forum):
    browser = Browser(app)
    before = browser.html("/")
    assert "Public upgrade question" in before
    thread, author = forum["public"], forum["author"]
    thread.title = "Renamed question"
    thread.reply_count = 7
    thread.status = ThreadStatus.ANSWERED
    thread.is_pinned = True
    thread.tags = [Tag(name="kafka")]
    author.display_name = "Ada Renamed"
    forum["org"].name = "Acme Renamed"
    forum["space"].name = "Installations"
    db.session.commit()
    after = browser.html("/")
    assert after != before
    for shown in ("Renamed question", "7 replies", "Ada Renamed", "Acme Renamed", "Installations", "kafka"):
        assert shown in after, shown
    assert _rows(after) == _rows(_fresh(browser, "/"))
    # The badges: locked, the kind of thread, and (for its author) the visibility.
    member = Browser(app, author)
    assert "badge-org_private" in member.html("/")
    thread.is_locked = True
    thread.kind = ThreadKind.DISCUSSION
    forum["private"].visibility = Visibility.PUBLIC
    db.session.commit()
    after = member.html("/")
    assert "badge-locked" in after and ">Discussion<" in after and "badge-org_private" not in after
    assert _rows(after) == _rows(_fresh(member, "/"))


@pytest.mark.parametrize("page", ["home", "space"])
def test_rows_are_those_the_macro_renders_in_each_language(app, forum, page):
    browser = Browser(app)
    url = "/" if page == "home" else f"/s/{forum['space'].slug}"
    english = browser.html(url, headers={"Accept-Language": "en"})
    german = browser.html(url, headers={"Accept-Language": "de"})
    assert _rows(english) and _rows(german) != _rows(english)  # not the English row from the memo
    assert _rows(german) == _rows(_fresh(browser, url, headers={"Accept-Language": "de"}))
    assert _rows(english) == _rows(_fresh(browser, url, headers={"Accept-Language": "en"}))


@pytest.mark.parametrize("signed_in", [False, True])
def test_home_page_side_lists_read_no_thread_texts(app, forum, signed_in):
    make_unanswered = forum["public"]
    assert make_unanswered.reply_count == 0
    browser = Browser(app, forum["author"] if signed_in else None)
    browser.get("/")
    with counting_queries() as statements:
        html = browser.html("/")
    assert "Public upgrade question" in html
    reading_texts = [s for s in statements if "body_html" in s or "body_md" in s or "deployment_snapshot" in s]
    assert reading_texts == []


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("url", ["/", "/s/{slug}", "/s/{slug}?page=12"])
def test_lists_read_their_rows_as_plain_values_not_threads(app, forum, signed_in, url):
    """The lists' threads come as ``ListThread`` rows (author, organisation, space and tags in two statements),
    not as ORM objects: loading those was about a quarter of the home page's time."""
    browser = Browser(app, forum["author"] if signed_in else None)
    loaded = []

    def _loaded(target, context):  # noqa: ANN001
        loaded.append(target)

    event.listen(Thread, "load", _loaded)
    try:
        html = browser.html(url.format(slug=forum["space"].slug))
    finally:
        event.remove(Thread, "load", _loaded)
    assert loaded == []
    if "page=" not in url:
        rows = _rows(html)
        assert any("Public upgrade question" in row and "Ada Author (Acme)" in row and ">upgrade</a>" in row
                   for row in rows), rows
        assert any("Acme private question" in row for row in rows) is signed_in


def test_the_page_header_figures_come_from_one_statement(app, make, forum):
    # Unread inbox items, staff online and unread conversations: the header's three figures, one round trip.
    browser = Browser(app, forum["author"])
    browser.get("/")
    with counting_queries() as statements:
        html = browser.html("/")
    assert 'class="nav-inbox"' in html
    header = [s for s in statements if "notification" in s or "conversation" in s]
    assert len(header) == 1, header
    assert "conversation_member" in header[0] and "notification" in header[0]


def _space_list(html: str) -> list[str]:
    listed = re.search(r'<ul class="space-list">(.*?)</ul>', html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", item)).strip()
            for item in re.findall(r"<li>(.*?)</li>", listed.group(1), flags=re.S)] if listed else []


def test_the_space_list_shows_what_each_reader_may_see_in_the_admins_order(app, make, forum):
    staff_room = make.space("Staff room", visibility=Visibility.INTERNAL)
    staff_room.description, staff_room.position = "Vendor only", 1
    forum["space"].description, forum["space"].position = "Installing and upgrading", 2
    make.space("Announcements").position = 0
    db.session.commit()
    employee = Browser(app, make.employee()).get("/").get_data(as_text=True)
    assert _space_list(employee) == ["Announcements", "Staff room Internal Vendor only",
                                     "Installs Installing and upgrading"]
    assert f'href="/s/{staff_room.slug}"' in employee
    customer = Browser(app, forum["author"]).get("/").get_data(as_text=True)
    anonymous = Browser(app).get("/").get_data(as_text=True)
    assert _space_list(customer) == _space_list(anonymous) == ["Announcements", "Installs Installing and upgrading"]
