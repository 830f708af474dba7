"""Privacy of patterns: customers and partners see counts only, through threads they may see.

Unique canary strings are planted in internal and org-private member threads, in the pattern's name,
keywords and signatures and in the name of an organisation that has only a private thread in it; no page served to
a customer or partner has them (the organisation directory itself lists every name, so it is not crawled).
The crawl of every page also plants canaries in attached logs, in a conversation the crawler is not in (and its
report), in an org-private idea and its status note, and in bookmarks and reminders.
"""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from forum.models import Visibility
from forum.services.patterns.summaries import others_hit_this
from tests.forum.patterns import pattern_factories as pf

CANARIES = ("CANARYPATTERNNAME", "canarykeyword", "CANARY-SIG-4242", "CANARYINTERNALTITLE", "CANARYINTERNALBODY",
            "CANARYPRIVATECTITLE", "CANARYPRIVATECBODY", "CANARYORGCHARLIE", "CANARYPRIVATEDTITLE")


@pytest.fixture()
def world(make):
    w = SimpleNamespace()
    w.a, w.b = make.customer_org("Alpha Mills"), make.customer_org("Bravo Foods")
    w.c, w.d = make.customer_org("CANARYORGCHARLIE"), make.customer_org("Delta Ports")
    w.partner = make.partner_org("Partner Works")
    make.engage(w.partner, w.d)
    w.ua, w.ub, w.uc, w.ud = (make.user(org) for org in (w.a, w.b, w.c, w.d))
    w.up = make.user(w.partner)
    w.employee = make.employee()
    space = make.space("Integrations")
    w.ta = make.thread(w.ua, space=space, title="Our sync stalls every night")
    w.tb = make.thread(w.ub, space=space, title="Nightly sync stalls too")
    w.tc = make.thread(w.uc, Visibility.ORG_PRIVATE, space=space, title="CANARYPRIVATECTITLE",
                       body="CANARYPRIVATECBODY")
    w.td = make.thread(w.ud, Visibility.ORG_PRIVATE, space=space, title="CANARYPRIVATEDTITLE")
    w.ti = make.thread(w.employee, Visibility.INTERNAL, space=space, title="CANARYINTERNALTITLE",
                       body="CANARYINTERNALBODY")
    w.pattern = pf.pattern("CANARYPATTERNNAME", [w.ta, w.tb, w.tc, w.td, w.ti], keywords=["canarykeyword"],
                           signatures=["CANARY-SIG-4242"])
    return w


def test_customer_gets_counts_and_only_visible_threads(world):
    shown = others_hit_this(world.ua, world.ta)
    assert (shown.organisations, shown.threads, shown.pattern) == (4, 4, None)
    assert [t.id for t in shown.visible_threads] == [world.tb.id]


def test_partner_sees_engaged_customers_private_threads_only(world):
    shown = others_hit_this(world.up, world.td)
    assert shown.pattern is None
    assert {t.id for t in shown.visible_threads} == {world.ta.id, world.tb.id}
    shown = others_hit_this(world.up, world.ta)
    assert {t.id for t in shown.visible_threads} == {world.tb.id, world.td.id}


def test_nothing_below_the_organisation_threshold_nor_on_invisible_threads(world, app):
    app.config["PATTERN_MIN_ORGS"] = 5
    assert others_hit_this(world.ua, world.ta) is None
    assert others_hit_this(world.employee, world.ta).pattern.id == world.pattern.id
    app.config["PATTERN_MIN_ORGS"] = 3
    assert others_hit_this(world.ua, world.tc) is None       # a thread the viewer may not see
    assert others_hit_this(None, world.ta) is None


def test_employee_sees_the_pattern(world):
    shown = others_hit_this(world.employee, world.ti)
    assert shown.pattern.name == "CANARYPATTERNNAME"
    assert {t.id for t in shown.visible_threads} == {world.ta.id, world.tb.id, world.tc.id, world.td.id}


def _pages_for(world, user) -> list[str]:
    own = {world.ua.id: world.ta, world.up.id: world.td}[user.id]
    return ["/", f"/t/{own.id}", f"/t/{world.tb.id}", f"/t/{world.ta.id}", "/search?q=sync",
            "/search?q=CANARY", "/patterns/", f"/patterns/{world.pattern.id}", "/patterns/map",
            "/patterns/status.json", "/patterns/figures.json", "/patterns/figures.json?hosting=cloud",
            f"/patterns/{world.pattern.id}/figures.json",
            f"/u/{user.username}"]


@pytest.mark.parametrize("who", ["ua", "up"])
def test_no_canary_reaches_customers_or_partners(world, client, login, who):
    user = getattr(world, who)
    login(user)
    # The partner is engaged with Delta, so Delta's private thread is theirs to see; nothing else is.
    forbidden = [c for c in CANARIES if not (who == "up" and c == "CANARYPRIVATEDTITLE")]
    saw_aggregate = False
    for url in _pages_for(world, user):
        response = client.get(url, follow_redirects=True)
        html = response.get_data(as_text=True)
        for canary in forbidden:
            assert canary.lower() not in html.lower(), (url, canary)
        saw_aggregate |= "Others hit this too" in html
    assert client.get("/patterns/").status_code == 404
    assert client.get("/patterns/figures.json").status_code == 404
    assert client.get(f"/patterns/{world.pattern.id}/figures.json").status_code == 404
    assert saw_aggregate, "the thread page shows the aggregate"


def test_thread_page_aggregate(world, client, login):
    login(world.ua)
    html = client.get(f"/t/{world.ta.id}").get_data(as_text=True)
    assert "Others hit this too" in html and "reported by <strong>4</strong>" in html
    assert "Nightly sync stalls too" in html


def test_thread_page_names_the_pattern_for_employees(world, client, login):
    login(world.employee)
    html = client.get(f"/t/{world.ta.id}").get_data(as_text=True)
    assert "CANARYPATTERNNAME" in html and f"/patterns/{world.pattern.id}" in html


def _crawl_urls(app, world) -> list[str]:
    """Every GET page of the app, with each argument filled by every row of the world that fits it."""
    values = {
        "thread_id": [t.id for t in (world.ta, world.tb, world.tc, world.td, world.ti, world.idea,
                                     world.public_idea)],
        "reply_id": [r.id for r in world.replies],
        "username": [u.username for u in (world.ua, world.ub, world.uc, world.ud, world.up, world.employee)],
        "slug": [world.space.slug, world.ideas_space.slug],
        "pattern_id": [world.pattern.id],
        "attachment_id": [f.id for f in world.files],
        "conversation_id": [world.conversation.id],
        "name": ["file.log"],  # the name in a file's URL is only for the browser: the id decides
    }
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static" or rule.rule.startswith(("/orgs", "/admin")):
            continue  # the organisation directory lists every organisation's name by design
        if any(arg not in values for arg in rule.arguments):
            continue
        combos = [{}]
        for arg in rule.arguments:
            combos = [dict(c, **{arg: v}) for c in combos for v in values[arg]]
        with app.test_request_context():
            from flask import url_for

            urls += [url_for(rule.endpoint, _external=False, **c) for c in combos]
    # Searching for a canary itself would only echo the query back: search for its prefix instead.
    return urls + ["/search?q=CANARY", "/search?q=sync", "/search?q=SIG"]


FILE_CANARIES = ("CANARYLOGPRIVATE", "CANARYLOGINTERNAL", "CANARYLOGREPLY")


def _attach_canary_files(world) -> list:
    """Logs on the private and internal questions and on a private reply (canaries in their names and lines),
    and one on a public question as the control; the public one last."""
    from forum.services.attachments.checks import check_file
    from forum.services.attachments.files import attach

    def log(author, thread, reply, canary: str):
        return attach(author, [check_file(f"{canary}.log", f"ERROR ZZC-777 {canary} line\n".encode(), 10_000)],
                      thread, reply)[0]

    return [log(world.uc, world.tc, None, "CANARYLOGPRIVATE"), log(world.employee, world.ti, None, "CANARYLOGINTERNAL"),
            log(world.uc, world.tc, world.replies[0], "CANARYLOGREPLY"), log(world.ua, world.ta, None, "publiclog")]


# Direct messages, ideas and bookmarks: a conversation the crawler is not in (and its reported message), an
# org-private idea of C with a status note, voted for and waited on by the canary pattern, another member's
# bookmark with a note and a due reminder, and the crawler's own bookmarks (with a due reminder) of posts it
# cannot see (kept from when it could).
EXTRA_CANARIES = ("CANARYMESSAGESUBJECT", "CANARYMESSAGEBODY", "CANARYIDEATITLE", "CANARYIDEANOTE",
                  "CANARYBOOKMARKNOTE")


def _plant_messages_ideas_and_bookmarks(world, make, crawler) -> None:
    from datetime import timedelta

    from forum.extensions import db
    from forum.models import Bookmark, IdeaStatus, SpaceKind, utcnow
    from forum.services.community import bookmarks
    from forum.services.ideas import ideas
    from forum.services.messages import conversations, reports

    talk = conversations.start(world.uc, [world.employee], "CANARYMESSAGESUBJECT", "CANARYMESSAGEBODY one")
    conversations.send(world.employee, talk, "CANARYMESSAGEBODY two")
    reports.report(world.uc, conversations.messages_of(talk)[-1], "spam", "CANARYMESSAGEBODY report")
    world.conversation = talk
    world.ideas_space = make.space("Crawl ideas")
    world.ideas_space.kind = SpaceKind.IDEAS
    db.session.commit()
    world.idea = make.thread(world.uc, Visibility.ORG_PRIVATE, space=world.ideas_space, title="CANARYIDEATITLE",
                             body="CANARYIDEATITLE body")
    world.public_idea = make.thread(world.ua, space=world.ideas_space, title="A public idea of Alpha")
    ideas.toggle_vote(world.uc, world.idea)
    ideas.set_status(world.employee, world.idea, IdeaStatus.PLANNED, "CANARYIDEANOTE")
    ideas.link_pattern(make.employee(is_lead=True), world.pattern, world.idea)
    past = utcnow() - timedelta(minutes=5)
    bookmarks.add(world.uc, world.tc, note="CANARYBOOKMARKNOTE", remind_at=past)
    db.session.add_all([Bookmark(user_id=crawler.id, thread_id=world.ti.id, note="my own note", remind_at=past,
                                 created_at=past),
                        Bookmark(user_id=crawler.id, thread_id=world.tc.id, reply_id=world.replies[0].id,
                                 note="my own note", created_at=past)])
    db.session.commit()
    bookmarks.send_due_reminders()


@pytest.mark.parametrize("who", ["ua", "up"])
def test_canary_crawl_of_every_page(world, app, client, login, make, tmp_path, who):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "store")
    world.space = make.space("Crawl space")
    world.replies = [make.reply(world.tc, world.uc, body="CANARYPRIVATECBODY reply"),
                     make.reply(world.ti, world.employee, body="CANARYINTERNALBODY reply"),
                     make.reply(world.ta, world.ub, body="A public reply")]
    world.files = _attach_canary_files(world)
    _plant_messages_ideas_and_bookmarks(world, make, getattr(world, who))
    forbidden = [c for c in CANARIES + FILE_CANARIES + EXTRA_CANARIES
                 if c != "CANARYORGCHARLIE" and not (who == "up" and c == "CANARYPRIVATEDTITLE")]
    login(getattr(world, who))
    urls = _crawl_urls(app, world)
    assert len(urls) > 20 and f"/patterns/{world.pattern.id}/figures.json" in urls
    assert {f"/messages/{world.conversation.id}", "/messages", "/messages/blocked", "/moderation/messages",
            f"/ideas/{world.ideas_space.slug}", f"/t/{world.idea.id}", f"/t/{world.idea.id}/unread", "/bookmarks",
            "/new", "/inbox"} <= set(urls)
    # The positive controls: the crawler's pages list what is theirs to see.
    assert "A public idea of Alpha" in client.get(f"/ideas/{world.ideas_space.slug}").get_data(as_text=True)
    assert client.get("/bookmarks").get_data(as_text=True).count("my own note") == 2
    file_urls = [u for u in urls if u.startswith(("/files/", "/thumbs/", "/api/v1/attachments/"))]
    assert {f"/files/{world.files[0].id}/file.log", f"/api/v1/attachments/{world.files[0].id}"} <= set(file_urls)
    allowed = []
    for url in urls:
        response = client.get(url)
        html = response.get_data(as_text=True).lower()
        for canary in forbidden:
            assert canary.lower() not in html, (url, canary)
        if url in file_urls and response.status_code == 200:
            allowed.append(url)
    # Files are served to readers of their post only: here, the public question's log, by the page and the API.
    public = world.files[-1].id
    assert sorted(allowed) == sorted([f"/files/{public}/file.log", f"/api/v1/attachments/{public}"])
    # The planted canaries are there to be found by those they belong to.
    member = app.test_client()
    login(world.uc, member)
    assert "CANARYMESSAGEBODY two" in member.get(f"/messages/{world.conversation.id}").get_data(as_text=True)
    assert "CANARYIDEANOTE" in member.get(f"/t/{world.idea.id}").get_data(as_text=True)
    assert "CANARYIDEATITLE" in member.get(f"/ideas/{world.ideas_space.slug}").get_data(as_text=True)
    assert "CANARYBOOKMARKNOTE" in member.get("/bookmarks").get_data(as_text=True)
    assert "CANARYPRIVATECTITLE" in member.get("/inbox").get_data(as_text=True)  # the reminder
