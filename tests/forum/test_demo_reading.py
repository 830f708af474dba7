"""The demo's reading states: every demo login finds unread replies, news since its last visit and two
bookmarks; the admin finds the held mail in the outbox."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from forum.demo import DEMO_LOGINS, DEMO_PASSWORD
from forum.extensions import db
from forum.models import MailMessage, MailStatus, User
from tests.factories import login_as

pytestmark = pytest.mark.slow


def test_demo_logins_have_unread_news_and_bookmarks(app):
    app.config["MAIL_SERVER"] = ""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "bookmarks" in result.output and "held mails" in result.output
    held = list(db.session.execute(select(MailMessage)).scalars())
    assert sorted(m.kind for m in held) == ["invitation", "password_reset"]
    assert all(m.status is MailStatus.HELD for m in held)
    for email, _ in DEMO_LOGINS[:3]:  # staff logins also ask for a second factor: their pages are walked in the browser
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        client = app.test_client()
        login_as(client, user, DEMO_PASSWORD)
        assert re.search(r'href="/t/\d+/unread">\d+ new<', client.get("/").get_data(as_text=True)), email
        assert "Nothing new since your last visit" not in client.get("/new").get_data(as_text=True), email
        bookmarks = client.get("/bookmarks").get_data(as_text=True)
        assert bookmarks.count('class="bookmark card"') == 2 and "Try this fix" in bookmarks, email
    again = app.test_cli_runner().invoke(args=["seed-demo"])
    assert "nothing added" in again.output
    assert len(db.session.execute(select(MailMessage)).all()) == 2
