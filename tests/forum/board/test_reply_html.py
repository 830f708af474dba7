"""The thread page's replies written in Python (``views/reply_html.py``): what each reader sees stays theirs.

The page's fixed phrases are looked up once per page, not once per reply; nothing of one request is kept for the
next, so a reader's votes, bookmarks, controls and language never reach another reader, and an edit, a vote or
a removal shows on the next view.
"""
from __future__ import annotations

import re

import pytest
from babel.support import NullTranslations, Translations

from forum.extensions import db
from forum.models import Bookmark, SpaceModerator, Visibility
from forum.services.board import threads as service
from tests.forum.board.test_pages import Browser
from tests.forum.board.test_thread_links import at_5_and_25_replies


@pytest.fixture()
def catalog_lookups(monkeypatch):
    """``catalog_lookups(browser, url)``: how many messages the catalogs looked up while rendering ``url``."""
    calls: list[str] = []
    for cls in (Translations, NullTranslations):
        for name in ("ugettext", "ungettext"):
            original = getattr(cls, name)

            def counted(self, *args, _original=original):  # noqa: ANN001, ANN202
                calls.append(args[0])
                return _original(self, *args)

            # Counted, not replaced: the page is what it would be.
            monkeypatch.setattr(cls, name, counted)

    def _lookups(browser: Browser, url: str) -> list[str]:
        browser.get(url)  # warm-up (and the read marker moves)
        calls.clear()
        assert browser.get(url).status_code == 200
        return list(calls)

    return _lookups


def _article(html: str, reply_id: int) -> str:
    found = re.search(rf'<article [^>]*\bid="r{reply_id}".*?</article>', html, re.S)
    assert found is not None, reply_id
    return found.group(0)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_catalog_lookups_do_not_grow_with_replies(app, make, catalog_lookups, locale):
    org = make.customer_org()
    reader = make.user(org, locale=locale)
    thread = make.thread(make.user(org), Visibility.PUBLIC)
    writers = [make.user(make.customer_org()), make.user(make.partner_org()), make.employee()]
    browser = Browser(app, reader)
    few, many = at_5_and_25_replies(make, thread, writers, lambda: catalog_lookups(browser, f"/t/{thread.id}"))
    assert ("Helpful" in few) and ("Vote up" in few)  # the reply phrases are translated on this page
    assert len(many) == len(few), sorted(set(many)) or many


@pytest.fixture()
def shared_thread(make):
    """A thread two customers, a German moderator and an English employee all read."""
    acme = make.customer_org("Acme")
    asker, colleague = make.user(acme), make.user(acme)
    moderator = make.employee(is_moderator=True, locale="de")
    employee = make.employee(locale="en")
    space = make.space("Installs")
    db.session.add(SpaceModerator(space_id=space.id, user_id=moderator.id))
    thread = make.thread(asker, space=space)
    answer = make.reply(thread, employee, "Restart the importer.")
    theirs = make.reply(thread, colleague, "Same here.")
    note = make.reply(thread, employee, "Internal: known bug.", staff_note=True)
    db.session.commit()
    return {"asker": asker, "colleague": colleague, "moderator": moderator, "employee": employee,
            "thread": thread, "answer": answer, "theirs": theirs, "note": note}


def test_one_readers_votes_bookmarks_and_language_never_reach_another(app, shared_thread):
    s = shared_thread
    service.vote(s["asker"], s["answer"], 1)
    db.session.add(Bookmark(user_id=s["asker"].id, thread_id=s["thread"].id, reply_id=s["answer"].id))
    db.session.commit()
    url = f"/t/{s['thread'].id}"
    browsers = {name: Browser(app, s[name]) for name in ("asker", "colleague", "moderator", "employee")}
    # Interleaved, twice over, in one process: anything kept from one request would show in the next.
    for _ in range(2):
        pages = {name: browser.html(url) for name, browser in browsers.items()}
        asker_answer = _article(pages["asker"], s["answer"].id)
        assert 'class="vote-button voted" aria-pressed="true" title="Helpful"' in asker_answer
        assert "★ Bookmarked" in asker_answer
        colleague_answer = _article(pages["colleague"], s["answer"].id)
        assert "voted" not in colleague_answer and "★" not in colleague_answer and "☆ Bookmark" in colleague_answer
        # The colleague edits their own reply; the asker may not.
        assert f'href="/r/{s["theirs"].id}/edit"' in _article(pages["colleague"], s["theirs"].id)
        assert "/edit" not in _article(pages["asker"], s["theirs"].id)
        # The staff note is the employees' only, and the moderator's page is German through and through.
        assert f'id="r{s["note"].id}"' not in pages["asker"] + pages["colleague"]
        moderator_answer = _article(pages["moderator"], s["answer"].id)
        assert "Hilfreich" in moderator_answer and "Antwort von" in moderator_answer
        assert "Helpful" not in moderator_answer and "Entfernen" in moderator_answer
        employee_note = _article(pages["employee"], s["note"].id)
        assert "Staff note" in employee_note and "Hilfreich" not in pages["employee"]
        assert 'data-confirm="Remove this reply?"' not in pages["employee"]  # not a moderator of the space


def test_an_edit_a_vote_and_a_removal_show_on_the_next_view(app, shared_thread):
    s = shared_thread
    url = f"/t/{s['thread'].id}"
    colleague, moderator = Browser(app, s["colleague"]), Browser(app, s["moderator"])
    before = _article(colleague.html(url), s["answer"].id)
    assert '<span class="score" aria-label="Score 0">0</span>' in before and "Restart the importer." in before
    assert "Removed by a moderator." not in moderator.html(url)

    service.vote(s["colleague"], s["answer"], 1)
    service.edit_reply(s["employee"], db.session.get(type(s["answer"]), s["answer"].id), "Restart it twice.")
    db.session.commit()
    after = _article(colleague.html(url), s["answer"].id)
    assert '<span class="score" aria-label="Score 1">1</span>' in after
    assert 'class="vote-button voted" aria-pressed="true" title="Helpful"' in after
    assert "Restart it twice." in after and "Restart the importer." not in after

    service.delete_reply(s["moderator"], db.session.get(type(s["theirs"]), s["theirs"].id))
    db.session.commit()
    removed = _article(colleague.html(url), s["theirs"].id)
    assert "Removed by a moderator." in removed and "Same here." not in removed
    # The moderator (German) still reads the removed text, marked as such.
    seen = _article(moderator.html(url), s["theirs"].id)
    assert "Same here." in seen and "Von einem Moderator entfernt." in seen
