"""Signing in and out, session revocation, next= safety, password change, profile and account pages."""
from __future__ import annotations

import pytest

from forum.extensions import db
from forum.models import User, Visibility
from forum.passwords import verify_password
from tests.factories import Factory, csrf_token_from

PASSWORD = Factory.PASSWORD
NEW_PASSWORD = "plum orchard under a quiet sky 7"


def _token(client, path: str = "/login") -> str:
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _post_login(client, email: str, password: str, **extra):
    data = {"email": email, "password": password, "csrf_token": _token(client), **extra}
    return client.post("/login", data=data)


def _logout(client):
    return client.post("/logout", data={"csrf_token": _token(client, "/account")})


def _session_cookie(client) -> str:
    cookie = client.get_cookie("session", domain="forum.test")
    assert cookie is not None, "no session cookie"
    return cookie.value


# --- login ---------------------------------------------------------------------------------------

def test_login_page_is_accessible(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<label for="email">' in html and '<label for="password">' in html
    assert 'autocomplete="username"' in html and 'autocomplete="current-password"' in html
    assert 'name="csrf_token"' in html


def test_login_by_email_case_insensitive_then_account_page(client, make):
    user = make.user(email="Ada.Lovelace@Example.test")
    response = _post_login(client, "  ADA.LOVELACE@example.TEST ", PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/")
    page = client.get("/account")
    assert page.status_code == 200
    assert user.email in page.get_data(as_text=True)


@pytest.mark.parametrize("email,password", [
    ("user@example.test", "wrong password entirely"),
    ("nobody@example.test", PASSWORD),
    ("", PASSWORD),
])
def test_login_refused(client, make, email, password):
    make.user(email="user@example.test")
    response = _post_login(client, email, password)
    assert response.status_code in (400, 401)
    assert client.get("/account").status_code == 302
    if email:
        assert "email address or password is not right" in response.get_data(as_text=True)


def test_inactive_user_cannot_sign_in(client, make):
    user = make.user(active=False)
    assert _post_login(client, user.email, PASSWORD).status_code == 401


def test_login_without_csrf_token_is_refused(client, make):
    user = make.user()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize("target", ["/account", "/account?tab=1", "/u/someone"])
def test_next_on_this_site_is_followed(client, make, target):
    user = make.user()
    response = _post_login(client, user.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == target


@pytest.mark.parametrize("target", [
    "https://evil.test/", "//evil.test/", "///evil.test/", "/\\evil.test", "\\\\evil.test", "/\\/evil.test",
    "http:/evil.test", "javascript:alert(1)", "/\t/evil.test", " //evil.test", "evil.test",
    "https:evil.test", "%2F%2Fevil.test",
])
def test_next_off_site_is_ignored(client, make, target):
    user = make.user()
    response = _post_login(client, user.email, PASSWORD, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_login_required_pages_send_next(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


def test_login_form_prefills_next_from_query(client):
    html = client.get("/login?next=/account").get_data(as_text=True)
    assert 'name="next"' in html and 'value="/account"' in html


# --- logout and revocation -------------------------------------------------------------------------

def test_logout_is_post_only(client, make, login):
    login(make.user())
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_logout_without_csrf_is_refused(client, make, login):
    user = make.user()
    login(user)
    assert client.post("/logout").status_code == 400
    assert client.post("/logout", data={"csrf_token": "forged"}).status_code == 400
    assert client.get("/account").status_code == 200
    assert db.session.get(User, user.id).session_version == 1


def test_logout_replay_of_copied_cookie_is_refused(app, make, login):
    user = make.user()
    browser = app.test_client()
    login(user, browser)
    stolen = _session_cookie(browser)
    assert browser.get("/account").status_code == 200

    assert _logout(browser).status_code == 302
    assert browser.get("/account").status_code == 302

    attacker = app.test_client()
    attacker.set_cookie("session", stolen, domain="forum.test")
    replay = attacker.get("/account")
    assert replay.status_code == 302
    assert "/login" in replay.headers["Location"]
    db.session.expire_all()
    assert db.session.get(User, user.id).session_version == 2


def test_password_change_revokes_other_sessions_keeps_current(app, make, login):
    user = make.user()
    browser, other_device = app.test_client(), app.test_client()
    login(user, browser)
    login(user, other_device)
    old_cookie = _session_cookie(browser)

    page = browser.get("/account/password")
    response = browser.post("/account/password", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "current_password": PASSWORD,
        "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert browser.get("/account").status_code == 200, "the user who changed it stays signed in"
    assert other_device.get("/account").status_code == 302

    replay = app.test_client()
    replay.set_cookie("session", old_cookie, domain="forum.test")
    assert replay.get("/account").status_code == 302

    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, NEW_PASSWORD)
    fresh = app.test_client()
    assert _post_login(fresh, user.email, PASSWORD).status_code == 401
    assert _post_login(fresh, user.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("current,new,confirm,message", [
    ("not my password at all", NEW_PASSWORD, NEW_PASSWORD, "not your current password"),
    (PASSWORD, "short pw 1", "short pw 1", "at least 12 characters"),
    (PASSWORD, "Password2024!", "Password2024!", "too common"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "passwords differ"),
    (PASSWORD, PASSWORD, PASSWORD, "different from the current"),
])
def test_password_change_refusals_change_nothing(client, make, login, current, new, confirm, message):
    user = make.user()
    login(user)
    page = client.get("/account/password")
    response = client.post("/account/password", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)), "current_password": current,
        "new_password": new, "confirm": confirm})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.session_version == 1 and verify_password(fresh.password_hash, PASSWORD)


def test_password_change_without_csrf_is_refused(client, make, login):
    user = make.user()
    login(user)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 400
    db.session.expire_all()
    assert verify_password(db.session.get(User, user.id).password_hash, PASSWORD)


# --- account and profile -----------------------------------------------------------------------------

def test_account_edit_display_name_and_bio(client, make, login):
    user = make.user()
    login(user)
    page = client.get("/account")
    response = client.post("/account", data={
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        "display_name": "  Grace   Hopper ", "bio": "Runs the <b>ledger</b> rollout."})
    assert response.status_code == 302
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh.display_name == "Grace Hopper" and fresh.bio == "Runs the <b>ledger</b> rollout."
    html = client.get(f"/u/{user.username}").get_data(as_text=True)
    assert "Runs the &lt;b&gt;ledger&lt;/b&gt; rollout." in html


def test_account_edit_without_csrf_is_refused(client, make, login):
    user = make.user(display_name="Original Name")
    login(user)
    response = client.post("/account", data={"display_name": "Changed", "bio": ""})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "Original Name"


def test_profile_shows_roles_and_only_visible_threads(client, make, login):
    vendor = make.vendor_org()
    author = make.user(vendor, display_name="Lena Lead", is_lead=True, is_moderator=True)
    customer_org, other_org = make.customer_org(), make.customer_org()
    make.thread(author, Visibility.PUBLIC, title="Public upgrade notes")
    make.thread(author, Visibility.INTERNAL, title="Internal escalation list")
    viewer = make.user(customer_org)
    login(viewer)
    html = client.get(f"/u/{author.username}").get_data(as_text=True)
    assert "Lena Lead" in html and "Implementation lead" in html and "Moderator" in html
    assert "Employee" in html and vendor.name in html
    assert "Public upgrade notes" in html
    assert "Internal escalation list" not in html

    customer_author = make.user(customer_org)
    make.thread(customer_author, Visibility.ORG_PRIVATE, title="Our private cutover plan")
    outsider = make.user(other_org)
    outsider_client = client.application.test_client()
    login(outsider, outsider_client)
    assert "Our private cutover plan" not in outsider_client.get(f"/u/{customer_author.username}").get_data(as_text=True)
    assert "Our private cutover plan" in client.get(f"/u/{customer_author.username}").get_data(as_text=True)


def test_profile_is_paginated(app, client, make, login):
    author = make.user()
    space = make.space()
    for i in range(app.config["PAGE_SIZE"] + 3):
        make.thread(author, space=space, title=f"Numbered thread {i:03d}")
    login(make.user(author.organisation))
    first = client.get(f"/u/{author.username}").get_data(as_text=True)
    assert first.count("Numbered thread") == app.config["PAGE_SIZE"]
    assert 'rel="next"' in first
    second = client.get(f"/u/{author.username}?page=2").get_data(as_text=True)
    assert second.count("Numbered thread") == 3


def test_profile_unknown_is_404_and_anonymous_is_sent_to_login(client, make, login):
    user = make.user()
    response = client.get(f"/u/{user.username}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(user)
    assert client.get("/u/no-such-person").status_code == 404
