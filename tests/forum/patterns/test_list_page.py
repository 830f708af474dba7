"""The common-patterns page: figures checked by hand on a small world, sorting, filters, emerging, speed."""
from __future__ import annotations

from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import Hosting, MembershipSource, PatternStatus, Visibility
from forum.services.patterns import summaries as service
from tests.forum.patterns import pattern_factories as pf

NOW = datetime(2026, 6, 30, 12, 0)


def day(month: int, d: int) -> datetime:
    return datetime(2026, month, d, 9, 0)


@pytest.fixture()
def world(app, make):
    """Two active patterns and a dismissed one; every expected figure is worked out in the comments."""
    app.config["PATTERN_NOW"] = NOW.isoformat()
    w = SimpleNamespace()
    v71, v72 = make.product_version("Ledger", "7.1"), make.product_version("Ledger", "7.2")
    w.vendor = make.vendor_org()
    w.a, w.b, w.c, w.d, w.e = (make.customer_org(f"Customer {x}") for x in "ABCDE")
    w.partner = make.partner_org("Partner Firm")
    w.dep_a = make.deployment(w.a, product_version=v71, hosting=Hosting.ON_PREMISES, database="PostgreSQL 15",
                              topology="single node")
    w.dep_b, w.dep_c, w.dep_d, w.dep_e = (
        make.deployment(org, product_version=v72, hosting=Hosting.CLOUD, database="Oracle 19c", topology="cluster")
        for org in (w.b, w.c, w.d, w.e))
    w.users = {k: make.user(getattr(w, k)) for k in "abcde"}
    w.employee = make.employee(display_name="Erin Employee")
    w.lead = make.employee(is_lead=True)
    w.solver = make.user(w.partner, display_name="Pat Partner")
    w.space, w.other_space = make.space("Integrations"), make.space("Upgrades")

    def thread(org_key, created, dep=None, space=None, **fields):
        author = w.users[org_key] if org_key != "vendor" else w.employee
        if dep is not None:
            fields.update(deployment_id=dep.id, deployment_snapshot=dep.snapshot())
        return make.thread(author, space=space or w.space, created_at=created, last_activity_at=created, **fields)

    # Pattern X: t1..t4 from customers A, B, C (A twice), t5 internal from the vendor, t6 excluded (D).
    w.t1 = thread("a", day(1, 10), w.dep_a, title="LDAP sync times out at night")
    w.t2 = thread("b", day(6, 20), w.dep_b)
    w.t3 = thread("c", day(6, 25), w.dep_c, space=w.other_space)
    w.t4 = thread("a", day(5, 15), w.dep_a)
    w.t5 = thread("vendor", day(6, 28), visibility=Visibility.INTERNAL)
    w.t6 = thread("d", day(6, 29), w.dep_d)
    w.r1 = make.reply(w.t1, w.solver, body="Raise the LDAP page size to 500 and restart the sync.")
    w.r2 = make.reply(w.t2, w.employee, body="Apply hotfix 7.2.3.")
    w.r4 = make.reply(w.t4, w.solver, body="Same fix as before: page size.")
    pf.accept(w.t1, w.r1, day(1, 12))      # 2 days
    pf.accept(w.t2, w.r2, day(6, 24))      # 4 days
    pf.accept(w.t4, w.r4, day(5, 21))      # 6 days
    pf.confirm(w.r1, w.users["b"], w.dep_b)
    pf.confirm(w.r1, w.users["c"], w.dep_c)
    pf.confirm(w.r4, w.users["e"], w.dep_e)
    w.x = pf.pattern("LDAP sync timeout", [w.t1, w.t2, w.t3, w.t4], keywords=["ldap", "sync"],
                     signatures=["LDAP-504"], representatives=[w.t1])
    pf.member(w.x, w.t5, MembershipSource.FILED)
    pf.member(w.x, w.t6, MembershipSource.EXCLUDED)
    # Pattern Y: four customers, all new in the last 14 days, nothing resolved: emerging.
    w.y_threads = [thread(k, day(6, 20 + i), getattr(w, f"dep_{k}")) for i, k in enumerate("bcde")]
    w.y = pf.pattern("SSO redirect loop", w.y_threads)
    # Pattern Z: dismissed, never listed.
    w.z = pf.pattern("Dismissed noise", [thread("a", day(6, 1), w.dep_a)], status=PatternStatus.DISMISSED)
    return w


def by_name(summaries):
    return {s.pattern.name: s for s in summaries}


def test_figures_worked_out_by_hand(world):
    s = by_name(service.summarise())
    assert set(s) == {"LDAP sync timeout", "SSO redirect loop"}
    x = s["LDAP sync timeout"]
    assert (x.threads, x.reach, x.deployments) == (5, 3, 3)          # t6 excluded; t5 is the vendor's
    assert (x.resolved, round(x.resolved_share, 2)) == (3, 0.6)
    assert x.median_seconds == pytest.approx(4 * 86400, abs=1)       # median of 2, 4 and 6 days
    assert (x.last_30, x.last_90, x.before_90) == (3, 4, 1)           # t2 t3 t5 | + t4 | t1
    assert (x.first_seen, x.last_seen) == (day(1, 10), day(6, 28))
    assert (x.new_customers, x.emerging) == (2, False)                # B and C are new, A is not
    assert x.breakdowns["product"] == [("Ledger", 4)]
    assert x.breakdowns["version"] == [("Ledger 7.1", 2), ("Ledger 7.2", 2)]
    assert x.breakdowns["hosting"] == [("cloud", 2), ("on premises", 2)]
    assert x.breakdowns["database"] == [("Oracle 19c", 2), ("PostgreSQL 15", 2)]
    assert [(f["reply_id"], f["confirmations"]) for f in x.fixes] == [(world.r1.id, 2), (world.r4.id, 1),
                                                                      (world.r2.id, 0)]
    assert x.fixes[0]["organisation"] == "Partner Firm"
    assert [(p["name"], p["organisation"], p["answers"]) for p in x.solvers] == [
        ("Pat Partner", "Partner Firm", 2), ("Erin Employee", "Vendor", 1)]
    y = s["SSO redirect loop"]
    assert (y.threads, y.reach, y.resolved, y.median_seconds) == (4, 4, 0, None)
    assert (y.new_customers, y.emerging, y.fixes, y.solvers) == (4, True, [], [])


@pytest.mark.parametrize("sort, first", [("reach", "SSO redirect loop"), ("growth", "SSO redirect loop"),
                                         ("unresolved", "SSO redirect loop"), ("recent", "LDAP sync timeout")])
def test_sorting(world, sort, first):
    assert service.summarise(sort=sort)[0].pattern.name == first


def test_filters_count_only_matching_threads(world):
    only_71 = by_name(service.summarise(service.PatternFilters(version="Ledger::7.1")))
    assert list(only_71) == ["LDAP sync timeout"]
    assert (only_71["LDAP sync timeout"].threads, only_71["LDAP sync timeout"].reach) == (2, 1)
    cloud = by_name(service.summarise(service.PatternFilters(hosting="cloud")))
    assert (cloud["LDAP sync timeout"].threads, cloud["SSO redirect loop"].threads) == (2, 4)
    space = by_name(service.summarise(service.PatternFilters(space_id=world.other_space.id)))
    assert list(space) == ["LDAP sync timeout"] and space["LDAP sync timeout"].threads == 1
    june = by_name(service.summarise(service.PatternFilters(since=day(6, 1).date(), until=day(6, 25).date())))
    assert june["LDAP sync timeout"].threads == 2                     # t2 and t3; t5 is on the 28th
    oracle = by_name(service.summarise(service.PatternFilters(database="PostgreSQL 15", product="Ledger")))
    assert list(oracle) == ["LDAP sync timeout"]


def test_pattern_now_latest_and_real_clock(world, app):
    app.config["PATTERN_NOW"] = "latest"
    assert service.pattern_now() == day(6, 29)                        # the newest thread (t6)
    app.config["PATTERN_NOW"] = ""
    assert abs(service.pattern_now() - datetime.utcnow()) < timedelta(minutes=1)


def test_page_shows_figures_emerging_and_filters(world, client, login):
    login(world.employee)
    assert client.get("/patterns").status_code == 200
    html = client.get("/patterns/").get_data(as_text=True)
    assert "Emerging" in html and "SSO redirect loop" in html and "LDAP sync timeout" in html
    assert "Dismissed noise" not in html
    assert "Raise the LDAP page size" in html and "Pat Partner" in html and "LDAP-504" in html
    assert html.index("SSO redirect loop") < html.index("LDAP sync timeout")
    filtered = client.get("/patterns/?version=Ledger%3A%3A7.1&sort=recent").get_data(as_text=True)
    assert "LDAP sync timeout" in filtered and "SSO redirect loop" not in filtered
    # Unknown filter values and bad dates filter nothing and never fail.
    bad = client.get("/patterns/?version=nope&since=yesterday&space=abc&sort=x")
    assert bad.status_code == 200 and "SSO redirect loop" in bad.get_data(as_text=True)


def test_detail_page(world, client, login):
    login(world.employee)
    response = client.get(f"/patterns/{world.x.id}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Why these belong together" in html and "LDAP sync times out at night" in html
    assert "<svg" in html and "style=" not in html and "<script>" not in html
    assert "Rename" not in html                                       # curation is for leads
    assert client.get("/patterns/999999").status_code == 404
    assert client.get("/patterns/99999999999").status_code == 404


def test_only_keywords_the_questions_share_are_listed(world, client, login):
    # the engine may take a keyword from accepted answers; no member question mentions "kerberos"
    world.x.keywords = ["ldap", "kerberos"]
    world.x.signatures = ["LDAP-504", "KRB-0007"]
    db.session.commit()
    login(world.employee)
    html = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    hits = html[html.index("Why these belong together"):]
    assert ">ldap</span> in " in hits
    assert "kerberos</span> in" not in hits and "KRB-0007</code> in" not in hits


def test_status_json_and_run_panel(world, client, login):
    from forum.models import MiningRun, RunStatus

    login(world.employee)
    state = client.get("/patterns/status.json").get_json()
    assert (state["id"], state["status"], state["active"], state["html"].strip()) == (None, "none", False,
                                                                                     "No mining run yet.")
    run = MiningRun(status=RunStatus.RUNNING, stage="embedding", progress_done=40, progress_total=120)
    db.session.add(run)
    db.session.commit()
    state = client.get("/patterns/status.json").get_json()
    assert (state["id"], state["active"], state["done"], state["total"]) == (run.id, True, 40, 120)
    html = client.get("/patterns/").get_data(as_text=True)
    assert "is running: embedding" in html and 'data-active="true"' in html
    assert "/static/patterns.js" in html and "<script>" not in html
    assert "Mine now" not in html                                     # the button is for leads


def test_non_employees_get_404(world, app, client, login):
    for user in (world.users["a"], world.solver):
        other = app.test_client()
        login(user, other)
        for url in ("/patterns/", f"/patterns/{world.x.id}", "/patterns/map", "/patterns/status.json"):
            assert other.get(url).status_code == 404, url
        assert other.post("/patterns/mine", data={}).status_code in (400, 404)
    assert client.get("/patterns/").status_code == 404
    assert client.get("/patterns").status_code == 404


def _count_queries(client, url: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


def test_query_count_does_not_grow_with_patterns(world, make, client, login, app):
    app.config["PATTERN_CACHE_SECONDS"] = 0
    login(world.employee)
    before = _count_queries(client, "/patterns/")
    for i in range(6):
        threads = [make.thread(world.users[k], space=world.space, deployment_id=world.dep_b.id,
                               deployment_snapshot=world.dep_b.snapshot()) for k in "bc"]
        reply = make.reply(threads[0], world.solver)
        pf.accept(threads[0], reply, NOW)
        pf.pattern(f"Extra pattern {i}", threads)
    assert "Extra pattern 5" in client.get("/patterns/").get_data(as_text=True)
    assert _count_queries(client, "/patterns/") == before


def test_map_projects_stored_vectors(world, client, login):
    import numpy as np

    from forum.models import ThreadEmbedding

    rng = np.random.default_rng(1)
    centres = {world.x.id: rng.normal(size=16), world.y.id: rng.normal(size=16)}
    members = {world.x.id: [world.t1, world.t2, world.t3, world.t4, world.t5], world.y.id: world.y_threads}
    for pid, threads in members.items():
        for thread in threads:
            vector = (centres[pid] + rng.normal(size=16) * 0.1).astype("<f4")
            db.session.add(ThreadEmbedding(thread_id=thread.id, model_name="test-model", content_hash="h",
                                           dimensions=16, vector=vector.tobytes()))
    db.session.commit()
    from forum.services.patterns.detail import pattern_map

    data = pattern_map()
    assert len(data.points) == 9 and data.sizes == {world.x.id: 5, world.y.id: 4}
    xs = {p.pattern_id: [] for p in data.points}
    for p in data.points:
        xs[p.pattern_id].append(p.x)
    # The two clusters land apart on the first principal axis.
    assert max(xs[world.x.id]) < min(xs[world.y.id]) or max(xs[world.y.id]) < min(xs[world.x.id])
    login(world.employee)
    html = client.get("/patterns/map").get_data(as_text=True)
    assert html.count("<circle") == 9 and "<title>LDAP sync timeout (5 threads)</title>" in html
    assert "style=" not in html
    page = client.get(f"/patterns/{world.x.id}").get_data(as_text=True)
    assert page.count("<circle") == 9 and 'stroke="#1d232b"' in page


def test_charts_escape_text():
    from forum.views.pattern_charts import bar_chart, column_chart

    svg = str(bar_chart([("<script>x</script>", 2)], "a & b"))
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "a &amp; b" in svg
    assert str(column_chart([], "empty")) == ""


def test_page_cache_follows_the_data(world, client, login, app):
    app.config["PATTERN_CACHE_SECONDS"] = 600
    login(world.employee)
    fresh = _count_queries(client, "/patterns/")
    assert _count_queries(client, "/patterns/") <= fresh - 4         # the figures are remembered
    from forum.services.patterns import curation
    from forum.services.patterns import snapshots as pattern_snapshots

    # What is remembered outlives the session that computed it (a rollback or a new request expires ORM rows).
    x_id, lead_id, pattern_type, user_type = world.x.id, world.lead.id, type(world.x), type(world.lead)
    remembered, _ = pattern_snapshots.page_summaries(service.PatternFilters())
    db.session.rollback()
    db.session.remove()
    assert {s.pattern.name for s in remembered} == {"LDAP sync timeout", "SSO redirect loop"}
    curation.rename(db.session.get(user_type, lead_id), db.session.get(pattern_type, x_id), "Directory sync timeout")
    assert "Directory sync timeout" in client.get("/patterns/").get_data(as_text=True)


def test_detail_page_query_count_does_not_grow_with_members(world, make, client, login):
    login(world.lead)
    url = f"/patterns/{world.x.id}"                                  # has accepted answers already
    before = _count_queries(client, url)
    for _ in range(8):
        thread = make.thread(world.users["e"], space=world.space, deployment_id=world.dep_e.id,
                             deployment_snapshot=world.dep_e.snapshot())
        pf.member(world.x, thread)
        pf.accept(thread, make.reply(thread, world.solver), NOW)
    assert _count_queries(client, url) == before


def test_thread_page_aggregate_costs_the_same_for_big_patterns(world, make, client, login):
    login(world.users["b"])
    url = f"/t/{world.y_threads[0].id}"
    assert "Others hit this too" in client.get(url).get_data(as_text=True)  # warm: the first visit records more
    before = _count_queries(client, url)
    for _ in range(8):
        pf.member(world.y, make.thread(world.users["c"], space=world.space))
    assert _count_queries(client, url) == before


def test_pattern_page_offers_promotion_then_links_the_playbook(app, client, login, make):
    from forum.models import Playbook

    lead, employee = make.employee(is_lead=True), make.employee()
    thread = make.thread(make.user(make.customer_org()), title="Installer stops on grants")
    row = pf.pattern("Installer grants", [thread])
    login(employee)
    assert "Promote to a playbook" not in client.get(f"/patterns/{row.id}").get_data(as_text=True)
    lead_client = app.test_client()
    login(lead, lead_client)
    page = lead_client.get(f"/patterns/{row.id}").get_data(as_text=True)
    assert f"/playbooks/new?pattern={row.id}" in page
    db.session.add(Playbook(pattern_id=row.id, title="Grant the installer role first", author_id=lead.id))
    db.session.commit()
    page = lead_client.get(f"/patterns/{row.id}").get_data(as_text=True)
    assert "Promote to a playbook" not in page and "Grant the installer role first" in page
