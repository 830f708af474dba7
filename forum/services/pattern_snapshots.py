"""Stored figures for the common-patterns page, refreshed off the request path (stale-while-revalidate).

At 100k threads the grouped queries of ``patterns.summarise`` take seconds, and the data they read moves with
every post. The page therefore shows the figures last stored for its filters (a ``PatternSnapshot`` row) with
the time they were computed, and when the data has moved since, one background thread per process
recomputes them for the next viewer. Only the first view of a set of filters waits for the computation.

Names, keywords, signatures and status always come live from the ``pattern`` table, so a rename or a
dismissal shows at once; only the figures can lag, by about one computation.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import utcnow
from ..pattern_models import Pattern, PatternSnapshot, PatternStatus
from .patterns import PatternFilters, PatternInfo, PatternSummary, data_fingerprint, sort_summaries, summarise

#: Rows for filters nobody looked at for this long are dropped when another row is stored.
KEEP_UNUSED = timedelta(days=2)
_DATES = ("first_seen", "last_seen")

_lock = threading.Lock()
_refreshing: set[tuple[str, str]] = set()
_threads: list[threading.Thread] = []
_decoded: dict[tuple[str, str], tuple[datetime, list[dict]]] = {}


def snapshot_key(filters: PatternFilters) -> str:
    """The row a set of filters is stored under (the sort is applied when serving, so it is not part)."""
    return repr(filters)[:400]


def _fingerprint() -> str:
    return repr(data_fingerprint())[:400]


def _encode(summary: PatternSummary) -> dict:
    data = {name: getattr(summary, name) for name in PatternSummary.__dataclass_fields__ if name != "pattern"}
    data["pattern_id"] = summary.pattern.id
    for name in _DATES:
        data[name] = data[name].isoformat() if data[name] else None
    data["breakdowns"] = {dim: [list(item) for item in values] for dim, values in summary.breakdowns.items()}
    return data


def _decode(data: dict) -> dict:
    data = dict(data)
    for name in _DATES:
        data[name] = datetime.fromisoformat(data[name]) if data[name] else None
    data["breakdowns"] = {dim: [tuple(item) for item in values] for dim, values in data["breakdowns"].items()}
    return data


def compute(filters: PatternFilters) -> PatternSnapshot:
    """Compute the figures for ``filters`` now and store them (in a transaction of their own)."""
    fingerprint = _fingerprint()  # taken first: data that moves during the computation marks it stale
    started = time.perf_counter()
    figures = [_encode(s) for s in summarise(filters)]
    row = {"fingerprint": fingerprint, "computed_at": utcnow(), "figures": figures,
           "compute_seconds": round(time.perf_counter() - started, 3)}
    key = snapshot_key(filters)
    table = PatternSnapshot.__table__
    # Its own transaction: the request's session (and a view that never commits) is left alone.
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(or_(table.c.key == key, table.c.computed_at < utcnow() - KEEP_UNUSED)))
            conn.execute(insert(table).values(key=key, **row))
    except IntegrityError:
        pass  # another process stored these filters' figures at the same moment; theirs are as new
    return PatternSnapshot(key=key, **row)


def _refresh_in_background(filters: PatternFilters) -> None:
    app = current_app._get_current_object()
    marker = (db.engine.url.render_as_string(), snapshot_key(filters))
    with _lock:
        if marker in _refreshing:
            return  # one computation per set of filters at a time, however many people look
        _refreshing.add(marker)

    def work() -> None:
        _lower_this_threads_priority()
        try:
            with app.app_context():
                try:
                    compute(filters)
                finally:
                    db.session.remove()
        except Exception:  # the page keeps serving the older figures; the next view tries again
            app.logger.exception("refreshing the patterns page figures failed")
        finally:
            with _lock:
                _refreshing.discard(marker)

    thread = threading.Thread(target=work, name="groundwork-pattern-figures", daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
    thread.start()


def _lower_this_threads_priority() -> None:
    """Let page requests of this process go first: a refresh is seconds of CPU that nobody waits for."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)  # Linux: a thread's own nice value
    except (AttributeError, OSError):
        pass  # elsewhere it runs at the process's priority


def wait_for_refreshes(timeout: float = 60.0) -> None:
    """Block until the background refreshes started so far have finished (tests, benchmarks, shutdown)."""
    with _lock:
        threads = list(_threads)
    for thread in threads:
        thread.join(timeout)


def forget() -> None:
    """Drop every stored and remembered figure: the next view of each page computes its figures."""
    wait_for_refreshes()
    _decoded.clear()
    db.session.execute(delete(PatternSnapshot))
    db.session.commit()


def _is_stale(computed_at: datetime, fingerprint: str, now: str, background: bool) -> bool:
    """Older than ``PATTERN_CACHE_SECONDS``, or computed before the data moved.

    In the background, figures younger than ``PATTERN_FIGURES_MIN_SECONDS`` are kept although the data moved:
    on a busy forum the fingerprint moves with every reply, and each computation costs seconds of CPU on the
    cores that serve the pages. Inline (tests) the figures always follow the data.
    """
    age = utcnow() - computed_at
    if age > timedelta(seconds=float(current_app.config.get("PATTERN_CACHE_SECONDS", 60))):
        return True
    min_age = float(current_app.config.get("PATTERN_FIGURES_MIN_SECONDS", 15)) if background else 0.0
    return fingerprint != now and age >= timedelta(seconds=min_age)


def _figures(key: str, snapshot_id: int, computed_at: datetime) -> list[dict]:
    """The stored figures, decoded once per process and computation (the JSON is a few hundred kB)."""
    marker = (db.engine.url.render_as_string(), key)
    hit = _decoded.get(marker)
    if hit is None or hit[0] != computed_at:
        stored = db.session.execute(select(PatternSnapshot.figures).where(PatternSnapshot.id == snapshot_id)).scalar()
        hit = (computed_at, [_decode(item) for item in stored or []])
        _decoded[marker] = hit
    return hit[1]


def page_summaries(filters: PatternFilters, sort: str = "reach") -> tuple[list[PatternSummary], datetime | None]:
    """The page's patterns with their figures and when those were computed (None: computed for this view).

    ``PATTERN_CACHE_SECONDS`` <= 0 computes on every view (no snapshot); otherwise figures older than that,
    or computed before the data moved, are served once more while a refresh runs in the background
    (inline when ``PATTERN_FIGURES_IN_BACKGROUND`` is off, as in tests).
    """
    if float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)) <= 0:
        return summarise(filters, sort=sort), None
    key = snapshot_key(filters)
    now = _fingerprint()
    row = db.session.execute(select(PatternSnapshot.id, PatternSnapshot.computed_at, PatternSnapshot.fingerprint)
                             .where(PatternSnapshot.key == key)).first()
    background = current_app.config.get("PATTERN_FIGURES_IN_BACKGROUND",
                                        current_app.config.get("MINING_IN_BACKGROUND", True))
    stale = row is not None and _is_stale(row.computed_at, row.fingerprint, now, background)
    if row is None or (stale and not background):
        snapshot = compute(filters)
        computed_at = snapshot.computed_at
        figures = [_decode(item) for item in snapshot.figures]
        _decoded[(db.engine.url.render_as_string(), key)] = (computed_at, figures)
    else:
        computed_at = row.computed_at
        figures = _figures(key, row.id, computed_at)
        if stale:
            _refresh_in_background(filters)
    return _with_live_patterns(figures, sort), computed_at


def _with_live_patterns(figures: list[dict], sort: str) -> list[PatternSummary]:
    """Attach each pattern's current name and terms; patterns no longer active drop out at once."""
    ids = [item["pattern_id"] for item in figures]
    infos = {}
    for row in db.session.execute(
            select(Pattern.id, Pattern.name, Pattern.description, Pattern.keywords, Pattern.signatures,
                   Pattern.status, Pattern.name_curated)
            .where(Pattern.id.in_(ids), Pattern.status == PatternStatus.ACTIVE)):
        infos[row.id] = PatternInfo(row.id, row.name, row.description or "", tuple(row.keywords or ()),
                                    tuple(row.signatures or ()), row.status, bool(row.name_curated))
    threshold = int(current_app.config.get("PATTERN_EMERGING_ORGS", 3))
    summaries = []
    for item in figures:
        info = infos.get(item["pattern_id"])
        if info is not None:
            fields = {k: v for k, v in item.items() if k != "pattern_id"}
            summary = PatternSummary(pattern=info, **fields)
            summary.emerging = summary.new_customers >= threshold
            summaries.append(summary)
    return sort_summaries(summaries, sort)


def refresh_default() -> None:
    """Recompute the unfiltered page's figures now (after a mining run, so its patterns show at once)."""
    compute(PatternFilters())


def pattern_summary(pattern: Pattern) -> PatternSummary:
    """One pattern's figures for its own page: the stored ones of the unfiltered list while it is active.

    An active pattern's figures are the same whether computed for the list or alone, so its page reuses the
    list's snapshot (and its age); a dismissed or merged one, or one newer than the snapshot, is computed.
    """
    stored = float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)) > 0
    if stored and pattern.status is PatternStatus.ACTIVE:
        summaries, _ = page_summaries(PatternFilters())
        for summary in summaries:
            if summary.pattern.id == pattern.id:
                return summary
    computed = summarise(pattern_ids=[pattern.id], statuses=tuple(PatternStatus))
    return computed[0] if computed else PatternSummary(pattern=PatternInfo.of(pattern))
