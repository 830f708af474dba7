"""Direct messages through the real routes: who may write to whom, members-only conversations (a canary in a
message never reaches anyone else's pages), blocks, notifications and unread counts, rate limits, reports."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Conversation, Message, MessageReport, Notification, NotificationKind
from tests.factories import csrf_token_from

CANARY = "zebracanarymessage"


def _token(client, url="/messages/new") -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


def _start(client, to: str, body: str, subject: str = "About our upgrade"):
    return client.post("/messages/new", data={"to": to, "subject": subject, "body": body,
                                              "csrf_token": _token(client)})


def _conversations() -> int:
    return db.session.execute(select(func.count(Conversation.id))).scalar_one()


@pytest.fixture()
def people(make):
    a, b, c = make.customer_org("Alpha"), make.customer_org("Beta"), make.customer_org("Gamma")
    p_in, p_out = make.partner_org("Inside"), make.partner_org("Outside")
    make.engage(p_in, a)
    w = type("People", (), {})()
    w.a, w.b, w.c = a, b, c
    w.ann, w.amy = make.user(a, username="ann"), make.user(a, username="amy")
    w.bob, w.cat = make.user(b, username="bob"), make.user(c, username="cat")
    w.pia, w.pat = make.user(p_in, username="pia"), make.user(p_out, username="pat")
    w.emp = make.employee(username="eve")
    w.mod = make.employee(username="moe", is_moderator=True)
    w.admin = make.employee(username="ada", is_admin=True, is_moderator=True)
    return w


# Who may write to whom, from the specification: staff with anyone, one's own organisation, the partners
# engaged with a customer; other customers only where both organisations allow it; never two partner firms.
PAIRS = [
    ("ann", "eve", True), ("ann", "amy", True), ("ann", "pia", True), ("ann", "pat", False),
    ("ann", "bob", False), ("pia", "pat", False), ("pat", "eve", True), ("bob", "pia", False),
    ("eve", "bob", True),
]


@pytest.mark.parametrize(("sender", "recipient", "allowed"), PAIRS)
def test_who_may_write_to_whom(app, client, login, people, sender, recipient, allowed):
    login(getattr(people, {"ann": "ann", "amy": "amy", "bob": "bob", "pia": "pia", "pat": "pat",
                           "eve": "emp"}[sender]))
    response = _start(client, recipient, "Hello there")
    assert (response.status_code in (302, 303)) is allowed, response.status_code
    assert _conversations() == (1 if allowed else 0)
    if not allowed:
        assert "You cannot start a conversation with" in response.get_data(as_text=True)


def test_other_customers_only_when_both_organisations_allow_it(app, client, login, people):
    login(people.ann)
    people.a.allow_customer_messages = True
    db.session.commit()
    assert _start(client, "bob", "Hi Bob").status_code == 400  # Beta has not allowed it
    people.b.allow_customer_messages = True
    db.session.commit()
    assert _start(client, "bob", "Hi Bob").status_code in (302, 303)


def test_a_group_needs_every_pair_to_be_allowed(app, client, login, people):
    login(people.emp)
    # Staff may write to both, but Ann and Bob (two customers who have not allowed it) may not meet this way.
    response = _start(client, "ann, bob", "Hello both")
    assert response.status_code == 400 and _conversations() == 0
    assert _start(client, "ann, pia, @amy", "Hello team").status_code in (302, 303)
    conversation = db.session.execute(select(Conversation)).scalar_one()
    assert len(conversation.members) == 4


def test_bad_recipients_are_form_errors(app, client, login, people):
    login(people.ann)
    for to, message in (("nobody-here", "No member is called nobody-here"), ("ann", "other than yourself"),
                        (" ".join(f"u{i}" for i in range(9)), "at most 8 members")):
        response = _start(client, to, "Hi")
        assert response.status_code == 400 and message in response.get_data(as_text=True), to
    assert _conversations() == 0


def test_a_conversation_is_seen_by_its_members_only(app, client, make, login, people):
    login(people.ann)
    response = _start(client, "eve", f"Our licence key is {CANARY}", subject=f"Subject {CANARY}")
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    message_id = db.session.execute(select(Message.id)).scalar_one()
    # Members see it.
    for member in (people.ann, people.emp):
        c = app.test_client()
        login(member, c)
        assert CANARY in c.get(f"/messages/{conversation_id}").get_data(as_text=True)
    # Nobody else does, admins and moderators included, on any page they can open.
    secret = f"licence key is {CANARY}"  # the search page repeats its query: look for text only the message has
    pages = ["/", "/messages", f"/messages/{conversation_id}", f"/search?q={CANARY}", "/search?q=licence", "/inbox",
             "/u/ann", "/u/eve", "/moderation/queue", "/moderation/messages", "/admin/audit"]
    for outsider in (people.amy, people.bob, people.pia, people.pat, people.mod, people.admin):
        c = app.test_client()
        login(outsider, c)
        for url in pages:
            response = c.get(url)
            html = response.get_data(as_text=True)
            assert secret not in html and f"Subject {CANARY}" not in html, (outsider.username, url)
        assert c.get(f"/messages/{conversation_id}").status_code == 404
        token = _token(c)
        before = db.session.execute(select(func.count(Message.id))).scalar_one()
        assert c.post(f"/messages/{conversation_id}", data={"body": "let me in", "csrf_token": token}
                      ).status_code == 404
        assert c.post(f"/messages/m/{message_id}/report", data={"reason": "spam", "csrf_token": token}
                      ).status_code == 404
        assert db.session.execute(select(func.count(Message.id))).scalar_one() == before
    assert app.test_client().get(f"/messages/{conversation_id}").status_code in (302, 303)


def test_notifications_and_unread_counts(app, client, login, people):
    login(people.ann)
    response = _start(client, "eve", "First")
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/messages/{conversation_id}", data={"body": "Second", "csrf_token": _token(client)})
    # One inbox item per conversation, however many messages.
    items = db.session.execute(select(Notification).where(Notification.user_id == people.emp.id)).scalars().all()
    assert [(n.kind, n.conversation_id) for n in items] == [(NotificationKind.MESSAGE, conversation_id)]
    eve = app.test_client()
    login(people.emp, eve)
    home = eve.get("/").get_data(as_text=True)
    assert 'aria-label="1 unread">1</span>' in home
    assert "sent you a message" in eve.get("/inbox").get_data(as_text=True)
    listing = eve.get("/messages").get_data(as_text=True)
    assert "About our upgrade" in listing and "New</span>" in listing
    eve.get(f"/messages/{conversation_id}")
    assert 'aria-label="1 unread"' not in eve.get("/").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, items[0].id).read_at is not None
    # The sender's own message never counts as unread for them.
    assert 'unread">' not in client.get("/messages").get_data(as_text=True).split("<main", 1)[1].split(
        "conversation-list", 1)[0]


def test_blocking_stops_both_directions_until_unblocked(app, client, login, people):
    login(people.ann)
    response = _start(client, "amy", "Hi Amy")
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    amy = app.test_client()
    login(people.amy, amy)
    assert amy.post("/u/ann/block", data={"csrf_token": _token(amy)}).status_code in (302, 303)
    before = db.session.execute(select(func.count(Message.id))).scalar_one()
    response = client.post(f"/messages/{conversation_id}", data={"body": "Still there?", "csrf_token": _token(client)})
    assert response.status_code == 400 and "no longer write" in response.get_data(as_text=True)
    assert _start(client, "amy", "New thread of talk").status_code == 400
    assert _start(amy, "ann", "From Amy").status_code == 400
    assert db.session.execute(select(func.count(Message.id))).scalar_one() == before
    assert "Send a message" not in client.get("/u/amy").get_data(as_text=True)
    assert "ann" in amy.get("/messages/blocked").get_data(as_text=True).lower()
    amy.post("/u/ann/unblock", data={"csrf_token": _token(amy)})
    assert client.post(f"/messages/{conversation_id}", data={"body": "Back", "csrf_token": _token(client)}
                       ).status_code in (302, 303)


def test_messages_are_rate_limited(app, database_url, people):
    from forum import create_app
    from forum.extensions import limiter
    from tests.conftest import base_config
    from tests.factories import Factory, login_as

    saved = limiter.enabled
    limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True,
                          "RATELIMIT_MESSAGE": "3 per minute", "RATELIMIT_CONVERSATION": "50 per hour"})
    try:
        limiter.reset()
        client = limited.test_client()
        login_as(client, people.ann, Factory.PASSWORD)
        response = _start(client, "eve", "One")
        conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
        token = _token(client)
        codes = [client.post(f"/messages/{conversation_id}", data={"body": f"n{i}", "csrf_token": token}
                             ).status_code for i in range(3)]
        assert codes == [302, 302, 429]  # the conversation's first message counted too
        assert db.session.execute(select(func.count(Message.id))).scalar_one() == 3
    finally:
        limiter.reset()
        limiter.enabled = saved


def test_a_reported_message_reaches_moderators_alone_and_can_be_removed(app, client, login, people):
    login(people.ann)
    response = _start(client, "eve", f"Buy cheap licences {CANARY}")
    conversation_id = int(response.headers["Location"].rsplit("/", 1)[1])
    client.post(f"/messages/{conversation_id}", data={"body": "A second, private line", "csrf_token": _token(client)})
    spam = db.session.execute(select(Message).order_by(Message.id)).scalars().first()
    eve = app.test_client()
    login(people.emp, eve)
    # Ann cannot report her own message; Eve reports it.
    assert client.post(f"/messages/m/{spam.id}/report", data={"reason": "spam", "csrf_token": _token(client)}
                       ).status_code in (302, 303)
    assert db.session.execute(select(func.count(MessageReport.id))).scalar_one() == 0
    eve.post(f"/messages/m/{spam.id}/report", data={"reason": "spam", "detail": "selling keys",
                                                     "csrf_token": _token(eve)})
    report = db.session.execute(select(MessageReport)).scalar_one()
    # A plain employee does not review; a moderator sees the message, not the rest of the conversation.
    assert eve.get("/moderation/messages").status_code == 403
    moe = app.test_client()
    login(people.mod, moe)
    assert "Reported direct messages</a>: 1 waiting for review" in moe.get("/moderation/queue").get_data(as_text=True)
    queue = moe.get("/moderation/messages").get_data(as_text=True)
    assert CANARY in queue and "selling keys" in queue and "A second, private line" not in queue
    assert moe.get(f"/messages/{conversation_id}").status_code == 404
    assert moe.post(f"/moderation/messages/{report.id}/review",
                    data={"decision": "resolved", "csrf_token": _token(moe, "/moderation/messages")}
                    ).status_code in (302, 303)
    page = client.get(f"/messages/{conversation_id}").get_data(as_text=True)
    assert CANARY not in page and "Removed by a moderator" in page and "A second, private line" in page


def test_a_moderator_reading_german_reviews_a_report_with_the_buttons_on_the_page(app, client, login, people):
    """The buttons post the decision itself, whatever the language their labels are in."""
    import re

    login(people.ann)
    response = _start(client, "eve", "Buy cheap licences")
    eve = app.test_client()
    login(people.emp, eve)
    message = db.session.execute(select(Message)).scalar_one()
    eve.post(f"/messages/m/{message.id}/report", data={"reason": "spam", "csrf_token": _token(eve)})
    people.mod.locale = "de"
    db.session.commit()
    moe = app.test_client()
    login(people.mod, moe)
    page = moe.get("/moderation/messages").get_data(as_text=True)
    decisions = re.findall(r'name="decision" value="([^"]*)"', page)
    assert decisions == ["resolved", "dismissed"]
    report = db.session.execute(select(MessageReport)).scalar_one()
    assert moe.post(f"/moderation/messages/{report.id}/review", data={
        "decision": decisions[0], "csrf_token": csrf_token_from(page)}).status_code in (302, 303)
    db.session.expire_all()
    assert db.session.get(Message, message.id).hidden_at is not None
    assert "Removed by a moderator" in client.get(response.headers["Location"]).get_data(as_text=True)
