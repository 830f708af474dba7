"""One pattern's page (members, why they belong together, customers over time) and the map of patterns."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from flask import has_request_context
from flask_babel import gettext
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import case, distinct, func, select
from sqlalchemy.orm import contains_eager, joinedload
from threadpoolctl import threadpool_limits

from ...extensions import db
from ...labels import label
from ...models import (
    Deployment,
    MembershipSource,
    MiningRun,
    Organisation,
    OrgKind,
    Pattern,
    PatternMember,
    PatternStatus,
    Product,
    ProductVersion,
    RunStatus,
    Space,
    Thread,
    ThreadEmbedding,
)
from ..vectors.embeddings import stored_vectors
from .summaries import MEMBER_SOURCES, member_rows

MAP_MAX_POINTS = 2500


def _is_member(pattern_id: int):
    return (PatternMember.pattern_id == pattern_id) & PatternMember.source.in_(MEMBER_SOURCES)


def representatives(pattern: Pattern, limit: int = 5) -> list[Thread]:
    """The threads the engine found most typical of the pattern (best similarity first)."""
    return list(db.session.execute(
        select(Thread).join(PatternMember, PatternMember.thread_id == Thread.id)
        .options(joinedload(Thread.organisation))
        .where(_is_member(pattern.id), PatternMember.is_representative.is_(True))
        .order_by(PatternMember.similarity.desc().nulls_last(), Thread.id).limit(limit)).scalars())


def members_query(pattern: Pattern):
    """Memberships (thread loaded, with how it got there), newest thread first, for ``db.paginate``."""
    return (select(PatternMember).join(Thread, Thread.id == PatternMember.thread_id)
            .options(contains_eager(PatternMember.thread).joinedload(Thread.organisation),
                     contains_eager(PatternMember.thread).joinedload(Thread.space))
            .where(_is_member(pattern.id)).order_by(Thread.created_at.desc(), Thread.id.desc()))


def excluded_threads(pattern: Pattern, limit: int = 20) -> list[Thread]:
    """Threads leads filed out of the pattern (newest decision first), so a mistake can be undone."""
    return list(db.session.execute(
        select(Thread).join(PatternMember, PatternMember.thread_id == Thread.id)
        .where(PatternMember.pattern_id == pattern.id, PatternMember.source == MembershipSource.EXCLUDED)
        .order_by(PatternMember.created_at.desc(), Thread.id.desc()).limit(limit)).scalars())


def term_hits(pattern: Pattern, limit: int = 10) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """How many member threads mention each keyword and error signature.

    The count reads the text of every member thread (80 ms for a pattern of 7,000 threads on PostgreSQL): the
    pattern's page shows it from ``pattern_pages``, stored until the members or their text change.
    """
    keywords = [str(k) for k in (pattern.keywords or [])][:limit]
    signatures = [str(s) for s in (pattern.signatures or [])][:limit]
    terms = keywords + signatures
    text = func.lower(func.coalesce(Thread.title, "") + " " + func.coalesce(Thread.body_md, ""))
    columns = [func.count(Thread.id)] + [
        func.sum(case((text.contains(term.lower(), autoescape=True), 1), else_=0)) for term in terms]
    row = db.session.execute(select(*columns).join(PatternMember, PatternMember.thread_id == Thread.id)
                             .where(_is_member(pattern.id))).one()
    counts = [int(value or 0) for value in row[1:]]
    return (int(row[0] or 0), list(zip(keywords, counts[:len(keywords)], strict=True)),
            list(zip(signatures, counts[len(keywords):], strict=True)))


def customers_by_month(pattern: Pattern) -> list[tuple[str, int]]:
    """Distinct customer organisations with a member thread, per month, gaps included."""
    m = member_rows(pattern_ids=[pattern.id], statuses=tuple(PatternStatus))
    rows = db.session.execute(select(m.c.org_id, m.c.created_at).where(m.c.org_kind == OrgKind.CUSTOMER)).all()
    if not rows:
        return []
    per_month: dict[tuple[int, int], set[int]] = defaultdict(set)
    for org_id, created in rows:
        per_month[(created.year, created.month)].add(org_id)
    (year, month), last = min(per_month), max(per_month)
    out = []
    while (year, month) <= last:
        out.append((f"{year}-{month:02d}", len(per_month.get((year, month), ()))))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out[-24:]  # two years is what a chart can show legibly


def customers_by_version(pattern: Pattern) -> list[tuple[str, int]]:
    """Distinct customer organisations per product version (from the deployment snapshots)."""
    m = member_rows(pattern_ids=[pattern.id], statuses=tuple(PatternStatus))
    rows = db.session.execute(
        select(m.c.product, m.c.version, func.count(distinct(m.c.org_id)))
        .where(m.c.org_kind == OrgKind.CUSTOMER, m.c.version.isnot(None), m.c.version != "")
        .group_by(m.c.product, m.c.version)).all()
    return sorted(((f"{p or ''} {v}".strip(), n) for p, v, n in rows), key=lambda item: (-item[1], item[0]))


def member_organisations(pattern: Pattern) -> list[tuple[Organisation, int]]:
    """Customer organisations that hit the pattern, with their number of threads (employees' view)."""
    rows = db.session.execute(
        select(Organisation, func.count(Thread.id)).join(Thread, Thread.organisation_id == Organisation.id)
        .join(PatternMember, PatternMember.thread_id == Thread.id)
        .where(_is_member(pattern.id), Organisation.kind == OrgKind.CUSTOMER)
        .group_by(Organisation.id).order_by(func.count(Thread.id).desc(), Organisation.name).limit(30)).all()
    return [(org, n) for org, n in rows]


@dataclass
class MapPoint:
    x: float
    y: float
    thread_id: int
    pattern_id: int


@dataclass
class PatternMap:
    points: list[MapPoint]
    names: dict[int, str]
    sizes: dict[int, int]
    model: str = ""


def _map_model() -> str | None:
    """Vectors of the model the last finished run used (else whichever is stored)."""
    model = db.session.execute(select(MiningRun.model_name).where(
        MiningRun.status == RunStatus.FINISHED, MiningRun.model_name != "")
        .order_by(MiningRun.id.desc()).limit(1)).scalar()
    return model or db.session.execute(select(ThreadEmbedding.model_name).limit(1)).scalar()


_derived: dict[str, tuple[tuple, dict]] = {}


def map_fingerprint() -> tuple:
    """Index-only markers that move when patterns, memberships, runs or stored vectors change (once a request).

    Kept in the session's ``info``, which lives as long as the request's app context (as ``flask.g`` would).
    """
    memo = db.session.info
    if "pattern_fingerprint" not in memo or not has_request_context():
        memo["pattern_fingerprint"] = tuple(db.session.execute(select(
            select(func.max(Pattern.updated_at)).scalar_subquery(),
            select(func.max(PatternMember.id)).scalar_subquery(),
            select(func.count(PatternMember.id)).scalar_subquery(), select(func.max(MiningRun.id)).scalar_subquery(),
            select(func.max(ThreadEmbedding.id)).scalar_subquery())).one())
    return memo["pattern_fingerprint"]


def _remembered(key: tuple, compute):
    """What ``compute`` returns, kept per process until the patterns, memberships or vectors change."""
    url, fingerprint = db.engine.url.render_as_string(), map_fingerprint()
    kept = _derived.get(url)
    if kept is None or kept[0] != fingerprint:
        kept = _derived[url] = (fingerprint, {})  # what was kept for an older state of the data goes
    entries = kept[1]
    if key not in entries:
        entries[key] = compute()
    return entries[key]


def pattern_map(max_points: int = MAP_MAX_POINTS) -> PatternMap:
    """Member threads of active patterns projected to 2-D, remembered per process until the patterns change.

    Every pattern's page shows the same map (only the highlight differs); at 100k threads loading the
    vectors and projecting them took over half of that page's time.
    """
    return _remembered(("map", max_points), lambda: project_map(max_points))


def project_map(max_points: int) -> PatternMap:
    """Member threads of active patterns projected to 2-D (PCA of their stored vectors), sampled evenly."""
    model = _map_model()
    patterns = db.session.execute(select(Pattern.id, Pattern.name).where(Pattern.status == PatternStatus.ACTIVE)
                                  ).all()
    names = {pid: name for pid, name in patterns}
    if not model or not names:
        return PatternMap([], names, {}, model or "")
    members = db.session.execute(
        select(PatternMember.pattern_id, PatternMember.thread_id)
        .where(PatternMember.pattern_id.in_(list(names)), PatternMember.source.in_(MEMBER_SOURCES))
        .order_by(PatternMember.pattern_id, PatternMember.thread_id)).all()
    by_pattern: dict[int, list[int]] = defaultdict(list)
    for pid, tid in members:
        by_pattern[pid].append(tid)
    sizes = {pid: len(tids) for pid, tids in by_pattern.items()}
    # Every pattern keeps some points however small; big ones are thinned evenly.
    cap = max(10, max_points // max(1, len(by_pattern)))
    chosen = [(pid, tid) for pid, tids in by_pattern.items() for tid in tids[::max(1, -(-len(tids) // cap))]]
    vectors = stored_vectors([tid for _, tid in chosen], model)
    chosen = [(pid, tid) for pid, tid in chosen if tid in vectors]
    if len(chosen) < 3:
        return PatternMap([], names, sizes, model)
    matrix = np.stack([vectors[tid] for _, tid in chosen]).astype(np.float64)
    matrix -= matrix.mean(axis=0)
    # One BLAS thread: on a busy 2-core server the default pool of spinning threads turned this 1,200 x 384
    # SVD into 7.5 s (0.55 s for the whole projection with one thread).
    with threadpool_limits(limits=1, user_api="blas"):
        _, _, components = np.linalg.svd(matrix, full_matrices=False)
    coords = matrix @ components[:2].T
    if coords.shape[1] < 2:
        coords = np.column_stack([coords[:, 0], np.zeros(len(coords))])
    points = [MapPoint(float(x), float(y), tid, pid) for (pid, tid), (x, y) in zip(chosen, coords, strict=True)]
    return PatternMap(points, names, sizes, model)


def environment_summary(breakdowns: dict[str, list[tuple[str, int]]], threads: int) -> list[str]:
    """Plain sentences on the most common environment values (why these threads belong together)."""
    sentences = {
        "version": lambda **kw: gettext("%(n)s of %(threads)s threads on version %(value)s", **kw),
        "hosting": lambda **kw: gettext("%(n)s of %(threads)s threads with hosting %(value)s", **kw),
        "database": lambda **kw: gettext("%(n)s of %(threads)s threads on database %(value)s", **kw),
        "topology": lambda **kw: gettext("%(n)s of %(threads)s threads with topology %(value)s", **kw),
    }
    lines = []
    for dim, sentence in sentences.items():
        values = breakdowns.get(dim) or []
        if values and threads:
            value, n = values[0]
            if dim == "hosting":  # stored as on_premises (older figures: "on premises"): the reader's word for it
                value = label(str(value).replace(" ", "_"))
            lines.append(sentence(n=n, threads=threads, value=value))
    return lines


def search_patterns(exclude_id: int) -> list[tuple[int, str]]:
    """Active patterns a lead may merge into (id, name), by name."""
    return [(pid, name) for pid, name in db.session.execute(
        select(Pattern.id, Pattern.name).where(Pattern.status == PatternStatus.ACTIVE, Pattern.id != exclude_id)
        .order_by(Pattern.name)).all()]


def filter_choices() -> dict:
    """What the filter bar offers: products, versions, databases and spaces (four small queries)."""

    products = list(db.session.execute(select(Product.name).order_by(Product.name)).scalars())
    versions = [(p, v) for p, v in db.session.execute(
        select(Product.name, ProductVersion.name).join(Product, Product.id == ProductVersion.product_id)
        .order_by(Product.name, ProductVersion.position, ProductVersion.name)).all()]
    databases = list(db.session.execute(select(Deployment.database).where(Deployment.database != "")
                                        .distinct().order_by(Deployment.database)).scalars())
    spaces = [(sid, name) for sid, name in db.session.execute(
        select(Space.id, Space.name).order_by(Space.position, Space.name)).all()]
    return {"products": products, "versions": versions, "databases": databases, "spaces": spaces}


def pattern(pattern_id: int) -> Pattern | None:
    return db.session.get(Pattern, pattern_id)


def members_page(pattern: Pattern, page: int, per_page: int, total: int) -> Pagination:
    """Page ``page`` of the pattern's members; ``total`` is counted already (no second count of them)."""
    rows = db.paginate(members_query(pattern), page=page, per_page=per_page, error_out=False, max_per_page=100,
                       count=False)
    rows.total = total
    return rows
