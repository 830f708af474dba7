"""German in a real browser on the demo forum: a demo customer chooses Deutsch on the account page and walks
the main pages, and so does the demo lead (signing in with the demo's authenticator key) through the patterns
page; no English interface string is left outside what members wrote.

The English strings are the catalog's own (tests/i18n_support.py); what members wrote (titles, names, spaces,
tags, products, deployments, organisations) comes from the seeded database and is let through.
"""
from __future__ import annotations

import pytest

from tests.browser_support import chromium_browser, served_for_chromium, sign_in_demo
from tests.i18n_support import english_left, english_ui_strings

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "groundwork-demo-2026"

SEED = """
import json

from forum.extensions import db
from forum.models import (Deployment, MembershipSource, Organisation, Pattern, PatternMember, PatternStatus,
                          Product, ProductVersion, Space, Tag, Thread, User, Visibility)

result = app.test_cli_runner().invoke(args=["seed-demo"])
assert result.exit_code == 0, result.output
threads = db.session.execute(db.select(Thread).where(Thread.visibility == Visibility.PUBLIC)
                             .order_by(Thread.id)).scalars().all()
# Three patterns instead of a mining run (a minute of model time): the lead's table has rows to read.
for i in range(3):
    pattern = Pattern(name=threads[i].title[:80], status=PatternStatus.ACTIVE, keywords=["sync", "timeout"],
                      signatures=[], theme="Upgrades")
    db.session.add(pattern)
    db.session.flush()
    for k, thread in enumerate(threads[i * 10:(i + 1) * 10]):
        db.session.add(PatternMember(pattern_id=pattern.id, thread_id=thread.id, source=MembershipSource.MINED,
                                     similarity=0.8, is_representative=k == 0))
db.session.commit()
written = set()
for model, columns in ((Thread, ("title",)), (Space, ("name", "description")), (User, ("display_name",)),
                       (Organisation, ("name", "description")), (Tag, ("name",)), (Product, ("name",)),
                       (ProductVersion, ("name",)), (Deployment, ("name", "database", "topology")),
                       (Pattern, ("name", "theme"))):
    for row in db.session.execute(db.select(model)).scalars():
        written.update(" ".join(str(getattr(row, c) or "").split()) for c in columns)
space = db.session.execute(db.select(Space.slug).where(Space.slug == "installation-upgrades")).scalar_one()
customer = db.session.execute(db.select(User.username).where(User.email == "customer@demo.test")).scalar_one()
print(json.dumps({"written": sorted(w for w in written if w), "space": space, "customer": customer,
                  "threads": [t.id for t in threads[:3]]}))
"""

# Every text node outside scripts and members' posts, and the labelling attributes (titles, placeholders…).
TEXTS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, template, .post-body')) continue;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text) out.push(text);
  }
  for (const el of document.body.querySelectorAll('[title], [placeholder], [aria-label], [alt], [data-confirm]')) {
    if (el.closest('.post-body')) continue;
    for (const name of ['title', 'placeholder', 'aria-label', 'alt', 'data-confirm']) {
      const value = el.getAttribute(name);
      if (value) out.push(value.replace(/\\s+/g, ' ').trim());
    }
  }
  out.push(document.title);
  return out;
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The served demo (staff sign in with their second factor, as in the demo) and a Chromium to read it."""
    with served_for_chromium(tmp_path_factory.mktemp("languages"), SEED, {
            "FORUM_PATTERN_NOW": "latest", "FORUM_TWO_FACTOR_REQUIRED_FOR_STAFF": "true"}) as (base_url, seed):
        with chromium_browser() as browser:
            yield base_url, seed, browser


def _signed_in_in_german(browser, base_url: str, role: str):
    """Sign in with an English browser, then choose Deutsch on the account page, as a member would."""
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    sign_in_demo(page, base_url, f"{role}@demo.test", PASSWORD)
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(base_url + "/account")
    page.select_option("select[name=locale]", "de")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "de"
    assert "Ihr Profil ist gespeichert." in page.inner_text(".flashes")
    return context, page


def _walk(page, base_url: str, paths: list[str], written: set[str]) -> dict[str, list[str]]:
    english = english_ui_strings()
    left = {}
    for path in paths:
        response = page.goto(base_url + path)
        assert response is not None and response.status == 200, path
        assert page.locator("html").get_attribute("lang") == "de", path
        found = english_left(page.evaluate(TEXTS), english, written)
        if found:
            left[path] = sorted(set(found))
    return left


def test_a_demo_customer_who_chooses_german_sees_no_english_on_the_main_pages(demo):
    base_url, seed, browser = demo
    context, page = _signed_in_in_german(browser, base_url, "customer")
    assert page.locator("nav a.nav-ask").first.inner_text() == "Frage stellen"
    paths = ["/", f"/s/{seed['space']}", *[f"/t/{t}" for t in seed["threads"]], "/ask", "/account",
             f"/u/{seed['customer']}", "/search?q=upgrade", "/playbooks/", "/inbox", "/account/notifications"]
    left = _walk(page, base_url, paths, set(seed["written"]))
    context.close()
    assert left == {}, left


def test_the_demo_lead_reads_the_patterns_page_in_german(demo):
    base_url, seed, browser = demo
    context, page = _signed_in_in_german(browser, base_url, "lead")
    page.goto(base_url + "/patterns")
    assert page.locator("h1").first.inner_text() == "Häufige Muster"
    left = _walk(page, base_url, ["/patterns", "/"], set(seed["written"]))
    context.close()
    assert left == {}, left
