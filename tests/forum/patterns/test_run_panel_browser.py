"""The mining panel in headless Chromium: while a run is going "Mine now" is disabled and looks it; when the run
ends, the panel polls its way to the new state and offers the button again, without a reload."""
from __future__ import annotations

import os
import sqlite3
from datetime import UTC, datetime

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_forum

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 8"

SEED = f"""
from forum.extensions import db
from forum.models import MiningRun, Organisation, OrgKind, RunStatus, User, utcnow
from forum.passwords import hash_password

vendor = Organisation(name="Vendor", slug="vendor", kind=OrgKind.VENDOR)
db.session.add(vendor)
db.session.flush()
db.session.add(User(email="lead@vendor.test", username="lead", display_name="Lena Lead", is_lead=True,
                    password_hash=hash_password({PASSWORD!r}), organisation_id=vendor.id))
now = utcnow()
db.session.add(MiningRun(status=RunStatus.RUNNING, trigger="web", created_at=now, started_at=now, heartbeat_at=now,
                         stage="embedding", progress_done=40, progress_total=120))
db.session.commit()
"""


@pytest.fixture()
def forum(tmp_path):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM} (CI installs it: apt-get install chromium)")
    with served_forum(tmp_path, SEED) as (base_url, _seed):
        yield base_url, tmp_path / "forum.sqlite"


def test_the_panel_follows_a_run_to_its_end(forum):
    from playwright.sync_api import expect, sync_playwright

    base_url, database = forum
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_context(base_url=base_url).new_page()
            page.set_default_timeout(20_000)
            page.goto("/login")
            page.fill("#email", "lead@vendor.test")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/login" not in url)
            page.goto("/patterns/")

            button = page.locator("#mine-now")
            expect(button).to_be_disabled()
            expect(page.locator("#run-status")).to_contain_text("is running: embedding, 40 of 120 threads")
            busy = button.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]")
            assert busy[1] == "not-allowed"

            # The run finishes (as a worker would record it); the page learns it by polling status.json.
            with sqlite3.connect(database) as conn:
                conn.execute("UPDATE mining_run SET status = 'finished', finished_at = ?, documents = 120, "
                             "patterns_found = 7", (datetime.now(UTC).replace(tzinfo=None).isoformat(" "),))
            expect(page.locator("#run-status")).to_contain_text("finished", timeout=30_000)
            expect(page.locator("#run-status")).to_contain_text("120 threads, 7 patterns")
            expect(button).to_be_enabled()
            idle = button.evaluate("b => [getComputedStyle(b).backgroundColor, getComputedStyle(b).cursor]")
            assert idle[0] != busy[0] and idle[1] != "not-allowed"  # it looked disabled, and now it does not
            expect(page.locator("section.run-panel")).to_have_class("card run-panel run-finished")
            expect(page.locator("#run-progress")).to_be_hidden()
        finally:
            browser.close()
