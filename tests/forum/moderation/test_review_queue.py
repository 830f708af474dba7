"""The review queue shows the flagged post itself (rendered text, author, thread, when, reason, the reporter's
note), and only to a moderator who may read that text."""
from __future__ import annotations

from sqlalchemy import select

from forum import permissions
from forum.extensions import db
from forum.models import Flag, FlagReason, SpaceModerator, Visibility, utcnow
from tests.forum.board.test_pages import Browser


def _flag(thread, reporter, reply=None, reason=FlagReason.SPAM, detail="") -> Flag:
    row = Flag(thread_id=thread.id, reply_id=reply.id if reply else None, reporter_id=reporter.id,
               reason=reason, detail=detail)
    db.session.add(row)
    db.session.commit()
    return row


def test_the_queue_shows_the_flagged_post(app, make):
    moderator = make.employee(is_moderator=True)
    author = make.user(make.customer_org(), display_name="Rowan Asker")
    reporter = make.user(make.partner_org(), display_name="Pat Reporter")
    thread = make.thread(author, title="Indexer stalls after upgrade",
                         body="Buy **cheap licences** at example.test")
    replier = make.user(make.customer_org(), display_name="Sam Replier")
    reply = make.reply(thread, replier, "Click `here` for _free_ keys")
    _flag(thread, reporter, detail="Selling licences")
    _flag(thread, reporter, reply=reply, reason=FlagReason.OFFENSIVE, detail="Key reseller again")

    page = Browser(app, moderator).html("/moderation/queue")
    # The post as members read it (rendered, not the source), who wrote it, on which thread, and why it was flagged.
    assert "<strong>cheap licences</strong>" in page and "**cheap licences**" not in page
    assert "<code>here</code>" in page and "<em>free</em>" in page
    for text in ("Rowan Asker", "Sam Replier", "Pat Reporter", "Indexer stalls after upgrade",
                 "Selling licences", "Key reseller again", "Spam", "Offensive"):
        assert text in page, text
    assert page.count('class="flagged-post') == 2


def test_a_moderator_sees_no_text_they_may_not_read(app, make):
    space = make.space()
    space_mod, global_mod = make.employee(), make.employee(is_moderator=True)
    db.session.add(SpaceModerator(space_id=space.id, user_id=space_mod.id))
    db.session.commit()
    thread = make.thread(make.user(make.customer_org()), space=space, title="Licence keys")
    reply = make.reply(thread, make.user(make.customer_org()), "Removed reseller spam text")
    _flag(thread, make.user(make.customer_org()), reply=reply)
    reply.deleted_at, reply.deleted_by_id = utcnow(), global_mod.id
    db.session.commit()

    # A deleted reply's text is for moderators only: a space moderator sees the flag, not the text.
    page = Browser(app, space_mod).html("/moderation/queue")
    assert "Licence keys" in page and "Removed reseller spam text" not in page
    assert "removed" in page.lower()
    assert "Removed reseller spam text" in Browser(app, global_mod).html("/moderation/queue")


def test_the_rule_for_a_flagged_posts_text_follows_thread_visibility(make):
    owner_org, other_org = make.customer_org(), make.customer_org()
    private = make.thread(make.user(owner_org), Visibility.ORG_PRIVATE)
    row = _flag(private, make.user(owner_org))
    row = db.session.execute(select(Flag).where(Flag.id == row.id)).scalar_one()
    assert permissions.can_view_flagged_text(make.user(owner_org), row)
    assert not permissions.can_view_flagged_text(make.user(other_org), row)
    assert permissions.can_view_flagged_text(make.employee(is_moderator=True), row)
    private.merged_into_id = make.thread(make.user(owner_org)).id
    db.session.commit()
    assert not permissions.can_view_flagged_text(make.employee(is_moderator=True), row)


def test_a_moderator_reading_german_resolves_with_the_buttons_on_the_page(app, make):
    """The buttons post the decision itself, whatever the language their labels are in."""
    import re

    moderator = make.employee(is_moderator=True, locale="de")
    thread = make.thread(make.user(make.customer_org()), title="Spam thread")
    flag = _flag(thread, make.user(make.customer_org()))
    browser = Browser(app, moderator)
    page = browser.html("/moderation/queue")
    decisions = re.findall(r'name="decision" value="([^"]*)"', page)
    assert decisions == ["resolved", "dismissed"]
    assert browser.post(f"/moderation/flags/{flag.id}/review", decision=decisions[0]).status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Flag, flag.id).status.value == "resolved"
