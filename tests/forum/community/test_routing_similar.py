"""Routing by similarity, with the real model: a new question that joins no pattern but is like solved threads
(all-MiniLM-L6-v2 vectors, compared through the vector index) goes to the opted-in members who solved them and may
see it, at most their daily limit; the asker is shown those members with the solved threads the asker may see,
never one the asker may not."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from forum.extensions import db
from forum.models import MiningRun, Notification, NotificationKind, RunStatus, ThreadStatus, Visibility
from forum.services.community import routing
from forum.services.patterns import runs
from forum.services.vectors import index as vector_index
from forum.services.vectors.embeddings import ensure_embeddings, get_embedder, texts_for, thread_documents

SNAPSHOT = {"product": "Ledger", "version": "2026.1", "database": "PostgreSQL 15", "hosting": "cloud"}
OLD = {"product": "Ledger", "version": "2019.1", "database": "Oracle 19", "hosting": "on_premises"}
QUESTION = ("Licence disappeared after upgrading Ledger to 2026.1",
            "Since the upgrade to 2026.1 the licence screen says no valid licence and users cannot sign in.")


@pytest.fixture(autouse=True)
def _fresh_vectors():
    vector_index.clear_caches()
    yield
    vector_index.clear_caches()


def embed(threads) -> None:
    """Store the threads' vectors with the real model, as a mining run does."""
    ensure_embeddings(texts_for(thread_documents([t.id for t in threads])), get_embedder())


def similar_world(make, app):
    """Solved threads like the question (public, internal, B's private), one unlike it, and the question."""
    app.config.update(MINING_EMBEDDER="minilm", MINING_EMBED_THREADS=1)
    org_a, org_b = make.customer_org("Acme"), make.customer_org("Borealis")
    partner = make.partner_org("Pathfinders")
    make.engage(partner, org_a)
    people = {"partner_in": make.user(partner), "staff": make.employee(), "customer_b": make.user(org_b),
              "unlike": make.employee(), "partner_far": make.user(partner), "asker": make.user(org_a)}
    space = make.space("Installs")

    def solved(solver, author, title, body, visibility=Visibility.PUBLIC, snapshot=SNAPSHOT,
               answer="Re-import the licence key from the portal after the upgrade."):
        thread = make.thread(author, visibility, space=space, title=title, body=body, deployment_snapshot=snapshot)
        reply = make.reply(thread, solver, answer)
        thread.accepted_reply_id, thread.status = reply.id, ThreadStatus.RESOLVED
        db.session.commit()
        return thread

    customer_a = make.user(org_a)
    solved_threads = {
        "public": solved(people["partner_in"], customer_a, "Ledger licence lost after the 2026.1 upgrade",
                         "After upgrading, Ledger reports that the licence is missing and blocks every login."),
        "public_old": solved(people["partner_far"], customer_a, "Licence missing after upgrading Ledger",
                             "The upgrade dropped our licence and nobody can sign in any more.", snapshot=OLD),
        "internal": solved(people["staff"], people["unlike"], "Licence missing after upgrade CANARYINTERNAL7",
                           "Internal: upgrade to 2026.1 dropped the licence key, nobody can log in.",
                           Visibility.INTERNAL),
        "private_b": solved(people["customer_b"], make.user(org_b),
                            "Our licence vanished when we upgraded CANARYPRIVATEB9",
                            "After the upgrade the licence is no longer found and logins fail.", Visibility.ORG_PRIVATE),
        "unlike": solved(people["unlike"], customer_a, "SAML single sign-on loops forever",
                         "The identity provider redirects back and forth and login never completes.",
                         answer="Register the forum's callback address as the redirect URI at the provider."),
    }
    db.session.add(MiningRun(status=RunStatus.FINISHED, quality={"assign_threshold": 0.99}))
    db.session.commit()
    embed(solved_threads.values())
    question = make.thread(people["asker"], Visibility.ORG_PRIVATE, space=space, title=QUESTION[0], body=QUESTION[1],
                           deployment_snapshot=SNAPSHOT)
    return people, solved_threads, question


def routed_to(thread) -> list[int]:
    return sorted(db.session.execute(select(Notification.user_id).where(
        Notification.thread_id == thread.id, Notification.kind == NotificationKind.ROUTED)).scalars())


@pytest.mark.slow
def test_a_question_like_solved_threads_is_routed_to_their_solvers_who_may_see_it(app, make):
    app.config["ROUTING_PER_QUESTION"] = 5
    people, _solved, question = similar_world(make, app)
    for who in ("partner_in", "staff", "customer_b", "unlike"):
        routing.set_preference(people[who], True, 1)
    # Posted: embedded with the real model, close to no pattern (none exists), routed by its nearest solved threads.
    assert runs.assign_thread(question.id) is None
    # customer_b solved a like thread but may not see A's private question; "unlike" solved an unlike one;
    # partner_far did not opt in.
    assert routed_to(question) == sorted([people["partner_in"].id, people["staff"].id])
    ranked = [s.user.id for s in routing.solvers_for(question, by_similarity=True)]
    assert ranked[:2] == [people["partner_in"].id, people["staff"].id]  # the same environment first
    assert people["partner_far"].id in ranked and people["customer_b"].id not in ranked
    assert people["unlike"].id not in ranked

    # At most N a day: staff's limit of 1 is spent, partner_in's too; the next like question reaches nobody.
    second = make.thread(people["asker"], Visibility.ORG_PRIVATE, title="Licence gone after the Ledger upgrade",
                         body="We upgraded Ledger and now it says the licence is not valid; logins are blocked.",
                         deployment_snapshot=SNAPSHOT)
    runs.assign_thread(second.id)
    assert routed_to(second) == []
    routing.set_preference(people["staff"], True, 2)
    runs.assign_thread(second.id)
    assert routed_to(second) == [people["staff"].id]


@pytest.mark.slow
def test_the_asker_is_shown_solvers_of_similar_threads_only_through_threads_they_may_see(app, make):
    people, solved, question = similar_world(make, app)
    for who in ("partner_in", "staff", "customer_b", "partner_far"):
        routing.set_preference(people[who], True, 3)
    runs.assign_thread(question.id)
    shown = routing.suggested_solvers(people["asker"], question)
    # Only through threads the asker may see: the staff member solved an internal one, customer_b B's private one.
    assert [s.user.id for s in shown] == [people["partner_in"].id, people["partner_far"].id]
    assert {t.id for s in shown for t in s.examples} == {solved["public"].id, solved["public_old"].id}
    # Only the asker is shown the suggestion, and only while the question is open.
    assert routing.suggested_solvers(make.employee(), question) == []
    assert routing.suggested_solvers(None, question) == []
    # Opt-in: a member who opted out is not suggested either.
    routing.set_preference(people["partner_far"], False, 3)
    assert [s.user.id for s in routing.suggested_solvers(people["asker"], question)] == [people["partner_in"].id]


@pytest.mark.slow
def test_the_asker_sees_them_on_the_question_and_nothing_of_hidden_threads(app, make, client, login):
    people, solved, question = similar_world(make, app)
    for who in ("partner_in", "staff", "customer_b", "partner_far"):
        routing.set_preference(people[who], True, 3)
    runs.assign_thread(question.id)
    login(people["asker"])
    page = client.get(f"/t/{question.id}").get_data(as_text=True)
    assert "Members who solved similar questions" in page
    assert people["partner_in"].display_name in page and solved["public"].title in page
    assert people["partner_far"].display_name in page and solved["public_old"].title in page
    assert "CANARY" not in page
    assert people["staff"].display_name not in page and people["customer_b"].display_name not in page
    # Someone else reading the question is not shown the asker's suggestion.
    other = app.test_client()
    login(make.employee(), other)
    assert "Members who solved similar questions" not in other.get(f"/t/{question.id}").get_data(as_text=True)
