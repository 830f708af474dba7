"""Permissions decided once per thread page equal the per-reply predicates, for every reader and kind of reply."""
from __future__ import annotations

from datetime import datetime

import pytest
from flask_login import AnonymousUserMixin

from forum import permissions
from forum.extensions import db
from forum.models import SpaceModerator, ThreadKind, Visibility


@pytest.fixture()
def page(make):
    """A question with own, others', staff-note, removed and accepted replies, and every kind of reader."""
    acme, other = make.customer_org("Acme"), make.customer_org("Other")
    partner = make.partner_org("Partner")
    make.engage(partner, acme)
    space = make.space("Installs")
    asker, colleague = make.user(acme), make.user(acme)
    employee = make.employee()
    readers = {
        "anonymous": AnonymousUserMixin(), "asker": asker, "colleague": colleague,
        "org_admin": make.user(acme, is_org_admin=True), "other_customer": make.user(other),
        "partner": make.user(partner), "employee": employee, "moderator": make.employee(is_moderator=True),
        "admin": make.employee(is_admin=True), "space_moderator": make.employee(),
    }
    db.session.add(SpaceModerator(space_id=space.id, user_id=readers["space_moderator"].id))
    threads = {
        "public": make.thread(asker, space=space, title="Public question"),
        "private": make.thread(asker, Visibility.ORG_PRIVATE, space=space, title="Private question"),
        "discussion": make.thread(asker, space=space, title="A discussion", kind=ThreadKind.DISCUSSION),
    }
    replies = []
    for thread in threads.values():
        replies += [
            make.reply(thread, asker), make.reply(thread, colleague), make.reply(thread, employee),
            make.reply(thread, employee, staff_note=True), make.reply(thread, readers["partner"]),
        ]
        removed = make.reply(thread, colleague)
        removed.deleted_at = datetime(2026, 1, 2)
        replies.append(removed)
        thread.accepted_reply_id = replies[-5].id
    db.session.commit()
    return readers, threads, replies


def test_reply_controls_equal_the_predicates_reply_by_reply(app, page):
    readers, threads, replies = page
    checked = 0
    for name, user in readers.items():
        for thread in threads.values():
            own = [r for r in replies if r.thread_id == thread.id]
            controls = permissions.reply_controls(user, thread, own)
            for reply in own:
                is_own = user.is_authenticated and reply.author_id == user.id
                expected = permissions.ReplyControls(
                    vote=permissions.can_vote(user, reply), accept=permissions.can_accept_reply(user, reply),
                    edit=permissions.can_edit_reply(user, reply), delete=permissions.can_delete_reply(user, reply),
                    flag=permissions.can_flag(user, thread) and not is_own,
                    revisions=permissions.can_view_revisions(user, thread, reply),
                    deleted_text=permissions.can_see_deleted_text(user))
                assert controls[reply.id] == expected, (name, thread.title, reply.id)
                checked += 1
    assert checked == len(readers) * len(replies)
    # The matrix is not trivially all-false or all-true: each control is granted somewhere and refused somewhere.
    everything = [c for user in readers.values() for t in threads.values()
                  for c in permissions.reply_controls(user, t, [r for r in replies if r.thread_id == t.id]).values()]
    for field in permissions.ReplyControls.__dataclass_fields__:
        assert {getattr(c, field) for c in everything} == {True, False}, field


def test_a_reply_of_another_thread_gets_the_predicates_of_its_own_thread(app, page):
    readers, threads, replies = page
    private_reply = next(r for r in replies if r.thread_id == threads["private"].id and not r.is_staff_note)
    controls = permissions.reply_controls(readers["other_customer"], threads["public"], [private_reply])
    assert controls[private_reply.id] == permissions.ReplyControls(False, False, False, False, False, False, False)
