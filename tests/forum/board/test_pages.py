"""Board pages through real HTTP routes: home, space, thread, ask, search, preview, edit and revisions."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from forum.extensions import db
from forum.models import Reply, Revision, Thread, ThreadStatus, Visibility
from tests.factories import Factory, csrf_token_from, login_as


class Browser:
    """A test client whose every request runs in its own app context, as in production.

    The shared fixture keeps one app context for a whole test, so ``g`` (Flask-Login's cached user,
    Flask-WTF's token) and the database session would otherwise leak from one request into the next.
    """

    def __init__(self, app, user=None) -> None:
        self.app = app
        self.client = app.test_client()
        if user is not None:
            self.login(user)

    def open(self, method: str, url: str, **kwargs):
        with self.app.app_context():
            response = self.client.open(url, method=method, **kwargs)
        db.session.commit()  # end the test's own read transaction, so it sees what the request wrote
        return response

    def login(self, user) -> None:
        with self.app.app_context():
            login_as(self.client, user, Factory.PASSWORD)
        db.session.commit()

    def get(self, url: str, **kwargs):
        return self.open("GET", url, **kwargs)

    def html(self, url: str, **kwargs) -> str:
        return self.get(url, **kwargs).get_data(as_text=True)

    def token(self) -> str:
        return csrf_token_from(self.html("/ask"))

    def post(self, url: str, **data):
        return self.open("POST", url, data={"csrf_token": self.token(), **data})


@pytest.fixture()
def web(app):
    """``web(user=None)`` opens a new browser, signed in as ``user`` when given."""
    return lambda user=None: Browser(app, user)


def count(model) -> int:
    return db.session.execute(db.select(db.func.count(model.id))).scalar_one()


def test_anonymous_visitors_are_sent_to_login(web, make):
    thread = make.thread(make.user())
    browser = web()
    for url in ("/", f"/t/{thread.id}", "/search?q=x", f"/s/{thread.space.slug}", "/ask"):
        response = browser.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_public_read_shows_only_public_threads(app, web, make):
    app.config["PUBLIC_READ"] = True
    author = make.user()
    public = make.thread(author, title="Public upgrade notes")
    private = make.thread(author, Visibility.ORG_PRIVATE, title="Private cluster notes")
    browser = web()
    home = browser.html("/")
    assert "Public upgrade notes" in home and "Private cluster notes" not in home
    assert browser.get(f"/t/{public.id}").status_code == 200
    assert browser.get(f"/t/{private.id}").status_code == 404
    assert browser.get(f"/t/{private.id + 1000}").status_code == 404
    assert "Private cluster notes" not in browser.html("/search?q=notes")


def test_home_lists_latest_unanswered_and_my_org(web, make):
    org = make.customer_org()
    me = make.user(org)
    other = make.user()
    mine = make.thread(make.user(org), title="Our own open question")
    answered = make.thread(other, title="Somebody else answered")
    make.reply(answered, me)
    make.thread(other, Visibility.ORG_PRIVATE, title="Hidden from me")
    browser = web(me)
    html = browser.html("/")
    assert "Our own open question" in html and "Somebody else answered" in html
    assert "Hidden from me" not in html
    assert "My organisation's open questions" in html
    unanswered = browser.html("/?show=unanswered")
    assert "Our own open question" in unanswered and "Somebody else answered" not in unanswered
    org_open = browser.html("/?show=org_open")
    assert mine.title in org_open and "Somebody else answered" not in org_open
    assert browser.get("/?show=bogus&page=abc").status_code == 200


def test_home_is_paginated(app, web, make):
    app.config["PAGE_SIZE"] = 5
    user = make.user()
    space = make.space()
    for i in range(12):
        make.thread(user, space=space, title=f"Paged thread {i:02d}")
    browser = web(user)
    first, third = browser.html("/"), browser.html("/?page=3")
    assert "Paged thread 11" in first and "Paged thread 06" not in first and "Next →" in first
    assert "Paged thread 01" in third and "Paged thread 02" not in third and "Next →" not in third


def test_space_page_filters_and_paginates(app, web, make):
    app.config["PAGE_SIZE"] = 3
    user = make.user()
    space = make.space("Upgrades")
    for i in range(7):
        make.thread(user, space=space, title=f"Upgrade thread {i}")
    make.thread(user, space=space, title="Resolved one", status=ThreadStatus.RESOLVED)
    browser = web(user)
    browser.post("/ask", title="Tagged question", body="b", space=space.id, kind="question",
                 visibility="public", tags="sso", deployment=0)
    first = browser.html(f"/s/{space.slug}")
    assert "Tagged question" in first and "Resolved one" in first  # newest activity first
    assert "Next →" in first
    third = browser.html(f"/s/{space.slug}?page=3")
    assert "Upgrade thread 0" in third and "Next →" not in third
    resolved = browser.html(f"/s/{space.slug}?status=resolved")
    assert "Resolved one" in resolved and "Upgrade thread 1" not in resolved
    tagged = browser.html(f"/s/{space.slug}?tag=SSO")
    assert "Tagged question" in tagged and "Resolved one" not in tagged
    assert browser.get(f"/s/{space.slug}?page=-5&status=bogus").status_code == 200
    assert browser.get(f"/s/{space.slug}?page=999999999999999999999").status_code == 200
    assert browser.get("/s/no-such-space").status_code == 404
    assert browser.get("/s/a%00b").status_code == 404
    assert browser.get(f"/s/{space.slug}", query_string={"tag": "x\x00", "status": "\x00"}).status_code == 200


def test_internal_space_is_404_for_customers(web, make):
    space = make.space("Staff room", visibility=Visibility.INTERNAL)
    assert web(make.user()).get(f"/s/{space.slug}").status_code == 404
    assert web(make.employee()).get(f"/s/{space.slug}").status_code == 200


def test_ask_with_deployment_keeps_snapshot(web, make):
    org = make.customer_org()
    user = make.user(org)
    space = make.space()
    deployment = make.deployment(org, name="Prod EU", database="Oracle 19c")
    other_org_deployment = make.deployment(make.customer_org(), name="Not ours")
    browser = web(user)
    page = browser.html("/ask")
    assert "Prod EU" in page and "Not ours" not in page
    response = browser.post("/ask", title="  Upgrade fails at step 3 ", body="It **fails**.",
                            space=space.id, kind="question", visibility="public",
                            tags="Upgrade, SSO , upgrade", deployment=deployment.id)
    assert response.status_code == 302
    thread = db.session.execute(db.select(Thread)).scalar_one()
    assert thread.title == "Upgrade fails at step 3" and thread.status is ThreadStatus.OPEN
    assert thread.organisation_id == org.id and thread.deployment_id == deployment.id
    assert thread.body_html.strip() == "<p>It <strong>fails</strong>.</p>"
    assert [t.name for t in thread.tags] == ["sso", "upgrade"]
    assert thread.deployment_snapshot["database"] == "Oracle 19c"
    # The deployment changes afterwards; the question keeps the profile as it was when asked.
    deployment.database = "PostgreSQL 16"
    deployment.product_version_id = make.product_version("Ledger", "2.0").id
    db.session.commit()
    html = browser.html(f"/t/{thread.id}")
    assert "Oracle 19c" in html and "PostgreSQL 16" not in html
    db.session.refresh(thread)
    assert thread.deployment_snapshot["version"] == "1.0"
    assert other_org_deployment.id != deployment.id


def test_ask_refuses_bad_input_with_form_errors(app, web, make):
    app.config["TITLE_MAX_LENGTH"] = 20
    app.config["POST_MAX_LENGTH"] = 100
    user = make.user()
    space = make.space()
    foreign = make.deployment(make.customer_org())
    internal = make.space(visibility=Visibility.INTERNAL)
    browser = web(user)
    base = dict(title="Fine title", body="Body", space=space.id, kind="question", visibility="public",
                tags="", deployment=0)
    cases = [
        dict(deployment=foreign.id), dict(deployment="x"), dict(title="x" * 21), dict(title=""),
        dict(body="   "), dict(body="b" * 101), dict(visibility="internal"), dict(visibility="nope"),
        dict(kind="announcement"), dict(space=internal.id), dict(space="not-a-number"),
        dict(tags="a,b,c,d,e,f"), dict(tags="x" * 41),
    ]
    for case in cases:
        response = browser.post("/ask", **{**base, **case})
        assert response.status_code == 400, case
        assert 'class="error"' in response.get_data(as_text=True), case
    assert count(Thread) == 0
    assert "at most 20 characters" in browser.post("/ask", **{**base, "title": "x" * 21}).get_data(as_text=True)
    assert browser.post("/ask", **base).status_code == 302


def test_employee_may_post_internal_announcements(web, make):
    staff = make.employee()
    space = make.space(visibility=Visibility.INTERNAL)
    response = web(staff).post("/ask", title="Maintenance window", body="Sunday", space=space.id,
                               kind="announcement", visibility="internal", tags="", deployment=0)
    assert response.status_code == 302
    thread = db.session.execute(db.select(Thread)).scalar_one()
    assert thread.visibility is Visibility.INTERNAL and thread.deployment_snapshot is None


def test_reply_edit_and_revisions(web, make):
    user = make.user()
    thread = make.thread(user, title="Original title", body="Original body")
    browser = web(user)
    response = browser.post(f"/t/{thread.id}/reply", body="First *reply*")
    assert response.status_code == 302 and "#r" in response.headers["Location"]
    reply = db.session.execute(db.select(Reply)).scalar_one()
    assert reply.body_html.strip() == "<p>First <em>reply</em></p>"
    db.session.refresh(thread)
    assert thread.reply_count == 1 and thread.status is ThreadStatus.ANSWERED

    assert browser.get(f"/t/{thread.id}/edit").status_code == 200
    assert browser.post(f"/t/{thread.id}/edit", title="New title", body="New body", tags="x").status_code == 302
    assert browser.post(f"/r/{reply.id}/edit", body="Edited reply").status_code == 302
    revisions = db.session.execute(db.select(Revision).order_by(Revision.id)).scalars().all()
    assert [(r.previous_title, r.previous_md) for r in revisions] == [
        ("Original title", "Original body"), (None, "First *reply*")]
    assert all(r.editor_id == user.id for r in revisions)
    history = browser.html(f"/t/{thread.id}/revisions")
    assert "Original title" in history and "Original body" in history
    assert "First *reply*" in browser.html(f"/r/{reply.id}/revisions")
    page = browser.html(f"/t/{thread.id}")
    assert "New title" in page and "Edited reply" in page and "edited" in page
    # Earlier text may hold what its author removed on purpose: only the author and moderators see it.
    stranger = web(make.user())
    assert stranger.get(f"/t/{thread.id}/revisions").status_code == 403
    assert stranger.get(f"/r/{reply.id}/revisions").status_code == 403
    assert "/revisions" not in stranger.html(f"/t/{thread.id}")
    moderator = web(make.employee(is_moderator=True))
    assert "Original body" in moderator.html(f"/t/{thread.id}/revisions")
    # Saving without a change adds no revision.
    browser.post(f"/r/{reply.id}/edit", body="Edited reply")
    assert count(Revision) == 2


def test_only_author_or_moderator_edits(web, make):
    author = make.user()
    thread = make.thread(author)
    reply = make.reply(thread, author)
    stranger = web(make.user())
    assert stranger.get(f"/t/{thread.id}/edit").status_code == 403
    assert stranger.post(f"/t/{thread.id}/edit", title="Hijack", body="x").status_code == 403
    assert stranger.post(f"/r/{reply.id}/edit", body="Hijack").status_code == 403
    moderator = web(make.employee(is_moderator=True))
    assert moderator.post(f"/r/{reply.id}/edit", body="Tidied by a moderator").status_code == 302
    db.session.refresh(thread)
    db.session.refresh(reply)
    assert thread.title != "Hijack" and reply.body_md == "Tidied by a moderator"


def test_empty_or_too_long_reply_is_a_form_error(app, web, make):
    app.config["POST_MAX_LENGTH"] = 50
    user = make.user()
    thread = make.thread(user)
    browser = web(user)
    response = browser.post(f"/t/{thread.id}/reply", body="  ")
    assert response.status_code == 400 and "cannot be empty" in response.get_data(as_text=True)
    response = browser.post(f"/t/{thread.id}/reply", body="y" * 51)
    assert response.status_code == 400 and "at most 50 characters" in response.get_data(as_text=True)
    assert count(Reply) == 0


def test_preview_is_sanitised_and_needs_csrf(web, make):
    browser = web(make.user())
    payloads = '<script>alert(1)</script> [x](javascript:alert(1)) [y](&#106;avascript:alert(1)) ' \
               '<img src=x onerror=alert(1)> <svg onload=alert(1)> **b**'
    response = browser.open("POST", "/preview", json={"body": payloads}, headers={"X-CSRFToken": browser.token()})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert "<script" not in html and "<svg" not in html and "<img" not in html
    assert not re.search(r'href="(?!https?:|mailto:|/|#)', html)  # no javascript: (or other) scheme survives
    assert "<strong>b</strong>" in html
    assert browser.open("POST", "/preview", json={"body": "x"}).status_code == 400  # no token
    assert browser.open("POST", "/preview", json={"body": "x"}, headers={"X-CSRFToken": "forged"}).status_code == 400
    bad = browser.open("POST", "/preview", json=["not", "a", "dict"], headers={"X-CSRFToken": browser.token()})
    assert bad.status_code == 400
    form = browser.open("POST", "/preview", data={"body": "_it_", "csrf_token": browser.token()})
    assert form.get_json()["html"].strip() == "<p><em>it</em></p>"


ODD_QUERIES = ["'", '"unbalanced', "%", "_", "\\", "100%_done", "a" * 10_000, "\x00null", "OR 1=1 --",
               "é ü 漢字", "   ", "<script>alert(1)</script>", "foo:bar AND *", "%' OR '1'='1"]


def test_search_is_safe_with_odd_input(web, make):
    user = make.user()
    make.thread(user, title="Cluster 100%_done upgrade", body="A body with 'quotes' and \\ backslash")
    browser = web(user)
    for q in ODD_QUERIES:
        response = browser.get("/search", query_string={"q": q})
        assert response.status_code == 200, q
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)
    assert "Cluster 100%_done upgrade" in browser.html("/search", query_string={"q": "100%_done"})
    assert browser.get("/search", query_string={"q": "x", "page": "-1"}).status_code == 200


def test_search_finds_only_visible_threads_and_escapes_like(web, make):
    other = make.user()
    make.thread(other, title="Kafka connector drops messages", body="After upgrade the connector stalls")
    make.thread(other, Visibility.ORG_PRIVATE, title="Kafka secret", body="private")
    make.thread(other, title="Percent sign", body="disk at 100% full")
    make.thread(other, title="No percent", body="disk at 1000 full")
    browser = web(make.user())
    html = browser.html("/search?q=kafka")
    assert "Kafka connector drops messages" in html and "Kafka secret" not in html
    percent = browser.html("/search?q=100%25")
    assert "Percent sign" in percent and "No percent" not in percent
    assert "<mark>stalls</mark>" in browser.html("/search?q=STALLS+drops")
    assert "No threads match" in browser.html("/search?q=kafka+nothing-like-this")


def test_search_is_paginated(app, web, make):
    app.config["PAGE_SIZE"] = 2
    user = make.user()
    for i in range(5):
        make.thread(user, title=f"Needle {i}")
    browser = web(user)
    assert "Next →" in browser.html("/search?q=needle")
    last = browser.html("/search?q=needle&page=3")
    assert "Needle 0" in last and "Next →" not in last


def _without_tokens(response) -> str:
    # The CSRF token in the sign-out form carries a timestamp; everything else must match byte for byte.
    return re.sub(r'name="csrf_token" value="[^"]*"', "", response.get_data(as_text=True))


def test_forbidden_thread_is_identical_to_missing(web, make):
    owner = make.user()
    private = make.thread(owner, Visibility.ORG_PRIVATE)
    internal = make.thread(make.employee(), Visibility.INTERNAL)
    reply = make.reply(private, owner)
    browser = web(make.user())
    missing = browser.get("/t/999999")
    assert browser.get("/t/99999999999999999999999").status_code == 404
    assert browser.post("/r/99999999999999999999999/vote", value="1").status_code == 404
    for url in (f"/t/{private.id}", f"/t/{internal.id}"):
        response = browser.get(url)
        assert response.status_code == 404
        assert _without_tokens(response) == _without_tokens(missing)
    assert browser.post(f"/t/{private.id}/reply", body="hello").status_code == 404
    assert browser.post(f"/r/{reply.id}/vote", value="1").status_code == 404
    assert browser.post(f"/r/{reply.id}/accept").status_code == 404
    assert browser.get(f"/r/{reply.id}/edit").status_code == 404
    assert browser.get(f"/r/{reply.id}/revisions").status_code == 404
    assert browser.get(f"/t/{private.id}/revisions").status_code == 404
    assert count(Reply) == 1


def test_replies_are_paginated(app, web, make):
    app.config["REPLIES_PAGE_SIZE"] = 4
    user = make.user()
    thread = make.thread(user)
    for i in range(10):
        make.reply(thread, user, body=f"reply number {i:02d}")
    browser = web(user)
    first = browser.html(f"/t/{thread.id}")
    assert "reply number 00" in first and "reply number 04" not in first and "Page 1 of 3" in first
    last = browser.html(f"/t/{thread.id}?page=3")
    assert "reply number 09" in last and "reply number 07" not in last
    response = browser.post(f"/t/{thread.id}/reply", body="the newest")
    assert re.search(r"page=3#r\d+$", response.headers["Location"])


def test_nul_bytes_and_huge_input_never_fail(app, web, make):
    user = make.user()
    space = make.space()
    browser = web(user)
    response = browser.post("/ask", title="Nul\x00 title", body="nul\x00 body", space=space.id, kind="question",
                            visibility="public", tags="a\x00b", deployment=0)
    assert response.status_code == 302
    thread = db.session.execute(db.select(Thread)).scalar_one()
    assert "\x00" not in thread.title + thread.body_md
    assert browser.post(f"/t/{thread.id}/reply", body="r\x00").status_code == 302
    huge = browser.post(f"/t/{thread.id}/reply", body="z" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    assert huge.status_code == 413
    assert count(Reply) == 1


class _Inspector(HTMLParser):
    """Collects what a browser would execute: script elements, event-handler attributes, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed", "svg") and \
                not (dict(attrs).get("src") or "").startswith("/static/"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src", "action", "formaction") and value and \
                    value.strip().lower().startswith(("javascript:", "data:", "vbscript:")):
                self.found.append(f"{tag}[{name}={value}]")


def test_inspector_catches_live_markup():
    assert _dangerous_markup('<img src=x onerror=alert(1)><a href=" javascript:x">') == [
        "img[onerror]", "a[href= javascript:x]"]
    assert _dangerous_markup('<script>alert(1)</script>') == ["<script>"]
    assert _dangerous_markup('<script src="/static/board.js"></script><p title="onerror=x">') == []


def _dangerous_markup(html: str) -> list[str]:
    inspector = _Inspector()
    inspector.feed(html)
    return inspector.found


XSS = ['<script>alert(1)</script>', '<img src=x onerror=alert(1)>', '<svg/onload=alert(1)>',
       '"><script>alert(1)</script>', "'><img src=x onerror=alert(1)>"]


def test_payloads_come_back_inert_on_every_board_page(web, make):
    org = make.customer_org(name='Evil <script>alert(1)</script> Org')
    user = make.user(org, display_name='<img src=x onerror=alert(1)>')
    deployment = make.deployment(org, name='<svg/onload=alert(1)>', topology='"><script>alert(1)</script>')
    space = make.space()
    browser = web(user)
    body = "\n\n".join(XSS + ["[click](javascript:alert(1))", "[e](&#x6A;avascript:alert(1))",
                              "![i](javascript:alert(1))", "needle"])
    response = browser.post("/ask", title=XSS[1] + " needle", body=body, space=space.id, kind="question",
                            visibility="public", tags="<script>, onerror=alert(1)", deployment=deployment.id)
    assert response.status_code == 302
    thread = db.session.execute(db.select(Thread)).scalar_one()
    browser.post(f"/t/{thread.id}/reply", body=body)
    browser.post(f"/t/{thread.id}/edit", title=XSS[0], body=body + " again", tags="x")
    urls = ["/", f"/s/{space.slug}", f"/t/{thread.id}", "/search?q=needle", f"/t/{thread.id}/revisions",
            f"/t/{thread.id}/edit", "/search?q=" + XSS[0]]
    for url in urls:
        html = browser.html(url)
        for payload in XSS:
            assert payload not in html, (url, payload)
        assert _dangerous_markup(html) == [], url
