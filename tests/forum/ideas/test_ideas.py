"""Product ideas through the real routes: one vote per member, the list ordered by votes from distinct customer
organisations, statuses set by staff with a public note and voters notified, and a pattern waiting on an idea."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    Idea,
    IdeaVote,
    Notification,
    NotificationKind,
    Pattern,
    SpaceKind,
    Thread,
    Visibility,
)
from tests.factories import csrf_token_from


def _token(client, url="/") -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


@pytest.fixture()
def w(app, make):
    w = type("World", (), {})()
    w.orgs = [make.customer_org(f"Customer {i}") for i in range(3)]
    w.customers = [make.user(org) for org in w.orgs for _ in range(2)]  # two members per organisation
    w.partner = make.user(make.partner_org("Partner firm"))
    w.staff = make.employee()
    w.lead = make.employee(is_lead=True)
    w.space = make.space("Product ideas")
    w.space.kind = SpaceKind.IDEAS
    db.session.commit()
    w.popular = make.thread(w.customers[0], space=w.space, title="Export to CSV")
    w.wide = make.thread(w.customers[2], space=w.space, title="Dark mode")
    w.private = make.thread(w.customers[4], Visibility.ORG_PRIVATE, space=w.space, title="Our own idea")
    return w


def _vote(app, login, user, thread_id):
    client = app.test_client()
    login(user, client)
    return client.post(f"/t/{thread_id}/idea/vote", data={"csrf_token": _token(client, f"/t/{thread_id}")})


def test_one_vote_per_member_and_the_order_by_distinct_customer_organisations(app, client, login, w):
    # Export to CSV: four votes, but from one customer organisation (two members), a partner and staff.
    for user in (w.customers[0], w.customers[1], w.partner, w.staff):
        assert _vote(app, login, user, w.popular.id).status_code in (302, 303)
    # Dark mode: two votes from two customer organisations.
    for user in (w.customers[2], w.customers[4]):
        _vote(app, login, user, w.wide.id)
    popular, wide = db.session.get(Idea, w.popular.id), db.session.get(Idea, w.wide.id)
    assert (popular.votes, popular.customer_org_votes) == (4, 1)
    assert (wide.votes, wide.customer_org_votes) == (2, 2)
    login(w.customers[3])
    page = client.get(f"/ideas/{w.space.slug}").get_data(as_text=True)
    assert page.index("Dark mode") < page.index("Export to CSV")
    # Voting again takes the vote back: never two votes from one member.
    _vote(app, login, w.customers[2], w.wide.id)
    assert db.session.execute(select(func.count(IdeaVote.id)).where(IdeaVote.thread_id == w.wide.id)
                              ).scalar_one() == 1
    db.session.expire_all()
    assert db.session.get(Idea, w.wide.id).customer_org_votes == 1


def test_the_space_page_of_an_ideas_space_is_its_ideas_list(app, client, login, w):
    login(w.customers[0])
    response = client.get(f"/s/{w.space.slug}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/ideas/{w.space.slug}")
    page = client.get(f"/ideas/{w.space.slug}").get_data(as_text=True)
    assert "Export to CSV" in page and "Our own idea" not in page  # org-private to customer 2's organisation
    assert client.get("/ideas/no-such-space").status_code == 404


def test_an_idea_others_cannot_see_cannot_be_voted_for(app, login, w):
    assert _vote(app, login, w.customers[0], w.private.id).status_code == 404
    assert db.session.execute(select(func.count(IdeaVote.id))).scalar_one() == 0


def test_staff_set_the_status_with_a_public_note_and_voters_hear_of_it(app, client, login, w):
    for user in (w.customers[0], w.customers[2]):
        _vote(app, login, user, w.popular.id)
    # A customer cannot set a status.
    login(w.customers[1])
    response = client.post(f"/t/{w.popular.id}/idea/status", data={
        "status": "planned", "note": "x", "csrf_token": _token(client, f"/t/{w.popular.id}")})
    assert response.status_code == 403
    staff = app.test_client()
    login(w.staff, staff)
    response = staff.post(f"/t/{w.popular.id}/idea/status", data={
        "status": "planned", "note": "Planned for the 8.1 release.", "csrf_token": _token(staff, f"/t/{w.popular.id}")})
    assert response.status_code in (302, 303)
    idea = db.session.get(Idea, w.popular.id)
    assert idea.status.value == "planned" and idea.status_note == "Planned for the 8.1 release."
    notified = set(db.session.execute(select(Notification.user_id).where(
        Notification.kind == NotificationKind.IDEA_STATUS, Notification.thread_id == w.popular.id)).scalars())
    assert notified == {w.customers[0].id, w.customers[2].id}
    page = client.get(f"/t/{w.popular.id}").get_data(as_text=True)
    assert "Planned for the 8.1 release." in page and "Planned" in page
    voter = app.test_client()
    login(w.customers[0], voter)
    assert "changed the status of the idea" in voter.get("/inbox").get_data(as_text=True)
    listing = client.get(f"/ideas/{w.space.slug}?status=planned").get_data(as_text=True)
    assert "Export to CSV" in listing and "Dark mode" not in listing
    bad = staff.post(f"/t/{w.popular.id}/idea/status", data={"status": "someday", "csrf_token": _token(staff)})
    assert bad.status_code in (302, 303) and db.session.get(Idea, w.popular.id).status.value == "planned"


def test_a_pattern_whose_fix_is_not_possible_yet_links_its_idea(app, client, login, w):
    pattern = Pattern(name="CSV export workarounds")
    db.session.add(pattern)
    db.session.commit()
    login(w.lead)
    token = _token(client, f"/patterns/{pattern.id}")
    response = client.post(f"/patterns/{pattern.id}/idea", data={"idea": f"/t/{w.popular.id}", "csrf_token": token})
    assert response.status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Pattern, pattern.id).idea_thread_id == w.popular.id
    shown = client.get(f"/patterns/{pattern.id}").get_data(as_text=True)
    assert re.search(rf'No fix possible yet: waits on the idea <a href="/t/{w.popular.id}">Export to CSV', shown)
    assert "CSV export workarounds" in client.get(f"/t/{w.popular.id}").get_data(as_text=True)
    # An ordinary thread is not an idea; a customer (or a plain employee) cannot link.
    other = client.post(f"/patterns/{pattern.id}/idea", data={"idea": "999999", "csrf_token": token})
    assert other.status_code in (302, 303) and db.session.get(Pattern, pattern.id).idea_thread_id == w.popular.id
    for user in (w.customers[0], w.staff):
        c = app.test_client()
        login(user, c)
        assert c.post(f"/patterns/{pattern.id}/idea", data={"idea": "", "csrf_token": _token(c)}).status_code == 403
    # The customer's view of the idea does not name the pattern (patterns are the vendor's tool).
    customer = app.test_client()
    login(w.customers[0], customer)
    assert "CSV export workarounds" not in customer.get(f"/t/{w.popular.id}").get_data(as_text=True)


def test_an_ordinary_space_has_no_ideas_page(app, client, make, login, w):
    login(w.customers[0])
    assert client.get(f"/ideas/{make.space('Plain').slug}").status_code == 404


def test_admins_make_a_space_an_ideas_space(app, client, make, login, w):
    from forum.models import Space

    login(make.employee(is_admin=True))
    response = client.post("/admin/spaces/new", data={"name": "Wishes", "slug": "wishes", "description": "",
                                                      "default_visibility": "public", "ideas": "y",
                                                      "csrf_token": _token(client, "/admin/spaces/new")})
    assert response.status_code in (302, 303)
    assert db.session.execute(select(Space).where(Space.slug == "wishes")).scalar_one().kind is SpaceKind.IDEAS


def test_an_idea_suggested_through_the_ask_page_is_not_an_unanswered_question(app, client, login, w):
    login(w.customers[0])
    response = client.post("/ask", data={"title": "Bulk edit of deployments", "body": "Forty sites by hand.",
                                         "space": str(w.space.id), "kind": "question", "visibility": "public",
                                         "deployment": "0", "csrf_token": _token(client, "/ask")})
    assert response.status_code in (302, 303)
    idea = db.session.execute(select(Thread).where(Thread.title == "Bulk edit of deployments")).scalar_one()
    assert idea.kind.value == "discussion"
    assert "Bulk edit of deployments" not in client.get("/?show=unanswered").get_data(as_text=True)
    assert "Bulk edit of deployments" in client.get(f"/ideas/{w.space.slug}").get_data(as_text=True)
