"""The fix that worked and who has solved it: accepted answers per pattern, top few each, in two queries.

``m`` is the member-rows subquery of ``patterns.member_rows`` (one row per pattern and member thread).
"""
from __future__ import annotations

from collections import defaultdict

from sqlalchemy import func, select

from ..extensions import db
from ..models import Confirmation, Organisation, Reply, Thread, User

TOP_FIXES, TOP_SOLVERS = 3, 5


def fixes_by_pattern(m) -> dict[int, list[dict]]:
    """The accepted answers in each pattern, most 'worked for us too' confirmations first."""
    confirmed = (select(Confirmation.reply_id, func.count().label("n")).group_by(Confirmation.reply_id)
                 .subquery())
    score = func.coalesce(confirmed.c.n, 0)
    ranked = (select(m.c.pattern_id, m.c.thread_id, Reply.id.label("reply_id"), score.label("confirmations"),
                     func.row_number().over(partition_by=m.c.pattern_id, order_by=(score.desc(), Reply.id))
                     .label("rank"))
              .join(Reply, Reply.id == m.c.accepted_reply_id).outerjoin(confirmed, confirmed.c.reply_id == Reply.id)
              .where(Reply.deleted_at.is_(None), Reply.is_staff_note.is_(False)).subquery())
    rows = db.session.execute(
        select(ranked.c.pattern_id, ranked.c.thread_id, ranked.c.reply_id, ranked.c.confirmations, Thread.title,
               Reply.body_md, User.display_name, User.username, Organisation.name, Organisation.kind)
        .join(Thread, Thread.id == ranked.c.thread_id).join(Reply, Reply.id == ranked.c.reply_id)
        .join(User, User.id == Reply.author_id).join(Organisation, Organisation.id == User.organisation_id)
        .where(ranked.c.rank <= TOP_FIXES).order_by(ranked.c.pattern_id, ranked.c.rank)).all()
    out: dict[int, list[dict]] = defaultdict(list)
    for pid, thread_id, reply_id, confirmations, title, body, author, username, org, kind in rows:
        out[pid].append({"thread_id": thread_id, "reply_id": reply_id, "confirmations": confirmations,
                         "title": title, "snippet": _snippet(body), "author": author, "username": username,
                         "organisation": org, "org_kind": kind.value})
    return out


def solvers_by_pattern(m) -> dict[int, list[dict]]:
    """Who wrote the accepted answers in each pattern, and for which firm: the people to bring in."""
    count = func.count()
    grouped = (select(m.c.pattern_id, Reply.author_id, count.label("n"),
                      func.row_number().over(partition_by=m.c.pattern_id, order_by=(count.desc(), Reply.author_id))
                      .label("rank"))
               .join(Reply, Reply.id == m.c.accepted_reply_id)
               .where(Reply.deleted_at.is_(None), Reply.is_staff_note.is_(False))
               .group_by(m.c.pattern_id, Reply.author_id).subquery())
    rows = db.session.execute(
        select(grouped.c.pattern_id, grouped.c.n, User.display_name, User.username, Organisation.name,
               Organisation.slug, Organisation.kind)
        .join(User, User.id == grouped.c.author_id).join(Organisation, Organisation.id == User.organisation_id)
        .where(grouped.c.rank <= TOP_SOLVERS).order_by(grouped.c.pattern_id, grouped.c.rank)).all()
    out: dict[int, list[dict]] = defaultdict(list)
    for pid, n, name, username, org, slug, kind in rows:
        out[pid].append({"answers": n, "name": name, "username": username, "organisation": org,
                         "org_slug": slug, "org_kind": kind.value})
    return out


def _snippet(markdown: str, length: int = 180) -> str:
    text = " ".join((markdown or "").split())
    return text if len(text) <= length else text[:length].rsplit(" ", 1)[0] + "…"
