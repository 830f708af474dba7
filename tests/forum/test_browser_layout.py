"""Layout in headless Chromium on the demo forum: every page of every demo role at a phone's width (390 px) and
a laptop's (1280 px) fits without horizontal scrolling (staff signing in with the demo's authenticator key) and logs no console error, the header is one row at
1280 px, the phone menu opens, and 50 patterns fit in two screens.

The demo content is seeded; instead of a mining run (a minute of model time), its threads are dealt into 50
patterns under themes, with small stored vectors for the map. Pages are found by following links from the home
page, up to ``PER_ROUTE`` addresses per route (so threads with code blocks, long tables and charts are met
without walking all 659 threads), plus the demo threads that hold code blocks.
"""
from __future__ import annotations

import time
from collections import Counter
from urllib.parse import urljoin, urlparse

import pytest

from tests.browser_support import chromium_browser, served_for_chromium, sign_in_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "groundwork-demo-2026"
ROLES = ("customer", "customer-admin", "partner", "employee", "lead", "moderator", "admin")  # every demo login
PER_ROUTE = 2
NARROW, WIDE, HEIGHT = 390, 1280, 800
PATTERNS = 50

SEED = f"""
import json
import random

import numpy as np

from forum.extensions import db
from forum.models import MembershipSource, Pattern, PatternMember, PatternStatus, Thread, ThreadEmbedding, Visibility

result = app.test_cli_runner().invoke(args=["seed-demo"])
assert result.exit_code == 0, result.output
threads = db.session.execute(db.select(Thread).order_by(Thread.id)).scalars().all()
rng = np.random.default_rng(7)
patterns = []
for i in range({PATTERNS}):
    # 40 patterns under 8 themes of 5, the last 10 each the only one of its theme
    theme = f"Theme {{i % 8 + 1}}" if i < 40 else f"Lone theme {{i}}"
    pattern = Pattern(name=threads[i].title[:80], status=PatternStatus.ACTIVE, keywords=["sync", "timeout"],
                      signatures=[], theme=theme)
    db.session.add(pattern)
    patterns.append(pattern)
db.session.flush()
centres = rng.normal(size=({PATTERNS}, 16))
for k, thread in enumerate(threads[:600]):
    i = k % {PATTERNS}
    db.session.add(PatternMember(pattern_id=patterns[i].id, thread_id=thread.id, source=MembershipSource.MINED,
                                 similarity=0.8, is_representative=k < {PATTERNS}))
    vector = (centres[i] + rng.normal(size=16) * 0.2).astype("<f4")
    db.session.add(ThreadEmbedding(thread_id=thread.id, model_name="layout-test", content_hash=str(thread.id),
                                   dimensions=16, vector=vector.tobytes()))
db.session.commit()
code = db.session.execute(db.select(Thread.id).where(Thread.body_md.contains("```"),
                                                     Thread.visibility == Visibility.PUBLIC)
                          .order_by(Thread.id).limit(3)).scalars().all()
print(json.dumps({{"code_threads": code}}))
"""

# Everything but pages: files, JSON, the API, signing out, one-click unsubscribes, exports.
# Attached files are downloads or bare images, not pages (tests/forum/attachments has their browser test).
SKIPPED = ("/static/", "/api/", "/logout", "/unsubscribe", "/export", "/files/")
SKIPPED_ENDINGS = (".json", ".csv", ".txt", ".xml", ".svg", ".png")

MEASURE = """() => {
  const visible = [...document.querySelectorAll('.nav > *')].filter(
      e => getComputedStyle(e).display !== 'none' && e.getBoundingClientRect().width > 0);
  const middles = visible.map(e => { const r = e.getBoundingClientRect(); return r.top + r.height / 2; });
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,
          headerSpread: Math.max(...middles) - Math.min(...middles),
          headerHeight: document.querySelector('.site-header').getBoundingClientRect().height};
}"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    # The demo's dates end at its seed date: trends and the emerging flag are measured from its newest thread.
    # Staff sign in with their second factor, as in the demo.
    with served_for_chromium(tmp_path_factory.mktemp("layout"), SEED, {
            "FORUM_PATTERN_NOW": "latest", "FORUM_TWO_FACTOR_REQUIRED_FOR_STAFF": "true"}) as served:
        yield served


@pytest.fixture(scope="module")
def browser(demo):
    with chromium_browser() as chromium:
        yield chromium


# A staff login's remembered-device cookie, kept for its next sign-in (a code is good for one sign-in only).
_devices: dict[str, list] = {}


def _signed_in(browser, base_url: str, role: str, width: int):
    context = browser.new_context(viewport={"width": width, "height": HEIGHT})
    context.add_cookies(_devices.get(role, []))
    page = context.new_page()
    sign_in_demo(page, base_url, f"{role}@demo.test", PASSWORD, remember_device=True)
    device = [c for c in context.cookies() if c["name"] == "gw_device"]
    if device:
        _devices[role] = device
    return context, page


def _route(url_map, path: str) -> str:
    try:
        return url_map.match(path, method="GET")[0]
    except Exception:  # noqa: BLE001  (an address the app does not know: judged by its own status)
        return path


def _crawl(page, base_url: str, starts: list[str], url_map, errors: list[str]) -> tuple[int, list[str]]:
    """Visit every page reachable by links (``PER_ROUTE`` per route) at both widths; (pages, problems)."""
    host = urlparse(base_url).netloc
    queue, seen, per_route, problems = list(starts), set(), Counter(), []
    while queue:
        path = queue.pop(0)
        route = _route(url_map, path)
        if path in seen or per_route[route] >= PER_ROUTE:
            continue
        seen.add(path)
        per_route[route] += 1
        errors.clear()
        page.set_viewport_size({"width": NARROW, "height": HEIGHT})
        response = page.goto(base_url + path)
        narrow = page.evaluate(MEASURE)
        page.set_viewport_size({"width": WIDE, "height": HEIGHT})
        wide = page.evaluate(MEASURE)
        if response is None or response.status >= 400:
            problems.append(f"{path}: status {response.status if response else None}")
        for measured in (narrow, wide):
            if measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(f"{path}: {measured['scrollWidth']} px wide at {measured['innerWidth']} px")
        if wide["headerSpread"] > 12:
            problems.append(f"{path}: header in more than one row at {WIDE} px ({wide['headerHeight']:.0f} px)")
        if errors:
            problems.append(f"{path}: console {errors[:3]}")
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            url = urlparse(urljoin(base_url + path, href))
            if url.netloc != host or url.path.endswith(SKIPPED_ENDINGS) or any(part in url.path for part in SKIPPED):
                continue
            if url.path not in seen and per_route[_route(url_map, url.path)] < PER_ROUTE:
                queue.append(url.path)
    return len(seen), problems


def test_every_page_of_every_role_fits_a_phone_and_a_wide_screen(demo, browser):
    from forum import create_app

    base_url, seed = demo
    app = create_app({"SECRET_KEY": "layout-test-only-" + "x" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    url_map = app.url_map.bind("localhost")
    starts = ["/"] + [f"/t/{thread_id}" for thread_id in seed["code_threads"]]
    visited, problems = {}, []
    started = time.monotonic()
    for role in ROLES:
        context, page = _signed_in(browser, base_url, role, NARROW)
        errors: list[str] = []
        page.on("console", lambda message, errors=errors: errors.append(message.text)
                if message.type == "error" else None)
        page.on("pageerror", lambda error, errors=errors: errors.append(f"page error {error}"))
        visited[role], found = _crawl(page, base_url, starts, url_map, errors)
        problems += [f"{role} {problem}" for problem in found]
        context.close()
    print(f"pages visited per role: {visited}; {sum(visited.values())} pages x 2 widths in "
          f"{time.monotonic() - started:.0f} s; problems: {len(problems)}")
    assert not problems, "\n".join(problems)
    # The walk reached the role's pages, not just the home page.
    assert visited["customer"] >= 15 and visited["lead"] > visited["customer"] and visited["admin"] >= 40


def test_the_phone_menu_holds_the_navigation(demo, browser):
    base_url, _ = demo
    context, page = _signed_in(browser, base_url, "lead", NARROW)
    assert page.locator(".nav-main").is_hidden()
    assert page.locator(".nav-menu .nav-panel a", has_text="Patterns").is_hidden()
    page.click(".nav-menu > summary")
    patterns_link = page.locator(".nav-menu .nav-panel a", has_text="Patterns")
    assert patterns_link.is_visible()
    box = page.locator(".nav-menu .nav-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW
    patterns_link.click()
    page.wait_for_url("**/patterns/")
    context.close()


def test_fifty_patterns_fit_in_two_screens_at_1280(demo, browser):
    base_url, _ = demo
    context, page = _signed_in(browser, base_url, "lead", WIDE)
    page.goto(base_url + "/patterns/")
    rows = page.locator("details.ptable-item").count()
    themes = page.locator(".ptable-theme").count()
    height = page.evaluate("document.documentElement.scrollHeight")
    print(f"{rows} patterns under {themes} headings: the page is {height} px tall at {WIDE} x {HEIGHT}")
    assert rows == PATTERNS and themes == 9                          # 8 themes of 5, and "Other patterns"
    assert height <= 2 * HEIGHT
    # A row opens to its card, without a script.
    first = page.locator("details.ptable-item").first
    first.locator("summary").click()
    assert first.locator(".pattern-card .pattern-stats").is_visible()
    # Sorting by a column keeps the rows and reverses on a second click.
    page.click(".ptable-head .c-threads a")
    page.wait_for_url("**sort=threads**")
    counts = [int(text.split()[-1]) for text in page.locator("summary .c-threads").all_inner_texts()]
    assert len(counts) == PATTERNS
    context.close()
