"""Demo reading states: what the demo logins have read and kept, and mail held in the outbox (no mail server).

Each demo login has read a few recent threads half-way (so lists show "N new" and thread pages the way to the
first unread reply), keeps two bookmarks (a thread with a note, a reply with a reminder date to come), and its
previous visit ends a few days before the newest demo activity (so "new since your last visit" has news). Mail:
a password reset and an invitation wait as held messages the admin can preview. Idempotent: nothing is added
when the demo logins already have bookmarks.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..models import Bookmark, Organisation, Reply, Thread, ThreadRead, User, utcnow
from ..permissions import visible_replies, visible_threads
from ..services.orgs import accounts, password_reset
from .people import DEMO_LOGINS


def seed_reading_states() -> dict[str, int]:
    """Add the demo logins' read markers, bookmarks and previous visits, and two held mails; what was added."""
    users = list(db.session.execute(select(User).where(User.email.in_([e for e, _ in DEMO_LOGINS]))).scalars())
    if not users or db.session.execute(select(func.count(Bookmark.id)).where(
            Bookmark.user_id.in_([u.id for u in users]))).scalar_one():
        return {}
    added = {"read markers": 0, "bookmarks": 0, "held mails": 0}
    newest = db.session.execute(select(func.max(Thread.last_activity_at))).scalar_one() or utcnow()
    for user in users:
        user.previous_visit_at = newest - timedelta(days=3)
        threads = list(db.session.execute(select(Thread).where(visible_threads(user), Thread.reply_count >= 2)
                                          .order_by(Thread.last_activity_at.desc()).limit(6)).scalars())
        for thread in threads[1:5]:  # the newest stays unopened: "new", not "N new"
            reply_ids = list(db.session.execute(select(Reply.id).where(
                Reply.thread_id == thread.id, visible_replies(user)).order_by(Reply.id)).scalars())
            db.session.add(ThreadRead(user_id=user.id, thread_id=thread.id, read_at=newest - timedelta(days=4),
                                      last_read_reply_id=reply_ids[len(reply_ids) // 2 - 1]))
            added["read markers"] += 1
        if len(threads) >= 3:
            db.session.add(Bookmark(user_id=user.id, thread_id=threads[1].id, created_at=utcnow(),
                                    note="Compare with our own upgrade plan before the next maintenance window."))
            first_reply = db.session.execute(select(Reply).where(
                Reply.thread_id == threads[2].id, visible_replies(user)).order_by(Reply.id)).scalars().first()
            db.session.add(Bookmark(user_id=user.id, thread_id=threads[2].id, reply_id=first_reply.id,
                                    note="Try this fix in the test environment.", created_at=utcnow(),
                                    remind_at=(utcnow() + timedelta(days=3)).replace(second=0, microsecond=0)))
            added["bookmarks"] += 2
    db.session.commit()
    password_reset.request_reset(DEMO_LOGINS[0][0])
    customer_org = next((u.organisation for u in users if u.email == DEMO_LOGINS[1][0]), None)
    if isinstance(customer_org, Organisation):
        admin = next(u for u in users if u.email == DEMO_LOGINS[1][0])
        accounts.create_invitation(customer_org, admin, email="new.colleague@demo.test")
    added["held mails"] = 2
    return added
