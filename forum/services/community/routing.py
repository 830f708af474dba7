"""Routing a new question to the members who solved its pattern before.

When a question joins a pattern (mined, filed, or assigned on posting), the members whose answers were accepted
on that pattern's threads are ranked by how alike the deployments they solved were to the asker's (product,
version, database, hosting of the snapshots) and then by how many they solved. Those who opted in get an inbox
item (and mail, by their email preference), at most ``routing_daily_limit`` in 24 hours each and
``ROUTING_PER_QUESTION`` per question, skipping whoever is full so the load spreads. ``permissions.may_be_routed``
keeps a question from anyone who may not see it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
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
from ...permissions import may_be_routed
from . import notifications

log = logging.getLogger(__name__)
ENVIRONMENT_KEYS = ("product", "version", "database", "hosting")
MAX_DAILY_LIMIT = 20


@dataclass
class Solver:
    user: User
    environment: int  # how many of product, version, database, hosting matched, at best
    solved: int


def _likeness(a: dict | None, b: dict | None) -> int:
    if not isinstance(a, dict) or not isinstance(b, dict):
        return 0
    return sum(1 for key in ENVIRONMENT_KEYS if a.get(key) and a.get(key) == b.get(key))


def solvers_for(thread: Thread, limit: int = 10) -> list[Solver]:
    """Members who solved threads of ``thread``'s patterns and may see it, the most alike environments first."""
    pattern_ids = select(PatternMember.pattern_id).where(PatternMember.thread_id == thread.id).scalar_subquery()
    rows = db.session.execute(
        select(Reply.author_id, Thread.id, Thread.deployment_snapshot)
        .join(Thread, Thread.accepted_reply_id == Reply.id)
        .join(PatternMember, PatternMember.thread_id == Thread.id)
        .where(PatternMember.pattern_id.in_(pattern_ids), Thread.id != thread.id)).all()
    best: dict[int, list[int]] = {}
    counted: set[int] = set()
    for author_id, solved_id, snapshot in rows:
        if solved_id in counted:  # a thread in two of the question's patterns counts once
            continue
        counted.add(solved_id)
        score = best.setdefault(author_id, [0, 0])
        score[0] = max(score[0], _likeness(thread.deployment_snapshot, snapshot))
        score[1] += 1
    users = {u.id: u for u in db.session.execute(select(User).where(User.id.in_(list(best)))).scalars()}
    ranked = [Solver(users[uid], env, solved) for uid, (env, solved) in best.items()
              if uid in users and may_be_routed(users[uid], thread)]
    ranked.sort(key=lambda s: (-s.environment, -s.solved, s.user.id))
    return ranked[:limit]


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
    solvers = solvers_for(thread, limit=50)
    if not solvers:
        return []
    ids = [s.user.id for s in solvers]
    settings = {row.user_id: row for row in db.session.execute(
        select(NotificationSetting).where(NotificationSetting.user_id.in_(ids),
                                          NotificationSetting.routing_opt_in.is_(True))).scalars()}
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
    if member is None:
        return
    try:
        thread = db.session.get(Thread, member.thread_id)
        if thread is not None and thread.accepted_reply_id is None:
            route(thread)
    except Exception:  # noqa: BLE001 - routing is a courtesy: never undo or fail the assignment
        db.session.rollback()
        log.exception("routing thread %s failed", member.thread_id)
