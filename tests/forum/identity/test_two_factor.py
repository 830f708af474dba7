"""Two-factor sign-in through the real routes: staff must set it up and reach nothing before it is passed, codes
cannot be replayed or used late, recovery codes work once, remembered devices skip it until forgotten, and an
admin's reset is audited and signs the member out."""
from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import AuditEntry, RecoveryCode, TwoFactor, Visibility
from tests.factories import Factory, csrf_token_from

SECRET_RE = re.compile(r'id="totp-secret">([A-Z2-7]+)<')
CODE_RE = re.compile(r"<code>([a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4})</code>")


@pytest.fixture()
def staff_required(app):
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = True


def _password(client, user):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": user.email, "password": Factory.PASSWORD, "csrf_token": token})


def _post(client, url, data=None, page=None):
    token = csrf_token_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={**(data or {}), "csrf_token": token})


def _enroll(client, user) -> tuple[str, list[str]]:
    """Password, then set up the app from the setup page; the secret and the recovery codes shown."""
    _password(client, user)
    page = client.get("/login/two-factor/setup").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    response = _post(client, "/login/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = CODE_RE.findall(response.get_data(as_text=True))
    assert len(codes) == 10
    return secret, codes


def _logout(client):
    token = csrf_token_from(client.get("/login", follow_redirects=True).get_data(as_text=True))
    client.post("/logout", data={"csrf_token": token})


def _challenge(client, code, remember=False):
    data = {"code": code}
    if remember:
        data["remember"] = "y"
    return _post(client, "/login/two-factor", data)


def _signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def test_staff_password_alone_reaches_only_the_setup_page(app, client, make, staff_required):
    """Every GET route, crawled with the session a correct password gives staff without a second factor:
    each answers a redirect to the second factor (or is that page), and no private text shows anywhere."""
    from tests.forum.test_csrf import _world

    admin, values = _world(make)
    customer = make.customer_org()
    asker = make.user(customer)
    make.thread(asker, visibility=Visibility.ORG_PRIVATE, title="CANARYSTAFFONLYTITLE", body="CANARYBODY")
    values = {**values, "username": asker.username, "filename": "groundwork.css", "name": "responses",
              "device_id": 1}
    response = _password(client, admin)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login/two-factor")
    allowed = {"two_factor.challenge", "two_factor.setup", "auth.login", "static"}
    leaks, checked = [], 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = rule.build({a: values.get(a, 1) for a in rule.arguments}, append_unknown=False)[1]
        response = client.get(url)
        checked += 1
        body = response.get_data(as_text=True)
        if "CANARY" in body:
            leaks.append(f"GET {url}: private text shown")
        if rule.endpoint in allowed:
            continue
        location = response.headers.get("Location", "")
        if response.status_code == 302 and "/login/two-factor" in location:
            continue
        leaks.append(f"GET {url}: {response.status_code} {location}")
    print(f"pending staff sign-in: {checked} GET routes crawled")
    assert checked > 50
    assert not leaks, "\n".join(leaks)
    # Staff without a factor land on setting one up, and are still not signed in.
    assert client.get("/login/two-factor").headers["Location"].endswith("/login/two-factor/setup")
    assert not _signed_in(client)


def test_staff_set_up_an_app_and_then_sign_in_with_it(app, client, make, staff_required):
    employee = make.employee()
    secret, codes = _enroll(client, employee)
    assert _signed_in(client)
    assert client.get("/").status_code == 200
    # At rest the secret is encrypted, the recovery codes digested.
    row = db.session.get(TwoFactor, employee.id)
    assert secret.encode() not in bytes(row.secret_encrypted)
    stored = db.session.execute(select(RecoveryCode.code_hash)).scalars().all()
    assert len(stored) == 10 and not {c.replace("-", "") for c in codes} & set(stored)
    _logout(client)
    assert _password(client, employee).headers["Location"].endswith("/login/two-factor")
    assert not _signed_in(client)
    # A code of the next 30-second step (one step of drift is allowed), since the current one was used up.
    response = _challenge(client, pyotp.TOTP(secret).at(time.time() + 30))
    assert response.status_code == 302
    assert _signed_in(client)


def test_replayed_and_expired_codes_are_refused(app, client, make, staff_required):
    employee = make.employee()
    secret, _ = _enroll(client, employee)
    totp = pyotp.TOTP(secret)
    _logout(client)
    # The code used to set the app up is spent: replaying it is refused.
    _password(client, employee)
    response = _challenge(client, totp.now())
    assert response.status_code == 401 and "not valid" in response.get_data(as_text=True)
    # Codes of two minutes ago, or of two minutes ahead, are refused.
    for offset in (-120, -90, 90):
        assert _challenge(client, totp.at(time.time() + offset)).status_code == 401
    assert _challenge(client, "12345").status_code == 401
    assert _challenge(client, "").status_code == 400
    assert not _signed_in(client)
    good = totp.at(time.time() + 30)
    assert _challenge(client, good).status_code == 302
    _logout(client)
    _password(client, employee)
    assert _challenge(client, good).status_code == 401  # the same code again, in another sign-in
    assert not _signed_in(client)


def test_recovery_codes_work_once_each(app, client, make, staff_required):
    employee = make.employee()
    _, codes = _enroll(client, employee)
    _logout(client)
    _password(client, employee)
    response = _challenge(client, codes[0].upper())  # typed in capitals: still the code
    assert response.status_code == 302 and _signed_in(client)
    _logout(client)
    _password(client, employee)
    assert _challenge(client, codes[0]).status_code == 401
    assert not _signed_in(client)
    assert _challenge(client, codes[1]).status_code == 302 and _signed_in(client)
    # New codes replace the old ones.
    response = _post(client, "/account/two-factor/recovery-codes", page="/account/two-factor")
    fresh = CODE_RE.findall(response.get_data(as_text=True))
    assert len(fresh) == 10
    _logout(client)
    _password(client, employee)
    assert _challenge(client, codes[2]).status_code == 401
    assert _challenge(client, fresh[0]).status_code == 302


def test_a_remembered_device_skips_the_code_until_forgotten(app, client, make, staff_required):
    employee, other = make.employee(), make.employee()
    secret, codes = _enroll(client, employee)
    _logout(client)
    _password(client, employee)
    assert _challenge(client, codes[0], remember=True).status_code == 302
    cookie = client.get_cookie("gw_device", domain="forum.test")
    assert cookie is not None and cookie.http_only
    _logout(client)
    response = _password(client, employee)
    assert response.headers["Location"].endswith("/") and _signed_in(client)
    # The cookie is bound to its member: another member's sign-in on this browser still needs their factor.
    _logout(client)
    assert _password(client, other).headers["Location"].endswith("/login/two-factor")
    # Forgetting the device from the account page revokes it.
    other_client = app.test_client()
    _password(other_client, employee)
    _challenge(other_client, codes[1])
    page = other_client.get("/account/two-factor").get_data(as_text=True)
    device_id = re.search(r"/account/two-factor/devices/(\d+)/forget", page).group(1)
    _post(other_client, f"/account/two-factor/devices/{device_id}/forget", page="/account/two-factor")
    _logout(client)
    client.set_cookie("gw_device", cookie.value, domain=cookie.domain)
    assert _password(client, employee).headers["Location"].endswith("/login/two-factor")


def test_optional_for_customers_and_staff_cannot_turn_it_off(app, client, make, staff_required):
    customer, employee = make.user(), make.employee()
    response = _password(client, customer)
    assert response.headers["Location"].endswith("/") and _signed_in(client)
    # A customer sets it up from the account page; from then on their sign-in asks for it.
    page = client.get("/login/two-factor/setup").get_data(as_text=True)
    secret = SECRET_RE.search(page).group(1)
    assert _post(client, "/login/two-factor/setup", {"code": pyotp.TOTP(secret).now()}).status_code == 200
    assert _signed_in(client)
    _logout(client)
    assert _password(client, customer).headers["Location"].endswith("/login/two-factor")
    assert _challenge(client, pyotp.TOTP(secret).at(time.time() + 30)).status_code == 302
    assert _post(client, "/account/two-factor/off", page="/account/two-factor").status_code == 302
    assert db.session.get(TwoFactor, customer.id) is None
    _logout(client)
    _enroll(client, employee)
    assert _post(client, "/account/two-factor/off", page="/account/two-factor").status_code == 403
    assert db.session.get(TwoFactor, employee.id) is not None


def test_a_session_from_before_the_requirement_goes_through_the_factor(app, client, make):
    employee = make.employee()
    _password(client, employee)
    assert _signed_in(client)
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = True
    response = client.get("/")
    assert response.status_code == 302 and "/login/two-factor" in response.headers["Location"]
    assert client.get("/account").status_code == 302


def test_admin_resets_a_members_second_factor_audited(app, client, make, login, staff_required):
    member, admin, lead = make.employee(), make.employee(is_admin=True), make.employee(is_lead=True)
    member_client = app.test_client()
    secret, _ = _enroll(member_client, member)
    assert _signed_in(member_client)
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = False  # the admin and lead sign in by password here
    login(lead)
    assert _post(client, f"/admin/users/{member.id}/two-factor/reset", page="/").status_code == 403
    assert db.session.get(TwoFactor, member.id) is not None
    _logout(client)
    login(admin)
    assert _post(client, f"/admin/users/{member.id}/two-factor/reset", page="/").status_code == 302
    assert _post(client, f"/admin/users/{admin.id}/two-factor/reset", page="/").status_code == 403
    assert db.session.get(TwoFactor, member.id) is None
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.action == "two_factor.reset")).scalar_one()
    assert entry.actor_id == admin.id and entry.target_id == member.id
    # The member was signed out, and next time sets up a new app before anything else.
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = True
    assert not _signed_in(member_client)
    _password(member_client, member)
    assert member_client.get("/login/two-factor").headers["Location"].endswith("/login/two-factor/setup")


def test_a_session_from_before_second_factors_is_looked_at_once(app, client, make):
    """A signed-in session that predates second factors: an enrolled member goes through the challenge, one
    without a factor is marked and left alone."""
    customer, enrolled = make.user(), make.user()
    db.session.add(TwoFactor(user_id=enrolled.id, secret_encrypted=b"not-needed-here", last_step=0))
    db.session.commit()
    for user, kept in ((customer, True), (enrolled, False)):
        c = app.test_client()
        if kept:
            _password(c, user)
        else:  # an enrolled member's password now leads to the challenge: build the old session by hand
            with c.session_transaction() as session:
                session["_user_id"] = user.get_id()
                session["_fresh"] = True
        with c.session_transaction() as session:
            session.pop("second_factor", None)
        response = c.get("/account")
        assert (response.status_code == 200) is kept, user
        if not kept:
            assert response.headers["Location"].endswith("/login/two-factor")
        else:
            with c.session_transaction() as session:
                assert session["second_factor"] == "none"


def test_a_remembered_device_lasts_thirty_days(app, client, make, staff_required):
    from datetime import timedelta

    from forum.models import RememberedDevice, utcnow

    employee = make.employee()
    _, codes = _enroll(client, employee)
    _logout(client)
    _password(client, employee)
    response = _challenge(client, codes[0], remember=True)
    assert response.status_code == 302
    cookie = client.get_cookie("gw_device", domain="forum.test")
    device = db.session.execute(select(RememberedDevice)).scalar_one()
    assert abs(device.expires_at - device.created_at - timedelta(days=30)) < timedelta(seconds=1)
    assert cookie.max_age == 30 * 86400 or "Max-Age=2592000" in response.headers.get("Set-Cookie", "")
    # A day before it runs out the device still skips the code; once it ran out, the code is asked again.
    device.expires_at = utcnow() + timedelta(days=1)
    db.session.commit()
    _logout(client)
    assert _password(client, employee).headers["Location"].endswith("/")
    device.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    _logout(client)
    assert _password(client, employee).headers["Location"].endswith("/login/two-factor")
    assert not _signed_in(client)
