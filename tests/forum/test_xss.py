"""XSS: every payload, stored in every place a member can write, comes back inert on every page showing it.

Places: thread titles, thread bodies, replies, tags (as typed, and raw rows the normaliser never saw),
display names, organisation names, deployment names (the snapshot on the thread). Stored through the real
routes where they exist (ask, reply, account, admin organisations, organisation deployments); raw tag rows
through the factories. Every page is parsed with the standard library's HTML parser and must contain no
script but our own /static/ files, no on* attribute, no javascript:/data:/vbscript: URL, no embedding or
style element, and no evaluated template expression.
"""
from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

from forum.extensions import db
from forum.models import Deployment, Organisation, Tag, Thread, User
from tests.factories import Factory, csrf_token_from, login_as
from tests.forum.xss_payloads import PAYLOADS, TEMPLATE_EVALUATED

URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background", "cite",
                  "srcset", "ping", "codebase", "longdesc", "manifest"}
FORBIDDEN_ELEMENTS = {"iframe", "object", "embed", "svg", "math", "style", "base", "frame", "frameset",
                      "applet"}
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
PLACES = ("thread title", "thread body", "reply", "tag (typed)", "tag (raw row)", "display name",
          "organisation name", "deployment name")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")


class ActiveContentFinder(HTMLParser):
    """Collects everything in a page a browser could execute."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "script":
            if not values.get("src", "").startswith("/static/"):
                self.findings.append(f"<script {values}>")
        elif tag in FORBIDDEN_ELEMENTS:
            self.findings.append(f"<{tag}> element")
        elif tag == "meta" and "http-equiv" in values:
            self.findings.append(f"<meta http-equiv={values['http-equiv']!r}>")
        elif tag == "link" and values.get("rel") == "icon" and values.get("href") == "data:,":
            return  # our own empty favicon (saves a request); no user text ever reaches a <link>
        elif tag == "link" and not values.get("href", "").startswith("/static/"):
            self.findings.append(f"<link href={values.get('href')!r}>")
        for name, value in values.items():
            if name.startswith("on"):
                self.findings.append(f"<{tag} {name}={value!r}>")
            if name in URL_ATTRIBUTES:
                # The parser has unescaped the value once, as the browser does; browsers also ignore
                # whitespace and control characters inside a scheme.
                cleaned = _INVISIBLE.sub("", value).lower()
                if cleaned.startswith(BAD_SCHEMES):
                    self.findings.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def active_content(html: str) -> list[str]:
    """What in this page could run: scripts, handlers, dangerous URLs, embeds, evaluated templates."""
    finder = ActiveContentFinder()
    finder.feed(html)
    finder.close()
    findings = list(finder.findings)
    if TEMPLATE_EVALUATED in html:
        findings.append(f"template expression evaluated ({TEMPLATE_EVALUATED})")
    if "test-secret-key-not-for-production" in html:
        findings.append("the SECRET_KEY leaked into the page")
    return findings


def test_the_finder_finds_what_it_should():
    """The checker itself: it flags live content and lets our own pages' constructs through."""
    assert active_content('<script src="/static/board.js" defer></script><link rel="stylesheet" '
                          'href="/static/groundwork.css"><a href="/t/1">x</a>') == []
    for live in ("<script>alert(1)</script>", '<img src=x onerror="alert(1)">', '<a href="jav&#x09;ascript:x">',
                 '<a href=" JAVASCRIPT:x">', "<svg></svg>", '<iframe src="/x">', "<p>tpl49end</p>",
                 '<a href="data:text/html,x">', '<a href="&#106;avascript:x">'):
        assert active_content(live), live


def _token(client, url: str = "/") -> str:
    return csrf_token_from(client.get(url).get_data(as_text=True))


def _store_everything(app, make) -> tuple[list[dict], list[str], User]:
    """One customer organisation, member, deployment, thread and reply per payload."""
    admin = make.employee(is_admin=True, is_moderator=True)
    space = make.space("Everything")
    version = make.product_version()
    admin_client = app.test_client()
    login_as(admin_client, admin, Factory.PASSWORD)
    token = _token(admin_client)
    stored, notes = [], []
    for i, payload in enumerate(PAYLOADS):
        marker = f"xssmark{i}x"
        row: dict = {"payload": payload, "marker": marker}
        # Organisation name, through the admin page.
        response = admin_client.post("/admin/organisations/new", data={
            "name": payload, "kind": "customer", "description": payload, "csrf_token": token})
        org = db.session.execute(db.select(Organisation).filter_by(name=payload)).scalar_one_or_none()
        if org is None:
            notes.append(f"organisation name refused by the route ({response.status_code}): {payload!r}")
            org = make.customer_org(payload)
        user = make.user(org, is_org_admin=True)
        client = app.test_client()
        login_as(client, user, Factory.PASSWORD)
        token_u = _token(client, "/account")
        # Display name, through the account page.
        response = client.post("/account", data={"display_name": payload, "bio": payload, "csrf_token": token_u})
        db.session.expire_all()
        if db.session.get(User, user.id).display_name != payload:
            notes.append(f"display name refused by the route ({response.status_code}): {payload!r}")
            user.display_name = payload
            db.session.commit()
        # Deployment name, through the organisation's deployment form.
        response = client.post(f"/orgs/{org.slug}/deployments/new", data={
            "name": payload, "product_version": str(version.id), "hosting": "cloud", "environment": "test",
            "database": payload[:60], "topology": payload[:60], "integrations": payload, "csrf_token": token_u})
        deployment = db.session.execute(
            db.select(Deployment).filter_by(organisation_id=org.id)).scalars().first()
        if deployment is None:
            notes.append(f"deployment name refused by the route ({response.status_code}): {payload!r}")
            deployment = make.deployment(org, name=payload)
        # Thread title, body and typed tags, through the ask page.
        ask = {"title": f"{marker} {payload}", "body": f"{marker}\n\n{payload}", "space": str(space.id),
               "kind": "question", "visibility": "public", "tags": payload,
               "deployment": str(deployment.id), "csrf_token": token_u}
        response = client.post("/ask", data=ask)
        if response.status_code == 400:  # the typed tags may be refused; the rest must still be stored
            notes.append(f"tags refused by /ask: {payload!r}")
            response = client.post("/ask", data={**ask, "tags": "plain"})
        assert response.status_code in (302, 303), f"/ask refused {payload!r}: {response.status_code}"
        thread = db.session.execute(db.select(Thread).filter_by(author_id=user.id)).scalar_one()
        # A raw tag row, as if the normaliser had been bypassed (old data, an import, a future change).
        raw = db.session.execute(db.select(Tag).filter_by(name=payload[:40])).scalar_one_or_none()
        raw = raw or Tag(name=payload[:40])
        thread.tags.append(raw)
        db.session.commit()
        # Reply body, through the reply form.
        response = client.post(f"/t/{thread.id}/reply", data={"body": f"{payload}\n\n{marker}", "csrf_token": token_u})
        assert response.status_code in (302, 303), f"reply refused {payload!r}: {response.status_code}"
        row.update(thread=thread.id, user=user.username, org=org.slug, org_id=org.id, user_id=user.id)
        stored.append(row)
    return stored, notes, admin


def _pages(app, stored: list[dict]) -> list[str]:
    """Every page that shows stored content."""
    urls = ["/", "/?show=unanswered", "/?show=org_open", "/orgs/", "/admin/organisations", "/admin/users"]
    space = db.session.execute(db.select(Thread.space_id)).scalars().first()
    from forum.models import Space

    slug = db.session.get(Space, space).slug
    pages = -(-len(stored) // app.config["PAGE_SIZE"])
    for n in range(1, pages + 1):
        urls += [f"/?page={n}", f"/s/{slug}?page={n}", f"/orgs/?page={n}", f"/admin/users?page={n}",
                 f"/admin/organisations?page={n}"]
    for row in stored:
        tid = row["thread"]
        urls += [f"/t/{tid}", f"/t/{tid}/edit", f"/t/{tid}/revisions", f"/search?q={row['marker']}",
                 f"/u/{row['user']}", f"/orgs/{row['org']}", f"/admin/organisations/{row['org_id']}",
                 f"/admin/users/{row['user_id']}"]
    for tag in db.session.execute(db.select(Tag.name)).scalars():
        urls.append(f"/s/{slug}?tag={tag}")
    return urls


def test_payloads_come_back_inert_everywhere(app, make):
    stored, notes, admin = _store_everything(app, make)
    viewer = app.test_client()
    login_as(viewer, admin, Factory.PASSWORD)
    executed: dict[str, list[str]] = {}
    fetched = 0
    shown = {f"/t/{row['thread']}": f"{row['marker']} {row['payload']}" for row in stored}
    for url in _pages(app, stored):
        response = viewer.get(url)
        assert response.status_code in (200, 404), f"{url}: {response.status_code}"
        fetched += 1
        html = response.get_data(as_text=True)
        findings = active_content(html)
        if findings:
            executed[url] = findings
        if url in shown:
            # The payload really is on the page, as text: the check above looked at the right thing.
            assert shown[url] in unescape(html), f"{url} does not show {shown[url]!r}"
    # Also as the author (their own pages: the account form, their organisation's deployment forms).
    for row in stored[:1] + stored[-1:]:
        user = db.session.execute(db.select(User).filter_by(username=row["user"])).scalar_one()
        author = app.test_client()
        login_as(author, user, Factory.PASSWORD)
        for url in ("/account", f"/orgs/{row['org']}", "/ask", f"/t/{row['thread']}"):
            response = author.get(url)
            fetched += 1
            findings = active_content(response.get_data(as_text=True))
            if findings:
                executed[f"{url} as {user.username}"] = findings
    tried = len(PAYLOADS) * len(PLACES)
    # A page that shows stored content with something live counts every payload-place it shows.
    live = sum(len(f) for f in executed.values())
    print(f"XSS: {len(PAYLOADS)} payloads x {len(PLACES)} places = {tried} stored; {fetched} pages fetched; "
          f"{live} live constructs found")
    for note in notes:
        print("  note:", note)
    assert not executed, "live content in pages:\n" + "\n".join(f"{u}: {f}" for u, f in executed.items())
