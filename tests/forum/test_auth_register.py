"""Registration by invitation link: the invitation decides the organisation and is used once."""
from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Invitation, User, utcnow
from forum.services.orgs import accounts
from tests.factories import csrf_token_from

GOOD_PASSWORD = "lantern meadow copper violin 88"


def _count_users() -> int:
    return db.session.execute(select(func.count()).select_from(User)).scalar_one()


def _register(client, token: str, **fields):
    page = client.get(f"/register/{token}")
    assert page.status_code == 200, page.status_code
    data = {"email": "new.person@example.test", "username": "newperson", "display_name": "New Person",
            "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True))}
    data.update(fields)
    return client.post(f"/register/{token}", data=data)


def test_create_invitation_stores_only_a_digest(make):
    org = make.customer_org()
    inviter = make.user(org, is_org_admin=True)
    invitation, token = accounts.create_invitation(org, inviter, email="Someone@Example.test")
    assert len(token) >= 40
    stored = db.session.get(Invitation, invitation.id)
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (stored.token_hash, stored.email)
    assert stored.email == "someone@example.test"
    assert stored.expires_at > utcnow() + timedelta(days=1)
    assert stored.created_by_id == inviter.id and stored.used_at is None


def test_register_joins_the_invitations_organisation_and_signs_in(client, make):
    org = make.partner_org(name="Bridgewater Integrators")
    _, token = accounts.create_invitation(org, None, grants_org_admin=True)
    page = client.get(f"/register/{token}").get_data(as_text=True)
    assert "Bridgewater Integrators" in page
    assert 'autocomplete="new-password"' in page and '<label for="username">' in page

    response = _register(client, token, email="  New.Person@Example.TEST ")
    assert response.status_code == 302
    user = db.session.execute(select(User).filter_by(username="newperson")).scalar_one()
    assert user.organisation_id == org.id and user.is_org_admin
    assert user.email == "new.person@example.test"
    assert user.password_hash.startswith("$argon2id$")
    invitation = db.session.execute(select(Invitation)).scalar_one()
    assert invitation.used_at is not None and invitation.used_by_id == user.id
    assert client.get("/account").status_code == 200


def test_invitation_is_single_use(app, client, make):
    _, token = accounts.create_invitation(make.customer_org(), None)
    assert _register(client, token).status_code == 302
    other = app.test_client()
    response = other.get(f"/register/{token}")
    assert response.status_code == 410
    assert "already been used" in response.get_data(as_text=True)
    assert _count_users() == 1


def test_expired_invitation_is_gone(client, make):
    invitation, token = accounts.create_invitation(make.customer_org(), None)
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    csrf = csrf_token_from(client.get("/login").get_data(as_text=True))
    for response in (client.get(f"/register/{token}"),
                     client.post(f"/register/{token}", data={"csrf_token": csrf})):
        assert response.status_code == 410
        assert "expired" in response.get_data(as_text=True)
    assert _count_users() == 0


@pytest.mark.parametrize("token", ["not-a-real-token", "x" * 500, "%00", "..", "' OR 1=1 --"])
def test_unknown_invitation_is_404_without_data_change(client, make, token):
    accounts.create_invitation(make.customer_org(), None)
    response = client.get(f"/register/{token}")
    assert response.status_code == 404
    assert "not valid" in response.get_data(as_text=True)
    csrf = csrf_token_from(client.get("/login").get_data(as_text=True))
    assert client.post(f"/register/{token}", data={"email": "a@b.test", "csrf_token": csrf}).status_code == 404
    assert _count_users() == 0


def test_invitation_email_must_match(client, make):
    _, token = accounts.create_invitation(make.customer_org(), None, email="invited@example.test")
    assert 'value="invited@example.test"' in client.get(f"/register/{token}").get_data(as_text=True)
    response = _register(client, token, email="someone.else@example.test")
    assert response.status_code == 400
    assert "different email address" in response.get_data(as_text=True)
    assert _count_users() == 0
    assert _register(client, token, email="INVITED@example.test").status_code == 302


@pytest.mark.parametrize("fields,message", [
    ({"password": "too short 1", "confirm": "too short 1"}, "at least 12 characters"),
    ({"password": "Password12345!", "confirm": "Password12345!"}, "too common"),
    ({"password": "newperson is my name 9", "confirm": "newperson is my name 9"}, "email address, username"),
    ({"confirm": GOOD_PASSWORD + "!"}, "passwords differ"),
    ({"username": "a b"}, "letters, digits"),
    ({"username": "x"}, "between 3 and 40"),
    ({"email": "not-an-email"}, "email address such as"),
    ({"display_name": "   "}, "name"),
])
def test_registration_form_errors_create_nothing(client, make, fields, message):
    _, token = accounts.create_invitation(make.customer_org(), None)
    response = _register(client, token, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count_users() == 0
    assert db.session.execute(select(Invitation.used_at)).scalar_one() is None


def test_taken_email_or_username_is_a_form_error(client, make):
    org = make.customer_org()
    make.user(org, email="new.person@example.test", username="someone")
    make.user(org, username="NewPerson", email="x@example.test")
    _, token = accounts.create_invitation(org, None)
    response = _register(client, token)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "already exists" in html and "username is taken" in html
    assert _count_users() == 2


def test_registration_without_csrf_is_refused(client, make):
    _, token = accounts.create_invitation(make.customer_org(), None)
    client.get(f"/register/{token}")
    response = client.post(f"/register/{token}", data={
        "email": "new.person@example.test", "username": "newperson", "display_name": "New Person",
        "password": GOOD_PASSWORD, "confirm": GOOD_PASSWORD})
    assert response.status_code == 400
    assert _count_users() == 0


def test_signed_in_user_is_told_to_sign_out_first(client, make, login):
    org = make.customer_org()
    login(make.user(org))
    _, token = accounts.create_invitation(org, None)
    html = client.get(f"/register/{token}").get_data(as_text=True)
    assert "Sign out first" in html and 'name="password"' not in html


def test_service_refuses_second_use_directly(make):
    org = make.customer_org()
    _, token = accounts.create_invitation(org, None)
    accounts.register_with_invitation(token, email="one@example.test", username="one1",
                                      display_name="One", password=GOOD_PASSWORD)
    with pytest.raises(accounts.InvitationInvalid) as info:
        accounts.register_with_invitation(token, email="two@example.test", username="two2",
                                          display_name="Two", password=GOOD_PASSWORD)
    assert info.value.reason == "used"
    assert _count_users() == 1
