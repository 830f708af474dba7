"""The Q&A workflow in headless Chromium against the forum served by gunicorn on 127.0.0.1.

A customer asks with a deployment, an engaged partner answers, the customer accepts, a second customer
confirms ("worked for us too") — and payloads from the XSS list, in the question, the answer and a display
name, fire no dialog. Any Content-Security-Policy violation reported on the console fails the test too.
"""
from __future__ import annotations

import os
import re

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum
from tests.forum.xss_payloads import PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 7"
DIALOG_PAYLOADS = [p for p in PAYLOADS if "alert(1)" in p]

SEED = f"""
import json
from datetime import date
from forum.extensions import db
from forum.models import (Deployment, Engagement, Organisation, OrgKind, Product, ProductVersion, Space, User,
                          Visibility)
from forum.passwords import hash_password

pw = hash_password({PASSWORD!r})
orgs = {{slug: Organisation(name=name, slug=slug, kind=kind) for slug, name, kind in [
    ("vendor", "Vendor", OrgKind.VENDOR), ("acme", "Acme Retail", OrgKind.CUSTOMER),
    ("globex", "Globex Foods", OrgKind.CUSTOMER), ("fixit", "Fixit Partners", OrgKind.PARTNER)]}}
db.session.add_all(orgs.values())
db.session.flush()
db.session.add(Engagement(partner_id=orgs["fixit"].id, customer_id=orgs["acme"].id))
product = Product(name="Ledger", slug="ledger")
db.session.add(product)
db.session.flush()
version = ProductVersion(product_id=product.id, name="7.2", position=1)
db.session.add(version)
db.session.flush()
deployments = {{slug: Deployment(organisation_id=orgs[slug].id, name=f"{{orgs[slug].name}} production",
                                 product_version_id=version.id, database="PostgreSQL 15", topology="cluster",
                                 go_live=date(2025, 6, 1)) for slug in ("acme", "globex")}}
db.session.add_all(deployments.values())
db.session.add(Space(slug="installations", name="Installations", default_visibility=Visibility.PUBLIC))
people = [("ann@acme.test", "ann", "Ann at Acme", "acme"), ("bob@globex.test", "bob", "Bob at Globex", "globex"),
          ("pia@fixit.test", "pia", {DIALOG_PAYLOADS[0]!r}, "fixit")]
for email, username, name, slug in people:
    db.session.add(User(email=email, username=username, display_name=name, password_hash=pw,
                        organisation_id=orgs[slug].id))
db.session.commit()
print(json.dumps({{slug: d.id for slug, d in deployments.items()}}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    with served_forum(tmp_path_factory.mktemp("browser"), SEED) as served:
        yield served


def test_ask_answer_accept_confirm_in_chromium(forum):
    from playwright.sync_api import expect, sync_playwright

    base_url, deployments = forum
    dialogs: list[str] = []
    console_problems: list[str] = []

    def watch(page, who: str):
        page.on("dialog", lambda d: (dialogs.append(f"{who}: {d.type} {d.message!r} on {page.url}"), d.dismiss()))
        page.on("console", lambda m: console_problems.append(f"{who}: {m.text}") if (
            m.type == "error" and ("Content Security Policy" in m.text or "Content-Security-Policy" in m.text))
            else None)
        page.on("pageerror", lambda e: console_problems.append(f"{who}: page error {e}"))
        return page

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            def signed_in(email: str, who: str):
                context = browser.new_context(base_url=base_url)
                context.set_default_timeout(20_000)
                page = watch(context.new_page(), who)
                page.goto("/login")
                page.fill("#email", email)
                page.fill("#password", PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(lambda url: "/login" not in url)
                return page

            # 1. A customer asks a question about one of their deployments, and sees it listed.
            ann = signed_in("ann@acme.test", "customer")
            ann.goto("/ask")
            title = "Cluster node loses its licence after the 7.2 upgrade"
            ann.fill("#title", title)
            ann.fill("#body", "After upgrading our cluster the second node says *licence invalid*.\n\n"
                     + "\n\n".join(DIALOG_PAYLOADS[:6]) + "\n\n[click me](javascript:alert(1))")
            ann.select_option("#deployment", str(deployments["acme"]))
            ann.fill("#tags", "licensing, upgrade")
            ann.get_by_role("button", name=re.compile("post|ask", re.I)).last.click()
            ann.wait_for_url(re.compile(r"/t/\d+"))
            thread_url = ann.url.split("#")[0]
            expect(ann.locator("h1")).to_have_text(title)
            expect(ann.locator("body")).to_contain_text("Acme Retail production")  # the deployment snapshot
            # The javascript: link lost its href; clicking what is left must do nothing.
            ann.locator(".post-body").get_by_text("click me").click(no_wait_after=True)
            ann.goto("/")
            expect(ann.get_by_role("link", name=title).first).to_be_visible()

            # 2. A partner engaged with that customer answers (their display name is a payload).
            pia = signed_in("pia@fixit.test", "partner")
            pia.goto(thread_url)
            answer = "Re-issue the cluster licence from the admin console, then restart node 2."
            pia.fill("#body", answer + "\n\n" + DIALOG_PAYLOADS[-1])
            pia.get_by_role("button", name="Post reply").click()
            pia.wait_for_load_state()
            expect(pia.locator("body")).to_contain_text(answer)

            # 3. The customer accepts the answer.
            ann.goto(thread_url)
            ann.get_by_role("button", name="Accept as answer").first.click()
            ann.wait_for_load_state()
            expect(ann.locator("body")).to_contain_text("Accepted answer")

            # 4. A second customer confirms it at one of their deployments.
            bob = signed_in("bob@globex.test", "second customer")
            bob.goto(thread_url)
            bob.select_option("#deployment", str(deployments["globex"]))
            bob.get_by_role("button", name="Worked for us too").click()
            bob.wait_for_load_state()
            expect(bob.locator("body")).to_contain_text("Confirmed at 1 deployment")

            # 5. Nothing fired anywhere along the way, on any page seen by anyone.
            for page in (ann, pia, bob):
                page.goto(thread_url)
                page.goto("/")
                page.wait_for_timeout(300)
        finally:
            browser.close()
    assert dialogs == [], f"payloads fired dialogs: {dialogs}"
    assert console_problems == [], f"console errors: {console_problems}"
