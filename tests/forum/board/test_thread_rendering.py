"""The thread page renders its replies from plain rows, and each reply still shows its reader the right controls.

The replies reach the template as rows of columns (``services/board/reply_rows.py``) and the controls were decided
once per page (``permissions.reply_controls``); what a reader sees on each reply must still be what the
permission predicates, asked reply by reply, allow them.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Mapper

from forum import permissions
from forum.extensions import db
from forum.models import Bookmark, SpaceModerator, ThreadKind, Visibility, Vote
from forum.services.board import pages, reply_rows
from tests.forum.board.test_pages import Browser
from tests.forum.query_plans import query_plan


@pytest.fixture()
def objects_loaded():
    """``objects_loaded(browser, url)``: how many ORM objects a second request of ``url`` loaded."""
    loaded: list[str] = []

    def _loaded(target, context) -> None:  # noqa: ANN001
        loaded.append(type(target).__name__)

    event.listen(Mapper, "load", _loaded)

    def _count(browser: Browser, url: str) -> list[str]:
        browser.get(url)  # warm-up: a first request may load things once per process
        loaded.clear()
        assert browser.get(url).status_code == 200
        return list(loaded)

    yield _count
    event.remove(Mapper, "load", _loaded)


@pytest.mark.parametrize("viewer", ["customer", "moderator"])
def test_thread_page_loads_no_object_per_reply(app, make, objects_loaded, viewer):
    org = make.customer_org()
    asker = make.user(org)
    reader = make.user(org) if viewer == "customer" else make.employee(is_moderator=True)
    thread = make.thread(asker, Visibility.PUBLIC)
    writers = [make.user(make.customer_org()), make.user(make.partner_org()), make.employee()]
    for i in range(5):
        make.reply(thread, writers[i % 3], body=f"Reply {i}")
    thread.accepted_reply_id = make.reply(thread, writers[0], body="The answer").id
    db.session.commit()
    browser = Browser(app, reader)
    few = objects_loaded(browser, f"/t/{thread.id}")
    for i in range(20):
        make.reply(thread, writers[i % 3], body=f"More {i}")
    many = objects_loaded(browser, f"/t/{thread.id}")
    # The thread, its author, space, organisation and accepted answer, the reader: the same objects for 6 or 26
    # replies (the replies and their authors come as plain rows).
    assert sorted(many) == sorted(few), (few, many)
    assert many.count("Reply") <= 1, many  # the accepted answer, loaded with the thread


# What the page shows for each control (the markup views/reply_html.py writes for a reply).
MARKS = {
    "vote": 'title="Helpful"',
    "accept": re.compile(r">(Accept as answer|Unaccept)</button>"),
    "edit": ">Edit</a>",
    "flag": ">Flag</a>",
    "delete": 'data-confirm="Remove this reply?"',
    "revisions": ">edited</a>",
    "deleted_text": "Removed text, shown to moderators only",
    "bookmark": re.compile(r"☆ Bookmark|★ Bookmarked"),
}


def _shown(block: str) -> set[str]:
    return {name for name, mark in MARKS.items()
            if (mark.search(block) if isinstance(mark, re.Pattern) else mark in block)}


def _expected(user, thread, reply) -> set[str]:
    """The controls the predicates allow on this reply, where the page has a place for them."""
    own = user.is_authenticated and reply.author_id == user.id
    live = not reply.is_deleted
    allowed = {
        # The actions row is under live replies only; a staff note has no votes.
        "vote": live and not reply.is_staff_note and permissions.can_vote(user, reply),
        "accept": live and permissions.can_accept_reply(user, reply),
        "edit": live and permissions.can_edit_reply(user, reply),
        "flag": live and permissions.can_flag(user, thread) and not own,
        "delete": live and permissions.can_delete_reply(user, reply),
        "bookmark": live and user.is_authenticated,
        # "edited" links to the revisions where the reader may see them, on replies changed after posting.
        "revisions": reply.updated_at > reply.created_at and permissions.can_view_revisions(user, thread, reply),
        "deleted_text": not live and permissions.can_see_deleted_text(user),
    }
    return {name for name, yes in allowed.items() if yes}


@pytest.fixture()
def forum(make):
    """Two threads (a question and a discussion) with every kind of reply, and every kind of reader."""
    acme, other, partner = make.customer_org("Acme"), make.customer_org("Other"), make.partner_org("Partner")
    make.engage(partner, acme)
    space = make.space("Installs")
    asker, colleague, employee = make.user(acme), make.user(acme), make.employee()
    readers = {
        "asker": asker, "colleague": colleague, "other_customer": make.user(other),
        "partner": make.user(partner), "employee": employee, "moderator": make.employee(is_moderator=True),
        "space_moderator": make.employee(),
    }
    db.session.add(SpaceModerator(space_id=space.id, user_id=readers["space_moderator"].id))
    threads = [make.thread(asker, space=space, title="A question"),
               make.thread(asker, Visibility.ORG_PRIVATE, space=space, title="A discussion",
                           kind=ThreadKind.DISCUSSION)]
    for thread in threads:
        replies = [make.reply(thread, asker, "Mine"), make.reply(thread, colleague, "A colleague's"),
                   make.reply(thread, employee, "Staff answer"), make.reply(thread, employee, "Note", staff_note=True),
                   make.reply(thread, readers["partner"], "Partner's"), make.reply(thread, colleague, "Gone")]
        replies[-1].deleted_at = replies[-1].created_at + timedelta(minutes=5)
        replies[1].updated_at = replies[1].created_at + timedelta(hours=1)  # edited: "edited" may link
        replies[0].updated_at = replies[0].created_at + timedelta(hours=1)
        thread.accepted_reply_id = replies[2].id
    db.session.commit()
    return readers, threads


@pytest.mark.parametrize("reader", ["asker", "colleague", "other_customer", "partner", "employee", "moderator",
                                    "space_moderator"])
def test_each_reply_shows_the_controls_its_reader_may_use(app, forum, reader):
    readers, threads = forum
    user = readers[reader]
    marks, votes = {}, {}
    for thread in threads:
        if permissions.can_view(user, thread):
            bookmark = Bookmark(user_id=user.id, thread_id=thread.id, reply_id=next(r.id for r in thread.replies if r.body_md == "A colleague's"))
            db.session.add(bookmark)
            db.session.flush()
            marks[(reader, thread.id)] = bookmark.id
            partners = next(r for r in thread.replies if r.body_md == "Partner's")
            if permissions.can_vote(user, partners):
                db.session.add(Vote(reply_id=partners.id, user_id=user.id, value=-1))
                votes[partners.id] = -1
    db.session.commit()
    browser = Browser(app, user)
    for thread in threads:
        response = browser.get(f"/t/{thread.id}")
        if not permissions.can_view(user, thread):
            assert response.status_code == 404
            continue
        html = response.get_data(as_text=True)
        for reply in thread.replies:
            block = re.search(rf'<article [^>]*\bid="r{reply.id}".*?</article>', html, re.S)
            if not permissions.can_view_reply(user, reply):
                assert block is None, (reader, reply.body_md)
                continue
            assert block is not None, (reader, reply.body_md)
            assert _shown(block.group(0)) == _expected(user, thread, reply), (reader, thread.title, reply.body_md)
            # The reader's own vote shows pressed, on that reply only.
            pressed = re.findall(r'class="vote-button voted" aria-pressed="true" title="(\w+)', block.group(0))
            assert pressed == (["Not"] if reply.id in votes else []), (reader, reply.body_md)
        # A reply the reader keeps offers to remove the bookmark, at the bookmark's own address.
        kept = db.session.get(Bookmark, marks[(reader, thread.id)]) if (reader, thread.id) in marks else None
        if kept is not None:
            block = re.search(rf'<article [^>]*\bid="r{kept.reply_id}".*?</article>', html, re.S).group(0)
            assert f'action="/bookmarks/{kept.id}/delete"' in block and "★ Bookmarked" in block
        # The accepted answer is pinned above the replies (no id there), with its actions only in the list.
        pinned = re.search(r'<section class="accepted-box".*?</section>', html, re.S).group(0)
        assert "Staff answer" in pinned and "in the thread</a>" in pinned
        assert _shown(pinned) <= {"revisions", "deleted_text"}


def test_the_readers_votes_come_with_the_replies_statement(app, make):
    """No statement of its own for the reader's votes: they are joined into the replies' (one round trip less)."""
    org = make.customer_org()
    reader = make.user(org)
    thread = make.thread(make.user(org), Visibility.PUBLIC)
    replies = [make.reply(thread, make.user(make.customer_org()), body=f"Reply {i}") for i in range(3)]
    db.session.add(Vote(reply_id=replies[1].id, user_id=reader.id, value=1))
    db.session.commit()
    browser = Browser(app, reader)
    browser.get(f"/t/{thread.id}")
    statements: list[str] = []

    def _keep(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(" ".join(statement.split()))

    event.listen(db.engine, "before_cursor_execute", _keep)
    try:
        html = browser.html(f"/t/{thread.id}")
    finally:
        event.remove(db.engine, "before_cursor_execute", _keep)
    assert html.count('class="vote-button voted"') == 1
    assert not [s for s in statements if re.search(r"\bFROM vote\b", s)], statements


def test_the_vote_join_looks_votes_up_by_index(app, make):
    """The reader's vote is found through the vote table's (reply, member) key, not by reading the table."""
    org = make.customer_org()
    reader = make.user(org)
    thread = make.thread(make.user(org), Visibility.PUBLIC)
    query = reply_rows.with_authors(pages._replies_query(reader, thread), reader.id)
    plan = query_plan(query)
    vote_lines = [line for line in plan.splitlines() if "vote" in line.lower()]
    assert vote_lines, plan
    assert all("SCAN vote" not in line and "Seq Scan on vote" not in line for line in vote_lines), plan
    assert any("INDEX" in line.upper() for line in vote_lines), plan
