"""Search: relevance, filters, the full-text index kept in sync, visibility before ranking, the semantic blend.

Every test runs on SQLite (FTS5) and PostgreSQL (tsvector); the schema, triggers included, comes from the
migrations.
"""
from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from sqlalchemy import text

from forum.extensions import db
from forum.models import Tag, ThreadEmbedding, ThreadStatus, Visibility
from forum.services.board import fulltext
from forum.services.board.search import SearchFilters, highlight, parse_filters, search_threads
from forum.services.vectors import index as vector_index
from forum.services.vectors import similar


def _ids(user, query, **filters) -> list[int]:
    return [t.id for t in search_threads(user, query, 1, 50, SearchFilters(**filters)).items]


@pytest.fixture()
def world(make):
    """A vendor employee, a customer, another customer's private thread and an internal thread."""
    employee = make.employee()
    customer_org = make.customer_org()
    customer = make.user(customer_org)
    other = make.user(make.customer_org())
    space = make.space()
    return {"employee": employee, "customer": customer, "other": other, "space": space, "make": make}


def test_title_hit_ranks_above_body_hit(world):
    make, customer = world["make"], world["customer"]
    in_title = make.thread(customer, title="Kerberos ticket renewal fails", body="Nothing else to say here.")
    in_body = make.thread(customer, title="Login trouble", body="We also use kerberos somewhere upstream.")
    make.thread(customer, title="Unrelated", body="Nothing to see")
    assert _ids(customer, "kerberos") == [in_title.id, in_body.id]


def test_every_word_and_stemming(world):
    make, customer = world["make"], world["customer"]
    both = make.thread(customer, title="Reports timeouts", body="The nightly report times out on Oracle.")
    make.thread(customer, title="Reports are slow", body="Nothing about the other word.")
    assert _ids(customer, "report timeout") == [both.id]
    assert _ids(customer, "REPORTS oracle") == [both.id]
    assert _ids(customer, "report zebra") == []


def test_codes_and_punctuation_are_words(world):
    make, customer = world["make"], world["customer"]
    ticket = make.thread(customer, title="Upgrade stops with OPS-306", body="see foo:bar in the log")
    assert _ids(customer, "OPS-306") == [ticket.id]
    assert _ids(customer, "foo:bar") == [ticket.id]
    assert _ids(customer, '"OPS-306') == [ticket.id]  # an unbalanced quote is just a character


def test_index_follows_insert_update_delete(world):
    make, customer = world["make"], world["customer"]
    thread = make.thread(customer, title="Quokka sighting", body="marsupial")
    assert _ids(customer, "quokka") == [thread.id]
    thread.title = "Wombat sighting"
    db.session.commit()
    assert _ids(customer, "quokka") == []
    assert _ids(customer, "wombat") == [thread.id]
    thread.body_md = "platypus"
    db.session.commit()
    assert _ids(customer, "marsupial") == []
    assert _ids(customer, "platypus") == [thread.id]
    thread.reply_count = 3  # not a text column: the index is left alone, and stays right
    db.session.commit()
    assert _ids(customer, "wombat platypus") == [thread.id]
    db.session.delete(thread)
    db.session.commit()
    assert _ids(customer, "wombat") == []
    if db.engine.dialect.name == "sqlite":
        # FTS5 compares its index with the content table and raises if they disagree.
        db.session.execute(text("INSERT INTO thread_fts(thread_fts, rank) VALUES ('integrity-check', 1)"))


def test_visibility_before_ranking_counts_and_snippets(world):
    make, customer, employee, other = world["make"], world["customer"], world["employee"], world["other"]
    public = make.thread(customer, title="Zebra crossing guide", body="zebra")
    # Hidden threads that would outrank the public one (more hits, title hits).
    internal = make.thread(employee, visibility=Visibility.INTERNAL, title="Zebra zebra zebra",
                           body="zebra CANARYINTERNAL zebra")
    private = make.thread(other, visibility=Visibility.ORG_PRIVATE, title="Zebra zebra",
                          body="zebra CANARYPRIVATE zebra")
    result = search_threads(customer, "zebra", 1, 1)
    assert [t.id for t in result.items] == [public.id]
    assert result.total == 1 and not result.has_next
    shown = repr(result.extra) + repr([t.title for t in result.items])
    assert "CANARY" not in shown
    assert set(_ids(employee, "zebra")) == {public.id, internal.id, private.id}
    assert _ids(other, "zebra canaryprivate") == [private.id]
    assert _ids(customer, "canaryprivate") == [] and _ids(customer, "canaryinternal") == []


def test_filters(world):
    make, customer, employee = world["make"], world["customer"], world["employee"]
    org = customer.organisation
    other_space = make.space()
    ledger = make.deployment(org, product_version=make.product_version("Ledger", "9.1"))
    stock = make.deployment(org, product_version=make.product_version("Stockroom", "5.0"))
    a = make.thread(customer, title="Gizmo one", deployment_id=ledger.id, deployment_snapshot=ledger.snapshot(),
                    status=ThreadStatus.RESOLVED, created_at=datetime(2026, 3, 10, 12))
    b = make.thread(customer, space=other_space, title="Gizmo two", deployment_id=stock.id,
                    deployment_snapshot=stock.snapshot(), created_at=datetime(2026, 5, 1, 8))
    c = make.thread(world["other"], title="Gizmo three", created_at=datetime(2026, 5, 2, 23, 59))
    c.tags.append(Tag(name="kafka"))
    db.session.commit()
    assert set(_ids(customer, "gizmo")) == {a.id, b.id, c.id}
    assert _ids(customer, "gizmo", space=other_space.slug) == [b.id]
    assert _ids(customer, "gizmo", product="Ledger") == [a.id]
    assert _ids(customer, "gizmo", product="Stockroom", version="5.0") == [b.id]
    assert _ids(customer, "gizmo", version="9.1") == [a.id]
    assert _ids(customer, "gizmo", status="resolved") == [a.id]
    assert _ids(customer, "gizmo", tag="kafka") == [c.id]
    assert set(_ids(customer, "gizmo", since=datetime(2026, 5, 1).date())) == {b.id, c.id}
    assert _ids(customer, "gizmo", since=datetime(2026, 5, 2).date(), until=datetime(2026, 5, 2).date()) == [c.id]
    assert _ids(customer, "gizmo", until=datetime(2026, 4, 30).date()) == [a.id]
    assert _ids(customer, "gizmo", space="no-such-space") == []
    # The organisation filter is for employees; for others it is dropped while parsing.
    assert set(_ids(employee, "gizmo", organisation=org.slug)) == {a.id, b.id}
    assert parse_filters({"organisation": org.slug}, customer).organisation == ""
    assert parse_filters({"organisation": org.slug}, employee).organisation == org.slug


def test_parse_filters_drops_malformed_values(world):
    parsed = parse_filters({"status": "nope", "since": "2026-13-45", "until": "\x00", "tag": "Single Sign-On",
                            "space": "x" * 5000}, world["customer"])
    assert parsed.status == "" and parsed.since is None and parsed.until is None
    assert parsed.tag == "single-sign-on" and len(parsed.space) <= 120


@pytest.mark.parametrize("raw", ['"unbalanced', "AND", "OR NOT", "NEAR(a b)", "*", "^x", "foo:bar", "OPS-306",
                                 "🙂 emoji", "\x00", "a" * 10_000, "'; DROP TABLE thread; --", "-", "()", '""'])
def test_any_input_is_safe(world, raw):
    make, customer = world["make"], world["customer"]
    make.thread(customer, title="Anything", body="and or not near foo bar ops 306")
    result = search_threads(customer, raw, 1, 20)
    assert isinstance(result.items, list)


def test_terms_are_plain_words():
    terms = fulltext.terms_of('OPS-306 "foo:bar" AND *')
    assert terms.phrases == ("ops 306", "foo bar") and terms.chunks == ("ops-306", "foo:bar")
    assert fulltext.terms_of("the and of").phrases == ("the", "and", "of")  # only stopwords: kept
    assert fulltext.terms_of("how to install ldap").phrases == ("install", "ldap")
    assert not fulltext.terms_of("\x00 *** 🙂")


def test_highlight_pieces_are_plain_text():
    parts = list(highlight("Install <b>timeouts</b> & more timeout", ["timeout"], None))
    assert parts == [("Install <b>", False), ("timeouts", True), ("</b> & more ", False), ("timeout", True)]
    long = highlight("x " * 500 + "needle" + " y" * 500, ["needle"], 60)
    assert ("needle", True) in list(long) and long.text.startswith("…") and long.text.endswith("…")


class _FakeEmbedder:
    """Two-dimensional vectors: texts about animals point one way, everything else the other."""

    settings_key = "fake-search-test"

    def embed(self, texts):
        return np.array([[1.0, 0.0] if any(w in t.lower() for w in ("cat", "feline", "kitten")) else [0.0, 1.0]
                         for t in texts], dtype=np.float32)


def _store_vector(thread, vector) -> None:
    db.session.add(ThreadEmbedding(thread_id=thread.id, model_name=_FakeEmbedder.settings_key, content_hash="h",
                                   dimensions=2, vector=np.asarray(vector, dtype="<f4").tobytes()))
    db.session.commit()


def test_semantic_blend_adds_visible_neighbours_only(world, monkeypatch):
    make, customer, employee = world["make"], world["customer"], world["employee"]
    monkeypatch.setattr(similar, "query_embedder", lambda: _FakeEmbedder())
    vector_index.clear_caches()
    word = make.thread(customer, title="Cat flap installation", body="the cat")
    near = make.thread(customer, title="Feline door hardware", body="no shared words")
    hidden = make.thread(employee, visibility=Visibility.INTERNAL, title="Kitten CANARYINTERNAL", body="nothing")
    far = make.thread(customer, title="Database sizing", body="no shared words")
    for thread, vector in ((word, [1, 0]), (near, [0.95, 0.05]), (hidden, [1, 0]), (far, [0, 1])):
        _store_vector(thread, vector)
    try:
        result = search_threads(customer, "cat", 1, 20)
        assert result.extra["method"] == "blended"
        assert [t.id for t in result.items] == [word.id, near.id]  # in both rankings first, then cosine only
        assert result.total == 2
        assert hidden.id in _ids(employee, "cat")
    finally:
        vector_index.clear_caches()


def test_without_vectors_full_text_alone(world):
    make, customer = world["make"], world["customer"]
    make.thread(customer, title="Cat flap installation")
    assert search_threads(customer, "cat", 1, 20).extra["method"] == "fulltext"
