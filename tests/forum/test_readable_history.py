"""Text shown out of its post is plain text (inbox excerpts, a pattern's fix), and the audit log says what
changed in words ("is locked: no → yes") instead of raw JSON."""
from __future__ import annotations

from forum.extensions import db
from forum.models import Notification, NotificationKind
from forum.services.moderation import audit
from forum.services.patterns import summaries
from tests.forum.board.test_pages import Browser
from tests.forum.patterns import pattern_factories as pf

MARKDOWN = ("Set `sync.page_size` to **500**:\n\n```ini\n[ldap]\npage_size = 500\n```\n\n"
            "Then restart the [sync service](https://example.test/sync).")


def _plain(text: str) -> None:
    assert "`" not in text and "```" not in text and "**" not in text and "](" not in text, text
    assert "sync.page_size" in text and "page_size = 500" in text and "sync service" in text, text


def test_inbox_excerpts_are_plain_text(client, make, login):
    org = make.customer_org()
    asker = make.user(org)
    thread = make.thread(asker)
    reply = make.reply(thread, make.employee(), MARKDOWN)
    db.session.add(Notification(user_id=asker.id, kind=NotificationKind.REPLY, actor_id=reply.author_id,
                                thread_id=thread.id, reply_id=reply.id))
    db.session.commit()
    login(asker)
    html = client.get("/inbox").get_data(as_text=True)
    excerpt = html[html.index('inbox-excerpt">'):]
    excerpt = excerpt[excerpt.index(">") + 1:excerpt.index("</")]
    _plain(excerpt)


def test_a_patterns_fix_excerpt_is_plain_text(make):
    thread = make.thread(make.user(make.customer_org()))
    reply = make.reply(thread, make.employee(), MARKDOWN)
    pf.accept(thread, reply, thread.created_at)
    pf.pattern("LDAP sync", [thread])
    [summary] = summaries.summarise()
    _plain(summary.fixes[0]["snippet"])


def test_changes_read_as_words():
    lines = audit.change_lines({"is_locked": False, "title": "Old title", "tags": ["a"], "note": None},
                               {"is_locked": True, "title": "New title", "tags": ["a", "b"], "note": "Why"})
    assert lines == ["is locked: no → yes", "note: (none) → Why", "tags: a → a, b", "title: Old title → New title"]
    assert audit.change_lines(None, {"name": "Sign-in", "position": 2}) == ["name: Sign-in", "position: 2"]
    assert audit.change_lines({"same": 1}, {"same": 1}) == []
    long = audit.change_lines({"body": "x" * 300}, {"body": "y"})[0]
    assert len(long) < 140 and "…" in long


def test_the_audit_log_page_shows_changes_in_words(app, make):
    admin_user, moderator = make.employee(is_admin=True), make.employee(is_moderator=True)
    thread = make.thread(make.user())
    Browser(app, moderator).post(f"/t/{thread.id}/lock", on="1")
    page = Browser(app, admin_user).html("/admin/audit")
    assert "is locked: no → yes" in page
    assert "&#34;is_locked&#34;" not in page and '"is_locked"' not in page
