"""Uploaded HTML, SVG and a polyglot image never run script in Chromium.

Files go in two ways: through the reply form in the browser (the content checks refuse .html and .svg and
re-encode images), and as raw rows written past every check (as if a check had a hole, or an old row), so
the serving headers alone are tested too: ``nosniff``, ``default-src 'none'; sandbox`` and plain text for
anything that is not a decoded image. The positive control loads the same payloads into a page without those
headers and sees them fire, so the check can tell script running from script not running.
"""
from __future__ import annotations

import re

import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_ARGS, served_for_chromium
from tests.forum.attachments.browser_seed import member_with_thread

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PASSWORD = "a long browser test passphrase 7"
HTML = "<html><body><h1>hello</h1><script>alert('html-ran')</script><img src=x onerror=\"alert('img-ran')\"></body></html>"
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(\'svg-onload\')">'
       "<script>alert('svg-ran')</script><circle r='10'/></svg>")

SEED = member_with_thread(PASSWORD, "Files that try to run", "See the files.") + f"""
import hashlib, io
from PIL import Image
from forum.models import Attachment, AttachmentKind
from forum.services.attachments import store

out = io.BytesIO()
Image.new("RGB", (20, 20), (0, 128, 0)).save(out, "PNG")
polyglot = out.getvalue() + {HTML.encode()!r}
raw = [("page.html", {HTML.encode()!r}, AttachmentKind.TEXT, "text/html"),
       ("drawing.svg", {SVG.encode()!r}, AttachmentKind.TEXT, "image/svg+xml"),
       ("sneaky.svg", {SVG.encode()!r}, AttachmentKind.IMAGE, "image/svg+xml"),
       ("polyglot.png", polyglot, AttachmentKind.IMAGE, "image/png")]
ids = {{}}
for name, data, kind, ctype in raw:
    sha = hashlib.sha256(data).hexdigest()
    store.save(sha, data)
    row = Attachment(thread_id=thread.id, uploader_id=ann.id, filename=name, kind=kind, content_type=ctype,
                     size=len(data), sha256=sha, head_text=data[:200].decode("latin-1"), signatures=[],
                     signature_lines="", search_text="")
    db.session.add(row)
    db.session.flush()
    ids[name] = row.id
db.session.commit()
print(json.dumps({{"thread": thread.id, "files": ids, "polyglot": polyglot.hex()}}))
"""


@pytest.fixture(scope="module")
def forum(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("files-browser")
    with served_for_chromium(tmp, SEED, extra_env={"FORUM_ATTACHMENT_DIR": str(tmp / "store")}) as served:
        yield served


def test_uploaded_html_svg_and_polyglot_never_run_script(forum, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base_url, seed = forum
    fired: list[str] = []
    control: list[str] = []
    (tmp_path / "page.html").write_text(HTML)
    (tmp_path / "drawing.svg").write_text(SVG)
    (tmp_path / "polyglot.png").write_bytes(bytes.fromhex(seed["polyglot"]))

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            # Positive control: the same payloads, in a page without our headers, do fire.
            probe = browser.new_page()
            probe.on("dialog", lambda d: (control.append(d.message), d.dismiss()))
            probe.set_content(HTML)
            probe.set_content(f"<html><body>{SVG}</body></html>")
            probe.wait_for_timeout(300)
            probe.close()

            context = browser.new_context(base_url=base_url, accept_downloads=True)
            context.set_default_timeout(20_000)
            page = context.new_page()
            page.on("dialog", lambda d: (fired.append(f"{d.message!r} on {page.url}"), d.dismiss()))
            page.goto("/login")
            page.fill("#email", "ann@acme.test")
            page.fill("#password", PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url(lambda url: "/login" not in url)
            thread_url = f"/t/{seed['thread']}"

            # Through the form: .html and .svg are refused with a message, the polyglot is taken (re-encoded).
            for name in ("page.html", "drawing.svg"):
                page.goto(thread_url)
                page.fill("#body", f"Trying {name}")
                page.set_input_files("#files", str(tmp_path / name))
                page.get_by_role("button", name="Post reply").click()
                page.wait_for_load_state()
                expect(page.locator(".md-editor .error")).to_contain_text("cannot be attached")
            page.goto(thread_url)
            page.fill("#body", "Our screenshot")
            page.set_input_files("#files", str(tmp_path / "polyglot.png"))
            page.get_by_role("button", name="Post reply").click()
            page.wait_for_load_state()
            expect(page.locator("body")).to_contain_text("Reply posted.")
            uploaded = page.locator(".attachment-image").last.get_attribute("href")
            assert uploaded and re.match(r"/files/\d+/polyglot\.png$", uploaded)

            # Every file opened directly, as a browser would show it; and the thread page showing them all.
            files = seed["files"]
            urls = [f"/files/{files['page.html']}/page.html?view=text",
                    f"/files/{files['drawing.svg']}/drawing.svg?view=text",
                    f"/files/{files['sneaky.svg']}/sneaky.svg",
                    f"/files/{files['polyglot.png']}/polyglot.png", uploaded, thread_url]
            for url in urls:
                response = page.goto(url)
                assert response is not None and response.status == 200, url
                page.wait_for_timeout(300)
            # The HTML came back as text: its markup is on the screen, not rendered.
            page.goto(urls[0])
            assert "<script>alert('html-ran')</script>" in page.locator("body").inner_text()
            # Without ?view=text the text file is a download, never a page (clicked from the thread page: the
            # sandboxed text document itself may not start downloads).
            page.goto(thread_url)
            with page.expect_download() as download:
                page.evaluate("url => { const a = document.createElement('a'); a.href = url; a.click(); }",
                              f"/files/{files['page.html']}/page.html")
            assert download.value.suggested_filename == "page.html"
            page.wait_for_timeout(300)
        finally:
            browser.close()
    assert len(control) >= 3, f"the positive control did not fire: {control}"
    assert fired == [], f"uploaded files ran script: {fired}"
