"""Single sign-on against a real OpenID Connect provider on localhost (tests/forum/identity/oidc_provider.py):
routing by email domain, just-in-time accounts in the provider's organisation, linking by ``sub``, SSO-only
organisations, signing out at the provider, the second factor for staff unless the provider asserted MFA, and
every forged answer refused: wrong issuer, wrong audience, expired token, a key not published, a replayed state
or nonce. An SSO-created account then crawls every page and sees nothing of other organisations."""
from __future__ import annotations

import html
import re
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import AuditEntry, SsoIdentity, SsoProvider, User, Visibility
from forum.services.identity import oidc
from forum.services.identity.secretbox import seal
from tests.factories import Factory, csrf_token_from
from tests.forum.identity.oidc_provider import Provider


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None


_browser = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


@pytest.fixture()
def idp(app):
    app.config["SSO_ALLOW_HTTP"] = True  # the provider listens on plain http on 127.0.0.1
    oidc._cache.clear()
    provider = Provider().start()
    yield provider
    provider.stop()
    oidc._cache.clear()


@pytest.fixture()
def aldercrest(make, idp):
    org = make.customer_org("Aldercrest Foods")
    row = SsoProvider(organisation_id=org.id, label="Aldercrest SSO", issuer=idp.issuer, client_id=idp.client_id,
                      client_secret_encrypted=seal(idp.client_secret), email_domains=["aldercrest.example"],
                      sso_only=False, enabled=True)
    db.session.add(row)
    db.session.commit()
    return org


def _to_provider(client, email: str, next_url: str = ""):
    """The login form's SSO button: the redirect chain up to the provider's authorization URL."""
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login/sso", data={"email": email, "csrf_token": token, "next": next_url})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    start = re.search(r'id="onward" href="([^"]+)"', response.get_data(as_text=True)).group(1)
    response = client.get(html.unescape(start))
    assert response.status_code == 302
    return response.headers["Location"]


def _authorize(url: str) -> str:
    """The browser at the provider: it answers with a redirect to our callback; that path and query."""
    try:
        _browser.open(url, timeout=10)
    except urllib.error.HTTPError as exc:  # the 302, not followed
        assert exc.code == 302, exc.read()
        location = urlsplit(exc.headers["Location"])
        return location.path + "?" + location.query
    raise AssertionError("the provider did not redirect back")


def sso_login(client, email: str):
    callback = _authorize(_to_provider(client, email))
    return client.get(callback), callback


def _signed_in_as(client) -> str | None:
    response = client.get("/account")
    if response.status_code != 200:
        return None
    page = response.get_data(as_text=True)
    return page


def test_first_sign_in_creates_the_account_in_the_providers_organisation(app, client, aldercrest, idp):
    idp.sign_in_as(sub="alder-123", email="Nora.Quist@Aldercrest.example", name="Nora Quist")
    response, _ = sso_login(client, "nora.quist@aldercrest.example")
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    user = db.session.execute(select(User).where(User.email == "nora.quist@aldercrest.example")).scalar_one()
    assert user.organisation_id == aldercrest.id and user.display_name == "Nora Quist"
    assert user.password_hash == "" and not user.is_org_admin
    assert _signed_in_as(client) is not None
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "sso.account_created")).scalar_one()
    # The second sign-in finds the same account by the provider's subject, even with a changed email.
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    idp.sign_in_as(sub="alder-123", email="nora.q@aldercrest.example", name="Nora Q")
    response, _ = sso_login(client, "nora.q@aldercrest.example")
    assert response.status_code == 302
    assert db.session.execute(select(func.count()).select_from(User)).scalar_one() == 1
    assert db.session.execute(select(func.count()).select_from(SsoIdentity)).scalar_one() == 1


def test_an_existing_member_of_the_organisation_is_linked(app, client, make, aldercrest, idp):
    member = make.user(aldercrest, email="ann@aldercrest.example")
    idp.sign_in_as(sub="ann-sub", email="ann@aldercrest.example", name="Ann")
    response, _ = sso_login(client, "ann@aldercrest.example")
    assert response.status_code == 302
    identity = db.session.execute(select(SsoIdentity)).scalar_one()
    assert identity.user_id == member.id


def test_an_email_of_another_organisation_is_refused(app, client, make, aldercrest, idp):
    make.user(make.customer_org(), email="eve@aldercrest.example")
    idp.sign_in_as(sub="eve-sub", email="eve@aldercrest.example")
    response, _ = sso_login(client, "eve@aldercrest.example")
    assert response.status_code == 403 and "another organisation" in response.get_data(as_text=True)
    assert _signed_in_as(client) is None


@pytest.mark.parametrize("knob, value", [
    ("token_issuer", "http://127.0.0.1:1/not-the-issuer"),
    ("audience", "some-other-client"),
    ("lifetime", -120),
    ("wrong_key", True),
    ("nonce", "a-nonce-from-another-sign-in"),
    ("discovery_issuer", "https://elsewhere.example"),
])
def test_forged_or_stale_answers_are_refused(app, client, aldercrest, idp, knob, value):
    idp.sign_in_as(sub="x-1", email="x@aldercrest.example", name="X")
    idp.knobs[knob] = value
    if knob == "discovery_issuer":
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login/sso", data={"email": "x@aldercrest.example", "csrf_token": token})
        start = re.search(r'id="onward" href="([^"]+)"', response.get_data(as_text=True)).group(1)
        response = client.get(html.unescape(start))
        assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    else:
        response, _ = sso_login(client, "x@aldercrest.example")
        assert response.status_code == 403, knob
    assert _signed_in_as(client) is None
    assert db.session.execute(select(User).where(User.email == "x@aldercrest.example")).first() is None


def test_a_replayed_state_or_nonce_is_refused(app, client, aldercrest, idp):
    idp.sign_in_as(sub="r-1", email="r@aldercrest.example", name="R")
    response, callback = sso_login(client, "r@aldercrest.example")
    assert response.status_code == 302
    first_nonce = idp.last_nonce
    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    # The same callback again (its state was used up): refused, in this browser or another.
    assert client.get(callback).status_code == 403
    assert app.test_client().get(callback).status_code == 403
    # A state that is not the one this browser started with.
    url = _to_provider(client, "r@aldercrest.example")
    path = _authorize(url)
    forged = path.replace("state=", "state=x")
    assert client.get(forged).status_code == 403
    # A token carrying the nonce of the earlier sign-in, in a fresh round trip.
    idp.knobs["nonce"] = first_nonce
    response, _ = sso_login(client, "r@aldercrest.example")
    assert response.status_code == 403
    assert _signed_in_as(client) is None


def test_sso_only_organisations_refuse_passwords(app, client, make, aldercrest, idp):
    db.session.execute(db.update(SsoProvider).values(sso_only=True))
    db.session.commit()
    member = make.user(aldercrest, email="pat@aldercrest.example")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": member.email, "password": Factory.PASSWORD, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 403 and "Continue with Aldercrest SSO" in page
    assert _signed_in_as(client) is None
    # Routing by domain on the login page names the organisation's provider.
    assert "Continue with Aldercrest SSO" in client.get("/login?email=someone@aldercrest.example").get_data(
        as_text=True)
    # An address with no provider is told so, as a form error.
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login/sso", data={"email": "someone@elsewhere.example", "csrf_token": token})
    assert response.status_code == 400 and "No single sign-on is set up" in response.get_data(as_text=True)


def test_logout_signs_out_at_the_provider_too(app, client, aldercrest, idp):
    idp.sign_in_as(sub="l-1", email="l@aldercrest.example", name="L")
    sso_login(client, "l@aldercrest.example")
    response = client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))})
    assert response.status_code == 200
    onward = html.unescape(re.search(r'id="onward" href="([^"]+)"', response.get_data(as_text=True)).group(1))
    location = urlsplit(onward)
    assert f"{location.scheme}://{location.netloc}" == idp.issuer and location.path == "/logout"
    query = parse_qs(location.query)
    assert query["post_logout_redirect_uri"] == ["http://forum.test/login"] and query["id_token_hint"]
    assert _signed_in_as(client) is None


def test_staff_sso_needs_the_second_factor_unless_the_provider_asserted_mfa(app, client, make, idp):
    app.config["TWO_FACTOR_REQUIRED_FOR_STAFF"] = True
    vendor = make.vendor_org()
    db.session.add(SsoProvider(organisation_id=vendor.id, label="Vendor SSO", issuer=idp.issuer,
                               client_id=idp.client_id, client_secret_encrypted=seal(idp.client_secret),
                               email_domains=["vendor.example"], sso_only=False, enabled=True))
    db.session.commit()
    idp.sign_in_as(sub="s-1", email="sam@vendor.example", name="Sam", amr=["pwd"])
    response, _ = sso_login(client, "sam@vendor.example")
    assert response.headers["Location"].endswith("/login/two-factor")
    assert client.get("/").headers["Location"].endswith("/login/two-factor")
    assert _signed_in_as(client) is None
    other = app.test_client()
    idp.sign_in_as(sub="s-1", email="sam@vendor.example", name="Sam", amr=["pwd", "mfa"])
    response, _ = sso_login(other, "sam@vendor.example")
    assert response.headers["Location"].endswith("/")
    assert _signed_in_as(other) is not None


def test_an_sso_created_account_sees_only_what_its_organisation_may(app, client, make, aldercrest, idp):
    """The canary crawl for a just-in-time account: its organisation's private thread yes, nothing else."""
    from tests.forum.test_csrf import _world

    _, values = _world(make)
    own = make.thread(make.user(aldercrest), visibility=Visibility.ORG_PRIVATE, title="Aldercrest private plan")
    other = make.customer_org()
    make.thread(make.user(other), visibility=Visibility.ORG_PRIVATE, title="CANARYOTHERPRIVATE")
    make.thread(make.employee(), visibility=Visibility.INTERNAL, title="CANARYINTERNALONLY")
    idp.sign_in_as(sub="c-1", email="crawler@aldercrest.example", name="Crawler")
    sso_login(client, "crawler@aldercrest.example")
    assert "Aldercrest private plan" in client.get(f"/t/{own.id}").get_data(as_text=True)
    values = {**values, "username": "crawler", "filename": "groundwork.css", "name": "responses"}
    leaks, checked = [], 0
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        url = rule.build({a: values.get(a, 1) for a in rule.arguments}, append_unknown=False)[1]
        body = client.get(url).get_data(as_text=True)
        checked += 1
        leaks += [f"{url}: {c}" for c in ("CANARYOTHERPRIVATE", "CANARYINTERNALONLY") if c in body]
    for query in ("CANARY", "private", "internal"):
        body = client.get(f"/search?q={query}").get_data(as_text=True)
        leaks += [f"search {query}: {c}" for c in ("CANARYOTHERPRIVATE", "CANARYINTERNALONLY") if c in body]
    print(f"SSO-created account: {checked} GET routes crawled")
    assert checked > 50 and not leaks, leaks


def test_admins_configure_an_organisations_provider(app, client, make, login, idp):
    org = make.customer_org("Brightwater")
    customer_admin = make.user(org, is_org_admin=True)
    login(customer_admin)
    assert client.get(f"/admin/organisations/{org.id}/sso").status_code == 403
    admin_client = app.test_client()
    login(make.employee(is_admin=True), admin_client)
    page = admin_client.get(f"/admin/organisations/{org.id}/sso").get_data(as_text=True)
    data = {"csrf_token": csrf_token_from(page), "label": "", "issuer": idp.issuer, "client_id": "gw",
            "client_secret": "the-secret", "email_domains": "brightwater.example, @BW.example", "enabled": "y"}
    app.config["SSO_ALLOW_HTTP"] = False
    response = admin_client.post(f"/admin/organisations/{org.id}/sso", data=data)
    assert response.status_code == 400 and "https://" in response.get_data(as_text=True)
    app.config["SSO_ALLOW_HTTP"] = True
    assert admin_client.post(f"/admin/organisations/{org.id}/sso",
                             data={**data, "email_domains": "not a domain"}).status_code == 400
    assert admin_client.post(f"/admin/organisations/{org.id}/sso", data=data).status_code == 302
    row = db.session.execute(select(SsoProvider)).scalar_one()
    assert row.label == "Brightwater SSO" and row.email_domains == ["brightwater.example", "bw.example"]
    assert b"the-secret" not in bytes(row.client_secret_encrypted)
    # Saving again without a secret keeps the stored one.
    assert admin_client.post(f"/admin/organisations/{org.id}/sso",
                             data={**data, "client_secret": ""}).status_code == 302
    db.session.expire_all()
    from forum.services.identity.secretbox import unseal
    assert unseal(db.session.execute(select(SsoProvider)).scalar_one().client_secret_encrypted) == "the-secret"
    assert db.session.execute(select(AuditEntry).where(AuditEntry.action == "sso.configure")).first()
