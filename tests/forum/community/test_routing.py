"""Routing a new question to the members who solved its pattern before: ranked by how alike their solved
deployments are, opt-in per member, at most N a day each, never to someone who may not see the question."""
from __future__ import annotations

from sqlalchemy import func, select

from forum.extensions import db
from forum.models import (
    MembershipSource,
    Notification,
    NotificationKind,
    Pattern,
    PatternMember,
    PatternStatus,
    Visibility,
)
from forum.services.community import routing
from tests.factories import csrf_token_from

SNAPSHOT = {"product": "Ledger", "version": "2026.1", "database": "PostgreSQL 15", "hosting": "cloud"}


def _world(make):
    pattern = Pattern(name="Licence lost after upgrade", status=PatternStatus.ACTIVE, keywords=[], signatures=[])
    db.session.add(pattern)
    db.session.commit()
    org_a, org_b = make.customer_org(), make.customer_org()
    partner = make.partner_org()
    make.engage(partner, org_a)
    solvers = {"staff": make.employee(), "partner_in": make.user(partner), "customer_b": make.user(org_b),
               "staff_far": make.employee()}

    def solved(solver, snapshot):
        asker = make.user(org_a)
        thread = make.thread(asker, deployment_snapshot=snapshot)
        reply = make.reply(thread, solver)
        thread.accepted_reply_id = reply.id
        db.session.add(PatternMember(pattern_id=pattern.id, thread_id=thread.id, source=MembershipSource.MINED,
                                     similarity=0.9))
        db.session.commit()

    for who in ("staff", "partner_in", "customer_b"):
        solved(solvers[who], SNAPSHOT)
    solved(solvers["staff_far"], {"product": "Ledger", "version": "2019.1", "database": "Oracle 19",
                                  "hosting": "on_premises"})
    solved(solvers["staff"], SNAPSHOT)  # staff solved two
    asker = make.user(org_a)
    question = make.thread(asker, visibility=Visibility.ORG_PRIVATE, title="Licence gone after 2026.1",
                           deployment_snapshot=SNAPSHOT)
    db.session.add(PatternMember(pattern_id=pattern.id, thread_id=question.id, source=MembershipSource.ASSIGNED,
                                 similarity=0.8))
    db.session.commit()
    return pattern, solvers, asker, question


def test_solvers_are_ranked_by_environment_and_never_across_visibility(app, make):
    _, solvers, asker, question = _world(make)
    ranked = [s.user.id for s in routing.solvers_for(question)]
    # customer_b may not see A's org-private question; the asker is never suggested to themself.
    assert solvers["customer_b"].id not in ranked and asker.id not in ranked
    assert ranked == [solvers["staff"].id, solvers["partner_in"].id, solvers["staff_far"].id]


def test_only_opted_in_members_are_notified_at_most_n_a_day(app, make, client, login):
    app.config["ROUTING_PER_QUESTION"] = 5
    pattern, solvers, asker, question = _world(make)
    assert routing.route(question) == []  # nobody opted in
    routing.set_preference(solvers["staff"], True, 1)
    routing.set_preference(solvers["customer_b"], True, 5)  # may not see the question: never routed
    routing.set_preference(solvers["partner_in"], True, 2)
    routed = routing.route(question)
    assert sorted(n.user_id for n in routed) == sorted([solvers["staff"].id, solvers["partner_in"].id])
    assert routing.route(question) == []  # once per question and member
    second = make.thread(asker, visibility=Visibility.ORG_PRIVATE, title="Another licence question",
                         deployment_snapshot=SNAPSHOT)
    db.session.add(PatternMember(pattern_id=pattern.id, thread_id=second.id, source=MembershipSource.ASSIGNED,
                                 similarity=0.8))
    db.session.commit()
    # staff reached their limit of 1 a day; partner_in may take a second.
    assert [n.user_id for n in routing.route(second)] == [solvers["partner_in"].id]
    login(solvers["partner_in"])
    inbox = client.get("/inbox").get_data(as_text=True)
    assert "Licence gone after 2026.1" in inbox and "solved" in inbox


def test_a_question_joining_a_pattern_is_routed(app, make):
    pattern, solvers, asker, question = _world(make)
    routing.set_preference(solvers["partner_in"], True, 3)
    db.session.execute(db.delete(PatternMember).where(PatternMember.thread_id == question.id))
    db.session.commit()
    member = PatternMember(pattern_id=pattern.id, thread_id=question.id, source=MembershipSource.ASSIGNED,
                           similarity=0.8)
    db.session.add(member)
    db.session.commit()
    routing.after_assignment(member)
    assert db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.kind == NotificationKind.ROUTED)).scalar_one() == 1


def test_members_opt_in_on_their_account(app, client, make, login):
    member = make.user()
    login(member)
    page = client.get("/account/routing").get_data(as_text=True)
    assert "Send me questions like ones I solved" in page
    response = client.post("/account/routing", data={"csrf_token": csrf_token_from(page), "opt_in": "y",
                                                     "daily_limit": "2"})
    assert response.status_code == 302
    assert routing.preference(member) == (True, 2)
    for bad in ("0", "99", "x", "-1"):
        response = client.post("/account/routing", data={"csrf_token": csrf_token_from(page), "opt_in": "y",
                                                         "daily_limit": bad})
        assert response.status_code == 400
    assert routing.preference(member) == (True, 2)


def test_staff_see_who_solved_it_before_on_the_question(app, client, make, login):
    _, solvers, asker, question = _world(make)
    login(make.employee())
    page = client.get(f"/t/{question.id}").get_data(as_text=True)
    assert "Solved this pattern before" in page
    assert solvers["partner_in"].display_name in page and solvers["customer_b"].display_name not in page
    asker_client = app.test_client()
    login(asker, asker_client)
    assert "Solved this pattern before" not in asker_client.get(f"/t/{question.id}").get_data(as_text=True)


def test_a_question_a_lead_files_into_the_pattern_is_routed(app, make):
    from forum.services.patterns import curation

    pattern, solvers, asker, question = _world(make)
    routing.set_preference(solvers["staff"], True, 3)
    db.session.execute(db.delete(PatternMember).where(PatternMember.thread_id == question.id))
    db.session.commit()
    curation.file_thread(make.employee(is_lead=True), pattern, question)
    routed = db.session.execute(select(Notification).where(Notification.kind == NotificationKind.ROUTED)).scalars()
    assert [n.user_id for n in routed] == [solvers["staff"].id]
