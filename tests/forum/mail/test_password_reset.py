"""Password reset by email, through a real SMTP server: one answer for every address, a single-use expiring
link, a rate limit, and every session of the account ended."""
from __future__ import annotations

import re

from forum import create_app
from forum.extensions import db, limiter
from forum.models import MailMessage, User
from tests.factories import Factory, csrf_token_from

NEW_PASSWORD = "granite orchard lantern 42"


def _ask(client, email: str):
    token = csrf_token_from(client.get("/password/forgot").get_data(as_text=True))
    return client.post("/password/forgot", data={"email": email, "csrf_token": token})


def _link(received) -> str:
    match = re.search(r"https?://[^/\s]+(/password/reset/[^\s\"<]+)", received.text)
    assert match, received.text
    return match.group(1)


def _choose(client, path: str, password: str = NEW_PASSWORD):
    page = client.get(path)
    if page.status_code != 200:
        return page
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post(path, data={"password": password, "confirm": password, "csrf_token": token})


def test_the_login_page_offers_it(app, client):
    assert 'href="/password/forgot"' in client.get("/login").get_data(as_text=True)


def test_the_same_answer_whether_the_address_exists_or_not(app, client, make, smtp):
    user = make.user()
    known, unknown = _ask(client, user.email.upper()), _ask(client, "nobody@example.test")
    assert known.status_code == unknown.status_code == 200

    def text(response):  # the page less its per-request CSRF token
        return re.sub(r'value="[^"]*"', "", response.get_data(as_text=True))

    assert text(known) == text(unknown) and "is on its way" in text(known)
    arrived = smtp.wait_for(1)
    assert [m.recipients for m in arrived] == [[user.email]]
    assert "Reset your password" in arrived[0].subject
    assert smtp.wait_for(2, timeout=0.5) == arrived  # nothing for the unknown address
    assert _ask(client, "not an address").status_code == 200  # an odd address is simply not ours


def test_the_link_resets_once_and_ends_every_session(app, client, make, login, smtp):
    user = make.user()
    elsewhere = app.test_client()  # a browser where the account is signed in
    login(user, elsewhere)
    assert elsewhere.get("/account").status_code == 200
    _ask(client, user.email)
    path = _link(smtp.wait_for(1)[0])
    stored = db.session.query(MailMessage).one()
    assert stored.secret == ""  # the token is not kept once the mail is sent
    assert path.rsplit("/", 1)[1] not in stored.body_text

    assert _choose(client, path, "short").status_code == 400  # refused like any weak password
    response = _choose(client, path)
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert elsewhere.get("/account").status_code == 302  # signed out there
    assert _choose(client, path).status_code == 404  # used once already
    fresh = app.test_client()
    token = csrf_token_from(fresh.get("/login").get_data(as_text=True))
    assert fresh.post("/login", data={"email": user.email, "password": Factory.PASSWORD,
                                      "csrf_token": token}).status_code == 401
    assert fresh.post("/login", data={"email": user.email, "password": NEW_PASSWORD,
                                      "csrf_token": token}).status_code == 302


def test_forged_and_expired_links_do_not_work(app, client, make, smtp):
    user = make.user()
    assert client.get("/password/reset/forged-token").status_code == 404
    _ask(client, user.email)
    path = _link(smtp.wait_for(1)[0])
    assert client.get(path).status_code == 200
    app.config["PASSWORD_RESET_MINUTES"] = -1  # every link is older than that
    assert client.get(path).status_code == 404
    assert _choose(client, path).status_code == 404
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == user.session_version


def test_requests_are_rate_limited_per_address_asked_about(database_url, make):
    from tests.conftest import base_config

    saved = limiter.enabled
    limited = create_app({**base_config(database_url), "RATELIMIT_ENABLED": True,
                          "RATELIMIT_PASSWORD_RESET_ACCOUNT": "2 per hour", "MAIL_SERVER": ""})
    try:
        limiter.reset()
        with limited.app_context():
            user = make.user()
            client = limited.test_client()
            codes = {email: [_ask(client, email).status_code for _ in range(3)]
                     for email in (user.email, "nobody@example.test")}
            assert codes == {user.email: [200, 200, 429], "nobody@example.test": [200, 200, 429]}
            assert client.get("/password/forgot").status_code == 200  # showing the form is free
            assert db.session.query(MailMessage).count() == 2  # held, one per accepted request
    finally:
        limiter.reset()
        limiter.enabled = saved
