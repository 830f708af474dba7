"""Measured results for employees: response times, who answers, partners, customers, products, reuse.

Every figure is a count or a duration (never a title or a body), computed with a handful of grouped queries
whose number does not grow with the data. Medians and percentiles are taken in Python from one fetched
column, which works alike on SQLite and PostgreSQL. The figures of a period are cached per process for
``METRICS_CACHE_SECONDS`` (60 s by default), so a busy page costs one computation a minute.
"""
from __future__ import annotations

import math
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, distinct, func, literal, select
from sqlalchemy.sql import ColumnElement

from ...extensions import db
from ...models import (
    Confirmation,
    Organisation,
    OrgKind,
    Playbook,
    PlaybookConfirmation,
    Reply,
    Thread,
    ThreadKind,
    ThreadStatus,
    User,
    utcnow,
)
from .. import background
from ..board import deflection

PERIODS = {"30": 30, "90": 90, "365": 365, "all": None}
DEFAULT_PERIOD = "90"
UNANSWERED_AFTER = timedelta(hours=48)
_cache: dict[tuple, tuple[float, Metrics]] = {}
_cache_lock = threading.Lock()


@dataclass
class Metrics:
    """The figures of one period, plain values only (safe to keep across requests)."""

    period: str
    since: datetime | None
    computed_at: datetime
    questions: int = 0
    answered: int = 0
    resolved: int = 0
    unanswered_48h: int = 0
    older_than_48h: int = 0
    first_response_median_h: float | None = None
    first_response_p90_h: float | None = None
    replies_by_kind: dict[str, int] = field(default_factory=dict)
    partners: list[dict] = field(default_factory=list)
    customers: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    months: list[dict] = field(default_factory=list)
    reuse: dict = field(default_factory=dict)
    playbooks: list[dict] = field(default_factory=list)

    def share(self, part: int, whole: int | None = None) -> float | None:
        """part / whole (the period's questions by default), None when there is nothing to divide."""
        whole = self.questions if whole is None else whole
        return part / whole if whole else None


def since_for(period: str, now: datetime | None = None) -> datetime | None:
    """The start of a period ("30", "90", "365" days or "all" = None)."""
    days = PERIODS[period]
    return None if days is None else (now or utcnow()) - timedelta(days=days)


def percentile(values: list[float], fraction: float) -> float | None:
    """The nearest-rank percentile (fraction 0.9 = p90): the smallest value with that share at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def median(values: list[float]) -> float | None:
    """The median (the mean of the two middle values for an even count), None for no values."""
    return statistics.median(values) if values else None


def _seconds_between(start: ColumnElement, end: ColumnElement) -> ColumnElement:
    """end - start in seconds, in the dialect's own date arithmetic (so only a number is fetched)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _counted_threads(since: datetime | None) -> list[ColumnElement]:
    """Questions counted: not announcements, not merged into another thread, not hidden by a moderator."""
    # "+ 0" keeps SQLite off the merged_into_id index (nearly every row is NULL there) so the date index is used.
    conditions = [Thread.kind != ThreadKind.ANNOUNCEMENT, (Thread.merged_into_id + 0).is_(None),
                  Thread.hidden_at.is_(None)]
    if since is not None:
        conditions.append(Thread.created_at >= since)
    return conditions


def _response_conditions() -> list[ColumnElement]:
    """A response: a reply that is not a staff note, not removed, and not by the thread's own author."""
    return [Reply.is_staff_note.is_(False), Reply.deleted_at.is_(None), Reply.author_id != Thread.author_id]


def _question_rows(since: datetime | None):
    """One row per counted question: creation, organisation, status, delays, product and version."""
    # A correlated minimum walks one thread's replies through the (thread_id, id) index. (A grouped pass
    # over all replies was measured no faster even for all time, and far slower on SQLite for short periods.)
    first_at = (select(func.min(Reply.created_at)).where(Reply.thread_id == Thread.id, *_response_conditions())
                .correlate(Thread).scalar_subquery())
    resolved = Thread.status == ThreadStatus.RESOLVED
    return db.session.execute(
        select(Thread.created_at, Thread.organisation_id, Thread.status,
               _seconds_between(Thread.created_at, first_at),
               case((and_(resolved, Thread.resolved_at.is_not(None)),
                     _seconds_between(Thread.created_at, Thread.resolved_at)), else_=literal(None)),
               Thread.deployment_snapshot["product"].as_string(),
               Thread.deployment_snapshot["version"].as_string())
        .where(*_counted_threads(since))).all()


def _reply_rows(since: datetime | None):
    """Per organisation of the reply's author, on the period's questions: replies, responses, threads
    responded to, accepted answers. (The period selects questions, not reply dates: one cohort for every
    figure, and the thread's date index narrows the scan.)"""
    visible_reply = [Reply.is_staff_note.is_(False), Reply.deleted_at.is_(None), *_counted_threads(since)]
    is_response = Reply.author_id != Thread.author_id
    # "+ 0" on the user join keeps SQLite from starting at the users (walking replies by author): it goes
    # period's threads -> their replies -> each author by primary key.
    return db.session.execute(
        select(User.organisation_id, func.count(Reply.id),
               func.sum(case((is_response, 1), else_=0)),
               func.count(distinct(case((is_response, Reply.thread_id), else_=literal(None)))),
               func.sum(case((Thread.accepted_reply_id == Reply.id, 1), else_=0)))
        .join(Thread, Thread.id == Reply.thread_id).join(User, User.id == Reply.author_id + 0)
        .where(*visible_reply).group_by(User.organisation_id)).all()


def _reuse(since: datetime | None) -> tuple[dict, list[dict]]:
    """Thread confirmations, playbook replications (per playbook) and deflections."""

    when = [Confirmation.created_at >= since] if since is not None else []
    confirmations, confirmed_replies = db.session.execute(
        select(func.count(Confirmation.id), func.count(distinct(Confirmation.reply_id))).where(*when)).one()
    pb_when = [PlaybookConfirmation.created_at >= since] if since is not None else []
    playbooks = [{"playbook_id": pid, "title": title, "replications": n} for pid, title, n in db.session.execute(
        select(Playbook.id, Playbook.title, func.count(PlaybookConfirmation.id))
        .join(PlaybookConfirmation, PlaybookConfirmation.playbook_id == Playbook.id).where(*pb_when)
        .group_by(Playbook.id, Playbook.title).order_by(func.count(PlaybookConfirmation.id).desc(), Playbook.id))]
    stats = deflection.deflection_stats(since)
    return ({"confirmations": confirmations, "confirmed_answers": confirmed_replies or 0,
             "replications": sum(p["replications"] for p in playbooks), "playbooks_replicated": len(playbooks),
             "drafts_shown": stats.drafts, "clicks": stats.clicks, "deflections": stats.deflections,
             "deflection_rate": stats.rate if stats.drafts else None}, playbooks)


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else seconds / 3600.0


def compute(period: str, now: datetime | None = None) -> Metrics:
    """Compute every figure of a period (uncached)."""
    now = now or utcnow()
    since = since_for(period, now)
    m = Metrics(period=period, since=since, computed_at=now)
    orgs = {oid: (name, kind) for oid, name, kind in db.session.execute(
        select(Organisation.id, Organisation.name, Organisation.kind))}

    firsts: list[float] = []
    per_org: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # threads, open
    per_month: dict[str, dict] = {}
    per_product: dict[tuple[str, str], list] = {}
    for created, org_id, status, first_s, resolve_s, product, version in _question_rows(since):
        m.questions += 1
        month = per_month.setdefault(created.strftime("%Y-%m"), {"questions": 0, "resolved": 0, "firsts": []})
        month["questions"] += 1
        per_org[org_id][0] += 1
        if first_s is not None:
            m.answered += 1
            firsts.append(float(first_s))
            month["firsts"].append(float(first_s))
        if now - created >= UNANSWERED_AFTER:
            m.older_than_48h += 1
            if first_s is None or float(first_s) > UNANSWERED_AFTER.total_seconds():
                m.unanswered_48h += 1
        if status is ThreadStatus.RESOLVED:
            m.resolved += 1
            month["resolved"] += 1
        else:
            per_org[org_id][1] += 1
        if product:
            entry = per_product.setdefault((product, version or ""), [0, []])
            entry[0] += 1
            if resolve_s is not None:
                entry[1].append(float(resolve_s))
    m.first_response_median_h = _hours(median(firsts))
    m.first_response_p90_h = _hours(percentile(firsts, 0.9))
    m.months = [{"month": key, "questions": v["questions"], "median_first_response_h": _hours(median(v["firsts"])),
                 "share_resolved": v["resolved"] / v["questions"]} for key, v in sorted(per_month.items())]
    m.products = sorted(({"product": p, "version": v, "questions": n, "resolved": len(times),
                          "median_resolution_h": _hours(median(times))}
                         for (p, v), (n, times) in per_product.items()),
                        key=lambda row: (row["product"].lower(), row["version"]))

    by_kind: dict[str, int] = {kind.value: 0 for kind in OrgKind}
    replies_per_org: dict[int, tuple] = {}
    for org_id, replies, responses, threads_answered, accepted in _reply_rows(since):
        kind = orgs.get(org_id, ("?", OrgKind.CUSTOMER))[1]
        by_kind[kind.value] += int(responses or 0)
        replies_per_org[org_id] = (int(replies), int(responses or 0), int(threads_answered), int(accepted or 0))
    m.replies_by_kind = {{"vendor": "employee"}.get(k, k): n for k, n in by_kind.items()}
    for org_id, (name, kind) in orgs.items():
        replies, _responses, answered, accepted = replies_per_org.get(org_id, (0, 0, 0, 0))
        if kind is OrgKind.PARTNER and (answered or accepted):
            m.partners.append({"organisation": name, "threads_answered": answered, "answers_accepted": accepted})
        elif kind is OrgKind.CUSTOMER and (replies or org_id in per_org):
            threads, still_open = per_org.get(org_id, (0, 0))
            m.customers.append({"organisation": name, "threads": threads, "replies": replies,
                                "open_questions": still_open})
    m.partners.sort(key=lambda r: (-r["threads_answered"], -r["answers_accepted"], r["organisation"].lower()))
    m.customers.sort(key=lambda r: (-(r["threads"] + r["replies"]), r["organisation"].lower()))
    m.reuse, m.playbooks = _reuse(since)
    return m


def metrics_for(period: str, wait: bool = True) -> Metrics | None:
    """The figures of a period, from the per-process cache when fresh enough.

    Within ``METRICS_CACHE_SECONDS`` the cached figures are served. After that, for up to
    ``METRICS_STALE_SECONDS`` more, the old figures are still served while one background thread recomputes
    them (a long period takes seconds at 100k threads). With nothing usable cached, the figures are computed
    now, unless ``wait`` is false and the period holds more than ``METRICS_BACKGROUND_THRESHOLD`` questions:
    then the computation starts in the background and None is returned (the page says so and reloads).
    """
    if period not in PERIODS:
        raise ValueError(period)
    app = current_app._get_current_object()
    ttl = float(app.config.get("METRICS_CACHE_SECONDS", 60))
    stale = float(app.config.get("METRICS_STALE_SECONDS", 600))
    key = (str(db.engine.url), period)
    with _cache_lock:
        hit = _cache.get(key)
    age = time.monotonic() - hit[0] if hit is not None else None
    if age is not None and age < ttl:
        return hit[1]
    if age is not None and age < ttl + stale:
        _start_refresh(key, period)
        return hit[1]
    if not wait and background.is_running(_job(key)):
        return None
    if not wait and _question_count(period) > int(app.config.get("METRICS_BACKGROUND_THRESHOLD", 5_000)):
        db.session.rollback()
        _start_refresh(key, period)
        return None
    return _store(key, period)


def _question_count(period: str) -> int:
    """How many questions the period holds (one indexed count), to tell a long computation in advance."""
    return db.session.execute(select(func.count(Thread.id)).where(*_counted_threads(since_for(period)))).scalar_one()


def _job(key: tuple) -> tuple:
    return ("metrics", *key)


def _start_refresh(key: tuple, period: str) -> None:
    """Recompute one period in a background thread (one per period at a time; see ``services.background``)."""
    background.start_once(_job(key), _store, key, period, name="groundwork-metrics")


def _store(key: tuple, period: str) -> Metrics:
    figures = compute(period)
    db.session.rollback()  # read-only: end the transaction the queries opened
    with _cache_lock:
        _cache[key] = (time.monotonic(), figures)
    return figures


def clear_cache() -> None:
    """Forget every cached period (tests, or after a bulk import)."""
    with _cache_lock:
        _cache.clear()
    background.forget(lambda job: job[0] == "metrics")
