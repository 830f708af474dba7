"""Internal–external links, escalation assignments, My queue and the overdue list, through real routes."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import Assignment, AuditEntry, InternalLink, Thread, ThreadStatus, Visibility, utcnow
from tests.forum.board.test_pages import Browser

CANARY = "CANARY-internal-only-7f3a"


@pytest.fixture()
def web(app):
    return lambda user=None: Browser(app, user)


@pytest.fixture()
def people(make):
    customer_org, partner_org = make.customer_org(), make.partner_org()
    make.engage(partner_org, customer_org)
    return {"customer": make.user(customer_org), "partner": make.user(partner_org),
            "employee": make.employee(), "colleague": make.employee(), "lead": make.employee(is_lead=True)}


@pytest.mark.parametrize("visibility", [Visibility.PUBLIC, Visibility.ORG_PRIVATE])
def test_internal_discussion_is_linked_for_employees_only(web, make, people, visibility):
    thread = make.thread(people["customer"], visibility, title="Customer question")
    staff = web(people["employee"])
    assert f"/t/{thread.id}/internal-discussion" in staff.html(f"/t/{thread.id}")
    response = staff.post(f"/t/{thread.id}/internal-discussion", title=f"{CANARY} escalation",
                          body="Do we know this bug?")
    assert response.status_code == 302
    internal = db.session.execute(select(Thread).where(Thread.title.contains(CANARY))).scalar_one()
    assert internal.visibility is Visibility.INTERNAL
    assert response.headers["Location"].endswith(f"/t/{internal.id}")
    link = db.session.execute(select(InternalLink)).scalar_one()
    assert (link.thread_id, link.internal_thread_id) == (thread.id, internal.id)
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "internal_link.create")).scalar_one()
    assert entry.actor_id == people["employee"].id and entry.after["internal_thread_id"] == internal.id
    # Both threads show the link to employees.
    assert CANARY in staff.html(f"/t/{thread.id}")
    assert "Customer question" in staff.html(f"/t/{internal.id}")
    assert CANARY in web(people["colleague"]).html(f"/t/{thread.id}")
    # The canary: customers and partners never see the internal title, nor reach the internal thread.
    for role in ("customer", "partner"):
        browser = web(people[role])
        page = browser.get(f"/t/{thread.id}")
        assert page.status_code == 200 and CANARY not in page.get_data(as_text=True), role
        assert "internal-discussion" not in page.get_data(as_text=True)
        assert browser.get(f"/t/{internal.id}").status_code == 404
        assert CANARY not in browser.html("/") and CANARY not in browser.html("/search?q=escalation")
        assert browser.get(f"/t/{thread.id}/internal-discussion").status_code == 403
        assert browser.post(f"/t/{thread.id}/internal-discussion", title="x").status_code == 403
    assert db.session.execute(select(InternalLink)).scalars().all() == [link]


def test_link_an_existing_internal_thread(web, make, people):
    thread = make.thread(people["customer"])
    internal = make.thread(people["employee"], Visibility.INTERNAL, title="Existing internal")
    other_public = make.thread(people["customer"], title="Not internal")
    staff = web(people["employee"])
    assert staff.post(f"/t/{thread.id}/internal-discussion", existing=other_public.id).status_code == 400
    assert staff.post(f"/t/{thread.id}/internal-discussion", existing=internal.id).status_code == 302
    again = staff.post(f"/t/{thread.id}/internal-discussion", existing=internal.id)
    assert again.status_code == 400 and "already linked" in again.get_data(as_text=True)
    assert "Existing internal" in staff.html(f"/t/{thread.id}")
    # An internal thread itself offers no "open an internal discussion".
    assert staff.get(f"/t/{internal.id}/internal-discussion").status_code == 403


def test_assignment_queue_and_overdue(web, make, people):
    thread = make.thread(people["customer"], title="Needs the vendor", status=ThreadStatus.NEEDS_STAFF)
    calm = make.thread(people["customer"], title="Plain open question")
    staff = web(people["employee"])
    assert f"/t/{thread.id}/assign" in staff.html(f"/t/{thread.id}")
    assert f"/t/{calm.id}/assign" not in staff.html(f"/t/{calm.id}")
    refused = staff.post(f"/t/{calm.id}/assign", assignee=people["colleague"].id, due_at="2030-01-01T09:00")
    assert refused.status_code == 400 and db.session.execute(select(Assignment)).first() is None
    # Not yet assigned: listed as waiting in everyone's queue page.
    assert "Needs the vendor" in staff.html("/queue")
    past = (utcnow() - timedelta(hours=3)).strftime("%Y-%m-%dT%H:%M")
    assert staff.post(f"/t/{thread.id}/assign", assignee=people["colleague"].id, due_at=past).status_code == 302
    row = db.session.get(Assignment, thread.id)
    assert row.assignee_id == people["colleague"].id and row.assigned_by_id == people["employee"].id
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "thread.assign")).scalar_one()
    assert entry.before is None and entry.after["assignee_id"] == people["colleague"].id
    assert "Needs the vendor" in web(people["colleague"]).html("/queue")
    assert "Needs the vendor" not in web(people["lead"]).html("/queue")  # not theirs
    # The overdue list: leads only.
    assert "Needs the vendor" in web(people["lead"]).html("/queue/overdue")
    assert staff.get("/queue/overdue").status_code == 403
    for role in ("customer", "partner"):
        assert web(people[role]).get("/queue").status_code == 403
        assert web(people[role]).get("/queue/overdue").status_code == 403
        assert web(people[role]).get(f"/t/{thread.id}/assign").status_code == 403
        page = web(people[role]).html(f"/t/{thread.id}")
        assert people["colleague"].display_name not in page  # who is assigned is internal
    # Re-assigning with a later due date: off the overdue list, still in the new assignee's queue.
    future = (utcnow() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    assert staff.post(f"/t/{thread.id}/assign", assignee=people["employee"].id, due_at=future).status_code == 302
    reassign = db.session.execute(select(AuditEntry).where(AuditEntry.action == "thread.assign")
                                  .order_by(AuditEntry.id.desc())).scalars().first()
    assert reassign.before["assignee_id"] == people["colleague"].id
    assert reassign.after["assignee_id"] == people["employee"].id
    assert "Needs the vendor" not in web(people["lead"]).html("/queue/overdue")
    assert "Needs the vendor" in staff.html("/queue")
    # Once staff answer, the escalation leaves the queue.
    assert staff.post(f"/t/{thread.id}/reply", body="Here is the fix").status_code == 302
    assert "Needs the vendor" not in staff.html("/queue")


def test_assignee_must_be_an_active_employee(web, make, people):
    thread = make.thread(people["customer"], status=ThreadStatus.NEEDS_STAFF)
    response = web(people["employee"]).post(f"/t/{thread.id}/assign", assignee=people["customer"].id,
                                            due_at="2030-01-01T09:00")
    assert response.status_code == 400 and db.session.get(Assignment, thread.id) is None


def test_overdue_page_lists_long_unassigned_escalations(web, make, people):
    stale = make.thread(people["customer"], title="Waiting for days", status=ThreadStatus.NEEDS_STAFF,
                        last_activity_at=utcnow() - timedelta(days=3))
    make.thread(people["customer"], title="Just escalated", status=ThreadStatus.NEEDS_STAFF)
    page = web(people["lead"]).html("/queue/overdue")
    assert "Waiting for days" in page and "Just escalated" not in page
    assert f"/t/{stale.id}/assign" in page


def test_my_queue_lists_unassigned_escalations_as_a_table_oldest_first(web, make, people):
    now = utcnow()
    fresh_org, old_org = make.customer_org("Brightwater Mills"), make.customer_org("Cobalt Freight")
    fresh = make.thread(make.user(fresh_org), title="Fresh escalation", status=ThreadStatus.NEEDS_STAFF,
                        last_activity_at=now - timedelta(hours=5), created_at=now - timedelta(hours=5))
    old = make.thread(make.user(old_org), title="Old escalation", status=ThreadStatus.NEEDS_STAFF,
                      last_activity_at=now - timedelta(days=3, hours=2), created_at=now - timedelta(days=4))
    page = web(people["employee"]).html("/queue")
    section = page[page.index("not assigned yet"):]
    # A compact table, one row per escalation: the oldest waiting first, its age and the customer's organisation.
    assert "<table" in section and "<ul" not in section.split("</table>")[0]
    rows = section.split("<tr")[2:]
    assert "Old escalation" in rows[0] and "Fresh escalation" in rows[1]
    assert ">3 days<" in rows[0] and ">Cobalt Freight<" in rows[0]
    assert ">5 hours<" in rows[1] and ">Brightwater Mills<" in rows[1]
    assert f"/t/{old.id}/assign" in rows[0] and f"/t/{fresh.id}/assign" in rows[1]
