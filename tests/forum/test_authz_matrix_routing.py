"""The authorization matrix's routing cells: questions routed to members who solved threads like them, through the
real model's vectors, checked cell by cell against one policy table (the roles and the world are the matrix's)."""
from __future__ import annotations

import pytest

from forum.extensions import db
from forum.models import MiningRun, RunStatus, ThreadStatus, Visibility
from forum.services.community import routing
from forum.services.patterns import runs
from forum.services.vectors import index as vector_index
from forum.services.vectors.embeddings import ensure_embeddings, get_embedder, texts_for, thread_documents
from tests.forum.test_authz_matrix import ORG_ROLES, World, _is_login_redirect, assert_cells, org_policy

# --- routing questions to people who solved them, from the same specification ---------------------------------
#
# "When a new question is like threads a member solved, it is suggested to (and, if they opted in, sent to) that
# member, never across visibility; the asker is shown who solved similar questions through threads the asker may
# see only." With the real model's vectors: each role solved a thread like the new questions and opted in.
#   routed_org_private   A's org-private question (asked by another member of A) reaches the role's inbox
#   routed_internal      an internal question reaches the role's inbox
#   suggested_private_b  on the role's own question, B's org-private solved thread (and its solver) is shown
#   suggested_internal   on the role's own question, an internal solved thread (and its solver) is shown
# Y: listed / shown   N: not   L: sent to log in
#
#                                    anon A   adA  B   p_in p_out emp mod adm
ROUTING_TABLE = {
    "routed_org_private":           "L   Y   Y   N   Y   N   Y   Y   Y",
    "routed_internal":              "L   N   N   N   N   N   Y   Y   Y",
    "suggested_private_b":          "L   N   N   Y   N   N   Y   Y   Y",
    "suggested_internal":           "L   N   N   N   N   N   Y   Y   Y",
}
ROUTING_POLICY = org_policy(ROUTING_TABLE)
LICENCE = "After upgrading Ledger to 2026.1 the licence is reported missing and nobody can sign in."


@pytest.mark.slow
@pytest.mark.parametrize("role", ORG_ROLES)
def test_routing_by_similar_solved_threads(app, client, make, login, role):
    app.config.update(MINING_EMBEDDER="minilm", MINING_EMBED_THREADS=1, ROUTING_PER_QUESTION=10)
    vector_index.clear_caches()
    world = World(make, role)
    b_org = world.users["cust_b"].organisation
    b_solver = make.user(b_org)

    def solved(author, solver, visibility, title):
        thread = make.thread(author, visibility, space=world.space, title=title, body=LICENCE)
        reply = make.reply(thread, solver, "Re-import the licence key from the portal after the upgrade.")
        thread.accepted_reply_id, thread.status = reply.id, ThreadStatus.RESOLVED
        db.session.commit()
        return thread

    solved_threads = [solved(make.user(b_org), b_solver, Visibility.ORG_PRIVATE, "Licence vanished CANARYROUTEB"),
                      solved(world.other_staff, world.other_staff, Visibility.INTERNAL,
                             "Licence key dropped CANARYROUTEINT")]
    if world.user is not None:
        solved_threads.append(solved(world.other_a, world.user, Visibility.PUBLIC, "Ledger licence lost"))
    for solver in (b_solver, world.other_staff, *([world.user] if world.user else [])):
        routing.set_preference(solver, True, 20)
    db.session.add(MiningRun(status=RunStatus.FINISHED, quality={"assign_threshold": 0.99}))
    db.session.commit()
    ensure_embeddings(texts_for(thread_documents([t.id for t in solved_threads])), get_embedder())
    questions = {
        "routed_org_private": make.thread(world.other_a, Visibility.ORG_PRIVATE, space=world.space,
                                          title="Licence gone after the upgrade, private", body=LICENCE),
        "routed_internal": make.thread(world.other_staff, Visibility.INTERNAL, space=world.space,
                                       title="Licence gone after the upgrade, internal", body=LICENCE),
    }
    own = make.thread(world.user or world.other_a, Visibility.PUBLIC, space=world.space,
                      title="Our licence disappeared after the upgrade", body=LICENCE)
    for thread in (*questions.values(), own):
        runs.assign_thread(thread.id)  # embedded as on posting, and routed
    if world.user is not None:
        login(world.user)

    got = {}
    inbox = client.get("/inbox")
    for action, question in questions.items():
        got[action] = "L" if _is_login_redirect(inbox) else (
            "Y" if question.title in inbox.get_data(as_text=True) else "N")
    page = client.get(f"/t/{own.id}")
    for action, word, solver in (("suggested_private_b", "CANARYROUTEB", b_solver),
                                 ("suggested_internal", "CANARYROUTEINT", world.other_staff)):
        if _is_login_redirect(page):
            got[action] = "L"
            continue
        html = page.get_data(as_text=True)
        shown, named = word in html, f">{solver.display_name}</a>" in html
        got[action] = "Y" if shown and named else "N" if not shown and not named else (
            f"thread shown: {shown}, its solver shown: {named}")

    assert_cells(role, got, ROUTING_POLICY)
