"""Single sign-on in headless Chromium: the forum served by gunicorn, the OpenID Connect provider of the tests on
localhost. A member of Aldercrest types their work email, presses "Continue with single sign-on", passes the
provider and lands signed in, in a just-created account of Aldercrest; signing out goes through the provider's
end-session endpoint. No console error on the way."""
from __future__ import annotations

import os

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum
from tests.forum.identity.oidc_provider import Provider

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def idp():
    provider = Provider().start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def forum(tmp_path_factory, idp):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    seed = f"""
from forum.extensions import db
from forum.models import Organisation, OrgKind, SsoProvider
from forum.services.identity.secretbox import seal

org = Organisation(name="Aldercrest Foods", slug="aldercrest", kind=OrgKind.CUSTOMER)
db.session.add(org)
db.session.flush()
db.session.add(SsoProvider(organisation_id=org.id, label="Aldercrest SSO", issuer={idp.issuer!r},
                           client_id={idp.client_id!r}, client_secret_encrypted=seal({idp.client_secret!r}),
                           email_domains=["aldercrest.example"], sso_only=True, enabled=True))
db.session.commit()
print("{{}}")
"""
    with served_forum(tmp_path_factory.mktemp("sso"), seed, {"FORUM_SSO_ALLOW_HTTP": "true"}) as served:
        yield served


def test_signing_in_and_out_through_the_identity_provider(forum, idp):
    from playwright.sync_api import expect, sync_playwright

    base_url, _ = forum
    idp.sign_in_as(sub="nora-1", email="nora@aldercrest.example", name="Nora Quist")
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(base_url=base_url)
            page.set_default_timeout(20_000)
            # The forum's pages only: the test provider's plain JSON pages have no favicon.
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and (
                m.location.get("url") or base_url).startswith(base_url) else None)
            page.on("pageerror", lambda e: problems.append(f"page error {e}"))
            page.goto("/login")
            page.fill("#email", "nora@aldercrest.example")
            page.get_by_role("button", name="Continue with single sign-on").click()
            page.wait_for_url(lambda url: url.rstrip("/") == base_url)
            expect(page.locator("body")).to_contain_text("Nora Quist")
            page.goto("/account")
            expect(page.locator("body")).to_contain_text("Nora Quist")
            # SSO only: the password form names the provider instead.
            other = browser.new_page(base_url=base_url)
            other.goto("/login")
            other.fill("#email", "nora@aldercrest.example")
            other.fill("#password", "any password at all 1")
            other.get_by_role("button", name="Sign in").click()
            expect(other.locator("body")).to_contain_text("Continue with Aldercrest SSO")
            # Signing out passes through the provider's end-session endpoint.
            page.goto("/")
            page.locator("form[action='/logout']").first.evaluate("form => form.requestSubmit()")
            page.wait_for_url(lambda url: url.startswith(idp.issuer + "/logout"))
            assert idp.logouts and idp.logouts[-1]["post_logout_redirect_uri"] == base_url + "/login"
        finally:
            browser.close()
    assert problems == [], problems
