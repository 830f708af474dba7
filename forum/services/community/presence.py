"""Presence: who is online, how many staff are around, how many people are viewing a thread.

Kept cheap: ``User.last_seen_at`` is written at most once a minute per user, and only when the stored value
is older than that; "online now" is read from that column of rows a page has loaded anyway (no query).
Thread viewers and the staff count live in Redis sorted sets when ``REDIS_URL`` is configured, and in this
process's memory otherwise (exact for one process, an approximation across several workers).
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, bindparam, case, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ...extensions import db
from ...models import Organisation, OrgKind, User, utcnow

log = logging.getLogger(__name__)

ONLINE_SECONDS = 300   # "online now": seen in the last five minutes
TOUCH_SECONDS = 60     # write last_seen_at at most this often per user
VIEWER_SECONDS = 180   # "N people viewing": opened the thread in the last three minutes
VISIT_GAP_SECONDS = 1800  # back after half an hour away: a new visit ("new since your last visit" moves on)

_lock = threading.Lock()
_viewers: dict[int, dict[int, float]] = {}          # thread id -> {user id: unix time}
_redis_clients: dict[str, object] = {}
_staff_marked: dict[tuple[str, int], float] = {}     # (staff key, user id) -> when last written to Redis


def _redis():
    """The Redis client for REDIS_URL, or None (not configured)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    client = _redis_clients.get(url)
    if client is None:
        import redis  # optional: only when REDIS_URL is configured

        client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        _redis_clients[url] = client
    return client


def _key(name: str) -> str:
    return current_app.config.get("PRESENCE_KEY_PREFIX", "groundwork:presence:") + name


def is_online(user: User | None, now: datetime | None = None) -> bool:
    """Seen in the last five minutes (reads the loaded row: no query)."""
    seen = getattr(user, "last_seen_at", None)
    return seen is not None and (now or utcnow()) - seen < timedelta(seconds=ONLINE_SECONDS)


def touch(user: User, now: datetime | None = None) -> bool:
    """Record that the user is here; writes only when the stored time is a minute old. True if it wrote."""
    now = now or utcnow()
    if user.is_employee:
        _mark_staff(user.id, now)
    stale_before = now - timedelta(seconds=TOUCH_SECONDS)
    if user.last_seen_at is not None and user.last_seen_at > stale_before:
        return False
    # Conditional, so two workers racing within the minute write once between them.
    result = db.session.execute(update(User).where(
        User.id == user.id, or_(User.last_seen_at.is_(None), User.last_seen_at <= stale_before))
        .values(last_seen_at=now, previous_visit_at=previous_visit(now)).execution_options(synchronize_session=False))
    db.session.commit()
    if result.rowcount and user.last_seen_at is not None and user.last_seen_at <= now - timedelta(seconds=VISIT_GAP_SECONDS):
        set_committed_value(user, "previous_visit_at", user.last_seen_at)
    set_committed_value(user, "last_seen_at", now)
    return bool(result.rowcount)


def previous_visit(now: datetime):
    """SQL for ``previous_visit_at`` when a member is seen at ``now``: the last time they were seen if that was a
    visit ago (half an hour), else unchanged."""
    return case((User.last_seen_at <= now - timedelta(seconds=VISIT_GAP_SECONDS), User.last_seen_at),
                else_=User.previous_visit_at)


def _mark_staff(user_id: int, now: datetime) -> None:
    """Put an employee in Redis's staff set, at most once a minute per process (signing in sets the
    column but not this set, so it is not tied to the column's write)."""
    if not current_app.config.get("REDIS_URL"):
        return
    key = (_key("staff"), user_id)
    if _staff_marked.get(key, 0.0) > now.timestamp() - TOUCH_SECONDS:
        return
    _staff_marked[key] = now.timestamp()
    _redis_call(lambda r: r.zadd(_key("staff"), {str(user_id): now.timestamp()}))


def _redis_call(fn):
    """Run a Redis call; on a Redis failure log it and return None (callers fall back)."""
    client = _redis()
    if client is None:
        return None
    try:
        return fn(client)
    except Exception:  # noqa: BLE001 — presence is a nicety; never fail a page for it
        log.warning("presence: Redis unavailable, using the in-process fallback", exc_info=True)
        return None


def online_since(now: datetime | None = None) -> datetime:
    """The moment from which a member counts as online now (``ONLINE_SECONDS`` before ``now``)."""
    return (now or utcnow()) - timedelta(seconds=ONLINE_SECONDS)


def staff_online_from_redis(now: datetime | None = None) -> int | None:
    """Employees seen in the last five minutes, from Redis; None when Redis is not configured (or down)."""
    cutoff = online_since(now)

    def from_redis(r):
        r.zremrangebyscore(_key("staff"), "-inf", cutoff.timestamp())
        return int(r.zcard(_key("staff")))

    return _redis_call(from_redis)


@functools.cache
def staff_online_query() -> Select:
    """SELECT count of employees seen since the bind parameter ``online_since`` (to run alone or as a subquery).
    Built once per process: every page header asks it, and building it cost more than running it."""
    return (select(func.count(User.id)).join(Organisation, User.organisation_id == Organisation.id)
            .where(Organisation.kind == OrgKind.VENDOR, User.last_seen_at >= bindparam("online_since")))


def staff_online(now: datetime | None = None) -> int:
    """How many employees were seen in the last five minutes."""
    counted = staff_online_from_redis(now)
    if counted is not None:
        return counted
    return db.session.execute(staff_online_query(), {"online_since": online_since(now)}).scalar_one()


def view_thread(thread_id: int, user: User | None, now: float | None = None) -> int:
    """Count the current user as viewing the thread; returns how many people viewed it lately."""
    now = now or time.time()
    cutoff = now - VIEWER_SECONDS
    user_id = user.id if user is not None and user.is_authenticated else None
    key = _key(f"viewers:{thread_id}")

    def in_redis(r):
        pipe = r.pipeline()
        if user_id is not None:
            pipe.zadd(key, {str(user_id): now})
        pipe.zremrangebyscore(key, "-inf", cutoff)
        pipe.zcard(key)
        pipe.expire(key, VIEWER_SECONDS * 2)
        return int(pipe.execute()[-2])

    counted = _redis_call(in_redis)
    if counted is not None:
        return counted
    with _lock:
        seen = _viewers.setdefault(thread_id, {})
        if user_id is not None:
            seen[user_id] = now
        for uid in [u for u, t in seen.items() if t < cutoff]:
            del seen[uid]
        if len(_viewers) > 10_000:  # forget threads nobody looked at lately, so memory stays bounded
            for tid in [t for t, s in _viewers.items() if not s]:
                del _viewers[tid]
        return len(seen)


def reset_memory() -> None:
    """Forget the in-process viewers (tests)."""
    with _lock:
        _viewers.clear()
        _staff_marked.clear()
