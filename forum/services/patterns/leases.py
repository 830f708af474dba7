"""Mining runs hold a lease: how a run starts, proves it is alive, and is given up when its process died.

Starting is atomic on both databases: the migrations' partial unique index (``RUN_ACTIVE_INDEX``) lets at most
one run be queued or running, so of two processes starting at once one gets ``RunAlreadyActive``. A run that
is carried out renews ``heartbeat_at`` every ``MINING_RUN_HEARTBEAT_SECONDS`` from a thread of its own
(clustering may hold the main thread for minutes). A running run whose heartbeat is older than
``MINING_RUN_LEASE_SECONDS``, or a run queued for longer than ``MINING_RUN_QUEUE_SECONDS`` (no worker took
it), died with its process: the next start marks it interrupted, and the new run resumes from the stored
embeddings.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ...extensions import db
from ...models import MiningRun, RunStatus, User, utcnow
from .runs import StageCallback, execute_run

ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunAlreadyActive(Exception):
    """Another mining run is queued or running."""


def _seconds(name: str, default: float) -> float:
    return float(current_app.config.get(name, default))


def _stale_condition(now: datetime):
    lease = timedelta(seconds=_seconds("MINING_RUN_LEASE_SECONDS", 120))
    queued = timedelta(seconds=_seconds("MINING_RUN_QUEUE_SECONDS", 900))
    return or_((MiningRun.status == RunStatus.RUNNING)
               & (db.func.coalesce(MiningRun.heartbeat_at, MiningRun.started_at, MiningRun.created_at) < now - lease),
               (MiningRun.status == RunStatus.QUEUED) & (MiningRun.created_at < now - queued))


def expire_stale() -> int:
    """Mark runs whose process died (no heartbeat within the lease, or queued too long) interrupted."""
    now = utcnow()
    # Looked for first, so that a page view writes (and on SQLite takes the write lock) only when one died.
    if db.session.execute(select(MiningRun.id).where(_stale_condition(now)).limit(1)).first() is None:
        return 0
    result = db.session.execute(
        update(MiningRun).where(_stale_condition(now))
        .values(status=RunStatus.INTERRUPTED, finished_at=now,
                error="its process stopped (no heartbeat); the next run resumes from the stored embeddings")
        .execution_options(synchronize_session=False))
    db.session.commit()
    db.session.expire_all()  # runs already loaded in this session would still say "running"
    return result.rowcount or 0


def active_run() -> MiningRun | None:
    """The run that is queued or running now (the database holds at most one), stale ones given up first."""
    expire_stale()
    return db.session.execute(select(MiningRun).where(MiningRun.status.in_(ACTIVE_RUN_STATUSES))
                              .order_by(MiningRun.id.desc()).limit(1)).scalar()


def latest_run() -> MiningRun | None:
    """The newest run, whatever its state, after giving up the ones whose process died."""
    expire_stale()
    return db.session.execute(select(MiningRun).order_by(MiningRun.id.desc()).limit(1)).scalar()


@dataclass(frozen=True)
class RunState:
    """What the patterns page tells about the latest run, and whether "Mine now" may start another.

    ``state`` is one of none, queued, stuck, running, finished, failed, interrupted. A run is *stuck* when
    nothing was heard from it for ``STUCK_BEATS`` heartbeats: queued and no worker took it, or running and its
    heartbeat stopped. It still holds the lease (the database refuses a second run) until ``given_up_at``, when
    the next look marks it interrupted.
    """

    run: MiningRun | None
    state: str
    silent_seconds: int | None = None
    given_up_at: datetime | None = None

    @property
    def active(self) -> bool:
        """A run holds the lease: starting another is refused, so "Mine now" is disabled."""
        return self.state in ("queued", "stuck", "running")


#: Heartbeats missed before a run is shown as stuck (the lease itself allows eight at the defaults).
STUCK_BEATS = 4


def run_state() -> RunState:
    """The latest run as the patterns page shows it, dead ones given up first."""
    run = latest_run()
    if run is None:
        return RunState(None, "none")
    if run.status not in ACTIVE_RUN_STATUSES:
        return RunState(run, run.status.value)
    now = utcnow()
    quiet = timedelta(seconds=STUCK_BEATS * _seconds("MINING_RUN_HEARTBEAT_SECONDS", 15))
    if run.status is RunStatus.QUEUED:
        heard, lease = run.created_at, _seconds("MINING_RUN_QUEUE_SECONDS", 900)
    else:
        heard = run.heartbeat_at or run.started_at or run.created_at
        lease = _seconds("MINING_RUN_LEASE_SECONDS", 120)
    if now - heard < quiet:
        return RunState(run, run.status.value)
    return RunState(run, "stuck", silent_seconds=int((now - heard).total_seconds()),
                    given_up_at=heard + timedelta(seconds=lease))


def create_run(started_by: User | None, trigger: str, parameters: dict | None = None) -> MiningRun:
    """Record a queued run, atomically: ``RunAlreadyActive`` while another one is queued or running.

    The only way a run starts (the CLI, "Mine now", the benchmarks): the look before the insert gives the
    usual answer cheaply, and the partial unique index decides between two processes that looked together.
    """
    if active_run() is not None:
        raise RunAlreadyActive(gettext("a mining run is already in progress"))
    run = MiningRun(status=RunStatus.QUEUED, started_by_id=started_by.id if started_by else None,
                    trigger=trigger, parameters=dict(parameters or {}), heartbeat_at=utcnow())
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:  # another process started one between the look and the insert
        db.session.rollback()
        raise RunAlreadyActive(gettext("a mining run is already in progress")) from None
    return run


def claim(run_id: int) -> bool:
    """Take a queued run for this process (False: it was taken, or given up, already)."""
    now = utcnow()
    result = db.session.execute(
        update(MiningRun).where(MiningRun.id == run_id, MiningRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.RUNNING, started_at=now, heartbeat_at=now)
        .execution_options(synchronize_session=False))
    db.session.commit()
    return bool(result.rowcount)


def carry_out(run_id: int, *, embedder=None, stage: StageCallback | None = None) -> MiningRun | None:
    """Claim the queued run ``run_id`` and carry it out while a heartbeat renews its lease.

    None when the run was no longer queued (another worker took it, or it was given up).
    """
    if not claim(run_id):
        current_app.logger.warning("mining run %s is no longer queued; not carried out", run_id)
        return None
    heartbeat = Heartbeat(run_id, _seconds("MINING_RUN_HEARTBEAT_SECONDS", 15))
    heartbeat.start()
    try:
        return execute_run(run_id, embedder=embedder, stage=stage)
    finally:
        heartbeat.stop()


class Heartbeat:
    """Renews a running run's ``heartbeat_at`` every ``interval`` seconds from its own thread and connection."""

    def __init__(self, run_id: int, interval: float) -> None:
        self.run_id, self.interval = run_id, interval
        self.engine = db.engine
        self.logger = current_app.logger
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"groundwork-run-{run_id}-heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _beat(self) -> None:
        table = MiningRun.__table__
        while not self._stop.wait(self.interval):
            try:
                with self.engine.begin() as conn:
                    conn.execute(update(table).where(table.c.id == self.run_id,
                                                     table.c.status == RunStatus.RUNNING)
                                 .values(heartbeat_at=utcnow()))
            except Exception:  # noqa: BLE001 - a missed beat is retried; the lease allows several
                self.logger.warning("heartbeat of mining run %s failed", self.run_id, exc_info=True)
