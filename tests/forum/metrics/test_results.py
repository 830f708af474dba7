"""Measured results on a small forum whose figures are worked out by hand below (both databases).

Questions (t6 is an announcement and never counts):
  t1 Alpha, Jan 5   responses: Alpha's own reply +0.5 h (not a response), staff note +1 h (no),
                    Partner Works +2 h (first, accepted), employee +3 h.  Resolved at +10 h.  Ledger 9.1
  t2 =Bravo, Jan 10 @Quirky reply +1 h removed (no), employee +4 h (first).  Answered.       Ledger 9.1
  t3 Alpha, Feb 1   =Bravo +10 h (first, accepted).  Resolved at +30 h.                     Ledger 9.2
  t4 =Bravo, Feb 2  no reply.  Open.
  t5 Alpha, Feb 3   Partner Works +60 h (first, after 48 h).  Answered.
  t7 =Bravo, 10 h ago, no reply (not yet 48 h old).
First responses 2, 4, 10, 60 h: median (4 + 10) / 2 = 7 h; p90 by nearest rank = the 4th of 4 = 60 h.
Answered 4/6, resolved 2/6; older than 48 h: t1-t5 = 5, of which t4 and t5 had no response within 48 h: 2/5.
Responses by role: customer 1 (t3), partner 2 (t1, t5), employee 2 (t1, t2) -> 20% / 40% / 40%.
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event

from forum.extensions import db
from forum.models import (
    Confirmation,
    Playbook,
    PlaybookConfirmation,
    SuggestionEvent,
    ThreadKind,
    ThreadStatus,
    utcnow,
)
from forum.services.metrics import results as metrics
from forum.services.metrics.export import TABLES, safe_cell, table_csv

JAN5 = datetime(2026, 1, 5, 8, 0)


@pytest.fixture(autouse=True)
def _fresh_cache():
    metrics.clear_cache()
    yield
    metrics.clear_cache()


def _reply(make, thread, author, hours: float, staff_note: bool = False, deleted: bool = False):
    reply = make.reply(thread, author, staff_note=staff_note)
    reply.created_at = thread.created_at + timedelta(hours=hours)
    if deleted:
        reply.deleted_at = reply.created_at
    db.session.commit()
    return reply


def build_forum(make, suffix: str = ""):
    """The forum of the module docstring; with a suffix, a second copy with other names (for growth)."""
    vendor = make.vendor_org()
    alpha, bravo = make.customer_org(f"Alpha{suffix}"), make.customer_org(f"=Bravo{suffix}")
    works, quirky = make.partner_org(f"Partner Works{suffix}"), make.partner_org(f"@Quirky{suffix}")
    a, b, p, q = make.user(alpha), make.user(bravo), make.user(works), make.user(quirky)
    e = make.user(vendor)
    space = make.space()
    snap = {"9.1": {"product": "Ledger", "version": "9.1"}, "9.2": {"product": "Ledger", "version": "9.2"}}

    def ask(author, when, **fields):
        return make.thread(author, space=space, created_at=when, **fields)

    t1 = ask(a, JAN5, deployment_snapshot=snap["9.1"])
    _reply(make, t1, a, 0.5)
    _reply(make, t1, e, 1, staff_note=True)
    accepted1 = _reply(make, t1, p, 2)
    _reply(make, t1, e, 3)
    t1.status, t1.resolved_at, t1.accepted_reply_id = ThreadStatus.RESOLVED, JAN5 + timedelta(hours=10), accepted1.id
    t2 = ask(b, datetime(2026, 1, 10, 9, 0), deployment_snapshot=snap["9.1"])
    _reply(make, t2, q, 1, deleted=True)
    _reply(make, t2, e, 4)
    t3 = ask(a, datetime(2026, 2, 1, 12, 0), deployment_snapshot=snap["9.2"])
    accepted3 = _reply(make, t3, b, 10)
    t3.status, t3.resolved_at = ThreadStatus.RESOLVED, t3.created_at + timedelta(hours=30)
    t3.accepted_reply_id = accepted3.id
    ask(b, datetime(2026, 2, 2, 12, 0))
    t5 = ask(a, datetime(2026, 2, 3, 12, 0))
    _reply(make, t5, p, 60)
    t6 = ask(e, datetime(2026, 2, 4, 12, 0), kind=ThreadKind.ANNOUNCEMENT)
    _reply(make, t6, a, 1)
    t7 = ask(b, utcnow() - timedelta(hours=10))
    db.session.commit()

    deployment = make.deployment(bravo)
    db.session.add(Confirmation(reply_id=accepted1.id, user_id=b.id, deployment_id=deployment.id))
    playbook = Playbook(title=f"=Rotate the keys{suffix}", author_id=e.id)
    db.session.add(playbook)
    db.session.flush()
    for org in (alpha, bravo):
        db.session.add(PlaybookConfirmation(playbook_id=playbook.id, user_id=a.id,
                                            deployment_id=make.deployment(org).id))
    for kind, key in (("impression", "d1"), ("click", "d1"), ("impression", "d2"), ("posted", "d2")):
        db.session.add(SuggestionEvent(draft_key=(key + suffix).ljust(16, "x"), kind=kind, user_id=a.id))
    db.session.commit()
    return {"t7": t7, "employee": e, "customer": a, "partner": p}


def test_figures_match_the_hand_worked_answers(make):
    w = build_forum(make)
    m = metrics.compute("all")
    assert (m.questions, m.answered, m.resolved) == (6, 4, 2)
    assert (m.older_than_48h, m.unanswered_48h) == (5, 2)
    assert m.first_response_median_h == pytest.approx(7.0, abs=1e-3)
    assert m.first_response_p90_h == pytest.approx(60.0, abs=1e-3)
    assert m.replies_by_kind == {"employee": 2, "customer": 1, "partner": 2}
    assert m.partners == [{"organisation": "Partner Works", "threads_answered": 2, "answers_accepted": 1}]
    # Alpha's own reply on t1 is activity (not a response); its reply on the announcement is not counted.
    assert m.customers == [
        {"organisation": "=Bravo", "threads": 3, "replies": 1, "open_questions": 3},
        {"organisation": "Alpha", "threads": 3, "replies": 1, "open_questions": 1}]
    assert [(p["product"], p["version"], p["questions"], p["resolved"]) for p in m.products] == [
        ("Ledger", "9.1", 2, 1), ("Ledger", "9.2", 1, 1)]
    assert m.products[0]["median_resolution_h"] == pytest.approx(10.0, abs=1e-3)
    assert m.products[1]["median_resolution_h"] == pytest.approx(30.0, abs=1e-3)
    months = {row["month"]: row for row in m.months}
    assert months["2026-01"]["questions"] == 2
    assert months["2026-01"]["median_first_response_h"] == pytest.approx(3.0, abs=1e-3)  # (2 + 4) / 2
    assert months["2026-01"]["share_resolved"] == pytest.approx(0.5)
    assert months["2026-02"]["questions"] == 3
    assert months["2026-02"]["median_first_response_h"] == pytest.approx(35.0, abs=1e-3)  # (10 + 60) / 2
    assert months["2026-02"]["share_resolved"] == pytest.approx(1 / 3)
    assert months[w["t7"].created_at.strftime("%Y-%m")]["median_first_response_h"] is None
    assert m.reuse["confirmations"] == 1 and m.reuse["replications"] == 2
    assert (m.reuse["drafts_shown"], m.reuse["deflections"]) == (2, 1)
    assert m.playbooks[0]["replications"] == 2


def test_a_period_counts_only_its_questions(make):
    w = build_forum(make)
    m = metrics.compute("30")
    assert (m.questions, m.answered, m.older_than_48h) == (1, 0, 0)
    assert m.first_response_median_h is None and m.share(m.unanswered_48h, m.older_than_48h) is None
    assert w["t7"].created_at >= m.since


def test_percentile_and_median_by_hand():
    assert metrics.median([1, 2, 3, 10]) == 2.5
    assert metrics.percentile([1, 2, 3, 10], 0.9) == 10
    assert metrics.percentile(list(range(1, 11)), 0.9) == 9
    assert metrics.percentile([], 0.9) is None


def test_page_states_each_definition(make, client, login):
    w = build_forum(make)
    login(w["employee"])
    html = client.get("/metrics/?period=all").get_data(as_text=True)
    for phrase in ("Median (not mean)", "Nine in ten", "not a staff note, not removed",
                   "asker's own replies are not counted", "except announcements", "no response within 48 hours",
                   "Median resolution", "never posted", "<svg", "<title>2026-01: 2</title>"):
        assert phrase in html, phrase
    assert "7.0 h" in html and "60.0 h" in html and "67%" in html and "40%" in html
    assert "style=" not in html.split("<main", 1)[-1] and "<script>" not in html
    assert client.get("/metrics/?period=bogus").status_code == 200
    assert 'href="/metrics/"' in client.get("/").get_data(as_text=True)  # the header links employees here


@pytest.mark.parametrize("who", ["customer", "partner", None])
def test_non_employees_get_404(make, client, login, who):
    w = build_forum(make)
    if who:
        login(w[who])
    for url in ("/metrics/", "/metrics", "/metrics/?period=all", "/metrics/customers.csv", "/metrics/summary.csv",
                "/metrics/nope.csv"):
        assert client.get(url).status_code == 404, url
    if who:
        assert 'href="/metrics/"' not in client.get("/").get_data(as_text=True)


def test_csv_exports_escape_and_neutralise_formulas(make, client, login):
    w = build_forum(make)
    login(w["employee"])
    response = client.get("/metrics/customers.csv?period=all")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["organisation", "threads", "replies", "open_questions"]
    assert rows[1] == ["'=Bravo", "3", "1", "3"]
    rows = list(csv.reader(io.StringIO(client.get("/metrics/playbooks.csv?period=all").get_data(as_text=True))))
    assert rows[1][1:] == ["'=Rotate the keys", "2"]
    summary = dict(csv.reader(io.StringIO(client.get("/metrics/summary.csv?period=all").get_data(as_text=True))))
    assert summary["questions"] == "6" and summary["median first response (hours)"] == "7.0"
    assert client.get("/metrics/nope.csv").status_code == 404
    for name in ("who-answers", "partners", "products", "trends", "reuse"):
        assert client.get(f"/metrics/{name}.csv?period=all").status_code == 200


def test_a_csv_file_is_the_same_for_a_german_reader(app, make, client, login):
    """The exports are data, not pages: column names and values do not follow the reader's language (the page
    around them does)."""
    w = build_forum(make)
    german_lead = make.employee(locale="de")
    login(w["employee"])
    german = app.test_client()
    login(german_lead, german)
    assert "Antworten" in german.get("/metrics/?period=all").get_data(as_text=True)
    for name in TABLES:
        url = f"/metrics/{name}.csv?period=all"
        assert german.get(url).get_data(as_text=True) == client.get(url).get_data(as_text=True), name
    assert german.get("/metrics/customers.csv?period=all").get_data(as_text=True).startswith(
        "organisation,threads,replies,open_questions")


def test_csv_quoting_and_neutralised_cells():
    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "plain", 5, None)] == [
        "'=1+1", "'+1", "'-1", "'@SUM(A1)", "'\tx", "plain", 5, ""]
    m = metrics.Metrics(period="all", since=None, computed_at=utcnow(),
                        customers=[{"organisation": 'Say "hi", now\nplease', "threads": 1, "replies": 0,
                                    "open_questions": 1}])
    text = table_csv("customers", m)
    assert '"Say ""hi"", now\nplease"' in text
    assert list(csv.reader(io.StringIO(text)))[1][0] == 'Say "hi", now\nplease'


def _statements(app) -> list[str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        metrics.compute("all")
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return seen


def test_query_count_does_not_grow_with_the_data(app, make):
    build_forum(make)
    small = _statements(app)
    for n in range(3):
        build_forum(make, suffix=f" {n}")
    assert len(_statements(app)) == len(small) <= 12


def test_cache_serves_the_same_figures_for_a_minute(app, make):
    build_forum(make)
    first = metrics.metrics_for("all")
    build_forum(make, suffix=" more")
    assert metrics.metrics_for("all") is first
    app.config["METRICS_CACHE_SECONDS"], app.config["METRICS_STALE_SECONDS"] = 0, 0
    assert metrics.metrics_for("all").questions == 12


def test_stale_figures_are_served_while_one_refresh_runs(app, make, held_jobs):
    build_forum(make)
    first = metrics.metrics_for("all")
    started = held_jobs
    app.config["METRICS_CACHE_SECONDS"] = 0
    assert metrics.metrics_for("all") is first and metrics.metrics_for("all") is first
    assert len(started) == 1  # one refresh at a time
    started[0].run()  # run it here, in this thread, so the test's database stays single-threaded
    assert metrics.metrics_for("all") is not first


def test_a_long_period_is_computed_in_the_background_while_the_page_says_so(app, make, client, login, held_jobs):
    w = build_forum(make)
    login(w["employee"])
    started = held_jobs
    app.config["METRICS_BACKGROUND_THRESHOLD"] = 3  # the fixture's 6 questions count as a long period
    html = client.get("/metrics/?period=all").get_data(as_text=True)
    assert "Computing the figures" in html and 'http-equiv="refresh"' in html
    assert "Computing the figures" in client.get("/metrics/?period=all").get_data(as_text=True)
    assert len(started) == 1  # one computation per period at a time
    started[0].run()  # here, in the test's thread
    html = client.get("/metrics/?period=all").get_data(as_text=True)
    assert "Median (not mean)" in html and "7.0 h" in html
    # Exports do not wait for the page: they compute when nothing is cached.
    metrics.clear_cache()
    assert client.get("/metrics/summary.csv?period=all").get_data(as_text=True).startswith("figure,value")


def test_figures_carry_counts_never_thread_content(make, client, login):
    from forum.models import Visibility

    w = build_forum(make)
    secret = make.thread(w["customer"], Visibility.ORG_PRIVATE, title="CANARYPRIVATETITLE", body="CANARYBODY",
                         deployment_snapshot={"product": "Ledger", "version": "9.1"})
    make.reply(secret, w["partner"], body="CANARYREPLY")
    login(w["employee"])
    pages = [client.get("/metrics/?period=all").get_data(as_text=True)]
    pages += [client.get(f"/metrics/{name}.csv?period=all").get_data(as_text=True)
              for name in ("summary", "who-answers", "partners", "customers", "products", "trends", "playbooks", "reuse")]
    assert not any("CANARY" in page for page in pages)
    # The private question is counted (7 questions now); its words are not shown.
    assert dict(csv.reader(io.StringIO(pages[1])))["questions"] == "7"
