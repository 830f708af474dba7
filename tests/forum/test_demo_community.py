"""The demo's community content on a small world: an ideas space ordered by customer organisations, a
conversation only its two members see, a log whose error codes search finds; a second run adds nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from forum.demo.community import IDEAS, IDEAS_SLUG, seed_community
from forum.extensions import db
from forum.models import Attachment, Conversation, Idea, Thread


def test_demo_community_content(app, client, make, login):
    a, b, c = make.customer_org("Aldercrest"), make.customer_org("Birch"), make.customer_org("Cobalt")
    customer = make.user(a, email="customer@demo.test")
    employee = make.employee(email="employee@demo.test")
    others = [make.user(org) for org in (b, c)] + [make.user(make.customer_org(f"Org {i}")) for i in range(4)]
    make.user(make.partner_org("Quayside"))
    question = make.thread(customer, title="Nightly import fails", external_id="demo-t1")
    added = seed_community()
    assert added == {"ideas": len(IDEAS), "idea votes": added["idea votes"], "messages": 3, "attachments": 2,
                     "avatars": 1}
    assert seed_community() == {}  # idempotent

    login(customer)
    listing = client.get(f"/ideas/{IDEAS_SLUG}").get_data(as_text=True)
    # Most wanted first: by the number of customer organisations voting (the fifth field of each idea).
    titles = [idea[0] for idea in sorted(IDEAS, key=lambda idea: -idea[4])]
    positions = [listing.index(t) for t in titles]
    assert positions == sorted(positions)
    planned = db.session.execute(select(Idea).join(Thread).where(Thread.title == IDEAS[0][0])).scalar_one()
    assert planned.customer_org_votes == 6 and planned.status.value == "planned"

    conversation = db.session.execute(select(Conversation)).scalar_one()
    assert "ORA-00942" in client.get(f"/messages/{conversation.id}").get_data(as_text=True)
    outsider = app.test_client()
    login(others[0], outsider)
    assert outsider.get(f"/messages/{conversation.id}").status_code == 404

    assert db.session.execute(select(func.count(Attachment.id)).where(Attachment.thread_id == question.id)
                              ).scalar_one() == 2
    found = client.get("/search?q=ORA-00942").get_data(as_text=True)
    assert f'href="/t/{question.id}"' in found
    page = client.get(f"/t/{question.id}").get_data(as_text=True)
    assert "nightly-import.log" in page and "batch-jobs.png" in page
    db.session.refresh(employee)
    assert client.get(f"/avatars/{employee.username}/{employee.avatar_sha256}.png").status_code == 200
    assert "Import log before the upgrade window" in client.get("/messages").get_data(as_text=True)
    staff = app.test_client()
    login(employee, staff)
    assert 'aria-label="1 unread"' in staff.get("/").get_data(as_text=True)  # the customer's last message
