"""The authorization matrix, through the real HTTP routes, checked cell by cell against ONE policy table.

The table below is written from the forum specification (who may see and do what), not read off the
code. Every cell is a (role, visibility, action) with the expected outcome; each role gets a fresh world
(organisations, users, threads, replies, deployments), signs in through the real login form, and does
every action on every visibility. An action that is refused must change nothing in the database; an
action that is allowed must make exactly the change it promises.
"""
from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import func, select

from forum.extensions import db
from forum.models import Attachment, Reply, Thread, Visibility, Vote
from forum.services.attachments.checks import check_file
from forum.services.attachments.files import attach
from tests.factories import csrf_token_from

# --- the policy table ----------------------------------------------------------------------------
#
# Roles (columns, in this order):
ROLES = ("anon", "cust_a", "admin_a", "cust_b", "partner_in", "partner_out", "employee", "moderator", "admin",
         "anon_read")
#   anon        anonymous visitor, PUBLIC_READ off (the default)
#   cust_a      customer of organisation A; the asker of A's threads
#   admin_a     customer org admin of A
#   cust_b      customer of organisation B
#   partner_in  partner firm engaged with A;  partner_out: a partner firm not engaged with A
#   employee    vendor employee without flags; moderator / admin: vendor employees with those flags
#   anon_read   anonymous visitor with PUBLIC_READ on
#
# Visibilities: public, internal, org_private (of A), staff_note (staff notes on a public thread of A;
# the actions then act on the notes).
#
# Outcomes:  Y  allowed / listed / found / shown      N  not listed / not found / hidden
#            4  404, exactly like a missing thread    F  403 (may see it, may not do that)
#            L  redirected to the login page
#
# Actions:
#   list      the thread appears on the home page and its space page (staff_note: the thread is listed
#             and the notes' text is on neither page)
#   view      GET /t/<id> answers 200 (staff_note: the notes' text is on the page)
#   file      GET /files/<id>/<name> of a log attached to the question (staff_note: to a staff note) answers 200
#   search    GET /search?q=<a word only in that thread> finds it (staff_note: a word only in the notes;
#             search covers thread titles and question bodies, and must never leak a note)
#   reply     POST /t/<id>/reply (staff_note: with staff_note checked)
#   edit      GET and POST /r/<id>/edit on someone else's reply: moderators only
#   edit_own  the same on a reply the user wrote
#   accept    POST /r/<id>/accept: the asker, the asker's org admin, or an employee; never a staff note
#   vote      POST /r/<id>/vote on someone else's reply: whoever sees it
#   confirm   POST /t/<id>/confirm at one of the user's deployments: another customer organisation only
#   moderate  POST /r/<id>/delete (soft delete): moderators (admins are moderators too)
#   api_file  GET /api/v1/attachments/<id> of the same log as "file" (L here: the API's 401)
#   add_file  POST /r/<id>/edit with a file, on someone else's reply (as edit)
#   add_file_own     the same on the user's own reply (as edit_own)
#   api_add_file     POST /api/v1/replies/<id>/attachments on someone else's reply (as edit)
#   remove_file      POST /attachments/<id>/remove of a file on the question (staff_note: on a note): its
#                    uploader (the asker), whoever may edit the post, a moderator
#   api_remove_file  DELETE /api/v1/attachments/<id> of another such file, the same rule
#
#                                    anon A   adA  B   p_in p_out emp mod adm anon_read
TABLE = {
    ("public", "list"):             "L   Y   Y   Y   Y   Y   Y   Y   Y   Y",
    ("public", "view"):             "L   Y   Y   Y   Y   Y   Y   Y   Y   Y",
    ("public", "search"):           "L   Y   Y   Y   Y   Y   Y   Y   Y   Y",
    ("public", "file"):             "L   Y   Y   Y   Y   Y   Y   Y   Y   Y",
    ("public", "reply"):            "L   Y   Y   Y   Y   Y   Y   Y   Y   L",
    ("public", "edit"):             "L   F   F   F   F   F   F   Y   Y   L",
    ("public", "edit_own"):         "L   Y   Y   Y   Y   Y   Y   Y   Y   L",
    ("public", "accept"):           "L   Y   Y   F   F   F   Y   Y   Y   L",
    ("public", "vote"):             "L   Y   Y   Y   Y   Y   Y   Y   Y   L",
    ("public", "confirm"):          "L   F   F   Y   F   F   F   F   F   L",
    ("public", "moderate"):         "L   F   F   F   F   F   F   Y   Y   L",
    ("public", "api_file"):         "L   Y   Y   Y   Y   Y   Y   Y   Y   Y",
    ("public", "add_file"):         "L   F   F   F   F   F   F   Y   Y   L",
    ("public", "add_file_own"):     "L   Y   Y   Y   Y   Y   Y   Y   Y   L",
    ("public", "api_add_file"):     "L   F   F   F   F   F   F   Y   Y   L",
    ("public", "remove_file"):      "L   Y   F   F   F   F   F   Y   Y   L",
    ("public", "api_remove_file"):  "L   Y   F   F   F   F   F   Y   Y   L",

    ("internal", "list"):           "L   N   N   N   N   N   Y   Y   Y   N",
    ("internal", "view"):           "L   4   4   4   4   4   Y   Y   Y   4",
    ("internal", "search"):         "L   N   N   N   N   N   Y   Y   Y   N",
    ("internal", "file"):           "L   4   4   4   4   4   Y   Y   Y   4",
    ("internal", "reply"):          "L   4   4   4   4   4   Y   Y   Y   L",
    ("internal", "edit"):           "L   4   4   4   4   4   F   Y   Y   L",
    ("internal", "edit_own"):       "L   4   4   4   4   4   Y   Y   Y   L",
    ("internal", "accept"):         "L   4   4   4   4   4   Y   Y   Y   L",
    ("internal", "vote"):           "L   4   4   4   4   4   Y   Y   Y   L",
    ("internal", "confirm"):        "L   4   4   4   4   4   F   F   F   L",
    ("internal", "moderate"):       "L   4   4   4   4   4   F   Y   Y   L",
    ("internal", "api_file"):       "L   4   4   4   4   4   Y   Y   Y   4",
    ("internal", "add_file"):       "L   4   4   4   4   4   F   Y   Y   L",
    ("internal", "add_file_own"):   "L   4   4   4   4   4   Y   Y   Y   L",
    ("internal", "api_add_file"):   "L   4   4   4   4   4   F   Y   Y   L",
    ("internal", "remove_file"):    "L   4   4   4   4   4   F   Y   Y   L",
    ("internal", "api_remove_file"):"L   4   4   4   4   4   F   Y   Y   L",

    ("org_private", "list"):        "L   Y   Y   N   Y   N   Y   Y   Y   N",
    ("org_private", "view"):        "L   Y   Y   4   Y   4   Y   Y   Y   4",
    ("org_private", "search"):      "L   Y   Y   N   Y   N   Y   Y   Y   N",
    ("org_private", "file"):        "L   Y   Y   4   Y   4   Y   Y   Y   4",
    ("org_private", "reply"):       "L   Y   Y   4   Y   4   Y   Y   Y   L",
    ("org_private", "edit"):        "L   F   F   4   F   4   F   Y   Y   L",
    ("org_private", "edit_own"):    "L   Y   Y   4   Y   4   Y   Y   Y   L",
    ("org_private", "accept"):      "L   Y   Y   4   F   4   Y   Y   Y   L",
    ("org_private", "vote"):        "L   Y   Y   4   Y   4   Y   Y   Y   L",
    ("org_private", "confirm"):     "L   F   F   4   F   4   F   F   F   L",
    ("org_private", "moderate"):    "L   F   F   4   F   4   F   Y   Y   L",
    ("org_private", "api_file"):    "L   Y   Y   4   Y   4   Y   Y   Y   4",
    ("org_private", "add_file"):    "L   F   F   4   F   4   F   Y   Y   L",
    ("org_private", "add_file_own"):"L   Y   Y   4   Y   4   Y   Y   Y   L",
    ("org_private", "api_add_file"):"L   F   F   4   F   4   F   Y   Y   L",
    ("org_private", "remove_file"): "L   Y   F   4   F   4   F   Y   Y   L",
    ("org_private", "api_remove_file"):"L   Y   F   4   F   4   F   Y   Y   L",

    ("staff_note", "list"):         "L   Y   Y   Y   Y   Y   Y   Y   Y   Y",
    ("staff_note", "view"):         "L   N   N   N   N   N   Y   Y   Y   N",
    ("staff_note", "search"):       "L   N   N   N   N   N   N   N   N   N",
    ("staff_note", "file"):         "L   4   4   4   4   4   Y   Y   Y   4",
    ("staff_note", "reply"):        "L   F   F   F   F   F   Y   Y   Y   L",
    ("staff_note", "edit"):         "L   4   4   4   4   4   F   Y   Y   L",
    ("staff_note", "edit_own"):     "L   4   4   4   4   4   Y   Y   Y   L",
    ("staff_note", "accept"):       "L   4   4   4   4   4   F   F   F   L",
    ("staff_note", "vote"):         "L   4   4   4   4   4   Y   Y   Y   L",
    ("staff_note", "moderate"):     "L   4   4   4   4   4   F   Y   Y   L",
    ("staff_note", "api_file"):     "L   4   4   4   4   4   Y   Y   Y   4",
    ("staff_note", "add_file"):     "L   4   4   4   4   4   F   Y   Y   L",
    ("staff_note", "add_file_own"): "L   4   4   4   4   4   Y   Y   Y   L",
    ("staff_note", "api_add_file"): "L   4   4   4   4   4   F   Y   Y   L",
    ("staff_note", "remove_file"):  "L   4   4   4   4   4   F   Y   Y   L",
    ("staff_note", "api_remove_file"):"L   4   4   4   4   4   F   Y   Y   L",
}

POLICY: dict[tuple[str, str, str], str] = {}
for (_visibility, _action), _row in TABLE.items():
    _cells = _row.split()
    assert len(_cells) == len(ROLES), (_visibility, _action)
    for _role, _expected in zip(ROLES, _cells, strict=True):
        POLICY[(_role, _visibility, _action)] = _expected

VISIBILITIES = ("public", "internal", "org_private", "staff_note")
ACTIONS = ("list", "view", "file", "api_file", "search", "reply", "edit", "edit_own", "accept", "vote", "confirm",
           "moderate", "add_file", "add_file_own", "api_add_file", "remove_file", "api_remove_file")
NOTE_WORD = "zebranoteword"


def test_policy_table_is_complete():
    """Every role x visibility x action has a cell (confirm on staff notes is the thread's, as public)."""
    expected = {(r, v, a) for r in ROLES for v in VISIBILITIES for a in ACTIONS} - {
        (r, "staff_note", "confirm") for r in ROLES}
    assert set(POLICY) == expected
    print(f"authorization matrix: {len(POLICY)} cells "
          f"({len(ROLES)} roles x {len(VISIBILITIES)} visibilities x {len(ACTIONS)} actions, "
          f"less confirm on staff notes)")


# --- the world -----------------------------------------------------------------------------------

class World:
    """Everything one role's run needs, built with the factories."""

    def __init__(self, make, role: str) -> None:
        a, b = make.customer_org("Alpha Mills"), make.customer_org("Beta Foods")
        partner_in, partner_out = make.partner_org("Inside Partners"), make.partner_org("Outside Partners")
        vendor = make.vendor_org()
        make.engage(partner_in, a)
        self.users = {
            "cust_a": make.user(a), "admin_a": make.user(a, is_org_admin=True), "cust_b": make.user(b),
            "partner_in": make.user(partner_in), "partner_out": make.user(partner_out),
            "employee": make.employee(), "moderator": make.employee(is_moderator=True),
            "admin": make.employee(is_admin=True),
        }
        self.other_a = make.user(a)           # writes the replies the roles act on in A's threads
        self.other_staff = make.employee()    # asks the internal thread and writes the staff notes
        self.deployments = {org.id: make.deployment(org) for org in (a, b, partner_in, partner_out, vendor)}
        self.space = make.space("Everyone")
        self.user = self.users.get(role)
        self.threads: dict[str, Thread] = {}
        self.targets: dict[str, dict[str, Reply]] = {}
        self.words: dict[str, str] = {}
        self.files: dict[str, Attachment] = {}
        self.removable: dict[str, dict[str, Attachment]] = {}
        for visibility in VISIBILITIES:
            self._build(make, visibility)

    def _build(self, make, visibility: str) -> None:
        word = f"quokka{visibility.replace('_', '')}word"
        internal = visibility == "internal"
        asker = self.other_staff if internal else self.users["cust_a"]
        thread_visibility = {"internal": Visibility.INTERNAL, "org_private": Visibility.ORG_PRIVATE}.get(
            visibility, Visibility.PUBLIC)
        thread = make.thread(asker, thread_visibility, space=self.space, title=f"Matrix {visibility} thread",
                             body=f"Question text with {word} in it.")
        writer = self.other_staff if internal else self.other_a
        note = visibility == "staff_note"
        if note:
            writer = self.other_staff
        accepted = make.reply(thread, self.other_a if not internal else self.other_staff, "The accepted answer.")
        thread.accepted_reply_id = accepted.id
        db.session.commit()
        targets = {name: make.reply(thread, writer, f"{name} target {NOTE_WORD if note else ''}", staff_note=note)
                   for name in ("edit", "accept", "vote", "moderate")}
        # The role's own reply (for anonymous roles, someone else's: they must be sent to log in anyway).
        targets["edit_own"] = (make.reply(thread, self.user, "My own words.", staff_note=note)
                               if self.user else targets["edit"])
        # A log on the question (on a staff note: on the note), through the same checks as an upload.
        on_reply = targets["edit"] if note else None
        self.files[visibility], *removable = attach(on_reply.author if note else thread.author, [check_file(
            name, f"ERROR MTX-{len(self.files) + 1000} in {visibility} {name}\n".encode(), 10_000)
            for name in ("matrix.log", "remove.log", "api-remove.log")], thread, on_reply)
        self.removable[visibility] = dict(zip(("remove_file", "api_remove_file"), removable, strict=True))
        self.threads[visibility] = thread
        self.targets[visibility] = targets
        self.words[visibility] = NOTE_WORD if note else word


# --- measuring one cell ----------------------------------------------------------------------------

def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", "")


def _code(response) -> str | None:
    """The outcome a response alone decides, or None for a non-login redirect (the DB decides)."""
    if _is_login_redirect(response):
        return "L"
    if response.status_code == 404:
        return "4"
    if response.status_code == 403:
        return "F"
    if response.status_code in (301, 302, 303):
        return None
    return f"HTTP {response.status_code}"


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in db.metadata.sorted_tables}


def _listed(html: str, thread_id: int) -> bool:
    return re.search(rf'href="/t/{thread_id}(?![0-9])', html) is not None


class Runner:
    def __init__(self, client, world: World) -> None:
        self.client = client
        self.world = world
        page = client.get("/login" if world.user is None else "/")
        if world.user is not None:
            assert page.status_code == 200, page.status_code
        else:
            page = client.get("/login")
        self.token = csrf_token_from(page.get_data(as_text=True))

    def post(self, url: str, **data):
        return self.client.post(url, data={"csrf_token": self.token, **data})

    # Read actions ------------------------------------------------------------------------------
    def list(self, visibility: str) -> str:
        thread = self.world.threads[visibility]
        pages = [self.client.get("/"), self.client.get(f"/s/{self.world.space.slug}")]
        codes = {_code(p) for p in pages if p.status_code != 200}
        if codes:
            return "/".join(sorted(map(str, codes)))
        html = [p.get_data(as_text=True) for p in pages]
        listed = {_listed(h, thread.id) for h in html}
        if len(listed) > 1:
            return "listed on one page only"
        if visibility == "staff_note" and any(NOTE_WORD in h for h in html):
            return "staff note text on a list page"
        return "Y" if listed.pop() else "N"

    def view(self, visibility: str) -> str:
        response = self.client.get(f"/t/{self.world.threads[visibility].id}")
        if response.status_code != 200:
            return _code(response) or "redirect"
        if visibility == "staff_note":
            return "Y" if NOTE_WORD in response.get_data(as_text=True) else "N"
        return "Y"

    def file(self, visibility: str) -> str:
        row = self.world.files[visibility]
        response = self.client.get(f"/files/{row.id}/{row.filename}")
        if response.status_code != 200:
            return _code(response) or "redirect"
        return "Y" if response.data.startswith(b"ERROR MTX-") else "200 without the file"

    def search(self, visibility: str) -> str:
        response = self.client.get("/search", query_string={"q": self.world.words[visibility]})
        if response.status_code != 200:
            return _code(response) or "redirect"
        return "Y" if _listed(response.get_data(as_text=True), self.world.threads[visibility].id) else "N"

    # Write actions: the response and the database must tell the same story ----------------------
    def _write(self, response, changed: bool, before: dict[str, int]) -> str:
        code = _code(response)
        after = _row_counts()
        if code is None:
            return "Y" if changed else "redirect without a change"
        if changed or (before != after):
            return f"{code} but the database changed"
        return code

    def reply(self, visibility: str) -> str:
        thread = self.world.threads[visibility]
        body = f"A new reply from the matrix ({visibility})"
        data = {"body": body}
        if visibility == "staff_note":
            data["staff_note"] = "y"
        before = _row_counts()
        response = self.post(f"/t/{thread.id}/reply", **data)
        rows = db.session.execute(select(Reply).where(Reply.thread_id == thread.id, Reply.body_md == body)).scalars()
        rows = list(rows)
        changed = len(rows) == 1 and rows[0].is_staff_note == (visibility == "staff_note")
        if rows and not changed:
            return "a reply of the wrong kind was stored"
        return self._write(response, changed, before)

    def _edit(self, reply: Reply) -> str:
        got = self.client.get(f"/r/{reply.id}/edit")
        get_code = "Y" if got.status_code == 200 else (_code(got) or "redirect")
        old = reply.body_md
        before = _row_counts()
        response = self.post(f"/r/{reply.id}/edit", body="Edited by the matrix.")
        db.session.expire_all()
        changed = db.session.get(Reply, reply.id).body_md != old
        post_code = self._write(response, changed, before)
        return get_code if get_code == post_code else f"GET {get_code}, POST {post_code}"

    def edit(self, visibility: str) -> str:
        return self._edit(self.world.targets[visibility]["edit"])

    def edit_own(self, visibility: str) -> str:
        return self._edit(self.world.targets[visibility]["edit_own"])

    def accept(self, visibility: str) -> str:
        reply = self.world.targets[visibility]["accept"]
        before = _row_counts()
        response = self.post(f"/r/{reply.id}/accept")
        db.session.expire_all()
        changed = db.session.get(Thread, reply.thread_id).accepted_reply_id == reply.id
        return self._write(response, changed, before)

    def vote(self, visibility: str) -> str:
        reply = self.world.targets[visibility]["vote"]
        before = _row_counts()
        response = self.post(f"/r/{reply.id}/vote", value="1")
        votes = db.session.execute(select(func.count()).select_from(Vote).where(Vote.reply_id == reply.id)
                                   ).scalar_one()
        return self._write(response, votes == 1, before)

    def confirm(self, visibility: str) -> str:
        thread = self.world.threads[visibility]
        user = self.world.user
        deployment = self.world.deployments[user.organisation_id] if user else next(
            iter(self.world.deployments.values()))
        before = _row_counts()
        response = self.post(f"/t/{thread.id}/confirm", deployment=str(deployment.id))
        added = _row_counts()["confirmation"] - before["confirmation"]
        return self._write(response, added == 1, before)

    def api_file(self, visibility: str) -> str:
        row = self.world.files[visibility]
        response = self.client.get(f"/api/v1/attachments/{row.id}")
        if response.status_code == 401:
            return "L"
        if response.status_code != 200:
            return _code(response) or "redirect"
        return "Y" if response.data.startswith(b"ERROR MTX-") else "200 without the file"

    def _added(self, reply: Reply, name: str) -> bool:
        return db.session.execute(select(func.count(Attachment.id)).where(
            Attachment.reply_id == reply.id, Attachment.filename == name)).scalar_one() == 1

    def _add_file(self, reply: Reply, name: str) -> str:
        before = _row_counts()
        response = self.client.post(f"/r/{reply.id}/edit", content_type="multipart/form-data", data={
            "csrf_token": self.token, "body": db.session.get(Reply, reply.id).body_md,
            "files": [(io.BytesIO(b"matrix added\n"), name)]})
        return self._write(response, self._added(reply, name), before)

    def add_file(self, visibility: str) -> str:
        return self._add_file(self.world.targets[visibility]["edit"], "added-by-edit.log")

    def add_file_own(self, visibility: str) -> str:
        return self._add_file(self.world.targets[visibility]["edit_own"], "added-to-own.log")

    def api_add_file(self, visibility: str) -> str:
        reply = self.world.targets[visibility]["edit"]
        before = _row_counts()
        response = self.client.post(f"/api/v1/replies/{reply.id}/attachments", content_type="multipart/form-data",
                                    data={"csrf_token": self.token,
                                          "files": [(io.BytesIO(b"matrix added\n"), "added-by-api.log")]})
        if response.status_code == 201:
            return "Y" if self._added(reply, "added-by-api.log") else "201 without the file"
        return "L" if response.status_code == 401 and _row_counts() == before else self._write(response, False, before)

    def _removed(self, row: Attachment) -> bool:
        db.session.expire_all()
        return db.session.get(Attachment, row.id).deleted_at is not None

    def remove_file(self, visibility: str) -> str:
        row = self.world.removable[visibility]["remove_file"]
        before = _row_counts()
        response = self.post(f"/attachments/{row.id}/remove")
        return self._write(response, self._removed(row), before)

    def api_remove_file(self, visibility: str) -> str:
        row = self.world.removable[visibility]["api_remove_file"]
        before = _row_counts()
        response = self.client.delete(f"/api/v1/attachments/{row.id}", headers={"X-CSRFToken": self.token})
        if response.status_code == 204:
            return "Y" if self._removed(row) else "204 without removing"
        if response.status_code == 401:
            return "L" if _row_counts() == before and not self._removed(row) else "401 but the database changed"
        return self._write(response, self._removed(row), before)

    def moderate(self, visibility: str) -> str:
        reply = self.world.targets[visibility]["moderate"]
        before = _row_counts()
        response = self.post(f"/r/{reply.id}/delete")
        db.session.expire_all()
        changed = db.session.get(Reply, reply.id).deleted_at is not None
        # A soft delete changes no row count; anything else must not either.
        return self._write(response, changed, before)


@pytest.mark.parametrize("role", ROLES)
def test_authorization_matrix(app, client, make, login, role):
    app.config["PUBLIC_READ"] = role == "anon_read"
    world = World(make, role)
    if world.user is not None:
        login(world.user)
    runner = Runner(client, world)
    mismatches = []
    checked = 0
    # Reads first, then writes in an order where an allowed write cannot hide a later cell.
    for action in ACTIONS:
        for visibility in VISIBILITIES:
            expected = POLICY.get((role, visibility, action))
            if expected is None:
                continue
            got = getattr(runner, action)(visibility)
            checked += 1
            if got != expected:
                mismatches.append(f"{role:11} {visibility:11} {action:9} expected {expected}, got {got}")
    print(f"{role}: {checked} cells checked")
    assert checked == sum(1 for key in POLICY if key[0] == role)
    assert not mismatches, "policy table and routes disagree:\n" + "\n".join(mismatches)


# Pages anyone may open: signing in, accepting an invitation, asking for a password reset link, our static files.
OPEN_TO_ANONYMOUS = {"auth.login", "auth.register", "password.forgot", "static"}


def test_anonymous_visitor_is_sent_to_login_from_every_page(app, client, make):
    """With PUBLIC_READ off, no page but the login and registration pages shows an anonymous visitor anything.

    The pages come from ``app.url_map``, so a page added later is covered without touching this test.
    """
    from tests.forum.test_csrf import _world

    app.config["PUBLIC_READ"] = False
    _admin, values = _world(make)
    try:  # a real table name, so a page that forgot its guard would answer 200 here
        from forum.services.metrics.export import TABLES
        table = next(iter(TABLES))
    except ImportError:
        table = "responses"
    values = {**values, "username": _admin.username, "filename": "groundwork.css", "name": table}
    leaks = []
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint not in OPEN_TO_ANONYMOUS]
    for rule in rules:
        missing = [a for a in rule.arguments if a not in values]
        assert not missing, f"no value for {missing} in {rule.rule}: add one to tests/forum/test_csrf.py _world"
        url = rule.build({a: values[a] for a in rule.arguments}, append_unknown=False)[1]
        response = client.get(url)
        # A login redirect, or a refusal that shows nothing (pages for staff only may hide themselves).
        if _is_login_redirect(response) or response.status_code in (401, 403, 404):
            continue
        leaks.append(f"GET {url}: {response.status_code}")
    print(f"anonymous: {len(rules)} pages checked")
    assert not leaks, "pages an anonymous visitor reached without signing in:\n" + "\n".join(leaks)


# --- organisation actions, from the same specification ------------------------------------------
#
# "A customer editing their org's deployments is an org admin; employees can edit any."
# "Registration by invitation link that an org admin or vendor admin creates."
# Y: done (and the row is there)   R: refused with 403 or 404, nothing stored   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
ORG_TABLE = {
    "new_deployment":               "L   R   Y   R   R   R   Y   Y   Y",
    "edit_deployment":              "L   R   Y   R   R   R   Y   Y   Y",
    "invite":                       "L   R   Y   R   R   R   R   R   Y",
}
ORG_ROLES = ROLES[:-1]


def org_policy(table: dict[str, str]) -> dict[tuple[str, str], str]:
    """(role, action) -> expected cell, from a table whose columns are ORG_ROLES."""
    return {(role, action): cell for action, row in table.items()
            for role, cell in zip(ORG_ROLES, row.split(), strict=True)}


def assert_cells(role: str, got: dict[str, str], policy: dict[tuple[str, str], str]) -> None:
    """Every action this role tried came out as its table says (all mismatches listed at once)."""
    mismatches = [f"{role} {action}: expected {cell}, got {got[action]}"
                  for (cell_role, action), cell in policy.items() if cell_role == role and got[action] != cell]
    assert not mismatches, "\n".join(mismatches)
ORG_POLICY = org_policy(ORG_TABLE)


@pytest.mark.parametrize("role", ORG_ROLES)
def test_organisation_actions(app, client, make, login, role):
    from forum.models import Deployment, Invitation

    world = World(make, role)
    org_a = world.users["cust_a"].organisation
    deployment = world.deployments[org_a.id]
    version = deployment.product_version_id
    if world.user is not None:
        login(world.user)
    token = csrf_token_from(client.get("/login" if world.user is None else "/").get_data(as_text=True))

    def outcome(response, done: bool, before: dict[str, int]) -> str:
        if _is_login_redirect(response):
            code = "L"
        elif response.status_code in (403, 404):
            code = "R"
        elif done:
            return "Y"
        else:
            return f"HTTP {response.status_code} without a change"
        return code if not done and _row_counts() == before else f"{code} but the database changed"

    got = {}
    before = _row_counts()
    response = client.post(f"/orgs/{org_a.slug}/deployments/new", data={
        "name": "Matrix deployment", "product_version": str(version), "hosting": "cloud",
        "environment": "test", "csrf_token": token})
    done = db.session.execute(select(func.count()).select_from(Deployment)
                              .where(Deployment.name == "Matrix deployment")).scalar_one() == 1
    got["new_deployment"] = outcome(response, done, before)

    before = _row_counts()
    response = client.post(f"/orgs/{org_a.slug}/deployments/{deployment.id}/edit", data={
        "name": "Renamed by the matrix", "product_version": str(version), "hosting": "cloud",
        "environment": "test", "csrf_token": token})
    db.session.expire_all()
    got["edit_deployment"] = outcome(response, db.session.get(Deployment, deployment.id).name
                                     == "Renamed by the matrix", before)

    before = _row_counts()
    response = client.post(f"/orgs/{org_a.slug}/invitations", data={"csrf_token": token})
    done = db.session.execute(select(func.count()).select_from(Invitation)
                              .where(Invitation.organisation_id == org_a.id)).scalar_one() == 1
    got["invite"] = outcome(response, done, before)

    assert_cells(role, got, ORG_POLICY)


# --- starting threads in spaces, from the same specification ------------------------------------------
#
# "Announcements come from the vendor": a space for vendor posts only takes new threads from employees,
# whatever a form offers (the web form and the API go through the same rule).
# Y: the thread is stored   R: refused (a form error, 403 or 404), nothing stored   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
SPACE_TABLE = {
    "ask_in_space":                 "L   Y   Y   Y   Y   Y   Y   Y   Y",
    "ask_in_announcements":         "L   R   R   R   R   R   Y   Y   Y",
    "api_ask_in_announcements":     "R   R   R   R   R   R   Y   Y   Y",
}
SPACE_POLICY = org_policy(SPACE_TABLE)


@pytest.mark.parametrize("role", ORG_ROLES)
def test_starting_threads_in_spaces(app, client, make, login, role):
    from forum.services.orgs import tokens as token_service

    world = World(make, role)
    announcements = make.space("Announcements")
    announcements.staff_posts_only = True
    db.session.commit()
    if world.user is not None:
        login(world.user)
    token = csrf_token_from(client.get("/login" if world.user is None else "/").get_data(as_text=True))

    def stored(title: str) -> bool:
        return db.session.execute(select(func.count()).select_from(Thread).where(Thread.title == title)
                                  ).scalar_one() == 1

    def outcome(response, done: bool, before: dict[str, int]) -> str:
        if done:
            return "Y"
        if _is_login_redirect(response):
            code = "L"
        elif response.status_code in (400, 401, 403, 404, 422):
            code = "R"
        else:
            return f"HTTP {response.status_code} without a change"
        return code if _row_counts() == before else f"{code} but the database changed"

    got = {}
    for action, space in (("ask_in_space", world.space), ("ask_in_announcements", announcements)):
        title = f"Matrix question for {action}"
        before = _row_counts()
        response = client.post("/ask", data={"title": title, "body": "Does this space take my question?",
                                             "space": str(space.id), "kind": "question", "visibility": "public",
                                             "deployment": "0", "csrf_token": token})
        got[action] = outcome(response, stored(title), before)

    headers = {}
    if world.user is not None:
        _, secret = token_service.create_token(world.user, "matrix", "write")
        headers = {"Authorization": f"Bearer {secret}"}
    before = _row_counts()
    title = "Matrix API question for announcements"
    response = app.test_client().post("/api/v1/threads", headers=headers, json={
        "title": title, "body": "Does the API take it?", "space_id": announcements.id, "kind": "question",
        "visibility": "public"})
    got["api_ask_in_announcements"] = outcome(response, stored(title), before)

    assert_cells(role, got, SPACE_POLICY)


# --- direct messages, from the same specification --------------------------------------------------
#
# "One-to-one and small-group conversations between members who may see each other (a customer with vendor
# staff, with engaged partners, with members of their own organisation; other customers only if both
# organisations allow it in their settings) ... Never visible to anyone else."
# The conversation acted on is between cust_a and an employee who is none of the roles; org admins (and vendor
# admins) change their customer organisation's setting.
# Y: done (the row is there)   R: refused (a form error, 403 or 404), nothing stored   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
MESSAGE_TABLE = {
    "write_to_cust_a":              "L   R   Y   R   Y   R   Y   Y   Y",
    "read_conversation":            "L   Y   R   R   R   R   R   R   R",
    "write_in_conversation":        "L   Y   R   R   R   R   R   R   R",
    "report_in_conversation":       "L   Y   R   R   R   R   R   R   R",
    "allow_customer_messages_a":    "L   R   Y   R   R   R   R   R   Y",
}
MESSAGE_POLICY = org_policy(MESSAGE_TABLE)


@pytest.mark.parametrize("role", ORG_ROLES)
def test_direct_messages(app, client, make, login, role):
    from forum.models import Conversation, Message, MessageReport, Organisation
    from forum.services.messages import conversations

    world = World(make, role)
    cust_a = world.users["cust_a"]
    private = conversations.start(world.other_staff, [cust_a], "Matrix conversation", "A staff message")
    staff_message = db.session.execute(select(Message).where(Message.conversation_id == private.id)).scalar_one()
    if world.user is not None:
        login(world.user)
    token = csrf_token_from(client.get("/login" if world.user is None else "/").get_data(as_text=True))

    def outcome(response, done: bool, before: dict[str, int]) -> str:
        if done:
            return "Y"
        if _is_login_redirect(response):
            code = "L"
        elif response.status_code in (400, 403, 404):
            code = "R"
        else:
            return f"HTTP {response.status_code} without a change"
        return code if _row_counts() == before else f"{code} but the database changed"

    def count(model, *where) -> int:
        return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()

    got = {}
    before = _row_counts()
    response = client.post("/messages/new", data={"to": cust_a.username, "subject": "Matrix hello",
                                                  "body": "Hello from the matrix", "csrf_token": token})
    got["write_to_cust_a"] = outcome(response, count(Conversation, Conversation.subject == "Matrix hello") == 1,
                                     before)
    response = client.get(f"/messages/{private.id}")
    shown = response.status_code == 200 and "A staff message" in response.get_data(as_text=True)
    got["read_conversation"] = "Y" if shown else ("L" if _is_login_redirect(response) else
                                                  "R" if response.status_code == 404 else str(response.status_code))
    before = _row_counts()
    response = client.post(f"/messages/{private.id}", data={"body": "Matrix reply", "csrf_token": token})
    got["write_in_conversation"] = outcome(response, count(Message, Message.body_md == "Matrix reply") == 1, before)
    before = _row_counts()
    response = client.post(f"/messages/m/{staff_message.id}/report", data={"reason": "spam", "csrf_token": token})
    got["report_in_conversation"] = outcome(response, count(MessageReport) == 1, before)
    before = _row_counts()
    org_a = cust_a.organisation
    response = client.post(f"/orgs/{org_a.slug}/customer-messages", data={"allow": "1", "csrf_token": token})
    db.session.expire_all()
    got["allow_customer_messages_a"] = outcome(
        response, db.session.get(Organisation, org_a.id).allow_customer_messages, before)

    assert_cells(role, got, MESSAGE_POLICY)


# --- product ideas, from the same specification ----------------------------------------------------
#
# "Ideas: a space kind for product ideas: one vote per member, statuses ... set by staff with a public note ...
# linked from a pattern when the pattern's fix is 'not possible yet'" (patterns are curated by leads).
# Y: done (the row is there)   R: refused (403 or 404), nothing stored   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
IDEA_TABLE = {
    "vote_public_idea":             "L   Y   Y   Y   Y   Y   Y   Y   Y",
    "vote_private_idea_of_a":       "L   Y   Y   R   Y   R   Y   Y   Y",
    "set_idea_status":              "L   R   R   R   R   R   Y   Y   Y",
    "link_pattern_to_idea":         "L   R   R   R   R   R   R   R   Y",
}
IDEA_POLICY = org_policy(IDEA_TABLE)


@pytest.mark.parametrize("role", ORG_ROLES)
def test_product_ideas(app, client, make, login, role):
    from forum.models import Idea, IdeaVote, Pattern, SpaceKind

    world = World(make, role)
    ideas_space = make.space("Ideas")
    ideas_space.kind = SpaceKind.IDEAS
    pattern = Pattern(name="Matrix pattern")
    db.session.add(pattern)
    db.session.commit()
    public = make.thread(world.other_a, Visibility.PUBLIC, space=ideas_space, title="Public idea")
    private = make.thread(world.other_a, Visibility.ORG_PRIVATE, space=ideas_space, title="Private idea of A")
    if world.user is not None:
        login(world.user)
    token = csrf_token_from(client.get("/login" if world.user is None else "/").get_data(as_text=True))

    def outcome(response, done: bool, before: dict[str, int]) -> str:
        if done:
            return "Y"
        if _is_login_redirect(response):
            code = "L"
        elif response.status_code in (403, 404):
            code = "R"
        else:
            return f"HTTP {response.status_code} without a change"
        return code if _row_counts() == before else f"{code} but the database changed"

    def votes(thread) -> int:
        return db.session.execute(select(func.count()).select_from(IdeaVote).where(IdeaVote.thread_id == thread.id)
                                  ).scalar_one()

    got = {}
    for action, thread in (("vote_public_idea", public), ("vote_private_idea_of_a", private)):
        before = _row_counts()
        response = client.post(f"/t/{thread.id}/idea/vote", data={"csrf_token": token})
        got[action] = outcome(response, votes(thread) == 1, before)
    before = _row_counts()
    response = client.post(f"/t/{private.id}/idea/status", data={"status": "planned", "note": "Matrix note",
                                                                  "csrf_token": token})
    db.session.expire_all()
    idea = db.session.get(Idea, private.id)
    got["set_idea_status"] = outcome(response, idea is not None and idea.status.value == "planned", before)
    before = _row_counts()
    response = client.post(f"/patterns/{pattern.id}/idea", data={"idea": str(public.id), "csrf_token": token})
    db.session.expire_all()
    got["link_pattern_to_idea"] = outcome(response, db.session.get(Pattern, pattern.id).idea_thread_id == public.id,
                                          before)

    assert_cells(role, got, IDEA_POLICY)


# --- webhooks and single sign-on settings, from the same specification (issue 14) ------------------------------
#
# "Admins (and org admins, for their own organisation's threads) subscribe a URL to events"; an organisation's
# identity provider is set by the vendor's admins. Cells:
#   webhook_create     POST /webhooks/ subscribing a receiver to thread.created
#   webhook_of_a       GET /webhooks/<id> of the webhook A's org admin made (its log, its URL)
#   webhook_of_vendor  GET /webhooks/<id> of a vendor admin's webhook
#   sso_configure      POST /admin/organisations/<A>/sso
# Y: done / shown   R: refused with 403 or 404, nothing stored   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
WEBHOOK_TABLE = {
    "webhook_create":               "L   R   Y   R   R   R   R   R   Y",
    "webhook_of_a":                 "L   R   Y   R   R   R   R   R   Y",
    "webhook_of_vendor":            "L   R   R   R   R   R   R   R   Y",
    "sso_configure":                "L   R   R   R   R   R   R   R   Y",
}
WEBHOOK_POLICY = org_policy(WEBHOOK_TABLE)


@pytest.mark.parametrize("role", ORG_ROLES)
def test_webhooks_and_sso_settings(app, client, make, login, role):
    from forum.models import SsoProvider, Webhook
    from forum.services.webhooks import subscriptions

    app.config.update(WEBHOOK_ALLOW_PRIVATE=True, SSO_ALLOW_HTTP=True)
    world = World(make, role)
    org_a = world.users["cust_a"].organisation
    hook_of_a, _ = subscriptions.create_webhook(world.users["admin_a"], "http://127.0.0.1:9/a", ["thread.created"])
    hook_of_vendor, _ = subscriptions.create_webhook(world.users["admin"], "http://127.0.0.1:9/v", ["thread.created"])
    if world.user is not None:
        login(world.user)
    token = csrf_token_from(client.get("/login" if world.user is None else "/").get_data(as_text=True))

    def outcome(response, done: bool, before: dict[str, int] | None = None) -> str:
        if _is_login_redirect(response):
            return "L"
        if response.status_code in (403, 404):
            return "R" if before is None or _row_counts() == before else "R but the database changed"
        return "Y" if done else f"HTTP {response.status_code} without a change"

    got, before = {}, _row_counts()
    response = client.post("/webhooks/", data={"url": "http://127.0.0.1:9/matrix", "events": ["thread.created"],
                                               "csrf_token": token})
    got["webhook_create"] = outcome(response, db.session.execute(select(func.count()).select_from(Webhook).where(
        Webhook.url == "http://127.0.0.1:9/matrix")).scalar_one() == 1, before)
    response = client.get(f"/webhooks/{hook_of_a.id}")
    got["webhook_of_a"] = outcome(response, response.status_code == 200 and "127.0.0.1:9/a" in response.get_data(
        as_text=True))
    response = client.get(f"/webhooks/{hook_of_vendor.id}")
    got["webhook_of_vendor"] = outcome(response, response.status_code == 200)
    before = _row_counts()
    response = client.post(f"/admin/organisations/{org_a.id}/sso", data={
        "csrf_token": token, "issuer": "http://127.0.0.1:9", "client_id": "gw", "client_secret": "s",
        "email_domains": "alpha.example", "enabled": "y"})
    got["sso_configure"] = outcome(response, db.session.execute(select(SsoProvider).where(
        SsoProvider.organisation_id == org_a.id)).first() is not None, before)

    assert_cells(role, got, WEBHOOK_POLICY)


# --- bookmarks, unread lists and the mail outbox, from the same specification ----------------------------------
#
# "Bookmarks of threads and replies; a bookmark of a thread you can no longer see shows nothing of it; admins see
# the mail outbox." Cells:
#   bookmark_*        POST /bookmarks on A's public / org-private / internal thread, or a staff note on a public one
#   kept_*_shown      a bookmark the role holds (made while it could see it) on A's org-private thread, or on a
#                     staff note, is listed on /bookmarks with its title or text
#   new_lists_private /new (threads with activity since the last visit) lists A's org-private thread
#   others_bookmark   changing or removing another member's bookmark
#   outbox            GET /admin/mail, a message's preview and its HTML
# Y: done / shown   N: not shown   R: refused with 403 or 404, nothing stored   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
READING_TABLE = {
    "bookmark_public":              "L   Y   Y   Y   Y   Y   Y   Y   Y",
    "bookmark_org_private":         "L   Y   Y   R   Y   R   Y   Y   Y",
    "bookmark_internal":            "L   R   R   R   R   R   Y   Y   Y",
    "bookmark_staff_note":          "L   R   R   R   R   R   Y   Y   Y",
    "kept_private_shown":           "L   Y   Y   N   Y   N   Y   Y   Y",
    "kept_staff_note_shown":        "L   N   N   N   N   N   Y   Y   Y",
    "new_lists_private":            "L   Y   Y   N   Y   N   Y   Y   Y",
    "others_bookmark":              "L   R   R   R   R   R   R   R   R",
    "outbox":                       "L   R   R   R   R   R   R   R   Y",
}
READING_POLICY = org_policy(READING_TABLE)


@pytest.mark.parametrize("role", ORG_ROLES)
def test_bookmarks_unread_lists_and_the_outbox(app, client, make, login, role):
    from datetime import timedelta

    from forum.models import Bookmark, MailMessage, User, utcnow
    from forum.services.mail import outbox

    app.config["MAIL_SERVER"] = ""
    world = World(make, role)
    owner = world.users["cust_a"]
    others_bookmark = Bookmark(user_id=world.other_a.id, thread_id=world.threads["public"].id, note="not yours")
    db.session.add(others_bookmark)
    outbox.queue(kind="notification", recipient=owner.email, subject="Matrix mail", body_text="matrix body",
                 user=owner)
    message_id = db.session.execute(select(MailMessage.id)).scalar_one()
    note = world.targets["staff_note"]["vote"]
    if world.user is not None:
        for thread_id, reply_id in ((world.threads["org_private"].id, None), (note.thread_id, note.id)):
            db.session.add(Bookmark(user_id=world.user.id, thread_id=thread_id, reply_id=reply_id))
        row = db.session.get(User, world.user.id)
        row.previous_visit_at = utcnow() - timedelta(days=1)
        world.threads["org_private"].last_activity_at = utcnow()
    db.session.commit()
    if world.user is not None:
        login(world.user)
    token = csrf_token_from(client.get("/login" if world.user is None else "/").get_data(as_text=True))

    def refused(response, before: dict[str, int]) -> str:
        if _is_login_redirect(response):
            code = "L"
        elif response.status_code in (403, 404):
            code = "R"
        else:
            return f"HTTP {response.status_code}"
        return code if _row_counts() == before else f"{code} but the database changed"

    def bookmarks_of(thread_id: int, reply_id: int | None) -> int:
        if world.user is None:
            return 0
        return db.session.execute(select(func.count(Bookmark.id)).where(
            Bookmark.user_id == world.user.id, Bookmark.thread_id == thread_id,
            Bookmark.reply_id.is_(None) if reply_id is None else Bookmark.reply_id == reply_id)).scalar_one()

    got = {}
    for action, visibility in (("bookmark_public", "public"), ("bookmark_org_private", "org_private"),
                               ("bookmark_internal", "internal"), ("bookmark_staff_note", "staff_note")):
        thread = world.threads[visibility]
        reply = world.targets[visibility]["accept"]
        before, count = _row_counts(), bookmarks_of(thread.id, reply.id)
        response = client.post("/bookmarks", data={"thread_id": str(thread.id), "reply_id": str(reply.id),
                                                   "csrf_token": token})
        got[action] = "Y" if bookmarks_of(thread.id, reply.id) == count + 1 else refused(response, before)

    page = client.get("/bookmarks")
    if _is_login_redirect(page):
        got["kept_private_shown"] = got["kept_staff_note_shown"] = "L"
    else:
        html = page.get_data(as_text=True)
        got["kept_private_shown"] = "Y" if "Matrix org_private thread" in html else "N"
        got["kept_staff_note_shown"] = "Y" if "vote target" in html else "N"
        if NOTE_WORD in html and got["kept_staff_note_shown"] == "N":
            got["kept_staff_note_shown"] = "staff note text on the page"

    page = client.get("/new")
    got["new_lists_private"] = "L" if _is_login_redirect(page) else (
        "Y" if _listed(page.get_data(as_text=True), world.threads["org_private"].id) else "N")

    before = _row_counts()
    codes = {refused(client.post(f"/bookmarks/{others_bookmark.id}", data={"note": "mine", "csrf_token": token}),
                     before),
             refused(client.post(f"/bookmarks/{others_bookmark.id}/delete", data={"csrf_token": token}), before)}
    db.session.expire_all()
    changed = db.session.get(Bookmark, others_bookmark.id)
    got["others_bookmark"] = codes.pop() if len(codes) == 1 and changed is not None and changed.note == "not yours" \
        else f"changed or mixed: {codes}"

    pages = [client.get(url) for url in ("/admin/mail", f"/admin/mail/{message_id}", f"/admin/mail/{message_id}/html")]
    if all(p.status_code == 200 for p in pages):
        got["outbox"] = "Y" if "Matrix mail" in pages[0].get_data(as_text=True) else "listed nothing"
    else:
        got["outbox"] = "/".join(sorted({refused(p, _row_counts()) for p in pages}))

    assert_cells(role, got, READING_POLICY)

