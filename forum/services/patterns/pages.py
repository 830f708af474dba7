"""Stored figures for one pattern's page (keyword hits, charts, customers) and the map, off the request path.

Right after a pattern's membership changes (a mining run, a new thread assigned, a lead filing a thread in or
out, a merge) its page used to compute in the request the keyword hits, the charts and the 2-D map of thread
vectors: over a second at 100k threads. They are now computed once, in the background-computation helper the
list uses (or on a Celery worker, by the list's task), and stored in ``pattern_snapshot`` rows, so every
server process shares them:

* ``pattern-page:<id>``: the pattern's own figures, stored with a fingerprint of its members (how many, the
  newest membership, the last edit of a member thread's title or body) and of its terms; when that moves, the
  figures are computed again before they are shown (the counts would otherwise be wrong);
* ``pattern-map:<points>``: the map every pattern's page shows (only the highlight differs), with the map's
  fingerprint; an outdated map is shown while a newer one is computed (it is a picture of a sample).

A request waits at most ``PATTERN_FIGURES_WAIT_SECONDS`` for what is missing; after that the page shows what is
cheap and live (name, status, representative and member threads, playbook) and says the rest is being computed.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from ...extensions import db
from ...models import Pattern, PatternMember, PatternSnapshot, PatternStatus, Thread, utcnow
from .. import background
from . import detail as pattern_detail
from . import snapshots as pattern_snapshots
from .summaries import MEMBER_SOURCES, PatternSummary, summarise

MAP_POINTS = 1200
MAP_KEY = f"pattern-map:{MAP_POINTS}"
_map_lock = threading.Lock()  # two patterns' computations in one process project the map once
_decoded = pattern_snapshots.page_copies  # per-process decoded rows; dropped too by pattern_snapshots.forget


@dataclass
class PageFigures:
    """What one pattern's page shows beyond its live rows, as computed at ``computed_at``."""

    computed_at: datetime
    summary: PatternSummary | None = None  # used when the list's stored figures do not hold the pattern
    term_total: int = 0
    keyword_hits: list[tuple[str, int]] = field(default_factory=list)
    signature_hits: list[tuple[str, int]] = field(default_factory=list)
    months: list[tuple[str, int]] = field(default_factory=list)
    versions: list[tuple[str, int]] = field(default_factory=list)
    organisations: list[tuple[str, str, int]] = field(default_factory=list)  # name, slug, member threads


@dataclass
class StoredParts:
    """A pattern page's stored parts; None for a part still being computed."""

    figures: PageFigures | None
    map: pattern_detail.PatternMap | None
    members: int = 0  # member threads now (the member list's total, without a count query of its own)

    @property
    def computing(self) -> bool:
        return self.figures is None or self.map is None


def page_key(pattern_id: int) -> str:
    return f"pattern-page:{pattern_id}"


def _member_marks(pattern: Pattern) -> tuple:
    """How many members, the newest membership and the last edit of a member's title or body (one query)."""
    return tuple(db.session.execute(
        select(func.count(PatternMember.id), func.max(PatternMember.id), func.max(Thread.updated_at))
        .join(Thread, Thread.id == PatternMember.thread_id)
        .where(PatternMember.pattern_id == pattern.id, PatternMember.source.in_(MEMBER_SOURCES))).one())


def page_fingerprint(pattern: Pattern, marks: tuple | None = None) -> str:
    """Moves when the pattern's members, their text, its terms or its status change."""
    return repr((pattern.status.value, pattern.updated_at, tuple(pattern.keywords or ()),
                 tuple(pattern.signatures or ()), *(marks or _member_marks(pattern))))[:400]


def _map_fingerprint() -> str:
    return repr(pattern_detail.map_fingerprint())[:400]


def _compute_figures(pattern: Pattern) -> dict:
    summary = summarise(pattern_ids=[pattern.id], statuses=tuple(PatternStatus))
    total, keyword_hits, signature_hits = pattern_detail.term_hits(pattern)
    # a keyword the engine took from accepted answers may occur in no question: "in 0 of 30 threads" under
    # "shared keywords" would read as a contradiction, so only terms the questions share are listed
    return {
        "summary": pattern_snapshots.encode_summary(summary[0]) if summary else None,
        "term_total": total, "keyword_hits": [(term, n) for term, n in keyword_hits if n],
        "signature_hits": [(term, n) for term, n in signature_hits if n],
        "months": pattern_detail.customers_by_month(pattern), "versions": pattern_detail.customers_by_version(pattern),
        "organisations": [(org.name, org.slug, n) for org, n in pattern_detail.member_organisations(pattern)],
    }


def compute(pattern_id: int, marks: tuple | None = None) -> None:
    """Compute and store one pattern's figures, and the map if the stored one is missing or outdated.

    ``marks``: the pattern's member marks, if the caller just read them.
    """
    pattern = db.session.get(Pattern, pattern_id)
    if pattern is None:
        return
    marks = marks or _member_marks(pattern)
    fingerprint = page_fingerprint(pattern, marks)  # taken first: data that moves meanwhile marks it stale
    started = time.perf_counter()
    payload = _compute_figures(pattern)
    pattern_snapshots.store(page_key(pattern_id), fingerprint, [payload], time.perf_counter() - started)
    # An edited member is re-embedded in place (the map's fingerprint does not move): project again if the
    # stored map is older than the pattern's last edit.
    compute_map(edited_after=marks[2])


def compute_map(edited_after: datetime | None = None) -> None:
    """Project the map and store it, unless the stored one is current and newer than ``edited_after``."""
    with _map_lock:
        fingerprint = _map_fingerprint()
        stored = _rows(MAP_KEY).get(MAP_KEY)
        if (stored is not None and stored.fingerprint == fingerprint
                and (edited_after is None or stored.computed_at >= edited_after)):
            return
        started = time.perf_counter()
        data = pattern_detail.project_map(MAP_POINTS)
        payload = {"points": [(p.x, p.y, p.thread_id, p.pattern_id) for p in data.points],
                   "names": list(data.names.items()), "sizes": list(data.sizes.items()), "model": data.model}
        pattern_snapshots.store(MAP_KEY, fingerprint, [payload], time.perf_counter() - started)


def compute_requested(pattern_id: int, requested_at: datetime) -> bool:
    """A worker's computation; False when not needed: stored since the request, or current and young enough
    (several processes may ask for the same pattern)."""
    pattern = db.session.get(Pattern, pattern_id)
    stored = _rows(page_key(pattern_id)).get(page_key(pattern_id))
    young = utcnow() - timedelta(seconds=float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)))
    if pattern is None or (stored is not None and (
            stored.computed_at >= requested_at
            or (stored.fingerprint == page_fingerprint(pattern) and stored.computed_at >= young))):
        db.session.rollback()
        compute_map()
        return False
    db.session.rollback()
    compute(pattern_id)
    return True


def _rows(*keys: str) -> dict:
    return {row.key: row for row in db.session.execute(
        select(PatternSnapshot.id, PatternSnapshot.key, PatternSnapshot.fingerprint, PatternSnapshot.computed_at)
        .where(PatternSnapshot.key.in_(keys)))}


def _payload(row):
    """The stored JSON of a row, decoded once per process and computation."""
    marker = (db.engine.url.render_as_string(), row.key)
    hit = _decoded.get(marker)
    if hit is None or hit[0] != row.computed_at:
        stored = db.session.execute(select(PatternSnapshot.figures).where(PatternSnapshot.id == row.id)).scalar()
        hit = _decoded[marker] = (row.computed_at, _decode(row.key, (stored or [None])[0], row.computed_at))
    return hit[1]


def _decode(key: str, payload: dict | None, computed_at: datetime):
    if payload is None:
        return None
    if key == MAP_KEY:
        return pattern_detail.PatternMap([pattern_detail.MapPoint(*p) for p in payload["points"]],
                                         dict(payload["names"]), dict(payload["sizes"]), payload["model"])
    summary = payload["summary"]
    if summary is not None:
        fields = pattern_snapshots.decode_summary(summary)
        fields.pop("pattern_id")
        summary = PatternSummary(pattern=None, **fields)  # the live pattern is attached when served
    return PageFigures(computed_at, summary, payload["term_total"],
                       [tuple(item) for item in payload["keyword_hits"]],
                       [tuple(item) for item in payload["signature_hits"]],
                       [tuple(item) for item in payload["months"]], [tuple(item) for item in payload["versions"]],
                       [tuple(item) for item in payload["organisations"]])


def _start(pattern_id: int, low_priority: bool) -> threading.Event | None:
    """Compute the pattern's parts off the request path: a thread of this process, or a worker (None)."""
    if background.has_broker():
        pattern_snapshots.send_to_worker(_job(pattern_id), {}, utcnow().isoformat(), pattern_id)
        return None
    return background.start_once(_job(pattern_id), compute, pattern_id, name="groundwork-pattern-page",
                                 low_priority=low_priority)


def _job(pattern_id: int) -> tuple:
    return ("pattern-page", db.engine.url.render_as_string(), pattern_id)


def _current(pattern: Pattern, rows: dict, marks: tuple | None = None) -> tuple[bool, bool, str, tuple]:
    """Whether the stored figures and map are there and current (an outdated map still counts as there), the
    pattern's fingerprint now and its member marks."""
    marks = marks or _member_marks(pattern)
    fingerprint = page_fingerprint(pattern, marks)
    stored = rows.get(page_key(pattern.id))
    return stored is not None and stored.fingerprint == fingerprint, MAP_KEY in rows, fingerprint, marks


def stored_parts(pattern: Pattern, wait: float) -> StoredParts:
    """The stored parts of ``pattern``'s page, computed first (for at most ``wait`` seconds) when missing.

    Inline when figures are not computed in the background (tests) or not stored at all
    (``PATTERN_CACHE_SECONDS`` <= 0).
    """
    key = page_key(pattern.id)
    rows = _rows(key, MAP_KEY)
    figures_ok, map_ok, _, marks = _current(pattern, rows)
    if not (figures_ok and map_ok):
        if not pattern_snapshots.in_background() or float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)) <= 0:
            compute(pattern.id, marks)
            stored = True
        else:
            done = _start(pattern.id, low_priority=wait <= 0)
            if done is not None:
                stored = done.wait(wait)
                if not stored:
                    background.lower_priority(_job(pattern.id))  # the page answers without them: it goes first
            else:
                stored = _poll(rows, key, wait)
        if stored:  # else nothing new is stored: no second look (the waiting page stays cheap)
            rows = _rows(key, MAP_KEY)
            figures_ok, map_ok, _, marks = _current(pattern, rows, marks)
    elif _outdated(rows):
        _start(pattern.id, low_priority=True)
    figures = _payload(rows[key]) if figures_ok else None
    return StoredParts(figures, _payload(rows[MAP_KEY]) if map_ok else None, members=int(marks[0] or 0))


def _outdated(rows: dict) -> bool:
    """Current for its members, but older than ``PATTERN_CACHE_SECONDS`` (replies move the summary) or on an
    old map: served once more while a newer one is computed. The map's fingerprint (a query) is read only once
    the map is ``PATTERN_FIGURES_MIN_SECONDS`` old."""
    now = utcnow()
    too_old = now - timedelta(seconds=float(current_app.config.get("PATTERN_CACHE_SECONDS", 60)))
    if any(row.computed_at < too_old for row in rows.values()):
        return True
    map_row = rows[MAP_KEY]
    young = now - timedelta(seconds=float(current_app.config.get("PATTERN_FIGURES_MIN_SECONDS", 15)))
    return map_row.computed_at < young and map_row.fingerprint != _map_fingerprint()


def _poll(rows: dict, key: str, wait: float) -> bool:
    """Wait up to ``wait`` s for a worker to store the page's figures (and the map, if missing): whether it did.

    Only the rows are read while waiting; whether they are current is checked once, after.
    """
    before = rows[key].computed_at if key in rows else None

    def stored() -> bool:
        now = _rows(key, MAP_KEY)
        return key in now and now[key].computed_at != before and MAP_KEY in now

    return pattern_snapshots.poll(stored, wait)


def page_ready(pattern: Pattern) -> bool:
    """Whether the page's parts are stored (polled while they are computed); starts them again if lost."""
    figures_ok, map_ok, _, _ = _current(pattern, _rows(page_key(pattern.id), MAP_KEY))
    if figures_ok and map_ok:
        return True
    if pattern_snapshots.in_background():
        _start(pattern.id, low_priority=False)
    return False


def forget() -> None:
    """Drop the per-process decoded copies (the rows go with ``pattern_snapshots.forget``)."""
    _decoded.clear()

