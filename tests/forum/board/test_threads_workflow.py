"""The Q&A workflow through real HTTP routes: votes, accept, status, confirmations, staff notes, soft delete."""
from __future__ import annotations

import pytest

from forum.extensions import db
from forum.models import Confirmation, Reply, ThreadKind, ThreadStatus, Visibility, Vote
from tests.forum.board.test_pages import Browser, count


@pytest.fixture()
def web(app):
    """``web(user=None)``: a new browser, signed in as ``user`` when given."""
    return lambda user=None: Browser(app, user)


def _reload(obj):
    db.session.refresh(obj)
    return obj


def test_status_goes_open_answered_resolved(web, make):
    asker = make.user()
    thread = make.thread(asker)
    helper = web(make.user())
    assert helper.post(f"/t/{thread.id}/reply", body="Try restarting the indexer").status_code == 302
    reply = db.session.execute(db.select(Reply)).scalar_one()
    assert _reload(thread).status is ThreadStatus.ANSWERED
    owner = web(asker)
    assert owner.post(f"/r/{reply.id}/accept").status_code == 302
    thread = _reload(thread)
    assert thread.status is ThreadStatus.RESOLVED and thread.accepted_reply_id == reply.id and thread.resolved_at
    html = owner.html(f"/t/{thread.id}")
    assert "Accepted answer" in html and "Not confirmed at another deployment yet" in html  # no green zero
    # Accepting it again withdraws the acceptance.
    owner.post(f"/r/{reply.id}/accept")
    thread = _reload(thread)
    assert thread.status is ThreadStatus.ANSWERED and thread.accepted_reply_id is None


def test_only_one_accepted_answer(web, make):
    asker = make.user()
    thread = make.thread(asker)
    first, second = make.reply(thread, make.user()), make.reply(thread, make.user())
    owner = web(asker)
    owner.post(f"/r/{first.id}/accept")
    owner.post(f"/r/{second.id}/accept")
    assert _reload(thread).accepted_reply_id == second.id


def test_who_may_accept(web, make):
    org = make.customer_org()
    asker = make.user(org)
    thread = make.thread(asker)
    reply = make.reply(thread, make.user())
    colleague, org_admin = make.user(org), make.user(org, is_org_admin=True)
    partner_org = make.partner_org()
    make.engage(partner_org, org)
    for refused in (colleague, make.user(), make.user(partner_org), make.user(is_org_admin=True)):
        assert web(refused).post(f"/r/{reply.id}/accept").status_code == 403
    assert _reload(thread).accepted_reply_id is None
    assert web(org_admin).post(f"/r/{reply.id}/accept").status_code == 302
    assert _reload(thread).accepted_reply_id == reply.id
    web(make.employee()).post(f"/r/{reply.id}/accept")  # an employee may too (here: un-accept)
    assert _reload(thread).accepted_reply_id is None


def test_staff_notes_and_discussions_cannot_be_accepted(web, make):
    asker = make.user()
    staff = make.employee()
    thread = make.thread(asker)
    note = make.reply(thread, staff, body="internal hint", staff_note=True)
    assert web(staff).post(f"/r/{note.id}/accept").status_code == 403
    discussion = make.thread(asker, kind=ThreadKind.DISCUSSION)
    reply = make.reply(discussion, make.user())
    assert web(asker).post(f"/r/{reply.id}/accept").status_code == 403


def test_voting_rules(web, make):
    author, voter, other = make.user(), make.user(), make.user()
    thread = make.thread(make.user())
    reply = make.reply(thread, author)
    assert web(author).post(f"/r/{reply.id}/vote", value="1").status_code == 403  # not on your own
    browser = web(voter)
    browser.post(f"/r/{reply.id}/vote", value="1")
    browser.post(f"/r/{reply.id}/vote", value="1")  # the same vote again withdraws it
    assert _reload(reply).score == 0 and count(Vote) == 0
    browser.post(f"/r/{reply.id}/vote", value="1")
    assert _reload(reply).score == 1
    browser.post(f"/r/{reply.id}/vote", value="-1")  # changing the vote replaces it
    assert _reload(reply).score == -1 and count(Vote) == 1
    web(other).post(f"/r/{reply.id}/vote", value="-1")
    assert _reload(reply).score == -2 and count(Vote) == 2
    for bad in ("2", "0", "", "abc", "-2"):
        assert browser.post(f"/r/{reply.id}/vote", value=bad).status_code == 400
    assert _reload(reply).score == -2
    html = browser.html(f"/t/{thread.id}")
    assert 'aria-pressed="true"' in html


def test_confirmations(web, make):
    asker_org, other_org = make.customer_org(), make.customer_org()
    asker = make.user(asker_org)
    thread = make.thread(asker)
    reply = make.reply(thread, make.employee())
    confirmer = make.user(other_org)
    first, second = make.deployment(other_org, name="Prod"), make.deployment(other_org, name="Test")
    browser = web(confirmer)
    # Nothing to confirm before an answer is accepted.
    assert browser.post(f"/t/{thread.id}/confirm", deployment=first.id).status_code == 403
    web(asker).post(f"/r/{reply.id}/accept")
    html = browser.html(f"/t/{thread.id}")
    assert "Worked for us too" in html and "Prod" in html
    assert browser.post(f"/t/{thread.id}/confirm", deployment=first.id).status_code == 302
    assert browser.post(f"/t/{thread.id}/confirm", deployment=first.id).status_code in (302, 400)
    assert count(Confirmation) == 1  # unique per deployment
    browser.post(f"/t/{thread.id}/confirm", deployment=second.id)
    assert "Confirmed at 2 deployments" in browser.html(f"/t/{thread.id}")
    # A deployment of another organisation cannot be used.
    foreign = make.deployment(make.customer_org())
    assert browser.post(f"/t/{thread.id}/confirm", deployment=foreign.id).status_code == 400
    # The asking organisation, partners and employees do not confirm.
    own_deployment = make.deployment(asker_org)
    assert web(asker).post(f"/t/{thread.id}/confirm", deployment=own_deployment.id).status_code == 403
    assert web(make.user(make.partner_org())).post(f"/t/{thread.id}/confirm", deployment=first.id).status_code == 403
    assert web(make.employee()).post(f"/t/{thread.id}/confirm", deployment=first.id).status_code == 403
    assert count(Confirmation) == 2


def test_staff_notes_are_for_employees_only(web, make):
    asker = make.user()
    staff = make.employee()
    thread = make.thread(asker)
    customer = web(asker)
    assert customer.post(f"/t/{thread.id}/reply", body="sneaky", staff_note="y").status_code == 403
    employee = web(staff)
    assert employee.post(f"/t/{thread.id}/reply", body="Known bug OPS-306, fix in 4.2", staff_note="y").status_code == 302
    note = db.session.execute(db.select(Reply)).scalar_one()
    assert note.is_staff_note
    thread = _reload(thread)
    assert thread.reply_count == 0 and thread.status is ThreadStatus.OPEN  # notes do not answer
    staff_html = employee.html(f"/t/{thread.id}")
    assert "OPS-306" in staff_html and "staff-note" in staff_html and "Staff note" in staff_html
    customer_html = customer.html(f"/t/{thread.id}")
    assert "OPS-306" not in customer_html and "staff-note" not in customer_html
    assert 'name="staff_note"' not in customer_html and 'name="staff_note"' in staff_html
    assert customer.get(f"/r/{note.id}/revisions").status_code == 404
    assert customer.post(f"/r/{note.id}/vote", value="1").status_code == 404


def test_soft_delete_by_moderators(web, make):
    asker = make.user()
    thread = make.thread(asker)
    reply = make.reply(thread, make.user(), body="Buy my product at spam.example")
    web(asker).post(f"/r/{reply.id}/accept")
    assert web(asker).post(f"/r/{reply.id}/delete").status_code == 403
    assert web(make.employee()).post(f"/r/{reply.id}/delete").status_code == 403  # employees, not moderators
    moderator = web(make.employee(is_moderator=True))
    assert moderator.post(f"/r/{reply.id}/delete").status_code == 302
    reply, thread = _reload(reply), _reload(thread)
    assert reply.deleted_at is not None and reply.body_md  # kept, only hidden
    assert thread.accepted_reply_id is None and thread.status is ThreadStatus.OPEN and thread.reply_count == 0
    member_html = web(asker).html(f"/t/{thread.id}")
    assert "Removed by a moderator" in member_html and "spam.example" not in member_html
    assert "spam.example" in moderator.html(f"/t/{thread.id}")
    assert web(reply.author).post(f"/r/{reply.id}/edit", body="back again").status_code == 403
    assert web(make.user()).post(f"/r/{reply.id}/vote", value="1").status_code == 403


def test_asking_for_staff_help(web, make):
    org = make.customer_org()
    asker = make.user(org)
    thread = make.thread(asker)
    make.reply(thread, make.user())
    assert web(make.user()).post(f"/t/{thread.id}/needs-staff").status_code == 403
    owner = web(asker)
    assert owner.post(f"/t/{thread.id}/needs-staff").status_code == 302
    assert _reload(thread).status is ThreadStatus.NEEDS_STAFF
    assert "Waiting for the vendor" in web(make.employee()).html("/")
    # Another customer's reply keeps it waiting; the vendor's answer clears it.
    web(make.user()).post(f"/t/{thread.id}/reply", body="same here")
    assert _reload(thread).status is ThreadStatus.NEEDS_STAFF
    web(make.employee()).post(f"/t/{thread.id}/reply", body="Here is the fix")
    assert _reload(thread).status is ThreadStatus.ANSWERED
    owner.post(f"/t/{thread.id}/needs-staff")
    owner.post(f"/t/{thread.id}/needs-staff")  # asking again withdraws
    assert _reload(thread).status is ThreadStatus.ANSWERED


def test_partner_sees_engaged_customers_private_thread(web, make):
    customer_org, partner_org = make.customer_org(), make.partner_org()
    make.engage(partner_org, customer_org)
    thread = make.thread(make.user(customer_org), Visibility.ORG_PRIVATE, title="Our private HA question")
    partner = web(make.user(partner_org))
    assert partner.get(f"/t/{thread.id}").status_code == 200
    assert partner.post(f"/t/{thread.id}/reply", body="We did this at another client").status_code == 302
    assert web(make.user(make.partner_org())).get(f"/t/{thread.id}").status_code == 404


def test_announcements_take_replies_from_employees_only(web, make):
    staff = make.employee()
    thread = make.thread(staff, kind=ThreadKind.ANNOUNCEMENT)
    assert web(make.user()).post(f"/t/{thread.id}/reply", body="hi").status_code == 403
    assert web(staff).post(f"/t/{thread.id}/reply", body="details").status_code == 302


def test_state_changing_routes_refuse_missing_csrf(web, make):
    asker = make.user()
    thread = make.thread(asker)
    reply = make.reply(thread, make.user())
    browser = web(make.employee(is_moderator=True))
    for url, data in ((f"/t/{thread.id}/reply", {"body": "x"}), (f"/r/{reply.id}/vote", {"value": "1"}),
                      (f"/r/{reply.id}/accept", {}), (f"/r/{reply.id}/delete", {}),
                      (f"/r/{reply.id}/edit", {"body": "changed"}), (f"/t/{thread.id}/needs-staff", {})):
        assert browser.open("POST", url, data=data).status_code == 400, url
        assert browser.open("POST", url, data={**data, "csrf_token": "forged"}).status_code == 400, url
    reply, thread = _reload(reply), _reload(thread)
    assert count(Reply) == 1 and count(Vote) == 0 and reply.body_md == "A reply"
    assert reply.deleted_at is None and thread.accepted_reply_id is None


def test_posting_and_search_are_rate_limited(database_url, make):
    from forum import create_app
    from forum.extensions import limiter
    from tests.conftest import base_config

    saved = limiter.enabled
    limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True,
                          "RATELIMIT_POST": "2 per minute", "RATELIMIT_SEARCH": "3 per minute"})
    try:
        limiter.reset()
        user = make.user()
        thread = make.thread(user)
        browser = Browser(limited, user)
        for _ in range(2):
            assert browser.post(f"/t/{thread.id}/reply", body="again").status_code == 302
        refused = browser.post(f"/t/{thread.id}/reply", body="once too often")
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
        assert browser.get(f"/t/{thread.id}").status_code == 200  # reading is not posting
        for _ in range(3):
            assert browser.get("/search?q=x").status_code == 200
        assert browser.get("/search?q=x").status_code == 429
        assert count(Reply) == 2
    finally:
        limiter.reset()
        limiter.enabled = saved


@pytest.mark.parametrize("raw,expected", [
    ("Upgrade, SSO , upgrade", ["upgrade", "sso"]),
    ("Single Sign-On", ["single-sign-on"]),
    ("C++, .NET, c#", ["c++", ".net", "c#"]),
    ("<script>, onerror=alert(1)", ["script", "onerror-alert-1"]),
    (" , ,, ", []),
])
def test_tags_are_normalised(raw, expected):
    from forum.services.board.threads import normalise_tags

    assert normalise_tags(raw) == expected


@pytest.mark.parametrize("raw", ["a,b,c,d,e,f", "x" * 41])
def test_too_many_or_too_long_tags_are_refused(raw):
    from forum.services.board.threads import ValidationFailed, normalise_tags

    with pytest.raises(ValidationFailed) as info:
        normalise_tags(raw)
    assert info.value.field == "tags"
