"""Mail, password reset, unread tracking and bookmarks in headless Chromium against the served forum.

A visitor asks for a reset link from the login page (held: no mail server), a customer bookmarks a reply with a
note and a reminder, a colleague answers twice and the customer's home page shows "2 new" leading to the first of
them, and the admin previews the held reset mail with its link withheld. No console errors on the way.
"""
from __future__ import annotations

import os
import re

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 7"

SEED = f"""
import json
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Organisation, OrgKind, Reply, Space, Thread, User, Visibility
from forum.passwords import hash_password

pw = hash_password({PASSWORD!r})
vendor = Organisation(name="Vendor", slug="vendor", kind=OrgKind.VENDOR)
acme = Organisation(name="Acme Retail", slug="acme", kind=OrgKind.CUSTOMER)
db.session.add_all([vendor, acme])
db.session.flush()
space = Space(slug="installations", name="Installations", default_visibility=Visibility.PUBLIC)
db.session.add(space)
people = {{}}
for email, username, name, org, admin in [("ann@acme.test", "ann", "Ann at Acme", acme, False),
                                          ("cal@acme.test", "cal", "Cal at Acme", acme, False),
                                          ("ada@vendor.test", "ada", "Ada Admin", vendor, True)]:
    people[username] = User(email=email, username=username, display_name=name, password_hash=pw,
                            organisation_id=org.id, is_admin=admin)
db.session.add_all(people.values())
db.session.flush()
thread = Thread(space_id=space.id, author_id=people["cal"].id, organisation_id=acme.id, title="Kerberos after the upgrade",
                body_md="Tickets fail after 7.2.", body_html=render_markdown("Tickets fail after 7.2."), reply_count=2)
db.session.add(thread)
db.session.flush()
for text in ("Check the SPN first.", "Then the clock skew."):
    db.session.add(Reply(thread_id=thread.id, author_id=people["cal"].id, body_md=text, body_html=render_markdown(text)))
db.session.commit()
print(json.dumps({{"thread_id": thread.id}}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    with served_forum(tmp_path_factory.mktemp("reading"), SEED) as served:
        yield served


def test_reset_bookmarks_unread_and_the_outbox_in_chromium(forum):
    from playwright.sync_api import expect, sync_playwright

    base_url, seed = forum
    thread_url = f"{base_url}/t/{seed['thread_id']}"
    problems: list[str] = []

    def open_page(browser, who: str):
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        page.on("console", lambda m: problems.append(f"{who}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(f"{who}: page error {e}"))
        return page

    def sign_in(page, email: str):
        page.goto(base_url + "/login")
        page.fill("input[name=email]", email)
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

        visitor = open_page(browser, "visitor")
        visitor.goto(base_url + "/login")
        visitor.click("text=Forgot password?")
        visitor.fill("input[name=email]", "ann@acme.test")
        visitor.click("main form button[type=submit]")
        expect(visitor.locator("main [role=status]")).to_contain_text("is on its way")

        ann = open_page(browser, "ann")
        sign_in(ann, "ann@acme.test")
        ann.goto(thread_url)
        ann.locator("article.post:not(.question)").last.locator("text=☆ Bookmark").click()
        expect(ann.locator("text=Bookmarked. Add a note")).to_be_visible()
        ann.goto(base_url + "/bookmarks")
        expect(ann.locator("main")).to_contain_text("Then the clock skew.")
        ann.fill("textarea[name=note]", "Ask our network team about NTP")
        ann.fill("input[name=remind_at]", "2030-01-15T09:30")
        ann.click("main .bookmark-form button[type=submit]")
        expect(ann.locator("textarea[name=note]")).to_have_value("Ask our network team about NTP")
        expect(ann.locator("input[name=remind_at]")).to_have_value("2030-01-15T09:30")

        cal = open_page(browser, "cal")
        sign_in(cal, "cal@acme.test")
        for text in ("Fixed it: the SPN was missing.", "And the clock was 7 minutes off."):
            cal.goto(thread_url)
            cal.fill("textarea[name=body]", text)
            cal.click("text=Post reply")
            expect(cal.locator("main")).to_contain_text(text)

        ann.goto(base_url + "/")
        badge = ann.locator(f"a.badge-new[href='/t/{seed['thread_id']}/unread']")
        expect(badge).to_have_text("2 new")
        badge.click()
        assert re.search(r"#r\d+$", ann.url), ann.url
        expect(ann.locator("#first-unread")).to_be_visible()
        expect(ann.locator(".unread-bar")).to_contain_text("2 new")
        ann.goto(base_url + "/")
        expect(ann.locator("a.badge-new")).to_have_count(0)

        ada = open_page(browser, "ada")
        sign_in(ada, "ada@vendor.test")
        ada.goto(base_url + "/admin/")
        ada.click("text=Mail outbox")
        expect(ada.locator("main")).to_contain_text("No mail server is configured")
        ada.click("text=[Groundwork] Reset your password")
        expect(ada.locator("pre.mail-text")).to_contain_text("[one-time link withheld]")
        assert not re.search(r"/password/reset/[\w.-]{20,}", ada.locator("pre.mail-text").inner_text())
        browser.close()
    assert not problems, "\n".join(problems)
