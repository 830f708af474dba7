"""The persisted vector index: built by its job, used by every lookup, updated by new embeddings, filtered by
visibility, and answering as exact search does."""
from __future__ import annotations

import numpy as np
import pytest

from forum.extensions import db
from forum.models import ThreadEmbedding, Visibility
from forum.services import background
from forum.services.vectors import index as vector_index
from forum.services.vectors import similar, store
from forum.services.vectors.similar import related_threads, similar_to_draft

MODEL = "test-topics-64"
DIM = 64


@pytest.fixture(autouse=True)
def _index_settings(app, tmp_path, monkeypatch):
    app.config.update(VECTOR_INDEX_DIR=str(tmp_path / "index"), VECTOR_INDEX_MIN_ROWS=40, SUGGEST_MIN_SCORE=0.0)
    vector_index.clear_caches()
    yield
    vector_index.clear_caches()


class Topics:
    """Drafts embed to a fixed vector by their first word (``t<n>``): each thread is given its own vector."""

    model_name = MODEL

    def __init__(self, vectors: dict[str, np.ndarray]):
        self.vectors = vectors

    def embed(self, texts):
        return np.stack([self.vectors[text.split()[0]] for text in texts])


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


@pytest.fixture()
def forum_with_vectors(make, monkeypatch):
    """120 threads in 6 topics; every fifth is internal, and topic 0 is internal except two public threads."""
    rng = np.random.default_rng(3)
    centres = _unit(rng.standard_normal((6, DIM)))
    org = make.customer_org("Acme")
    customer, employee = make.user(org), make.employee()
    space = make.space("Installs")
    threads, vectors = [], []
    for n in range(120):
        topic = n % 6
        hidden = (topic == 0 and n not in (54, 114)) or n % 5 == 0
        author = employee if hidden else customer
        thread = make.thread(author, Visibility.INTERNAL if hidden else Visibility.PUBLIC, space=space,
                             title=f"Thread {n} about topic {topic}")
        threads.append(thread)
        vectors.append(_unit(centres[topic] + 0.06 * rng.standard_normal(DIM)))
    store_rows(threads, vectors)
    queries = {f"t{k}": _unit(centres[k % 6] + 0.06 * rng.standard_normal(DIM)) for k in range(30)}
    embedder = Topics(queries)
    monkeypatch.setattr(similar, "query_embedder", lambda: embedder)
    monkeypatch.setattr(similar, "_model_key", lambda e: MODEL)
    return {"threads": threads, "vectors": np.stack(vectors), "customer": customer, "employee": employee,
            "queries": queries, "embedder": embedder, "make": make, "space": space}


def store_rows(threads, vectors) -> None:
    for thread, vector in zip(threads, vectors, strict=True):
        db.session.add(ThreadEmbedding(thread_id=thread.id, model_name=MODEL, content_hash=str(thread.id),
                                       dimensions=DIM, vector=np.asarray(vector, "<f4").tobytes()))
    db.session.commit()


def _exact_visible(world, query: np.ndarray, user_is_employee: bool, k: int = 5) -> list[int]:
    """The k nearest threads by exact cosine among those the user may see."""
    scores = world["vectors"] @ query
    order = np.argsort(-scores, kind="stable")
    keep = [world["threads"][i] for i in order if user_is_employee or world["threads"][i].visibility == Visibility.PUBLIC]
    return [t.id for t in keep[:k]]


def test_the_job_builds_a_file_and_lookups_answer_from_it_as_exact_search_does(app, forum_with_vectors):
    world = forum_with_vectors
    assert store.rebuild(MODEL) is not None
    vectors = vector_index.current_matrix(MODEL)
    assert vectors.ann is not None and vectors.ann.count == 120 and vectors.tail_size == 0
    assert store.path_for(vector_index.database_key(), MODEL).exists()
    for name, query in list(world["queries"].items())[:12]:
        for user, is_employee in ((world["customer"], False), (world["employee"], True)):
            found = similar._semantic(user, vectors, query, 5, 0.0, set())
            assert [item.id for item in found[:5]] == _exact_visible(world, query, is_employee), name
            assert [round(item.score, 4) for item in found[:5]] == sorted((round(item.score, 4) for item in found[:5]),
                                                                          reverse=True)


def test_a_customer_who_sees_little_still_gets_the_visible_threads_behind_hidden_ones(app, forum_with_vectors,
                                                                                       monkeypatch):
    world = forum_with_vectors
    store.rebuild(MODEL)
    monkeypatch.setattr(similar, "CANDIDATE_POOL", 3)  # the first pools hold only hidden topic-0 threads
    monkeypatch.setattr(similar, "MAX_POOL", 8)  # and growing stops early: the exact fallback answers
    topic0 = next(q for name, q in world["queries"].items() if name == "t0")
    found = similar_to_draft(world["customer"], "t0 draft about topic zero")
    ids = [item.id for item in found.items]
    assert found.method == "semantic"
    assert set(ids[:2]) == {world["threads"][54].id, world["threads"][114].id}  # the only visible ones of topic 0
    assert all(t.visibility == Visibility.PUBLIC for t in world["threads"] if t.id in ids)
    assert ids == _exact_visible(world, topic0, False)[:len(ids)]


def test_threads_embedded_after_the_build_are_found_at_once_and_the_file_is_rebuilt_later(app, forum_with_vectors):
    world = forum_with_vectors
    store.rebuild(MODEL)
    first = vector_index.current_matrix(MODEL)
    query = world["queries"]["t3"]
    newcomer = world["make"].thread(world["customer"], space=world["space"], title="A new thread")
    store_rows([newcomer], [query])  # exactly the draft's vector: the nearest of all
    found = similar_to_draft(world["customer"], "t3 draft")
    assert found.items[0].id == newcomer.id and found.items[0].score == pytest.approx(1.0, abs=1e-4)
    now = vector_index.current_matrix(MODEL)
    assert now.ann is first.ann and now.tail_size == 1  # appended, the file untouched
    related = related_threads(world["customer"], newcomer)
    assert related and newcomer.id not in [item.id for item in related]
    store.rebuild(MODEL)
    vector_index.clear_caches()
    rebuilt = vector_index.current_matrix(MODEL)
    assert rebuilt.ann.count == 121 and rebuilt.tail_size == 0
    assert similar_to_draft(world["customer"], "t3 again").items[0].id == newcomer.id


def test_a_lookup_asks_for_the_file_once_a_database_has_enough_vectors(app, forum_with_vectors):
    world = forum_with_vectors
    path = store.path_for(vector_index.database_key(), MODEL)
    assert not path.exists()
    # MINING_IN_BACKGROUND is off in tests: the job the lookup queues runs inline.
    similar_to_draft(world["customer"], "t1 draft")
    assert path.exists()
    vector_index.clear_caches()
    assert vector_index.current_matrix(MODEL).ann.count == 120


def test_below_the_threshold_no_file_is_built_and_search_stays_exact(app, forum_with_vectors):
    app.config["VECTOR_INDEX_MIN_ROWS"] = 1000
    world = forum_with_vectors
    found = similar_to_draft(world["employee"], "t2 draft")
    assert not store.path_for(vector_index.database_key(), MODEL).exists()
    assert [item.id for item in found.items] == _exact_visible(world, world["queries"]["t2"], True)
    assert vector_index.current_matrix(MODEL).ann is None


def test_a_rebuild_already_under_way_elsewhere_is_not_started_twice(app, forum_with_vectors):
    import fcntl

    path = store.path_for(vector_index.database_key(), MODEL)
    path.parent.mkdir(parents=True)
    with open(path.with_suffix(".lock"), "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        assert store.rebuild(MODEL) is None
    assert not path.exists()
    assert store.rebuild(MODEL) is not None and path.exists()


def test_the_rebuild_is_a_background_job_by_name(app):
    assert store.REBUILD_INDEX in background._handlers



def test_semantic_search_grows_its_pool_for_a_customer_who_sees_little(app, forum_with_vectors, monkeypatch):
    from forum import permissions
    from forum.services.board import search

    world = forum_with_vectors
    store.rebuild(MODEL)
    monkeypatch.setattr(search, "SEMANTIC_POOL", 4)  # the 4 nearest to a topic-0 query are all internal
    ranked = search._semantic_ranking([permissions.visible_threads(world["customer"])], "t0 search words")
    assert set(ranked[:2]) == {world["threads"][54].id, world["threads"][114].id}
    assert ranked == _exact_visible(world, world["queries"]["t0"], False, k=len(ranked))


def test_a_rebuild_of_an_up_to_date_file_does_nothing_and_leaves_the_callers_session_alone(app, forum_with_vectors):
    world = forum_with_vectors
    path = store.path_for(vector_index.database_key(), MODEL)
    assert store.rebuild(MODEL) is not None
    stamp = path.stat().st_mtime_ns, path.stat().st_ino
    pending = world["make"].space("Pending")
    pending.name = "Renamed, not committed"
    assert store.rebuild(MODEL) is not None
    assert (path.stat().st_mtime_ns, path.stat().st_ino) == stamp
    assert pending in db.session.dirty  # the job read through its own connection
    db.session.rollback()
