"""The ask page's suggestions in headless Chromium against the forum served by gunicorn.

A customer types a question: the panel shows the playbook and the resolved thread (with its answer), never
the internal thread with the same words. Opening a suggestion is recorded (sendBeacon), and posting the
question ties the post to that visit's draft key. No CSP violation is reported.
"""
from __future__ import annotations

import os
import re
import sqlite3

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 8"

SEED = f"""
import json
from forum.extensions import db
from forum.markdown import render_markdown
from forum.models import Organisation, OrgKind, Reply, Space, Thread, ThreadStatus, User, Visibility
from forum.models import Playbook, PlaybookEvidence
from forum.passwords import hash_password

pw = hash_password({PASSWORD!r})
vendor = Organisation(name="Vendor", slug="vendor", kind=OrgKind.VENDOR)
acme = Organisation(name="Acme Retail", slug="acme", kind=OrgKind.CUSTOMER)
globex = Organisation(name="Globex Foods", slug="globex", kind=OrgKind.CUSTOMER)
db.session.add_all([vendor, acme, globex])
db.session.flush()
staff = User(email="lee@vendor.test", username="lee", display_name="Lee", password_hash=pw,
             organisation_id=vendor.id, is_lead=True)
ann = User(email="ann@acme.test", username="ann", display_name="Ann", password_hash=pw, organisation_id=acme.id)
bob = User(email="bob@globex.test", username="bob", display_name="Bob", password_hash=pw, organisation_id=globex.id)
space = Space(slug="installations", name="Installations")
db.session.add_all([staff, ann, bob, space])
db.session.flush()

def thread(author, title, body, visibility=Visibility.PUBLIC):
    row = Thread(space_id=space.id, author_id=author.id, organisation_id=author.organisation_id, title=title,
                 body_md=body, body_html=render_markdown(body), visibility=visibility)
    db.session.add(row)
    db.session.flush()
    return row

solved = thread(bob, "Connection pool exhausted after the 7.2 upgrade", "Workers fail under load.")
answer = Reply(thread_id=solved.id, author_id=staff.id, body_md="Raise pool_size to 200 and restart.",
               body_html=render_markdown("Raise pool_size to 200 and restart."))
db.session.add(answer)
db.session.flush()
solved.accepted_reply_id, solved.status, solved.reply_count = answer.id, ThreadStatus.RESOLVED, 1
thread(staff, "Connection pool exhausted CANARYBROWSER1 escalation", "internal", Visibility.INTERNAL)
playbook = Playbook(title="Fix an exhausted connection pool", problem_md="Connection pool exhausted under load",
                    problem_html="", steps_md="Raise it", steps_html="<p>Raise it</p>", author_id=staff.id)
db.session.add(playbook)
db.session.flush()
db.session.add(PlaybookEvidence(playbook_id=playbook.id, thread_id=solved.id, reply_id=answer.id))
db.session.commit()
print(json.dumps({{"playbook": playbook.id, "solved": solved.id}}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    folder = tmp_path_factory.mktemp("deflection")
    with served_forum(folder, SEED) as (base_url, seed):
        yield base_url, seed, folder / "forum.sqlite"


def _events(database) -> list[tuple[str, str, int | None, int | None]]:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT kind, draft_key, thread_id, playbook_id FROM suggestion_event ORDER BY id").fetchall()


def test_customer_typing_a_question_is_shown_the_playbook(forum):
    from playwright.sync_api import expect, sync_playwright

    base_url, seed, database = forum
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(base_url=base_url)
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" and (
                "Content Security Policy" in m.text or "Content-Security-Policy" in m.text) else None)
            page.on("pageerror", lambda e: problems.append(f"page error {e}"))
            page.goto("/login")
            page.fill("#email", "ann@acme.test")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/login" not in url)

            page.goto("/ask")
            panel = page.locator("#suggest-panel")
            expect(panel).to_be_hidden()
            page.locator("#title").press_sequentially("Our connection pool is exhausted", delay=20)
            expect(panel).to_be_visible()
            expect(panel.locator(".suggest-playbook")).to_contain_text("Fix an exhausted connection pool")
            expect(panel).to_contain_text("Connection pool exhausted after the 7.2 upgrade")
            expect(panel).to_contain_text("Accepted answer: Raise pool_size to 200 and restart.")
            assert "CANARYBROWSER1" not in panel.inner_text()
            draft_key = page.locator("input[name=draft_key]").input_value()
            assert re.fullmatch(r"[0-9a-f]{32}", draft_key)

            # Opening the playbook (a new tab keeps the draft) is recorded as a click of this draft.
            with context.expect_page() as opened:
                panel.locator(".suggest-playbook a").click()
            expect(opened.value.locator("h1")).to_have_text("Fix an exhausted connection pool")
            page.wait_for_timeout(500)
            assert ("click", draft_key, None, seed["playbook"]) in _events(database)

            # Posting anyway ties the post to the same draft: this visit is not a deflection.
            page.fill("#body", "It keeps happening at night.")
            page.get_by_role("button", name=re.compile("post", re.I)).last.click()
            page.wait_for_url(re.compile(r"/t/\d+"))
            kinds = [(kind, key) for kind, key, *_ in _events(database)]
            assert ("posted", draft_key) in kinds and ("impression", draft_key) in kinds
        finally:
            browser.close()
    assert problems == [], f"CSP violations or script errors: {problems}"
