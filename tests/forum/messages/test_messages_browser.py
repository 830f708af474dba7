"""Direct messages and ideas in headless Chromium: a customer writes to a support engineer from the engineer's
profile, the engineer sees the unread count, answers, and blocks nobody; the customer votes for an idea, staff
plan it with a note and the customer's inbox says so. No console errors and no dialogs along the way."""
from __future__ import annotations

import os
import re

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum
from tests.forum.xss_payloads import PAYLOADS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 7"
PAYLOAD = next(p for p in PAYLOADS if "alert(1)" in p)

SEED = f"""
import json
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Organisation, OrgKind, Space, SpaceKind, Thread, User, Visibility
from forum.passwords import hash_password

pw = hash_password({PASSWORD!r})
vendor = Organisation(name="Vendor", slug="vendor", kind=OrgKind.VENDOR)
acme = Organisation(name="Acme Retail", slug="acme", kind=OrgKind.CUSTOMER)
db.session.add_all([vendor, acme])
db.session.flush()
ann = User(email="ann@acme.test", username="ann", display_name="Ann at Acme", password_hash=pw, organisation_id=acme.id)
sam = User(email="sam@vendor.test", username="sam", display_name="Sam Support", password_hash=pw,
           organisation_id=vendor.id)
space = Space(slug="ideas", name="Product ideas", kind=SpaceKind.IDEAS, default_visibility=Visibility.PUBLIC)
db.session.add_all([ann, sam, space])
db.session.flush()
idea = Thread(space_id=space.id, author_id=ann.id, organisation_id=acme.id, title="Schedule exports in the console",
              body_md="Cron is painful.", body_html=render_markdown("Cron is painful."))
db.session.add(idea)
db.session.commit()
print(json.dumps({{"idea": idea.id}}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("messages-browser")
    with served_forum(tmp, SEED, extra_env={"FORUM_ATTACHMENT_DIR": str(tmp / "files")}) as served:
        yield served


def test_a_conversation_and_an_idea_in_chromium(forum):
    from playwright.sync_api import expect, sync_playwright

    base_url, seed = forum
    problems: list[str] = []

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            def signed_in(email: str, who: str):
                context = browser.new_context(base_url=base_url)
                context.set_default_timeout(20_000)
                page = context.new_page()
                page.on("dialog", lambda d: (problems.append(f"{who}: dialog {d.message!r}"), d.dismiss()))
                page.on("console", lambda m: problems.append(f"{who}: {m.text}") if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"{who}: page error {e}"))
                page.goto("/login")
                page.fill("#email", email)
                page.fill("#password", PASSWORD)
                page.get_by_role("button", name="Sign in").click()
                page.wait_for_url(lambda url: "/login" not in url)
                return page

            ann = signed_in("ann@acme.test", "customer")
            ann.goto("/u/sam")
            ann.get_by_role("link", name="Send a message").click()
            expect(ann.locator("#to")).to_have_value("sam")
            ann.fill("#subject", "Import log before Thursday")
            ann.fill("#body", "Could you look at our import log? " + PAYLOAD)
            ann.get_by_role("button", name="Send").click()
            ann.wait_for_url(re.compile(r"/messages/\d+"))
            conversation_url = ann.url.split("#")[0]
            expect(ann.locator(".message")).to_have_count(1)

            sam = signed_in("sam@vendor.test", "employee")
            sam.goto("/")
            expect(sam.locator(".nav-account")).to_contain_text("1")
            sam.goto("/messages")
            sam.get_by_role("link", name="Import log before Thursday").click()
            expect(sam.locator("body")).to_contain_text("Could you look at our import log?")
            sam.fill("#body", "Yes: send it over, I will read it today.")
            sam.get_by_role("button", name="Send").click()
            sam.wait_for_load_state()
            expect(sam.locator(".message")).to_have_count(2)

            ann.goto(conversation_url)
            expect(ann.locator("body")).to_contain_text("I will read it today")

            # The idea: the customer votes, staff plan it with a note, the customer hears of it.
            ann.goto("/ideas/ideas")
            ann.get_by_role("button", name="Vote").click()
            ann.wait_for_load_state()
            expect(ann.locator(".idea-votes").first).to_contain_text("1")
            sam.goto(f"/t/{seed['idea']}")
            sam.select_option("#idea-status", "planned")
            sam.fill("#idea-note", "Planned for the next release.")
            sam.get_by_role("button", name="Save status").click()
            sam.wait_for_load_state()
            expect(sam.locator(".idea-panel")).to_contain_text("Planned for the next release.")
            ann.goto("/inbox")
            expect(ann.locator("body")).to_contain_text("changed the status of the idea")
            ann.goto(f"/t/{seed['idea']}")
            expect(ann.locator(".idea-panel")).to_contain_text("Planned")
        finally:
            browser.close()
    assert problems == [], problems
