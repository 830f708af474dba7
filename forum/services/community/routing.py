"""Routing a new question to the members who solved it before.

When a question joins a pattern (mined, filed, or assigned on posting), or is embedded on posting and lies close to
solved threads (``ROUTING_MIN_SIMILARITY``, through the vector index), the members whose answers were accepted on
that pattern's threads or on those near threads are ranked by how alike the deployments they solved were to the
asker's (product, version, database, hosting of the snapshots), then by how many they solved and how close. Those
who opted in get an inbox item (and mail, by their email preference), at most ``routing_daily_limit`` in 24 hours
each and ``ROUTING_PER_QUESTION`` per question, skipping whoever is full so the load spreads.
``permissions.may_be_routed`` keeps a question from anyone who may not see it; what the asker is shown
(``suggested_solvers``) is found through the threads the asker may see only.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    Notification,
    NotificationKind,
    NotificationSetting,
    PatternMember,
    Reply,
    Thread,
    User,
    utcnow,
)
from ...permissions import may_be_routed, visible_threads
from ..vectors import similar
from . import notifications

log = logging.getLogger(__name__)
ENVIRONMENT_KEYS = ("product", "version", "database", "hosting")
MAX_DAILY_LIMIT = 20


@dataclass(frozen=True)
class SolvedThread:
    id: int
    title: str


@dataclass
class Solver:
    user: User
    environment: int  # how many of product, version, database, hosting matched, at best
    solved: int
    similarity: float = 0.0  # the closest of their solved threads found by vector (0: through the pattern only)
    examples: list[SolvedThread] = field(default_factory=list)  # a few of the threads they solved


def _likeness(a: dict | None, b: dict | None) -> int:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return 0
    return sum(1 for key in ENVIRONMENT_KEYS if a.get(key) and a.get(key) == b.get(key))


_SOLUTION = (Reply.author_id, Thread.id, Thread.title, Thread.deployment_snapshot)


def _solutions(thread: Thread, viewer: User | None, by_similarity: bool) -> list[tuple]:
    """(solver id, solved thread id, title, snapshot, similarity) of the threads solved like ``thread``: in its
    patterns, and (``by_similarity``) near it by vector. With a ``viewer``, only threads the viewer may see."""
    seen = [visible_threads(viewer)] if viewer is not None else []
    solved = (select(*_SOLUTION).join(Thread, Thread.accepted_reply_id == Reply.id)
              .where(Thread.id != thread.id, *seen))
    pattern_ids = select(PatternMember.pattern_id).where(PatternMember.thread_id == thread.id).scalar_subquery()
    rows = [(*row, 0.0) for row in db.session.execute(
        solved.join(PatternMember, PatternMember.thread_id == Thread.id)
        .where(PatternMember.pattern_id.in_(pattern_ids))).all()]
    if by_similarity:
        near = dict(similar.closest_threads(
            thread, float(current_app.config.get("ROUTING_MIN_SIMILARITY", 0.5))))
        if near:
            rows += [(*row, near[row[1]]) for row in db.session.execute(
                solved.where(Thread.id.in_(list(near)))).all()]
    return rows


def solvers_for(thread: Thread, limit: int = 10, *, viewer: User | None = None,
                by_similarity: bool = False) -> list[Solver]:
    """Members who solved threads of ``thread``'s patterns (``by_similarity``: or near it) and may see it, the most
    alike environments first. With a ``viewer``, found through the solved threads the viewer may see only."""
    rows = sorted(_solutions(thread, viewer, by_similarity), key=lambda row: -row[4])
    authors = list({row[0] for row in rows})
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(authors))).scalars()}
    best: dict[int, Solver] = {}
    counted: set[int] = set()
    for author_id, solved_id, title, snapshot, similarity in rows:  # the closest first
        user = users.get(author_id)
        if solved_id in counted or user is None:  # a thread in two of the patterns, or also near, counts once
            continue
        counted.add(solved_id)
        solver = best.setdefault(author_id, Solver(user, 0, 0))
        solver.environment = max(solver.environment, _likeness(thread.deployment_snapshot, snapshot))
        solver.solved += 1
        solver.similarity = max(solver.similarity, similarity)
        if len(solver.examples) < 3:
            solver.examples.append(SolvedThread(solved_id, title))
    ranked = [solver for solver in best.values() if may_be_routed(solver.user, thread)]
    ranked.sort(key=lambda s: (-s.environment, -s.solved, -s.similarity, s.user.id))
    return ranked[:limit]


def _opted_in(ids: list[int]) -> dict[int, NotificationSetting]:
    return {row.user_id: row for row in db.session.execute(
        select(NotificationSetting).where(NotificationSetting.user_id.in_(ids),
                                          NotificationSetting.routing_opt_in.is_(True))).scalars()}


def suggested_solvers(viewer: User | None, thread: Thread, limit: int = 3) -> list[Solver]:
    """For the asker of an open question: opted-in members who solved threads like it, each with the solved
    threads the asker may see (a thread the asker may not see neither shows nor brings its solver)."""
    if viewer is None or thread.author_id != getattr(viewer, "id", None) or thread.accepted_reply_id is not None:
        return []
    solvers = solvers_for(thread, limit=50, viewer=viewer, by_similarity=True)
    opted = _opted_in([s.user.id for s in solvers])
    return [s for s in solvers if s.user.id in opted][:limit]


def preference(user: User) -> tuple[bool, int]:
    """(opted in, daily limit) of a member; off by default."""
    row = db.session.get(NotificationSetting, user.id)
    return (bool(row.routing_opt_in), int(row.routing_daily_limit)) if row is not None else (False, 3)


def set_preference(user: User, opt_in: bool, daily_limit: int) -> None:
    """Opt in or out of routed questions, with at most ``daily_limit`` (1-20) a day."""
    if not 1 <= int(daily_limit) <= MAX_DAILY_LIMIT:
        raise ValueError(f"daily limit must be 1 to {MAX_DAILY_LIMIT}")
    row = db.session.get(NotificationSetting, user.id)
    if row is None:
        row = NotificationSetting(user_id=user.id)
        db.session.add(row)
    row.routing_opt_in, row.routing_daily_limit = bool(opt_in), int(daily_limit)
    db.session.commit()


def route(thread: Thread) -> list[Notification]:
    """Notify the best-placed opted-in solvers of ``thread`` who have room today; the items made."""
    per_question = int(current_app.config.get("ROUTING_PER_QUESTION", 3))
    solvers = solvers_for(thread, limit=50, by_similarity=True)
    if not solvers:
        return []
    ids = [s.user.id for s in solvers]
    settings = _opted_in(ids)
    since = utcnow() - timedelta(days=1)
    today = dict(db.session.execute(select(Notification.user_id, func.count()).where(
        Notification.user_id.in_(ids), Notification.kind == NotificationKind.ROUTED,
        Notification.created_at >= since).group_by(Notification.user_id)).all())
    already = set(db.session.execute(select(Notification.user_id).where(
        Notification.thread_id == thread.id, Notification.kind == NotificationKind.ROUTED)).scalars())
    chosen = [s.user for s in solvers if s.user.id in settings and s.user.id not in already
              and today.get(s.user.id, 0) < settings[s.user.id].routing_daily_limit][:per_question]
    if not chosen:
        return []
    return notifications.question_routed(thread, chosen)


def after_assignment(member: PatternMember | None) -> None:
    """A question joined a pattern: route it (a failure is logged; the assignment stands)."""
    if member is not None:
        after_embedding(member.thread_id)


def after_embedding(thread_id: int) -> None:
    """A question was embedded on posting (in a pattern or not): route it to who solved its pattern or threads
    near it (a failure is logged; the post and its assignment stand)."""
    try:
        thread = db.session.get(Thread, thread_id)
        if thread is not None and thread.accepted_reply_id is None:
            route(thread)
    except Exception:  # noqa: BLE001 - routing is a courtesy: never undo or fail the assignment
        db.session.rollback()
        log.exception("routing thread %s failed", thread_id)
