"""The composer's @mention autocomplete in headless Chromium against the forum served by gunicorn.

Replying to an organisation-private thread, "@an" offers the asker's colleague and the engaged partner, never the
member of another customer with the same prefix; Enter inserts the username, and the posted reply links it.
``MENTION_SCREENSHOT=path.png`` also saves a picture of the open list.
"""
from __future__ import annotations

import os
import re

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 8"

SEED = f"""
import json
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Engagement, Organisation, OrgKind, Space, Thread, User, Visibility
from forum.passwords import hash_password

pw = hash_password({PASSWORD!r})
vendor = Organisation(name="Vendor", slug="vendor", kind=OrgKind.VENDOR)
acme = Organisation(name="Aldercrest Foods", slug="aldercrest", kind=OrgKind.CUSTOMER)
globex = Organisation(name="Globex Freight", slug="globex", kind=OrgKind.CUSTOMER)
quay = Organisation(name="Quayside Consulting", slug="quayside", kind=OrgKind.PARTNER)
db.session.add_all([vendor, acme, globex, quay])
db.session.flush()
db.session.add(Engagement(partner_id=quay.id, customer_id=acme.id))
def user(org, username, name):
    row = User(email=username + "@example.test", username=username, display_name=name, password_hash=pw,
               organisation_id=org.id)
    db.session.add(row)
    return row
asker = user(acme, "rowan", "Rowan Hale")
user(acme, "anna.berg", "Anna Berg")
user(quay, "andre.quay", "André Quayle")
user(vendor, "anika.staff", "Anika Staff")
user(globex, "annika.out", "Annika Outsider")
space = Space(slug="installations", name="Installations")
db.session.add(space)
db.session.flush()
thread = Thread(space_id=space.id, author_id=asker.id, organisation_id=acme.id, title="SSO loops after the 7.2 upgrade",
                body_md="Users bounce between the login page and the IdP.",
                body_html=render_markdown("Users bounce between the login page and the IdP."),
                visibility=Visibility.ORG_PRIVATE)
db.session.add(thread)
db.session.commit()
print(json.dumps({{"thread": thread.id}}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    with served_forum(tmp_path_factory.mktemp("mentions"), SEED) as (base_url, seed):
        yield base_url, seed


def test_mention_autocomplete_offers_only_the_threads_readers(forum):
    from playwright.sync_api import expect, sync_playwright

    base_url, seed = forum
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 800}).new_page()
            page.set_default_timeout(20_000)
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(f"page error {e}"))
            page.goto("/login")
            page.fill("#email", "rowan@example.test")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/login" not in url)

            page.goto(f"/t/{seed['thread']}")
            body = page.locator("#body")
            body.press_sequentially("Could @an", delay=30)
            options = page.get_by_role("option")
            expect(options).to_have_count(3)
            names = options.all_inner_texts()
            assert any("Anna Berg" in n for n in names) and any("André Quayle" in n for n in names)
            assert any("Anika Staff" in n for n in names)
            assert not any("Annika" in n for n in names)  # another customer's member cannot read this thread
            body.press("ArrowDown")
            if os.environ.get("MENTION_SCREENSHOT"):
                page.locator(".md-editor").first.screenshot(path=os.environ["MENTION_SCREENSHOT"])
            body.press("Enter")  # by display name: André Quayle, Anika Staff, Anna Berg
            expect(page.get_by_role("listbox")).to_be_hidden()
            assert body.input_value() == "Could @anika.staff "
            body.press_sequentially("look at this?", delay=10)
            page.get_by_role("button", name="Post reply").click()
            page.wait_for_url(re.compile(r"/t/\d+"))
            expect(page.locator("a.mention", has_text="@anika.staff")).to_have_attribute("href", "/u/anika.staff")
        finally:
            browser.close()
    assert problems == [], f"console errors: {problems}"
