"""Privacy of patterns: customers and partners see counts only, through threads they may see.

Unique canary strings are planted in internal and org-private member threads, in the pattern's name,
keywords and signatures and in the name of an organisation that has only a private thread in it; no page served to
a customer or partner has them (the organisation directory itself lists every name, so it is not crawled).
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
        "thread_id": [t.id for t in (world.ta, world.tb, world.tc, world.td, world.ti)],
        "reply_id": [r.id for r in world.replies],
        "username": [u.username for u in (world.ua, world.ub, world.uc, world.ud, world.up, world.employee)],
        "slug": [world.space.slug],
        "pattern_id": [world.pattern.id],
        "attachment_id": [f.id for f in world.files],
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


@pytest.mark.parametrize("who", ["ua", "up"])
def test_canary_crawl_of_every_page(world, app, client, login, make, tmp_path, who):
    app.config["ATTACHMENT_DIR"] = str(tmp_path / "store")
    world.space = make.space("Crawl space")
    world.replies = [make.reply(world.tc, world.uc, body="CANARYPRIVATECBODY reply"),
                     make.reply(world.ti, world.employee, body="CANARYINTERNALBODY reply"),
                     make.reply(world.ta, world.ub, body="A public reply")]
    world.files = _attach_canary_files(world)
    forbidden = [c for c in CANARIES + FILE_CANARIES
                 if c != "CANARYORGCHARLIE" and not (who == "up" and c == "CANARYPRIVATEDTITLE")]
    login(getattr(world, who))
    urls = _crawl_urls(app, world)
    assert len(urls) > 20 and f"/patterns/{world.pattern.id}/figures.json" in urls
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
