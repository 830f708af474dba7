"""Similar threads: suggestions while asking and related threads on a thread page.

Semantic first: the draft is embedded with the configured embedder and compared (cosine, one
matrix-vector product) with the stored thread vectors. When no vectors are stored for the model, or the
model cannot be loaded, a keyword search on titles takes over. Either way only threads the user may see
come back: candidates are always re-read through ``permissions.visible_threads`` in SQL.
"""
from __future__ import annotations

import html
import logging
import re
import time
from dataclasses import dataclass, field

import nh3
import numpy as np
from flask import current_app
from sqlalchemy import func, or_, select

from .. import permissions
from ..extensions import db
from ..models import Reply, Thread, ThreadStatus, User
from . import vector_index
from .vector_index import VectorMatrix

log = logging.getLogger(__name__)

MAX_DRAFT_CHARS = 4000
SNIPPET_CHARS = 240
CANDIDATE_POOL = 100  # nearest rows checked for visibility before falling back to a full mask
KEYWORD_WINDOW = 30_000  # the keyword fallback looks at this many newest threads (bounded cost)
RETRY_EMBEDDER_SECONDS = 60
STOPWORDS = frozenset("""
a about after again all also am an and any are as at be because been before being but by can cannot could
did do does doing done for from get gets got had has have having how i if in into is it its just me more
most my no not now of on once only or other our out over same should so some such than that the their them
then there these they this those through to too under until up very was we were what when where which while
who why will with would you your yes after error errors issue problem help please hi hello thanks using
""".split())
_WORD = re.compile(r"[a-z0-9][a-z0-9_.\-]*[a-z0-9]|[a-z0-9]")

_embedder_failed_at: float | None = None


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
    """What a lookup found: visible threads (best first), how, and the raw scores for playbook matching."""

    items: list[SimilarThread]
    method: str  # semantic, keyword or none
    vectors: VectorMatrix | None = None
    scores: np.ndarray | None = field(default=None, repr=False)
    tokens: list[str] = field(default_factory=list)


def tokens_of(text: str, limit: int = 12) -> list[str]:
    """Distinct lower-case content words, longest first (long words carry more meaning in titles)."""
    words = []
    for word in _WORD.findall((text or "").lower()):
        if len(word) >= 3 and word not in STOPWORDS and not word.isdigit() and word not in words:
            words.append(word)
    return sorted(words, key=len, reverse=True)[:limit]


def query_embedder():
    """The configured embedder, or None when it cannot be loaded (then keywords are used for a while)."""
    global _embedder_failed_at
    if _embedder_failed_at is not None and time.monotonic() - _embedder_failed_at < RETRY_EMBEDDER_SECONDS:
        return None
    try:
        from .embeddings import get_embedder

        return get_embedder()
    except Exception:  # noqa: BLE001 - a missing model or package must not break asking a question
        log.warning("embedder unavailable; similar threads use keywords", exc_info=True)
        _embedder_failed_at = time.monotonic()
        return None


def _model_key(embedder) -> str:
    """The name stored vectors of this embedder are kept under (as the mining runs store them)."""
    from .embeddings import embedder_key

    return embedder_key(embedder)


def _embeds_queries(embedder) -> bool:
    """False for a corpus-fitted embedder (TF-IDF) that has not been fitted in this process: it would
    fit itself on the one draft, giving vectors in another space than the stored ones."""
    fitted = getattr(embedder, "fitted", None)
    if fitted is None and hasattr(embedder, "fit"):
        fitted = getattr(embedder, "_vectorizer", None) is not None
    return fitted is not False


def _embed(embedder, text: str, vectors: VectorMatrix) -> np.ndarray | None:
    global _embedder_failed_at
    if not _embeds_queries(embedder):
        return None
    try:
        vector = np.asarray(embedder.embed([text]), dtype=np.float32).reshape(-1)
    except Exception:  # noqa: BLE001
        log.warning("embedding the draft failed; similar threads use keywords", exc_info=True)
        _embedder_failed_at = time.monotonic()
        return None
    norm = float(np.linalg.norm(vector))
    if vector.shape[0] != vectors.dimensions or norm == 0.0:
        return None
    return vector / norm


def _plain_text(html_text: str) -> str:
    text = " ".join(html.unescape(nh3.clean(html_text or "", tags=set())).split())
    return text if len(text) <= SNIPPET_CHARS else text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + "…"


def _add_snippets(user: User | None, items: list[SimilarThread]) -> None:
    """The start of each accepted answer, in one query (staff notes only for employees; removed ones never)."""
    wanted = [item.accepted_reply_id for item in items if item.accepted_reply_id]
    if not wanted:
        return
    rows = db.session.execute(select(Reply.id, Reply.body_html).where(
        Reply.id.in_(wanted), Reply.deleted_at.is_(None), permissions.visible_replies(user)))
    bodies = {reply_id: body for reply_id, body in rows}
    for item in items:
        item.snippet = _plain_text(bodies.get(item.accepted_reply_id, ""))


_COLUMNS = (Thread.id, Thread.title, Thread.status, Thread.accepted_reply_id)


def _visible_among(user: User | None, ids: list[int]) -> dict[int, tuple]:
    if not ids:
        return {}
    rows = db.session.execute(select(*_COLUMNS).where(Thread.id.in_(ids), permissions.visible_threads(user)))
    return {row[0]: tuple(row) for row in rows}


def _semantic(user: User | None, vectors: VectorMatrix, query: np.ndarray, limit: int, min_score: float,
              exclude: set[int]) -> tuple[list[SimilarThread], np.ndarray]:
    """Best visible threads by cosine: over-fetch, keep what SQL says is visible, mask only if short."""
    scores = vector_index.scores_for(vectors, query)
    wanted = limit + len(exclude)
    size = wanted + CANDIDATE_POOL
    pool = vector_index.top_rows(scores, size)
    pool = pool[scores[pool] >= min_score]
    ids = [int(vectors.ids[i]) for i in pool]
    visible = _visible_among(user, ids)
    found = [_item(visible[tid], scores[row]) for tid, row in zip(ids, pool, strict=True) if tid in visible and tid not in exclude]
    if len(found) < limit and len(pool) == size < vectors.size:
        # Most of the nearest threads are hidden from this user: rank over exactly what they may see.
        rows = vector_index.top_rows(scores, wanted * 3, vector_index.visible_mask(user, vectors))
        rows = rows[scores[rows] >= min_score]
        more = [int(vectors.ids[i]) for i in rows]
        visible = _visible_among(user, more)
        found = [_item(visible[tid], scores[row]) for tid, row in zip(more, rows, strict=True)
                 if tid in visible and tid not in exclude]
    return found, scores


def _item(row: tuple, score: float) -> SimilarThread:
    tid, title, status, accepted = row
    return SimilarThread(tid, title, status, round(float(score), 4), accepted_reply_id=accepted)


def _keyword(user: User | None, tokens: list[str], limit: int, exclude: set[int]) -> list[SimilarThread]:
    """Token overlap on titles among the newest threads, for when there are no vectors to compare."""
    if not tokens:
        return []
    newest = select(func.max(Thread.id)).scalar_subquery()
    query = (select(*_COLUMNS)
             .where(permissions.visible_threads(user), Thread.id > newest - KEYWORD_WINDOW,
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


def _neighbours(user: User | None, *, text: str = "", thread: Thread | None = None, limit: int,
                resolved_first: bool, snippets: bool) -> Neighbours:
    min_score = float(current_app.config.get("SUGGEST_MIN_SCORE", 0.3))
    exclude = {thread.id} if thread is not None else set()
    tokens = tokens_of(text or (thread.title if thread is not None else ""))
    embedder = query_embedder()
    vectors = vector_index.current_matrix(_model_key(embedder)) if embedder is not None else None
    query = None
    if vectors is not None:
        if thread is not None:
            rows = vectors.rows_of([thread.id])
            query = vectors.matrix[rows[0]] if rows.size else None
        if query is None and text:
            query = _embed(embedder, text[:MAX_DRAFT_CHARS], vectors)
    if query is not None:
        found, scores = _semantic(user, vectors, query, limit, min_score, exclude)
        method = "semantic"
    else:
        found, scores, method = _keyword(user, tokens, limit, exclude), None, "keyword"
    if resolved_first:
        # Stable: among the closest few, answered questions come first, each group by closeness.
        found = sorted(found[:limit * 2], key=lambda item: not item.resolved)
    items = found[:limit]
    if snippets:
        _add_snippets(user, items)
    return Neighbours(items, method if items or scores is not None else "none", vectors, scores, tokens)


def similar_to_draft(user: User | None, title: str, body: str = "", limit: int = 5) -> Neighbours:
    """Threads like a question being typed: the user's visible ones, resolved first, with answer snippets."""
    text = f"{(title or '').strip()}\n\n{(body or '').strip()}".strip()
    if len(text) < 8:
        return Neighbours([], "none")
    return _neighbours(user, text=text, limit=limit, resolved_first=True, snippets=True)


def related_threads(user: User | None, thread: Thread, limit: int = 5) -> list[SimilarThread]:
    """Threads close to this one that the user may see, closest first (for the thread page)."""
    return _neighbours(user, thread=thread, limit=limit, resolved_first=False, snippets=False).items
