"""Stored figures for the common-patterns page, refreshed off the request path (stale-while-revalidate).

At 100k threads the grouped queries of ``patterns.summarise`` take from tens of milliseconds (a narrow
filter) to most of a second (no filter), and the data they read moves with every post. The page therefore shows the figures last stored for its filters (a ``PatternSnapshot`` row) with
the time they were computed, and when the data has moved since, one background thread per process
recomputes them for the next viewer (a Celery worker instead, when a broker is configured).

The first view of a set of filters has nothing stored: the computation starts off the request path (in the
background-computation helper the measured-results page uses too, or on a worker) and the request waits for it
at most ``PATTERN_FIGURES_WAIT_SECONDS``; if it is not done by then, the page lists the patterns without
figures, says they are being computed, and fills them in by itself once they are stored.

Names, keywords, signatures and status always come live from the ``pattern`` table, so a rename or a
dismissal shows at once; only the figures can lag, by about one computation.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from flask import current_app
from sqlalchemy import delete, insert, or_, select
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import Pattern, PatternSnapshot, PatternStatus, utcnow
from .. import background
from .summaries import (
    PatternFilters,
    PatternInfo,
    PatternSummary,
    data_fingerprint,
    playbook_of_pattern,
    sort_summaries,
    summarise,
)

#: Rows nobody had refreshed for this long (filters nobody looked at) are dropped when another row is stored.
KEEP_UNUSED = timedelta(days=2)
_DATES = ("first_seen", "last_seen")

#: How often a request waiting for a worker's figures looks for them.
POLL_SECONDS = 0.025

T = TypeVar("T")

_lock = threading.Lock()
_sent: dict[tuple[str, str], float] = {}
_decoded: dict[tuple[str, str], tuple[datetime, list[dict]]] = {}
# Pattern pages' decoded rows (``pages`` keeps them here), so ``forget`` drops every copy without calling up.
page_copies: dict[tuple[str, str], tuple[datetime, object]] = {}


@dataclass
class PageFigures:
    """What the list shows: the summaries, when their figures were computed, and whether they still are."""

    summaries: list[PatternSummary]
    computed_at: datetime | None
    computing: bool = False  # nothing stored for these filters yet: patterns listed without figures


def snapshot_key(filters: PatternFilters) -> str:
    """The row a set of filters is stored under (the sort is applied when serving, so it is not part)."""
    return repr(filters)[:400]


#: Moves when the stored figures gain a field, so figures stored by an older release are computed again.
FIGURES_FORMAT = 3  # 2: the trend sparkline; 3: fix snippets as plain text


def _fingerprint() -> str:
    return repr((FIGURES_FORMAT, *data_fingerprint()))[:400]


def encode_summary(summary: PatternSummary) -> dict:
    """A summary as stored JSON (its pattern by id; names and terms are read live when served)."""
    data = {name: getattr(summary, name) for name in PatternSummary.__dataclass_fields__ if name != "pattern"}
    data["pattern_id"] = summary.pattern.id
    for name in _DATES:
        data[name] = data[name].isoformat() if data[name] else None
    data["breakdowns"] = {dim: [list(item) for item in values] for dim, values in summary.breakdowns.items()}
    return data


def decode_summary(data: dict) -> dict:
    """The stored JSON of a summary back as its fields (dates and breakdown pairs restored)."""
    data = dict(data)
    for name in _DATES:
        data[name] = datetime.fromisoformat(data[name]) if data[name] else None
    data["breakdowns"] = {dim: [tuple(item) for item in values] for dim, values in data["breakdowns"].items()}
    return data


def store(key: str, fingerprint: str, figures: list, seconds: float) -> PatternSnapshot:
    """Store ``figures`` as the one row of ``key``, in a transaction of its own.

    The request's session (and a view that never commits) is left alone.
    """
    row = {"fingerprint": fingerprint, "computed_at": utcnow(), "figures": figures,
           "compute_seconds": round(seconds, 3)}
    table = PatternSnapshot.__table__
    try:
        with db.engine.begin() as conn:
            conn.execute(delete(table).where(or_(table.c.key == key, table.c.computed_at < utcnow() - KEEP_UNUSED)))
            conn.execute(insert(table).values(key=key, **row))
    except IntegrityError:
        pass  # another process stored this key at the same moment; theirs is as new
    return PatternSnapshot(key=key, **row)


def compute(filters: PatternFilters) -> PatternSnapshot:
    """Compute the figures for ``filters`` now and store them."""
    fingerprint = _fingerprint()  # taken first: data that moves during the computation marks it stale
    started = time.perf_counter()
    figures = [encode_summary(s) for s in summarise(filters)]
    return store(snapshot_key(filters), fingerprint, figures, time.perf_counter() - started)


def send_to_worker(marker: Hashable, *task_args) -> None:
    """Queue the figures task on a Celery worker, asked again at most once per ``PATTERN_FIGURES_MIN_SECONDS``
    for the same ``marker`` from this process (in case a task was lost)."""
    now, again_after = time.monotonic(), float(current_app.config.get("PATTERN_FIGURES_MIN_SECONDS", 15))
    with _lock:
        if marker in _sent and now - _sent[marker] < again_after:
            return
        _sent[marker] = now
    background.send(background.PATTERN_FIGURES, *task_args)


def _marker(filters: PatternFilters) -> tuple[str, str]:
    return (db.engine.url.render_as_string(), snapshot_key(filters))


def _refresh_in_background(filters: PatternFilters, low_priority: bool = True) -> threading.Event | None:
    """Recompute ``filters``' figures off the request path; the done-event of the computation, or None.

    With a broker the computation goes to a Celery worker (None): asked again at most once per
    ``PATTERN_FIGURES_MIN_SECONDS`` from this process, in case a task was lost. Otherwise one thread of this
    process computes it, at the lowest CPU priority unless a viewer waits for it (``low_priority``).
    """
    if background.has_broker():
        send_to_worker(_marker(filters), filters.as_dict(), utcnow().isoformat())
        return None
    return background.start_once(_job(filters), compute, filters, name="groundwork-pattern-figures",
                                 low_priority=low_priority)


def _job(filters: PatternFilters) -> tuple:
    return ("pattern-figures", *_marker(filters))


def compute_requested(filters: PatternFilters, requested_at: datetime) -> bool:
    """A worker's refresh; False when it was not needed: figures stored since the request, or for data that
    has not moved (several processes may ask for the same filters)."""
    stored = db.session.execute(select(PatternSnapshot.computed_at, PatternSnapshot.fingerprint)
                                .where(PatternSnapshot.key == snapshot_key(filters))).first()
    if stored is not None and (stored.computed_at >= requested_at or stored.fingerprint == _fingerprint()):
        db.session.rollback()
        return False
    db.session.rollback()  # read-only so far: the computation starts from a fresh transaction
    compute(filters)
    return True


def wait_for_refreshes(timeout: float = 60.0) -> None:
    """Block until the background refreshes started so far have finished (tests, benchmarks, shutdown)."""
    background.wait_all(timeout)


def forget() -> None:
    """Drop every stored and remembered figure: the next view of each page computes its figures."""
    wait_for_refreshes()
    _decoded.clear()
    page_copies.clear()
    _sent.clear()
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
        hit = (computed_at, [decode_summary(item) for item in stored or []])
        _decoded[marker] = hit
    return hit[1]


def _stored_row(key: str):
    return db.session.execute(select(PatternSnapshot.id, PatternSnapshot.computed_at, PatternSnapshot.fingerprint)
                              .where(PatternSnapshot.key == key)).first()


def in_background() -> bool:
    """Whether figures are computed off the request path: always with a broker, else as configured."""
    return background.has_broker() or bool(current_app.config.get(
        "PATTERN_FIGURES_IN_BACKGROUND", current_app.config.get("MINING_IN_BACKGROUND", True)))


def page_figures(filters: PatternFilters, sort: str = "reach", wait: float | None = None,
                 descending: bool | None = None) -> PageFigures:
    """The page's patterns with their figures and when those were computed (None: computed for this view).

    ``PATTERN_CACHE_SECONDS`` <= 0 computes on every view (no snapshot); otherwise figures older than that,
    or computed before the data moved, are served once more while a refresh runs in the background
    (inline when ``PATTERN_FIGURES_IN_BACKGROUND`` is off, as in tests). With nothing stored for the filters,
    ``wait`` None computes them in this request; a number of seconds starts the computation in the
    background and waits for it that long at most, then answers ``computing`` with the live patterns only.
    """
    if float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)) <= 0:
        return PageFigures(sort_summaries(summarise(filters), sort, descending), None)
    key = snapshot_key(filters)
    now = _fingerprint()
    row = _stored_row(key)
    background = in_background()
    if row is None and background and wait is not None:
        row = _start_and_wait(filters, key, wait)
        if row is None:
            return PageFigures([], None, computing=True)
        stale = False  # computed just now
    else:
        stale = row is not None and _is_stale(row.computed_at, row.fingerprint, now, background)
    if row is None or (stale and not background):
        snapshot = compute(filters)
        computed_at = snapshot.computed_at
        figures = [decode_summary(item) for item in snapshot.figures]
        _decoded[(db.engine.url.render_as_string(), key)] = (computed_at, figures)
    else:
        computed_at = row.computed_at
        figures = _figures(key, row.id, computed_at)
        if stale:
            _refresh_in_background(filters)
    return PageFigures(_with_live_patterns(figures, sort, descending), computed_at)


def page_summaries(filters: PatternFilters, sort: str = "reach") -> tuple[list[PatternSummary], datetime | None]:
    """``page_figures`` computing in the request when nothing is stored: (summaries, computed_at)."""
    figures = page_figures(filters, sort)
    return figures.summaries, figures.computed_at


def _start_and_wait(filters: PatternFilters, key: str, wait: float):
    """Start computing ``filters``' figures off the request path; their stored row if done within ``wait`` s."""
    done = _refresh_in_background(filters, low_priority=wait <= 0)  # at full priority while a viewer waits
    if done is not None:
        if not done.wait(wait):
            background.lower_priority(_job(filters))  # the page answers without them: it goes first
        return _stored_row(key)
    return poll(lambda: _stored_row(key), wait)  # on a worker: look for its row until the time is up


def poll(look: Callable[[], T], wait: float) -> T:
    """Call ``look`` every ``POLL_SECONDS`` until it returns something truthy or ``wait`` seconds have passed;
    its last answer (how a request waits for a worker's figures)."""
    deadline = time.monotonic() + wait
    while True:
        found = look()
        if found or time.monotonic() >= deadline:
            return found
        time.sleep(POLL_SECONDS)


def figures_ready(filters: PatternFilters) -> bool:
    """Whether figures are stored for ``filters`` (polled by the page while they are computed).

    If they are not and nothing computes them here (the process restarted, or a worker lost the task), the
    computation starts again.
    """
    if _stored_row(snapshot_key(filters)) is not None:
        return True
    if in_background():
        _refresh_in_background(filters, low_priority=False)
    return False


def live_patterns() -> list[PatternInfo]:
    """Every active pattern's name and terms, by name (the list while its figures are being computed)."""
    return sorted(_active_infos().values(), key=lambda info: (info.name, info.id))


def _active_infos(*conditions) -> dict[int, PatternInfo]:
    """Active patterns' names and terms, read live (only the columns the list shows)."""
    return {row.id: PatternInfo(row.id, row.name, row.description or "", tuple(row.keywords or ()),
                                tuple(row.signatures or ()), row.status, bool(row.name_curated), row.theme,
                                row.playbook_id)
            for row in db.session.execute(
                select(Pattern.id, Pattern.name, Pattern.description, Pattern.keywords, Pattern.signatures,
                       Pattern.status, Pattern.name_curated, Pattern.theme,
                       playbook_of_pattern().label("playbook_id"))
                .where(Pattern.status == PatternStatus.ACTIVE, *conditions))}


def summary_with(info: PatternInfo, figures: dict) -> PatternSummary:
    """A pattern's stored figures attached to its live name and terms, with the emerging flag of today's setting."""
    summary = PatternSummary(pattern=info, **{k: v for k, v in figures.items() if k not in ("pattern_id", "pattern")})
    summary.emerging = summary.new_customers >= int(current_app.config.get("PATTERN_EMERGING_ORGS", 3))
    return summary


def _with_live_patterns(figures: list[dict], sort: str, descending: bool | None = None) -> list[PatternSummary]:
    """Attach each pattern's current name and terms; patterns no longer active drop out at once."""
    infos = _active_infos(Pattern.id.in_([item["pattern_id"] for item in figures]))
    summaries = [summary_with(infos[item["pattern_id"]], item) for item in figures if item["pattern_id"] in infos]
    return sort_summaries(summaries, sort, descending)


def refresh_default() -> None:
    """Recompute the unfiltered page's figures now (after a mining run, so its patterns show at once)."""
    compute(PatternFilters())


def listed_summary(pattern: Pattern, info: PatternInfo | None = None) -> PatternSummary | None:
    """The pattern's figures from the unfiltered list's stored ones; None when they do not hold it yet.

    Nothing is computed in this request when figures are computed in the background: a missing or outdated
    list is refreshed there. Inline (tests) this is ``pattern_summary``, which follows the data.
    """
    if not in_background() or float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)) <= 0:
        return pattern_summary(pattern)
    if pattern.status is not PatternStatus.ACTIVE:
        return None
    filters = PatternFilters()
    key = snapshot_key(filters)
    row = _stored_row(key)
    if row is None:
        _refresh_in_background(filters)
        return None
    # The data fingerprint (a query) only matters once the figures are old enough to be refreshed.
    min_age = timedelta(seconds=float(current_app.config.get("PATTERN_FIGURES_MIN_SECONDS", 15)))
    if utcnow() - row.computed_at >= min_age and _is_stale(row.computed_at, row.fingerprint, _fingerprint(), True):
        _refresh_in_background(filters)
    for item in _figures(key, row.id, row.computed_at):
        if item["pattern_id"] == pattern.id:
            return summary_with(info or PatternInfo.of(pattern), item)
    return None


def pattern_summary(pattern: Pattern) -> PatternSummary:
    """One pattern's figures for its own page: the stored ones of the unfiltered list while it is active.

    An active pattern's figures are the same whether computed for the list or alone, so its page reuses the
    list's snapshot (and its age); a dismissed or merged one, or one newer than the snapshot, is computed.
    """
    stored = float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)) > 0
    if stored and pattern.status is PatternStatus.ACTIVE:
        # Never the whole list in this request: with nothing stored it is computed in the background and
        # this one pattern alone here (a few thousand member rows at most, not every pattern's).
        for summary in page_figures(PatternFilters(), wait=0.0).summaries:
            if summary.pattern.id == pattern.id:
                return summary
    computed = summarise(pattern_ids=[pattern.id], statuses=tuple(PatternStatus))
    return computed[0] if computed else PatternSummary(pattern=PatternInfo.of(pattern))
