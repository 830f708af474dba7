"""In Chromium: a member adds a screenshot and a log to their existing reply on its edit form, sees both under the
reply (the screenshot's thumbnail really loads), then takes the log off again on the same form."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_for_chromium
from tests.forum.attachments.browser_seed import member_with_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 8"

SEED = member_with_thread(PASSWORD, "Import stops at night", "The nightly import stops.") + """
from forum.models import Reply

reply = Reply(thread_id=thread.id, author_id=ann.id, body_md="It happened again.",
              body_html=render_markdown("It happened again."))
db.session.add(reply)
thread.reply_count = 1
db.session.commit()
print(json.dumps({"thread": thread.id, "reply": reply.id}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("edit-files-browser")
    with served_for_chromium(tmp, SEED, extra_env={"FORUM_ATTACHMENT_DIR": str(tmp / "store")}) as served:
        yield served


def test_files_added_to_an_existing_reply_on_its_edit_form_are_shown(forum, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base_url, seed = forum
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 90, 200)).save(out, "PNG")
    (tmp_path / "screen.png").write_bytes(out.getvalue())
    (tmp_path / "night.log").write_text("2026-12-01 02:00:01 ERROR ORA-00942: table or view does not exist\n")

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(base_url=base_url)
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.goto("/login")
            page.fill("#email", "ann@acme.test")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/login" not in url)

            page.goto(f"/r/{seed['reply']}/edit")
            page.set_input_files("#files", [str(tmp_path / "screen.png"), str(tmp_path / "night.log")])
            page.get_by_role("button", name="Save").click()
            page.wait_for_url(lambda url: f"/t/{seed['thread']}" in url)
            reply = page.locator(f"#r{seed['reply']}")
            expect(reply.locator("details.attachment-text")).to_contain_text("night.log")
            expect(reply.locator("details.attachment-text")).to_contain_text("1 error signature")
            thumbnail = reply.locator(".attachment-image img")
            expect(thumbnail).to_be_visible()
            # The thumbnail really loaded (a broken image has no natural size).
            page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=thumbnail.element_handle())

            # The same form takes the log off again; the screenshot stays.
            page.goto(f"/r/{seed['reply']}/edit")
            page.get_by_role("checkbox", name="Remove night.log").check()
            page.get_by_role("button", name="Save").click()
            page.wait_for_url(lambda url: f"/t/{seed['thread']}" in url)
            expect(reply.locator(".attachment-image img")).to_be_visible()
            expect(reply.locator("details.attachment-text")).to_have_count(0)
            page.goto(f"/r/{seed['reply']}/revisions")
            expect(page.locator("body")).to_contain_text("night.log")
        finally:
            browser.close()
