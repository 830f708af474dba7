"""Thread search: full text (``fulltext``) blended with semantic similarity, filtered, with snippets.

Order of work, so that nothing hidden can leak: one SQL statement keeps the threads the user may see
(``permissions.visible_threads``) that pass the filters and match every word, and ranks only those; the
semantic candidates go through the same visibility and filters in SQL; snippets and counts are made from
what survived. With stored embeddings for the configured embedder, the full-text ranking and the cosine
ranking are merged by reciprocal-rank fusion; without them, the full-text ranking alone is used.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, Select, Text, case, func, literal_column, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.util import AliasedClass

from ... import permissions
from ...extensions import db
from ...models import Attachment, Organisation, Product, ProductVersion, Space, Tag, Thread, User
from ..excerpts import plain_text
from ..vectors import index as vector_index
from ..vectors import similar
from . import fulltext
from .pages import LIST_OPTIONS, STATUS_FILTERS, Page, clamp_page, spaces_for
from .threads import ValidationFailed, normalise_tags

log = logging.getLogger(__name__)

MAX_RANKED = 2000  # matches ranked per query (the newest); more are counted as "more than"
FUSION_DEPTH = 100  # full-text results that take part in the fusion; later ones follow in full-text order
SEMANTIC_DEPTH = 30  # nearest visible threads that take part
SEMANTIC_POOL = 300  # nearest rows checked in SQL for visibility and filters
MAX_SEMANTIC_POOL = 4_800  # the pool grows fourfold up to this while too few of them are visible and match
RRF_K = 60  # the usual reciprocal-rank-fusion constant: damps the weight of the very first ranks
SNIPPET_CHARS = 220
FILTER_CHARS = 120


@dataclass
class SearchFilters:
    """What the results are narrowed to; empty values mean "any"."""

    space: str = ""
    product: str = ""
    version: str = ""
    status: str = ""
    tag: str = ""
    organisation: str = ""  # an organisation's slug; employees only
    since: date | None = None
    until: date | None = None

    def as_args(self) -> dict[str, str]:
        """The filters as query-string arguments (for pagination links)."""
        values = {k: v for k, v in vars(self).items() if v not in ("", None)}
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


def _date_arg(raw: str | None) -> date | None:
    try:
        return date.fromisoformat(fulltext.clean_text(raw)[:10]) if raw else None
    except ValueError:
        return None


def parse_filters(args: Mapping[str, str], user: User | None) -> SearchFilters:
    """Filters from query-string arguments: anything malformed is dropped, never an error."""

    def text_arg(name: str) -> str:
        return fulltext.clean_text(args.get(name))[:FILTER_CHARS]

    try:
        tags = normalise_tags(text_arg("tag").replace(",", " "))
    except ValidationFailed:
        tags = []
    status = text_arg("status")
    return SearchFilters(
        space=text_arg("space"), product=text_arg("product"), version=text_arg("version"),
        status=status if status in STATUS_FILTERS else "", tag=tags[0] if tags else "",
        organisation=text_arg("organisation") if permissions.is_employee(user) else "",
        since=_date_arg(args.get("since")), until=_date_arg(args.get("until")))


def search_choices(user: User | None) -> dict[str, list]:
    """What the filter form offers: the user's spaces, product and version names, statuses."""

    return {
        "spaces": spaces_for(user),
        "products": list(db.session.execute(select(Product.name).order_by(Product.name)).scalars()),
        "versions": list(db.session.execute(select(ProductVersion.name).group_by(ProductVersion.name)
                                            .order_by(ProductVersion.name)).scalars()),
        "statuses": list(STATUS_FILTERS),
    }


SNAPSHOT_FIELDS = ("product", "version")


def snapshot_field(name: str, thread: type[Thread] | AliasedClass[Thread] = Thread) -> ColumnElement[str]:
    """A deployment-snapshot field (``SNAPSHOT_FIELDS``) as text, written exactly as its expression index.

    The index migration (``e8f1a2b3c4d5``) indexes these very expressions: a bound path, a ``CAST`` or a
    different spelling of the path and the planner no longer recognises them.
    """
    if name not in SNAPSHOT_FIELDS:
        raise ValueError(f"no index on the snapshot field {name!r}")
    if db.session.get_bind().dialect.name == "postgresql":
        return thread.deployment_snapshot.op("->>", return_type=Text)(literal_column(f"'{name}'"))
    return func.json_extract(thread.deployment_snapshot, literal_column(f"'$.{name}'"), type_=Text)


def _conditions(user: User | None, filters: SearchFilters) -> tuple[list[ColumnElement], Select | None]:
    """What a result must satisfy (visibility first, then the filters), and a select of the ids that pass
    the snapshot filters, read from their indexes (``None`` without such filters): the same test as the
    snapshot conditions in the list, for engines that can apply it to full-text hits before reading rows."""
    visible = permissions.visible_threads(user)
    if db.session.get_bind().dialect.name == "sqlite":
        # Hidden in CASE, SQLite cannot answer the visibility OR from the visibility index (reading every
        # public thread); it then checks visibility per matching row instead.
        visible = case((visible, 1), else_=0) == 1
    where = [visible]
    if filters.space:
        where.append(Thread.space_id == select(Space.id).where(Space.slug == filters.space).scalar_subquery())
    snapshot = {name: value for name in SNAPSHOT_FIELDS if (value := getattr(filters, name))}
    where.extend(snapshot_field(name) == value for name, value in snapshot.items())
    among = None
    if snapshot:
        indexed = aliased(Thread)
        among = select(indexed.id).where(*(snapshot_field(name, indexed) == value
                                           for name, value in snapshot.items()))
    if filters.status:
        where.append(Thread.status == STATUS_FILTERS[filters.status])
    if filters.tag:
        where.append(Thread.tags.any(Tag.name == filters.tag))
    if filters.organisation and permissions.is_employee(user):
        where.append(Thread.organisation_id == select(Organisation.id)
                     .where(Organisation.slug == filters.organisation).scalar_subquery())
    if filters.since:
        where.append(Thread.created_at >= datetime.combine(filters.since, time.min))
    if filters.until and filters.until < date.max:  # the day after 9999-12-31 does not exist
        where.append(Thread.created_at < datetime.combine(filters.until + timedelta(days=1), time.min))
    return where, among


def _fulltext_ranking(where: list[ColumnElement], among: Select | None, terms: fulltext.Terms) -> list[int]:
    """Ids of visible, filtered, matching threads (the newest ``MAX_RANKED``), best first."""
    rows = db.session.execute(fulltext.backend().ranked(where, terms, MAX_RANKED, among)).all()
    rows.sort(key=lambda row: (-row[1], -row[0]))
    return [row[0] for row in rows]


def _attachment_ranking(where: list[ColumnElement], terms: fulltext.Terms) -> list[int]:
    """Ids of visible, filtered threads whose question carries a file with error signatures matching every
    word (a log's ``ORA-00942`` finds its thread as the same code in the body would), newest first."""
    words = [Attachment.search_text.contains(f" {phrase} ", autoescape=True) for phrase in terms.phrases]
    query = (select(Thread.id).join(Attachment, Attachment.thread_id == Thread.id)
             .where(*where, Attachment.reply_id.is_(None), Attachment.deleted_at.is_(None), *words)
             .group_by(Thread.id).order_by(Thread.id.desc()).limit(MAX_RANKED))
    return list(db.session.execute(query).scalars())


def _semantic_ranking(where: list[ColumnElement], text: str) -> list[int]:
    """Ids of the visible, filtered threads nearest to the query text, nearest first; [] without vectors."""

    embedder = similar.query_embedder()
    if embedder is None:
        return []
    try:
        vectors = vector_index.current_matrix(similar._model_key(embedder))
        query = similar._embed(embedder, text, vectors) if vectors is not None else None
    except Exception:  # noqa: BLE001 - semantic ranking is a bonus; full text alone still answers
        log.warning("semantic search unavailable", exc_info=True)
        return []
    if query is None:
        return []
    min_score = float(current_app.config.get("SEARCH_MIN_SCORE", current_app.config.get("SUGGEST_MIN_SCORE", 0.3)))
    pool = SEMANTIC_POOL
    while True:
        found, scores = vector_index.nearest(vectors, query, pool)
        ids = [int(tid) for tid in found[scores >= min_score]]
        if not ids:
            return []
        allowed = set(db.session.execute(select(Thread.id).where(Thread.id.in_(ids), *where)).scalars())
        ranked = [tid for tid in ids if tid in allowed]
        # A reader who sees little (or narrow filters): a larger pool, until enough are left or none are nearer.
        if len(ranked) >= SEMANTIC_DEPTH or len(ids) < pool or pool >= MAX_SEMANTIC_POOL:
            return ranked[:SEMANTIC_DEPTH]
        pool *= 4


def _fuse(*rankings: list[int]) -> list[int]:
    """Reciprocal-rank fusion: the sum of 1 / (RRF_K + rank) over the rankings an id appears in."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, tid in enumerate(ranking, start=1):
            scores[tid] = scores.get(tid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores, key=lambda tid: (-scores[tid], -tid))


def search_threads(user: User | None, query: str | None, page: int, per_page: int,
                   filters: SearchFilters | None = None) -> Page:
    """One page of the visible threads matching every word of ``query``, best first, with snippets."""
    page = clamp_page(page)
    terms = fulltext.terms_of(query)
    empty = Page(items=[], page=page, per_page=per_page, has_next=False, total=0,
                 extra={"snippets": {}, "terms": terms.words, "method": "none", "more_than": None})
    if not terms:
        return empty
    where, among = _conditions(user, filters or SearchFilters())
    ranked = _fulltext_ranking(where, among, terms)
    in_text = set(ranked)
    ranked += [tid for tid in _attachment_ranking(where, terms) if tid not in in_text][:MAX_RANKED - len(ranked)]
    semantic = _semantic_ranking(where, terms.cleaned)
    # The fused head, then the rest of the full-text ranking (never part of the fusion) in its own order.
    head = _fuse(ranked[:FUSION_DEPTH], semantic) if semantic else ranked[:FUSION_DEPTH]
    order = head + ranked[FUSION_DEPTH:]
    start = (page - 1) * per_page
    ids = order[start:start + per_page + 1]  # one more, to know about a next page
    capped = len(ranked) >= MAX_RANKED
    # Visibility and filters once more on the rows shown: cheap for one page, and safe against anything
    # that changed between the ranking and now.
    rows = {t.id: t for t in db.session.execute(
        select(Thread).where(Thread.id.in_(ids), *where).options(*LIST_OPTIONS)).scalars()} if ids else {}
    items = [rows[tid] for tid in ids if tid in rows]
    result = Page.of_rows(items, page, per_page, total=None if capped else len(order))
    words = terms.words
    result.extra = {
        "snippets": {t.id: highlight(plain_text(t.body_html), words, SNIPPET_CHARS) for t in result.items},
        "terms": words, "method": "blended" if semantic else "fulltext",
        "more_than": len(order) if capped else None,
    }
    return result


# --- snippets ------------------------------------------------------------------------------------

Parts = list[tuple[str, bool]]
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class Highlighted:
    """Plain text in pieces, each marked as a hit or not: the template escapes every piece."""

    parts: Parts = field(default_factory=list)

    def __iter__(self):
        return iter(self.parts)

    @property
    def text(self) -> str:
        return "".join(piece for piece, _hit in self.parts)


def _hit_pattern(words: list[str]) -> re.Pattern | None:
    # A word starting with the term's stem-ish prefix ("timeout" marks "timeouts"), whole words only.
    stems = sorted({w[: max(4, len(w) - 3)] if len(w) > 4 else w for w in words if w}, key=len, reverse=True)
    if not stems:
        return None
    return re.compile(r"(?<![^\W_])(?:" + "|".join(map(re.escape, stems)) + r")[^\W_]*", re.IGNORECASE)


def highlight(text: str | None, words: list[str], width: int | None) -> Highlighted:
    """``text`` (whitespace collapsed) cut to ``width`` characters around the first hit, hits marked."""
    plain = _SPACE.sub(" ", _CONTROL.sub(" ", text or "")).strip()
    pattern = _hit_pattern(words)
    if width is not None and len(plain) > width:
        first = pattern.search(plain) if pattern else None
        lo = max(0, (first.start() if first else 0) - width // 3)
        hi = min(len(plain), lo + width)
        plain = ("…" if lo else "") + plain[lo:hi] + ("…" if hi < len(plain) else "")
    parts: Parts = []
    position = 0
    for found in pattern.finditer(plain) if pattern else ():
        if found.start() > position:
            parts.append((plain[position:found.start()], False))
        parts.append((found.group(0), True))
        position = found.end()
    if position < len(plain):
        parts.append((plain[position:], False))
    return Highlighted(parts)
