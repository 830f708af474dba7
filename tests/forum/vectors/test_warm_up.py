"""A fresh server worker loads the model and the stored vectors before its first search asks for them."""
from __future__ import annotations

import gc
import runpy
from pathlib import Path

import pytest

from forum.services import background
from forum.services.vectors import index as vector_index
from forum.services.vectors import similar
from forum.services.vectors.embeddings import ensure_embeddings, texts_for, thread_documents
from tests.forum.patterns.test_mining_runs import CountingEmbedder


@pytest.fixture()
def stored(app, make, monkeypatch):
    """Three threads of one customer with stored vectors of a counting embedder, and nothing loaded yet."""
    embedder = CountingEmbedder()
    monkeypatch.setattr(similar, "get_embedder", lambda: embedder)
    monkeypatch.setattr(similar, "_embeds_queries", lambda e: True)
    author = make.user(make.customer_org())
    for i in range(3):
        make.thread(author, title=f"SAML clock skew {i}", body="after the move")
    ensure_embeddings(texts_for(thread_documents()), embedder)
    vector_index.clear_caches()
    return embedder, author


def test_warm_up_loads_the_vectors_and_runs_one_query(stored):
    embedder, _ = stored
    calls = len(embedder.calls)

    background.start_once(similar.WARM_UP, similar.warm_up)
    background.wait_all(30)

    assert (vector_index.database_key(), similar._model_key(embedder)) in vector_index._matrices
    assert len(embedder.calls) == calls + 1  # one query embedded: the weights are loaded


def test_gunicorn_config_warms_each_worker(app, monkeypatch):
    started = []
    monkeypatch.setattr(background, "start_once", lambda key, target, *a, **k: started.append((key, target)))
    config = runpy.run_path(str(Path(__file__).resolve().parents[3] / "gunicorn.conf.py"))
    try:
        config["post_worker_init"](type("Worker", (), {"wsgi": app})())
    finally:
        gc.unfreeze()  # a worker's freeze, not this test process's: later tests' objects stay collectable
    assert started == [(("warm-up",), similar.warm_up)]


def test_while_the_worker_warms_up_search_and_suggestions_answer_by_keywords(stored, held_jobs):
    """A search that arrives while warm-up still loads the model and the vectors does not wait for them.

    At 100k threads the two take ~14 s one after the other; a search arriving as the server first answered
    loaded them again itself and took 11.6 s. Until warm-up ends, full text and keywords answer.
    """
    from forum.services.board import search

    embedder, author = stored
    calls = len(embedder.calls)

    background.start_once(similar.WARM_UP, similar.warm_up)  # held: the worker is still warming up
    found = search.search_threads(author, "SAML clock skew", 1, 10)
    draft = similar.similar_to_draft(author, "SAML clock skew", "after the move")
    assert found.total == 3 and draft.method == "keyword" and len(draft.items) == 3
    assert len(embedder.calls) == calls and not vector_index._matrices  # nothing loaded inside the requests

    held_jobs[0].run()  # warm-up ends
    assert similar.similar_to_draft(author, "SAML clock skew", "after the move").method == "semantic"
