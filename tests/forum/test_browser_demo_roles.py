"""Mail, attachments, direct messages, unread tracking, bookmarks, avatars and ideas in headless Chromium on the
demo forum, signed in as every demo role in turn.

Each role follows its "N new" badge to the first unread reply, finds news since its last visit, bookmarks a post
and gives it a note and a reminder date, opens the demo question with the attached log and screenshot (the log's
first lines, the thumbnail drawn, the file served) or is refused the file if it may not see that question, sees an
avatar beside every post and the demo employee's picture, votes for a product idea and writes a direct message.
Along the way the customer uploads a picture and reports a message of the demo conversation, the customer's org
admin blocks and unblocks a partner, the employee sets an idea's status, the moderator removes the reported
message and the admin previews a held mail in the outbox. No console errors on the way.
"""
from __future__ import annotations

import re

import pytest

from tests.browser_support import chromium_browser, served_for_chromium, sign_in_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "groundwork-demo-2026"
ROLES = ("customer", "customer-admin", "partner", "employee", "lead", "moderator", "admin")  # every demo login
STAFF = ("employee", "lead", "moderator", "admin")

SEED = """
import json

from forum import permissions
from forum.extensions import db
from forum.models import Attachment, Conversation, Thread, User

result = app.test_cli_runner().invoke(args=["seed-demo"])
assert result.exit_code == 0, result.output
files = db.session.execute(db.select(Attachment).order_by(Attachment.id)).scalars().all()
thread = db.session.get(Thread, files[0].thread_id)
users = {role: db.session.execute(db.select(User).where(User.email == f"{role}@demo.test")).scalar_one()
         for role in ("customer", "customer-admin", "partner", "employee", "lead", "moderator", "admin")}
conversation = db.session.execute(db.select(Conversation.id).where(
    Conversation.subject == "Import log before the upgrade window")).scalar_one()
print(json.dumps({
    "thread": thread.id, "files": {f.filename: f.id for f in files}, "conversation": conversation,
    "usernames": {role: u.username for role, u in users.items()},
    "sees_files": {role: permissions.can_view(u, thread) for role, u in users.items()},
}))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo-roles")
    with served_for_chromium(tmp, SEED, {"FORUM_ATTACHMENT_DIR": str(tmp / "files")}) as served:
        yield served


def _picture(path) -> str:
    from PIL import Image

    Image.new("RGB", (300, 200), (30, 120, 60)).save(path, "PNG")
    return str(path)


def _drawn(page, selector: str) -> bool:
    """Whether every image the selector finds loads and decodes (a broken image has no width); lazy images are
    brought into view first."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    images = page.locator(selector)
    if images.count() == 0:
        return False
    for i in range(images.count()):
        images.nth(i).scroll_into_view_if_needed()
    try:
        page.wait_for_function("s => [...document.querySelectorAll(s)].every(i => i.complete && i.naturalWidth > 0)",
                               arg=selector, timeout=10_000)
    except PlaywrightTimeout:
        return False
    return True


def test_every_item_works_for_every_demo_role(demo, tmp_path):
    from playwright.sync_api import expect

    base_url, seed = demo
    names = seed["usernames"]
    problems: list[str] = []
    with chromium_browser() as browser:
        for role in ROLES:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, base_url=base_url)
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.on("console", lambda m, role=role: problems.append(f"{role}: {m.text}") if m.type == "error" else None)
            page.on("pageerror", lambda e, role=role: problems.append(f"{role}: page error {e}"))
            page.on("dialog", lambda d: d.accept())  # the block button asks first
            sign_in_demo(page, base_url, f"{role}@demo.test", PASSWORD)

            # Unread tracking: news since the last visit, then "N new" leads to the first unread reply.
            page.goto("/new")
            expect(page.locator("main")).not_to_contain_text("Nothing new since your last visit")
            page.goto("/")
            badge = page.locator("a.badge-new").first
            expect(badge).to_have_text(re.compile(r"^\d+ new$"))
            badge.click()
            page.wait_for_url(re.compile(r"#r\d+$"))
            expect(page.locator("#first-unread")).to_be_visible()

            # Bookmarks: keep a post of that thread, then give it a note on the bookmarks page.
            page.locator("main button", has_text="☆ Bookmark").first.click()
            expect(page.locator("main")).to_contain_text("Bookmarked. Add a note")
            page.goto("/bookmarks")
            cards = page.locator("li.bookmark.card")
            expect(cards).to_have_count(3)  # the demo's two and this one
            note = f"Follow up as {role}"
            card = cards.first
            card.locator("textarea[name=note]").fill(note)
            card.locator("input[name=remind_at]").fill("2030-01-15T09:30")
            card.get_by_role("button", name="Save").click()
            saved = page.locator("li.bookmark.card", has=page.locator(f"textarea[name=note]:text-is('{note}')"))
            expect(saved).to_have_count(1)
            expect(saved.locator("input[name=remind_at]")).to_have_value("2030-01-15T09:30")

            # Attachments: the demo question's log and screenshot, for those who may see that question.
            log_url = f"/files/{seed['files']['nightly-import.log']}/nightly-import.log"
            if seed["sees_files"][role]:
                page.goto(f"/t/{seed['thread']}")
                expect(page.locator("main")).to_contain_text("nightly-import.log")
                expect(page.locator("main")).to_contain_text("batch-runner starting nightly import")
                assert _drawn(page, "main img[src^='/thumbs/']"), role
                got = page.request.get(base_url + log_url)
                assert got.status == 200 and got.headers["content-disposition"].startswith("attachment"), role
                assert b"ORA-00942" in got.body()
                # Avatars: one beside every post.
                posts = page.locator("main article.post")
                assert posts.count() > 0
                assert posts.count() == page.locator("main article.post .avatar").count(), role
            else:
                assert page.request.get(base_url + log_url).status == 404, role
            page.goto(f"/u/{names['employee']}")
            assert _drawn(page, "main img.avatar"), role

            # Ideas: this member's vote taken back and given again (the demo's members have voted already).
            page.goto("/ideas/product-ideas")
            title = page.locator("li.idea-row .idea-main a strong").first.inner_text()
            for _ in range(2):
                button = page.locator("li.idea-row", has_text=title).locator("button[aria-pressed]")
                pressed = button.get_attribute("aria-pressed") == "true"
                button.click()
                page.wait_for_load_state()
                expect(page.locator("li.idea-row", has_text=title).locator("button[aria-pressed]")).to_have_text(
                    "Vote" if pressed else "Voted ✓")

            # Direct messages: staff write to the customer, everyone else to the support engineer.
            to = names["customer"] if role in STAFF else names["employee"]
            page.goto(f"/u/{to}")
            page.get_by_role("link", name="Send a message").click()
            expect(page.locator("#to")).to_have_value(to)
            page.fill("#subject", f"A question from the {role}")
            page.fill("#body", f"Hello, this is the {role}.")
            page.get_by_role("button", name="Send").click()
            page.wait_for_url(re.compile(r"/messages/\d+"))
            expect(page.locator(".message")).to_have_count(1)

            if role == "customer":
                page.goto("/account/avatar")
                page.set_input_files("#avatar", _picture(tmp_path / "me.png"))
                page.get_by_role("button", name="Upload").click()
                page.goto(f"/u/{names['customer']}")
                assert _drawn(page, "main img.avatar")
                page.goto(f"/messages/{seed['conversation']}")
                other = page.locator("article.message:not(.mine)").first
                other.locator("summary", has_text="Report").click()
                other.get_by_role("button", name="Report to moderators").click()
                page.wait_for_load_state()
            if role == "customer-admin":
                partner = names["partner"]
                page.goto(f"/u/{partner}")
                page.get_by_role("button", name="Block").click()
                page.wait_for_load_state()
                page.goto(f"/u/{partner}")
                expect(page.get_by_role("link", name="Send a message")).to_have_count(0)
                page.goto("/messages/blocked")
                page.get_by_role("button", name="Unblock").click()
                page.wait_for_load_state()
                page.goto(f"/u/{partner}")
                expect(page.get_by_role("link", name="Send a message")).to_have_count(1)
            if role == "employee":
                page.goto("/messages")
                for sender in ("customer", "customer-admin", "partner"):
                    expect(page.locator("main")).to_contain_text(f"A question from the {sender}")
                page.goto("/ideas/product-ideas")
                page.locator("li.idea-row .idea-main a").first.click()
                page.select_option("#idea-status", "under_review")
                page.fill("#idea-note", "Looking at it this week.")
                page.get_by_role("button", name="Save status").click()
                page.wait_for_load_state()
                expect(page.locator(".idea-panel")).to_contain_text("Looking at it this week.")
            if role == "moderator":
                page.goto("/moderation/messages")
                page.get_by_role("button", name="Remove the message").first.click()
                page.wait_for_load_state()
                expect(page.locator("main")).to_contain_text("Report resolved.")
            if role == "admin":
                page.goto("/admin/mail")
                expect(page.locator("main")).to_contain_text("No mail server is configured")
                page.locator("main table a").first.click()
                expect(page.locator("pre.mail-text")).to_be_visible()
            context.close()
    assert not problems, "\n".join(problems)
