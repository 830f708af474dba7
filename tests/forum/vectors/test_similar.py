"""Similar threads while asking and on thread pages: only visible threads, resolved first, semantic or keywords."""
from __future__ import annotations

import hashlib
import re

import numpy as np
import pytest

from forum.extensions import db
from forum.models import Playbook, ThreadEmbedding, ThreadStatus, Visibility
from forum.services.vectors import index as vector_index
from forum.services.vectors import similar
from forum.services.vectors.similar import related_threads, similar_to_draft
from tests.forum.board.test_pages import Browser


class HashEmbedder:
    """A tiny deterministic bag-of-words embedder: words hashed into 256 buckets, L2-normalised."""

    model_name = "test-hash-256"

    def embed(self, texts):
        out = np.zeros((len(texts), 256), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", text.lower()):
                if len(word) > 2:
                    out[i, int(hashlib.md5(word.encode()).hexdigest(), 16) % 256] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)


FAKE = HashEmbedder()


@pytest.fixture(autouse=True)
def _fresh_caches():
    vector_index.clear_caches()
    similar._embedder_retry_at = None
    yield
    vector_index.clear_caches()


@pytest.fixture()
def fake_embedder(monkeypatch):
    """Make the app embed drafts with ``FAKE``; returns ``store(threads)`` to save their vectors."""
    monkeypatch.setattr(similar, "query_embedder", lambda: FAKE)
    monkeypatch.setattr(similar, "_model_key", lambda embedder: embedder.model_name)
    return store_vectors


def store_vectors(threads) -> None:
    """Save each thread's vector as a mining run would (title and body)."""
    vectors = FAKE.embed([f"{t.title}\n\n{t.body_md}" for t in threads])
    for thread, vector in zip(threads, vectors, strict=True):
        db.session.add(ThreadEmbedding(thread_id=thread.id, model_name=FAKE.model_name, content_hash=str(thread.id),
                                       dimensions=256, vector=vector.astype("<f4").tobytes()))
    db.session.commit()


def resolve(make, thread, answerer, body="Raise the connection pool size to 200 and restart the workers."):
    """Give ``thread`` an accepted answer."""
    reply = make.reply(thread, answerer, body=body)
    thread.accepted_reply_id = reply.id
    thread.status = ThreadStatus.RESOLVED
    db.session.commit()
    return reply


@pytest.fixture()
def world(make):
    """Two customers (A engaged with partner P), an unengaged partner Q, an employee, a lead, and canaries."""
    org_a, org_b = make.customer_org("Acme"), make.customer_org("Borealis")
    partner, other_partner = make.partner_org("Pathfinders"), make.partner_org("Quiet Partners")
    make.engage(partner, org_a)
    people = {
        "customer_a": make.user(org_a), "customer_b": make.user(org_b), "partner": make.user(partner),
        "other_partner": make.user(other_partner), "employee": make.employee(), "lead": make.employee(is_lead=True),
    }
    space = make.space("Installs")
    author_a, author_b = make.user(org_a), make.user(org_b)
    threads = {
        "public": make.thread(author_b, space=space, title="Connection pool exhausted after upgrade to 4.2",
                              body="Workers fail with connection pool exhausted under load after the upgrade."),
        "public_open": make.thread(author_b, space=space, title="Connection pool exhausted on nightly batch",
                                   body="The connection pool is exhausted during the nightly batch import."),
        "internal": make.thread(people["employee"], Visibility.INTERNAL, space=space,
                                title="Connection pool exhausted CANARYINTERNAL7 escalation",
                                body="Connection pool exhausted: internal escalation notes CANARYINTERNAL7."),
        "private_a": make.thread(author_a, Visibility.ORG_PRIVATE, space=space,
                                 title="Connection pool exhausted CANARYPRIVATEA9 at Acme",
                                 body="Our connection pool is exhausted in production CANARYPRIVATEA9."),
        "unrelated": make.thread(author_b, space=space, title="Single sign-on login loop with SAML",
                                 body="The SAML login redirects forever between the identity provider and us."),
    }
    resolve(make, threads["public"], people["employee"])
    resolve(make, threads["internal"], people["employee"], body="Internal fix CANARYINTERNAL7 answer.")
    return {"people": people, "threads": threads, "space": space}


DRAFT = {"title": "Connection pool exhausted", "body": "After upgrading, the connection pool is exhausted."}
CANARIES = ("CANARYINTERNAL7", "CANARYPRIVATEA9")
ALLOWED = {  # who may see which canary
    "customer_a": {"CANARYPRIVATEA9"}, "customer_b": set(), "partner": {"CANARYPRIVATEA9"},
    "other_partner": set(), "employee": set(CANARIES), "lead": set(CANARIES),
}


def ask_page_suggestions(app, user, draft=DRAFT, draft_key=None):
    browser = Browser(app, user)
    token = browser.token()
    payload = dict(draft, **({"draft_key": draft_key} if draft_key else {}))
    response = browser.open("POST", "/suggest/similar", json=payload, headers={"X-CSRFToken": token})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


@pytest.mark.parametrize("semantic", [True, False], ids=["semantic", "keyword"])
def test_suggestions_never_include_threads_the_user_may_not_see(app, world, fake_embedder, semantic, monkeypatch):
    threads = world["threads"]
    if semantic:
        fake_embedder(threads.values())
    else:
        monkeypatch.setattr(similar, "query_embedder", lambda: None)
    for role, user in world["people"].items():
        response = ask_page_suggestions(app, user)
        text = response.get_data(as_text=True)
        data = response.get_json()
        assert data["method"] == ("semantic" if semantic else "keyword")
        for canary in CANARIES:
            assert (canary in text) == (canary in ALLOWED[role]), (role, canary)
        ids = {t["id"] for t in data["threads"]}
        assert threads["public"].id in ids and threads["unrelated"].id not in ids, role


def test_resolved_threads_come_first_with_their_answer_snippet(app, world, fake_embedder):
    fake_embedder(world["threads"].values())
    data = ask_page_suggestions(app, world["people"]["customer_b"]).get_json()
    first = data["threads"][0]
    assert first["id"] == world["threads"]["public"].id and first["resolved"] is True
    assert first["snippet"].startswith("Raise the connection pool size")
    assert first["url"].endswith(f"/t/{first['id']}")
    statuses = [t["resolved"] for t in data["threads"]]
    assert statuses == sorted(statuses, reverse=True)


def test_matching_playbook_is_suggested_and_internal_ones_only_to_employees(app, world, make, fake_embedder):
    threads = world["threads"]
    fake_embedder(threads.values())
    lead = world["people"]["lead"]
    public = Playbook(title="Fix an exhausted connection pool", problem_md="Pool exhausted", steps_md="1. Raise it",
                      author_id=lead.id)
    public.evidence = []
    internal = Playbook(title="Single sign-on loop CANARYPLAYBOOK3", problem_md="SAML loop", steps_md="1. x",
                        author_id=lead.id, visibility=Visibility.INTERNAL)
    db.session.add_all([public, internal])
    db.session.flush()
    from forum.models import PlaybookEvidence

    db.session.add_all([PlaybookEvidence(playbook_id=public.id, thread_id=threads["public"].id),
                        PlaybookEvidence(playbook_id=internal.id, thread_id=threads["unrelated"].id)])
    db.session.commit()
    data = ask_page_suggestions(app, world["people"]["customer_b"]).get_json()
    assert data["playbook"]["id"] == public.id and data["playbook"]["url"].endswith(f"/playbooks/{public.id}")
    saml = {"title": "SAML single sign-on login loop", "body": "login redirects forever with the identity provider"}
    customer = ask_page_suggestions(app, world["people"]["customer_b"], saml).get_data(as_text=True)
    assert "CANARYPLAYBOOK3" not in customer
    employee = ask_page_suggestions(app, world["people"]["employee"], saml).get_json()
    assert employee["playbook"]["id"] == internal.id


def test_keyword_fallback_finds_playbooks_too(app, world, monkeypatch):
    monkeypatch.setattr(similar, "query_embedder", lambda: None)
    lead = world["people"]["lead"]
    db.session.add(Playbook(title="Fix an exhausted connection pool", problem_md="Connection pool exhausted",
                            steps_md="Raise it", author_id=lead.id))
    db.session.commit()
    data = ask_page_suggestions(app, world["people"]["customer_b"]).get_json()
    assert data["method"] == "keyword" and data["playbook"]["title"] == "Fix an exhausted connection pool"


def test_mask_path_finds_visible_threads_behind_many_hidden_ones(app, world, make, fake_embedder, monkeypatch):
    """When the nearest threads are all hidden, ranking falls back to a mask of exactly the visible ones."""
    monkeypatch.setattr(similar, "CANDIDATE_POOL", 0)
    employee = world["people"]["employee"]
    hidden = [make.thread(employee, Visibility.INTERNAL, space=world["space"], title=DRAFT["title"],
                          body=DRAFT["body"] + " CANARYMASK5") for _ in range(8)]
    fake_embedder(list(world["threads"].values()) + hidden)
    response = ask_page_suggestions(app, world["people"]["customer_b"])
    assert "CANARYMASK5" not in response.get_data(as_text=True)
    ids = {t["id"] for t in response.get_json()["threads"]}
    assert {world["threads"]["public"].id, world["threads"]["public_open"].id} <= ids


def test_matrix_cache_reloads_when_embeddings_change(app, world, make, fake_embedder):
    customer = world["people"]["customer_b"]
    fake_embedder([world["threads"]["unrelated"]])
    assert similar_to_draft(customer, DRAFT["title"], DRAFT["body"]).items == []
    fake_embedder([world["threads"]["public"]])
    found = similar_to_draft(customer, DRAFT["title"], DRAFT["body"])
    assert found.method == "semantic" and [s.id for s in found.items] == [world["threads"]["public"].id]


def test_related_threads_are_visible_ones_only(app, world, fake_embedder, monkeypatch):
    threads = world["threads"]
    for semantic in (True, False):
        vector_index.clear_caches()
        if semantic:
            fake_embedder(threads.values())
        else:
            db.session.execute(db.delete(ThreadEmbedding))
            db.session.commit()
        for role, user in world["people"].items():
            related = {r.id for r in related_threads(user, threads["public"])}
            assert threads["public"].id not in related
            assert threads["public_open"].id in related, (semantic, role)
            assert (threads["internal"].id in related) == (role in ("employee", "lead")), (semantic, role)
            assert (threads["private_a"].id in related) == (role in ("customer_a", "partner", "employee", "lead"))


def test_thread_page_shows_related_threads(app, world, fake_embedder):
    fake_embedder(world["threads"].values())
    html = Browser(app, world["people"]["customer_b"]).html(f"/t/{world['threads']['public'].id}")
    assert "Related threads" in html and world["threads"]["public_open"].title in html
    assert not any(canary in html for canary in CANARIES)


def test_suggest_endpoint_needs_login_csrf_and_takes_any_input(app, world):
    anonymous = app.test_client()
    assert anonymous.post("/suggest/similar", json=DRAFT).status_code in (302, 400, 401)
    browser = Browser(app, world["people"]["customer_b"])
    assert browser.open("POST", "/suggest/similar", json=DRAFT).status_code == 400  # no CSRF token
    token = browser.token()
    for payload in ({}, {"title": 5, "body": ["x"]}, {"title": "%_\\\x00' OR 1=1 --", "body": "\x00" * 50},
                    {"title": "x" * 10_000, "body": "y " * 60_000}):
        response = browser.open("POST", "/suggest/similar", json=payload, headers={"X-CSRFToken": token})
        assert response.status_code in (200, 413), payload
    response = browser.open("POST", "/suggest/similar", data="not json", headers={"X-CSRFToken": token})
    assert response.status_code == 200 and response.get_json()["threads"] == []


def test_unfitted_tfidf_embedder_is_not_used_for_drafts(app, world, fake_embedder, monkeypatch):
    """A corpus-fitted embedder that was not fitted here would fit on the draft alone: keywords instead."""
    class Unfitted(HashEmbedder):
        _vectorizer = None

        def fit(self, texts):
            raise AssertionError("must not fit on a draft")

    fake_embedder(world["threads"].values())
    monkeypatch.setattr(similar, "query_embedder", lambda: Unfitted())
    found = similar_to_draft(world["people"]["customer_b"], DRAFT["title"], DRAFT["body"])
    assert found.method == "keyword" and world["threads"]["public"].id in {s.id for s in found.items}
    # Related threads need no draft embedding: the stored vectors still serve.
    assert related_threads(world["people"]["customer_b"], world["threads"]["public"])


def test_unavailable_model_falls_back_to_keywords(app, world, monkeypatch):
    def broken():
        raise OSError("model files missing")

    monkeypatch.setattr("forum.services.vectors.embeddings.get_embedder", broken)
    found = similar_to_draft(world["people"]["customer_b"], DRAFT["title"], DRAFT["body"])
    assert found.method == "keyword" and world["threads"]["public"].id in {s.id for s in found.items}


@pytest.mark.slow
def test_real_minilm_embedder_ranks_a_paraphrase_first(app, world):
    embedders = pytest.importorskip("mining.embedders")
    if not hasattr(embedders, "SentenceTransformerEmbedder"):
        pytest.skip("mining.embedders has no SentenceTransformerEmbedder")
    app.config["MINING_EMBEDDER"] = "minilm"
    from forum.services.vectors.embeddings import embedder_key, get_embedder

    try:
        embedder = get_embedder()
        threads = list(world["threads"].values())
        vectors = np.asarray(embedder.embed([f"{t.title}\n\n{t.body_md}" for t in threads]), dtype=np.float32)
    except (OSError, getattr(embedders, "ModelFileError", OSError)) as exc:  # the model is not on this machine
        pytest.skip(f"minilm model unavailable: {exc}")
    for thread, vector in zip(threads, vectors, strict=True):
        db.session.add(ThreadEmbedding(thread_id=thread.id, model_name=embedder_key(embedder), content_hash="x",
                                       dimensions=vector.shape[0], vector=vector.astype("<f4").tobytes()))
    db.session.commit()
    found = similar_to_draft(world["people"]["customer_b"], "Our DB pool runs out of connections",
                             "Since we upgraded, workers cannot get a database connection under load.")
    assert found.method == "semantic"
    assert found.items and found.items[0].id == world["threads"]["public"].id


def test_reduced_matrix_keeps_the_top_of_the_ranking_exact(monkeypatch):
    """Large matrices are searched on their main directions; the best candidates get exact cosines."""
    monkeypatch.setattr(vector_index, "REDUCE_FROM_ROWS", 500)
    monkeypatch.setattr(vector_index, "REDUCED_DIMENSIONS", 32)
    monkeypatch.setattr(vector_index, "EXACT_ROWS", 100)
    rng = np.random.default_rng(5)
    # Like sentence embeddings: most of the variance in a few directions, plus some noise.
    matrix = rng.standard_normal((3000, 24)) @ rng.standard_normal((24, 96)) + rng.standard_normal((3000, 96)) * 0.3
    matrix = (matrix / np.linalg.norm(matrix, axis=1, keepdims=True)).astype(np.float32)
    ids = np.arange(1, 3001, dtype=np.int64)
    basis, reduced = vector_index.reduce(matrix)
    assert basis.shape == (96, 32) and reduced.shape == (3000, 32)
    exact = vector_index.VectorMatrix("m", (), ids, matrix, 0.0)
    fast = vector_index.VectorMatrix("m", (), ids, matrix, 0.0, basis, reduced)
    for row in range(0, 3000, 150):
        query = matrix[row]
        want = vector_index.top_rows(vector_index.scores_for(exact, query), 10)
        scores = vector_index.scores_for(fast, query)
        got = vector_index.top_rows(scores, 10)
        assert list(got) == list(want)
        assert np.allclose(scores[got], matrix[got] @ query, atol=1e-5)
