"""A bookmark's reminder date comes: a notification in the inbox and a mail through the outbox, once."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from forum.extensions import db
from forum.models import Bookmark, Notification, NotificationKind, Visibility, utcnow
from forum.services.community import bookmarks
from forum.services.mail import sweeper


def test_a_due_reminder_reaches_the_inbox_and_the_mailbox_once(app, make, smtp):
    owner, writer = make.user(), make.user()
    thread = make.thread(writer, title="Patch window for the upgrade")
    reply = make.reply(thread, writer, "Apply patch 7 first.")
    due = bookmarks.add(owner, thread, reply, note="check again", remind_at=utcnow() + timedelta(days=1))
    later = bookmarks.add(owner, thread, None, remind_at=utcnow() + timedelta(days=3))
    assert sweeper.sweep_once()["reminders"] == 0  # nothing due yet
    due.remind_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert sweeper.sweep_once()["reminders"] == 1
    [item] = db.session.execute(select(Notification)).scalars()
    assert (item.kind, item.user_id, item.reply_id) == (NotificationKind.REMINDER, owner.id, reply.id)
    arrived = smtp.wait_for(1)
    assert [m.recipients for m in arrived] == [[owner.email]]
    assert "Reminder" in arrived[0].subject and "Patch window for the upgrade" in arrived[0].subject
    assert sweeper.sweep_once()["reminders"] == 0  # once
    assert db.session.get(Bookmark, later.id).reminded_at is None


def test_a_reminder_about_something_out_of_sight_sends_nothing(app, make, smtp):
    org = make.customer_org()
    owner, writer = make.user(org), make.user(org)
    thread = make.thread(writer, Visibility.ORG_PRIVATE, title="Private plan")
    kept = bookmarks.add(owner, thread, remind_at=utcnow() + timedelta(days=1))
    owner.organisation_id = make.customer_org().id
    kept.remind_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert sweeper.sweep_once()["reminders"] == 0
    assert db.session.execute(select(Notification)).first() is None
    assert smtp.wait_for(1, timeout=0.5) == []
    assert db.session.get(Bookmark, kept.id).reminded_at is not None  # not tried again and again
