"""Admin side of moderation: the audit log page and the admin actions it records, space moderators,
and the new-member limits (set by admins, refused with a clear form error)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, Engagement, ModerationSettings, Space, SpaceModerator, Thread, utcnow
from tests.forum.board.test_pages import Browser


@pytest.fixture()
def web(app):
    return lambda user=None: Browser(app, user)


def _entry(action: str) -> AuditEntry:
    return db.session.execute(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id.desc())).scalars().first()


def test_admin_actions_are_audited_with_before_and_after(web, make):
    admin_user = make.employee(is_admin=True)
    admin = web(admin_user)
    assert admin.post("/admin/spaces/new", name="Upgrades", slug="", description="", default_visibility="public",
                      position="").status_code == 302
    space = db.session.execute(select(Space).where(Space.name == "Upgrades")).scalar_one()
    created = _entry("space.create")
    assert created.actor_id == admin_user.id and created.target_id == space.id
    assert created.before is None and created.after["name"] == "Upgrades"
    admin.post(f"/admin/spaces/{space.id}", name="Upgrades and patches", slug="", description="",
               default_visibility="internal", position="")
    updated = _entry("space.update")
    assert updated.before == {"name": "Upgrades", "default_visibility": "public"}
    assert updated.after == {"name": "Upgrades and patches", "default_visibility": "internal"}

    someone = make.employee()
    admin.post(f"/admin/users/{someone.id}", is_moderator="y")
    flags = _entry("user.flags")
    assert flags.target_id == someone.id and flags.before == {"is_moderator": False}
    assert flags.after == {"is_moderator": True} and "password_hash" not in (flags.after or {})
    admin.post(f"/admin/users/{someone.id}/active", active="0")
    assert _entry("user.deactivate").after == {"active": False}

    partner, customer = make.partner_org(), make.customer_org()
    admin.post("/admin/engagements", partner=partner.id, customer=customer.id)
    engagement = db.session.execute(select(Engagement)).scalar_one()
    assert _entry("engagement.add").after["customer_id"] == customer.id
    admin.post(f"/admin/engagements/{engagement.id}/delete")
    removed = _entry("engagement.remove")
    assert removed.before["partner_id"] == partner.id and removed.after is None


def test_audit_log_is_for_admins_paginated_and_filterable(web, make):
    admin_user = make.employee(is_admin=True)
    moderator = make.employee(is_moderator=True)
    thread = make.thread(make.user())
    for _ in range(3):
        web(moderator).post(f"/t/{thread.id}/lock", on="1")
        web(moderator).post(f"/t/{thread.id}/lock", on="0")
    admin = web(admin_user)
    page = admin.html("/admin/audit")
    assert "thread.lock" in page and "thread.unlock" in page and moderator.username in page
    assert "is locked: no → yes" in page  # in words, not raw JSON
    only_locks = admin.html("/admin/audit?action=thread.lock")
    assert "thread.unlock</code>" not in only_locks and "thread.lock</code>" in only_locks
    assert "thread.lock</code>" not in admin.html("/admin/audit?actor=nobody-by-that-name")
    assert "thread.lock</code>" in admin.html(f"/admin/audit?target_type=thread&target_id={thread.id}")
    for junk in ("?page=999", "?target_id=99999999999999", "?action=%00%27", "?page=-3"):
        assert admin.get("/admin/audit" + junk).status_code in (200, 404)
    for who in (moderator, make.employee(is_lead=True), make.user()):
        assert web(who).get("/admin/audit").status_code == 403
    assert web().get("/admin/audit").status_code == 302
    # Paginated: 50 entries per page.
    db.session.add_all(AuditEntry(action="test.filler", target_type="thread", actor_id=admin_user.id)
                       for _ in range(55))
    db.session.commit()
    first = admin.html("/admin/audit?action=test.filler")
    assert first.count("test.filler</code>") == 50 and 'rel="next"' in first
    assert admin.html("/admin/audit?action=test.filler&page=2").count("test.filler</code>") == 5


def test_admin_assigns_space_moderators(web, make):
    admin_user = make.employee(is_admin=True)
    space, employee, customer = make.space(), make.employee(), make.user()
    admin = web(admin_user)
    assert admin.get("/admin/space-moderators").status_code == 200
    assert admin.post("/admin/space-moderators", space=space.id, user=customer.id).status_code == 400
    assert admin.post("/admin/space-moderators", space=space.id, user=employee.id).status_code == 302
    row = db.session.execute(select(SpaceModerator)).scalar_one()
    assert (row.space_id, row.user_id) == (space.id, employee.id)
    assert _entry("space_moderator.add").after["user_id"] == employee.id
    assert admin.post("/admin/space-moderators", space=space.id, user=employee.id).status_code == 400
    thread = make.thread(make.user(), space=space)
    assert web(employee).post(f"/t/{thread.id}/pin", on="1").status_code == 302
    for who in (employee, make.employee(is_moderator=True), customer):
        assert web(who).get("/admin/space-moderators").status_code == 403
        assert web(who).post(f"/admin/space-moderators/{row.id}/delete").status_code == 403
    assert admin.post(f"/admin/space-moderators/{row.id}/delete").status_code == 302
    assert _entry("space_moderator.remove").before["user_id"] == employee.id
    assert web(employee).post(f"/t/{thread.id}/pin", on="0").status_code == 403


def test_new_member_limits_set_by_admins(web, make):
    admin = web(make.employee(is_admin=True))
    assert admin.post("/admin/limits", new_user_hours="24", new_user_max_threads="1",
                      new_user_max_links="1").status_code == 302
    assert db.session.get(ModerationSettings, 1).new_user_max_threads == 1
    entry = _entry("settings.new_user_limits")
    assert entry.after == {"new_user_hours": 24, "new_user_max_threads": 1, "new_user_max_links": 1}
    assert entry.before["new_user_hours"] == 0  # the test configuration's value before
    assert admin.post("/admin/limits", new_user_hours="-1", new_user_max_threads="1",
                      new_user_max_links="1").status_code == 400
    for who in (make.employee(is_moderator=True), make.user()):
        assert web(who).get("/admin/limits").status_code == 403

    space = make.space()
    newcomer = web(make.user())
    ask = dict(body="b", space=space.id, kind="question", visibility="public", tags="", deployment=0)
    assert newcomer.post("/ask", title="First question", **ask).status_code == 302
    refused = newcomer.post("/ask", title="Second question", **ask)
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "New members may start at most 1 thread" in page
    thread = db.session.execute(select(Thread).where(Thread.title == "First question")).scalar_one()
    links = "See https://a.example/x and https://b.example/y"
    refused = newcomer.post(f"/t/{thread.id}/reply", body=links)
    assert refused.status_code == 400 and "at most 1 link per post" in refused.get_data(as_text=True)
    assert newcomer.post(f"/t/{thread.id}/reply", body="Only https://a.example/x").status_code == 302
    # Employees and members past their first hours are not limited.
    assert web(make.employee()).post(f"/t/{thread.id}/reply", body=links).status_code == 302
    old_hand = make.user(created_at=utcnow() - timedelta(days=3))
    veteran = web(old_hand)
    assert veteran.post("/ask", title="Veteran one", **ask).status_code == 302
    assert veteran.post("/ask", title="Veteran two", body=links, **{k: v for k, v in ask.items() if k != "body"}
                        ).status_code == 302
