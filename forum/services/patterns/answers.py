"""The fix that worked and who has solved it: accepted answers per pattern, the top few of each.

``m`` holds the member rows of ``patterns.member_rows`` (one row per pattern and member thread), written to
a temporary table by ``pattern_figures.materialised_members``. One statement ranks both (the accepted answers
are a CTE read twice, so PostgreSQL joins them once); two small queries then fetch the names of the few
answers and people that made the cut.
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import and_, func, literal, null, or_, select, union_all

from ...extensions import db
from ...models import Confirmation, Organisation, Reply, Thread, User
from ..excerpts import excerpt

TOP_FIXES, TOP_SOLVERS = 3, 5
SNIPPET_CHARS = 180


def answers_by_pattern(m) -> tuple[dict[int, list[dict]], dict[int, list[dict]]]:
    """(fixes, solvers) per pattern: answers by 'worked for us too' count, people by accepted answers."""
    confirmed = (select(Confirmation.reply_id, func.count().label("n")).group_by(Confirmation.reply_id)
                 .subquery())
    accepted = (select(m.c.pattern_id, m.c.thread_id, Reply.id.label("reply_id"), Reply.author_id,
                       func.coalesce(confirmed.c.n, 0).label("confirmations"))
                .join(Reply, Reply.id == m.c.accepted_reply_id)
                .outerjoin(confirmed, confirmed.c.reply_id == Reply.id)
                .where(Reply.deleted_at.is_(None), Reply.is_staff_note.is_(False)).cte("accepted"))
    a = accepted.c
    fixes = select(literal("fix").label("kind"), a.pattern_id, a.reply_id.label("ref"), a.thread_id.label("thread_id"),
                   a.confirmations.label("n"),
                   func.row_number().over(partition_by=a.pattern_id, order_by=(a.confirmations.desc(), a.reply_id))
                   .label("rank"))
    count = func.count()
    solvers = (select(literal("solver").label("kind"), a.pattern_id, a.author_id.label("ref"),
                      null().label("thread_id"), count.label("n"),
                      func.row_number().over(partition_by=a.pattern_id, order_by=(count.desc(), a.author_id))
                      .label("rank"))
               .group_by(a.pattern_id, a.author_id))
    ranked = union_all(fixes, solvers).subquery()
    rows = db.session.execute(select(ranked).where(or_(
        and_(ranked.c.kind == "fix", ranked.c.rank <= TOP_FIXES),
        and_(ranked.c.kind == "solver", ranked.c.rank <= TOP_SOLVERS)))
        .order_by(ranked.c.pattern_id, ranked.c.kind, ranked.c.rank)).all()
    reply_ids = {r.ref for r in rows if r.kind == "fix"}
    author_ids = {r.ref for r in rows if r.kind == "solver"}
    return _fixes(rows, reply_ids), _solvers(rows, author_ids)


def _fixes(rows, reply_ids: set[int]) -> dict[int, list[dict]]:
    details = {}
    if reply_ids:
        for reply_id, title, body, author, username, org, kind in db.session.execute(
                select(Reply.id, Thread.title, Reply.body_html, User.display_name, User.username, Organisation.name,
                       Organisation.kind)
                .join(Thread, Thread.id == Reply.thread_id).join(User, User.id == Reply.author_id)
                .join(Organisation, Organisation.id == User.organisation_id).where(Reply.id.in_(reply_ids))):
            details[reply_id] = {"title": title, "snippet": excerpt(body, SNIPPET_CHARS), "author": author, "username": username,
                                 "organisation": org, "org_kind": kind.value}
    out: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r.kind == "fix" and r.ref in details:
            out[r.pattern_id].append({"thread_id": r.thread_id, "reply_id": r.ref, "confirmations": int(r.n),
                                      **details[r.ref]})
    return out


def _solvers(rows, author_ids: set[int]) -> dict[int, list[dict]]:
    people = {}
    if author_ids:
        for user_id, name, username, org, slug, kind in db.session.execute(
                select(User.id, User.display_name, User.username, Organisation.name, Organisation.slug,
                       Organisation.kind)
                .join(Organisation, Organisation.id == User.organisation_id).where(User.id.in_(author_ids))):
            people[user_id] = {"name": name, "username": username, "organisation": org, "org_slug": slug,
                               "org_kind": kind.value}
    out: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        if r.kind == "solver" and r.ref in people:
            out[r.pattern_id].append({"answers": int(r.n), **people[r.ref]})
    return out
