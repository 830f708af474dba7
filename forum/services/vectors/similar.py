"""Similar threads: suggestions while asking and related threads on a thread page.

Semantic first: the draft is embedded with the configured embedder and compared (cosine, one
matrix-vector product) with the stored thread vectors. When no vectors are stored for the model, or the
model cannot be loaded, a keyword search on titles takes over. Either way only threads the user may see
come back: candidates are always re-read through ``permissions.visible_threads`` in SQL.
"""
from __future__ import annotations

import logging
import re
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from flask import current_app
from sqlalchemy import case, func, or_, select, true

from ... import permissions
from ...extensions import db
from ...models import Reply, Thread, ThreadStatus, User
from .. import background
from ..excerpts import excerpt
from . import index as vector_index
from . import query_embedding
from .embeddings import embedder_key, get_embedder
from .index import VectorMatrix

log = logging.getLogger(__name__)

MAX_DRAFT_CHARS = 4000
SNIPPET_CHARS = 240
CANDIDATE_POOL = 100  # nearest rows checked for visibility first; the pool grows fourfold while too few are visible
MAX_POOL = 6_400  # past this pool, rank exactly over the reader's visible threads
MAX_EXACT_VISIBLE = 200_000  # newest visible threads an exact ranking reads (bounded memory)
KEYWORD_WINDOW = 30_000  # the keyword fallback looks at this many newest threads (bounded cost)
RETRY_EMBEDDER_SECONDS = 60
# A query worker that did not answer (none running yet, or all busy) is asked again sooner than a model that
# failed to load: the next draft after this many seconds waits for it once more.
RETRY_QUERY_WORKER_SECONDS = 10
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be because been before being but by can cannot could
did do does doing done for from get gets got had has have having how i if in into is it its just me more
most my no not now of on once only or other our out over same should so some such than that the their them
then there these they this those through to too under until up very was we were what when where which while
who why will with would you your yes after error errors issue problem help please hi hello thanks using
""".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9_.\-]*[a-z0-9]|[a-z0-9]")

_embedder_retry_at: float | None = None  # until then drafts and queries are matched by keywords


@dataclass
class SimilarThread:
    """One suggestion: a thread the user may see, how close it is, and its accepted answer's start.

    Plain values rather than ORM rows: a page shows them after other work may have committed.
    """

    id: int
    title: str
    status: ThreadStatus
    score: float
    snippet: str = ""
    accepted_reply_id: int | None = field(default=None, repr=False)

    @property
    def resolved(self) -> bool:
        return self.status is ThreadStatus.RESOLVED


@dataclass
class Neighbours:
    """What a lookup found: visible threads (best first), how, and the draft's vector for playbook matching."""

    items: list[SimilarThread]
    method: str  # semantic, keyword or none
    vectors: VectorMatrix | None = None
    query: np.ndarray | None = field(default=None, repr=False)
    tokens: list[str] = field(default_factory=list)


def tokens_of(text: str, limit: int = 12) -> list[str]:
    """Distinct lower-case content words, longest first (long words carry more meaning in titles)."""
    words = []
    for word in _WORD.findall((text or "").lower()):
        if len(word) >= 3 and word not in STOPWORDS and not word.isdigit() and word not in words:
            words.append(word)
    return sorted(words, key=len, reverse=True)[:limit]


WARM_UP = ("warm-up",)  # the background job key of a worker's warm-up (gunicorn.conf.py)


def query_embedder():
    """The configured embedder, or None when it cannot be loaded (then keywords are used for a while).

    None too while this process's warm-up is still loading the model and the vectors: a request then answers by
    keywords in milliseconds instead of loading them itself (11.6 s for a search at 100k threads that arrived as
    a fresh worker first answered).
    """
    if background.is_running(WARM_UP):
        return None
    return _loaded_embedder()


def _loaded_embedder():
    global _embedder_retry_at
    if _embedder_retry_at is not None and time.monotonic() < _embedder_retry_at:
        return None
    try:
        if query_embedding.uses_worker():
            return query_embedding.worker_embedder()  # torch and the model stay out of this process
        return get_embedder()
    except Exception:  # noqa: BLE001 - a missing model or package must not break asking a question
        log.warning("embedder unavailable; similar threads use keywords", exc_info=True)
        _embedder_retry_at = time.monotonic() + RETRY_EMBEDDER_SECONDS
        return None


def _model_key(embedder) -> str:
    """The name stored vectors of this embedder are kept under (as the mining runs store them)."""

    return embedder_key(embedder)


def _embeds_queries(embedder) -> bool:
    """False for a corpus-fitted embedder (TF-IDF) that has not been fitted in this process: it would
    fit itself on the one draft, giving vectors in another space than the stored ones."""
    fitted = getattr(embedder, "fitted", None)
    if fitted is None and hasattr(embedder, "fit"):
        fitted = getattr(embedder, "_vectorizer", None) is not None
    return fitted is not False


def _embed(embedder, text: str, vectors: VectorMatrix) -> np.ndarray | None:
    global _embedder_retry_at
    if not _embeds_queries(embedder):
        return None
    try:
        vector = np.asarray(embedder.embed([text]), dtype=np.float32).reshape(-1)
    except query_embedding.QueryWorkerUnavailable as exc:
        log.warning("%s; similar threads use keywords for %d s", exc, RETRY_QUERY_WORKER_SECONDS)
        _embedder_retry_at = time.monotonic() + RETRY_QUERY_WORKER_SECONDS
        return None
    except Exception:  # noqa: BLE001
        log.warning("embedding the draft failed; similar threads use keywords", exc_info=True)
        _embedder_retry_at = time.monotonic() + RETRY_EMBEDDER_SECONDS
        return None
    norm = float(np.linalg.norm(vector))
    if vector.shape[0] != vectors.dimensions or norm == 0.0:
        return None
    return vector / norm


def _add_snippets(user: User | None, items: list[SimilarThread]) -> None:
    """The start of each accepted answer, in one query (staff notes only for employees; removed ones never)."""
    wanted = [item.accepted_reply_id for item in items if item.accepted_reply_id]
    if not wanted:
        return
    rows = db.session.execute(select(Reply.id, Reply.body_html).where(
        Reply.id.in_(wanted), Reply.deleted_at.is_(None), permissions.visible_replies(user)))
    bodies = {reply_id: body for reply_id, body in rows}
    for item in items:
        item.snippet = excerpt(bodies.get(item.accepted_reply_id, ""), SNIPPET_CHARS)


_COLUMNS = (Thread.id, Thread.title, Thread.status, Thread.accepted_reply_id)


def _visible_among(user: User | None, ids: list[int]) -> dict[int, tuple]:
    """Which of these threads the user may see (by ``visible_threads``, in SQL), with what a list shows."""
    if not ids:
        return {}
    visible = permissions.visible_threads(user)
    if db.session.get_bind().dialect.name == "sqlite":
        # Without statistics SQLite answers the OR in the visibility clause from the visibility index,
        # reading every public thread (69 ms at 100k); hidden inside CASE it looks up the ids (2 ms).
        visible = case((visible, 1), else_=0) == 1
    rows = db.session.execute(select(*_COLUMNS).where(Thread.id.in_(ids), visible))
    return {row[0]: tuple(row) for row in rows}


def _semantic(user: User | None, vectors: VectorMatrix, query: np.ndarray, limit: int, min_score: float,
              exclude: set[int]) -> list[SimilarThread]:
    """Best visible threads by cosine: over-fetch with a growing pool, keep what SQL says is visible.

    A reader who may see few threads (most of the nearest are hidden) gets a pool four times larger each round
    up to ``MAX_POOL``; past that, an exact search over exactly their visible threads, so their results are
    never empty merely because others' threads are nearer.
    """
    wanted = limit + len(exclude)
    size, checked, found = wanted + CANDIDATE_POOL, set(), []
    while True:
        ids, scores = vector_index.nearest(vectors, query, size)
        keep = scores >= min_score
        fresh = [(int(tid), float(score)) for tid, score in zip(ids[keep], scores[keep], strict=True)
                 if int(tid) not in checked]
        visible = _visible_among(user, [tid for tid, _score in fresh])
        checked.update(tid for tid, _score in fresh)
        found += [_item(visible[tid], score) for tid, score in fresh if tid in visible and tid not in exclude]
        exhausted = len(ids) < size or not keep.all() or size >= vectors.size
        if len(found) >= limit or exhausted:
            break
        if size >= MAX_POOL:
            found = _semantic_among_visible(user, vectors, query, wanted * 3, min_score, exclude)
            break
        size *= 4
    found.sort(key=lambda item: (-item.score, item.id))
    return found


def _semantic_among_visible(user: User | None, vectors: VectorMatrix, query: np.ndarray, k: int, min_score: float,
                            exclude: set[int]) -> list[SimilarThread]:
    """Exact ranking over the reader's visible threads: the tail through its mask, the index's through SQL."""
    rows = vector_index.top_rows(vector_index.scores_for(vectors, query), k,
                                 vector_index.visible_mask(user, vectors)) if vectors.tail_size else np.zeros(0, int)
    ids = [int(vectors.ids[i]) for i in rows]
    if vectors.ann is not None:
        visible_ids = db.session.execute(select(Thread.id).where(permissions.visible_threads(user))
                                         .order_by(Thread.id.desc()).limit(MAX_EXACT_VISIBLE)).scalars().all()
        ids += vector_index.nearest_among(vectors, query, visible_ids, k)[0].tolist()
    ids = list(dict.fromkeys(ids))
    found_ids, matrix = vectors.vectors_of(ids)
    scores = dict(zip(found_ids.tolist(), (matrix @ query).tolist(), strict=True)) if found_ids.size else {}
    visible = _visible_among(user, [tid for tid in ids if scores.get(tid, -1.0) >= min_score])
    return [_item(visible[tid], scores[tid]) for tid in ids if tid in visible and tid not in exclude]


def _item(row: tuple, score: float) -> SimilarThread:
    tid, title, status, accepted = row
    return SimilarThread(tid, title, status, round(float(score), 4), accepted_reply_id=accepted)


def _keyword(user: User | None, tokens: list[str], limit: int, exclude: set[int], *,
             visible_only: bool = True) -> list[SimilarThread]:
    """Token overlap on titles among the newest threads, for when there are no vectors to compare.

    ``visible_only=False`` is for cached candidate lists, which are filtered by visibility on every use.
    """
    if not tokens:
        return []
    newest = select(func.max(Thread.id)).scalar_subquery()
    query = (select(*_COLUMNS)
             .where(permissions.visible_threads(user) if visible_only else true(), Thread.id > newest - KEYWORD_WINDOW,
                    or_(*[Thread.title.icontains(t, autoescape=True) for t in tokens[:8]]))
             .order_by(Thread.id.desc()).limit(400))
    wanted = set(tokens)
    scored = []
    for row in db.session.execute(query):
        if row[0] in exclude:
            continue
        words = set(tokens_of(row[1], 40))
        overlap = len(words & wanted)
        if overlap:
            scored.append(_item(tuple(row), overlap / float(np.sqrt(len(words) * len(wanted)))))
    scored.sort(key=lambda item: (-item.score, -item.id))
    return scored[:limit * 3]


def similar_to_draft(user: User | None, title: str, body: str = "", limit: int = 5) -> Neighbours:
    """Threads like a question being typed: the user's visible ones, resolved first, with answer snippets."""
    text = f"{(title or '').strip()}\n\n{(body or '').strip()}".strip()
    if len(text) < 8:
        return Neighbours([], "none")
    min_score = float(current_app.config.get("SUGGEST_MIN_SCORE", 0.3))
    tokens = tokens_of(text)
    embedder = query_embedder()
    vectors = vector_index.current_matrix(_model_key(embedder)) if embedder is not None else None
    query = _embed(embedder, text[:MAX_DRAFT_CHARS], vectors) if vectors is not None else None
    if query is not None:
        found, method = _semantic(user, vectors, query, limit, min_score, set()), "semantic"
    else:
        found, method = _keyword(user, tokens, limit, set()), "keyword"
    # Stable: among the closest few, answered questions come first, each group by closeness.
    items = sorted(found[:limit * 2], key=lambda item: not item.resolved)[:limit]
    _add_snippets(user, items)
    return Neighbours(items, method if items or query is not None else "none", vectors, query, tokens)


# --- related threads on a thread page -----------------------------------------------------------

RELATED_CACHE_SIZE = 4096
RELATED_SECONDS = 600
_related: OrderedDict[tuple, tuple[float, list[tuple[int, float]], bool]] = OrderedDict()


def _related_candidates(thread: Thread, limit: int, min_score: float) -> tuple[list[tuple[int, float]], bool, tuple]:
    """Nearest threads to ``thread`` whoever views it, kept a while per thread: (id, score) list, whether the
    pool was cut at its size (so more may exist), and the vectors' key. Visibility is applied by the caller."""
    embedder = query_embedder()
    vectors = vector_index.current_matrix(_model_key(embedder)) if embedder is not None else None
    own = vectors.vector_of(thread.id) if vectors is not None else None
    key = (vector_index.database_key(), vectors.model, vectors.signature, thread.id) if own is not None else (
        vector_index.database_key(), "keyword", thread.id, thread.title)
    now = time.monotonic()
    hit = _related.get(key)
    if hit is not None and hit[0] > now:
        return hit[1], hit[2], key
    if own is not None:
        size = limit + 1 + CANDIDATE_POOL
        ids, scores = vector_index.nearest(vectors, own, size)
        keep = scores >= min_score
        full = int(keep.sum()) == size < vectors.size
        found = [(int(tid), float(score)) for tid, score in zip(ids[keep], scores[keep], strict=True)
                 if tid != thread.id]
    else:
        found = [(item.id, item.score) for item in _keyword(None, tokens_of(thread.title), limit * 2, {thread.id},
                                                             visible_only=False)]
        full = False
    with vector_index.lock:
        _related[key] = (now + RELATED_SECONDS, found, full)
        _related.move_to_end(key)
        while len(_related) > RELATED_CACHE_SIZE:
            _related.popitem(last=False)
    return found, full, key


def related_threads(user: User | None, thread: Thread, limit: int = 5) -> list[SimilarThread]:
    """Threads close to this one that the user may see, closest first (for the thread page).

    The candidates are cached per thread; which of them this user may see is asked in SQL every time.
    """
    min_score = float(current_app.config.get("SUGGEST_MIN_SCORE", 0.3))
    found, full, key = _related_candidates(thread, limit, min_score)
    visible = _visible_among(user, [tid for tid, _score in found])
    items = []
    for tid, score in found:
        if tid in visible and len(items) < limit:
            items.append(_item(visible[tid], score))
    if len(items) < limit and full:
        # Most near threads are hidden from this user: rank over exactly the visible ones (not cached).
        vectors = vector_index.current_matrix(key[1])
        own = vectors.vector_of(thread.id) if vectors is not None else None
        if own is not None:
            items = _semantic(user, vectors, own, limit, min_score, {thread.id})[:limit]
    return items


vector_index._on_clear.append(_related.clear)

ROUTING_POOL = 400  # nearest threads looked through for solved ones (most near threads may be unsolved)


def closest_threads(thread: Thread, min_score: float, pool: int = ROUTING_POOL) -> list[tuple[int, float]]:
    """(id, cosine) of the threads nearest ``thread``'s stored vector, at least ``min_score`` alike, closest first,
    whoever may see them: callers apply visibility. Empty while ``thread`` has no vector (or no model)."""
    embedder = query_embedder()
    vectors = vector_index.current_matrix(_model_key(embedder)) if embedder is not None else None
    own = vectors.vector_of(thread.id) if vectors is not None else None
    if own is None:
        return []
    ids, scores = vector_index.nearest(vectors, own, pool + 1)
    return [(int(tid), float(score)) for tid, score in zip(ids, scores, strict=True)
            if score >= min_score and int(tid) != thread.id]


def warm_up() -> bool:
    """Load what the first search and the first suggestion need (the model, the stored vectors) ahead of them.

    Run by each server worker as it starts (``gunicorn.conf.py``), on the background pool: without it the first
    search of a fresh worker loaded both inside the request (9-13 s at 100k threads). False without a model.
    """
    embedder = _loaded_embedder()
    if embedder is None:
        return False
    vectors = vector_index.current_matrix(_model_key(embedder))
    if vectors is not None:
        _embed(embedder, "warm up", vectors)  # the first query loads the weights and the tokenizer
    db.session.rollback()
    return True
