"""The one way off the request path: jobs by task name, to Celery workers or to this process's small pool.

This is the only module that knows whether a broker is configured (``has_broker``). Every caller uses it:

* ``enqueue(task, *args)`` before the caller's commit, ``dispatch(job)`` after it: a job that must not be lost
  (a mining run, a new thread's assignment). With a broker it is a row of the transactional outbox, written in
  the caller's transaction, sent after the commit and deleted once sent; while the broker is down the row
  waits and a sweeper of every web process sends it again (``OUTBOX_SWEEP_SECONDS``), so the request never
  fails because of the broker. Without one it runs on the pool below (or inline, ``MINING_IN_BACKGROUND``
  off, as in tests), by the function registered for its name (``register``).
* ``start_once(key, target, *args)``: a computation whose result a page waits for a little (pattern figures,
  metrics), once per key however many requests ask; ``send`` gives it to a worker instead when there is one.

The pool is one per process: a queue and ``BACKGROUND_THREADS`` threads (2), so a burst of requests cannot
start a thread each and hold the database pool's connections. Each job runs in its own app context and
database session. The tasks themselves live in ``forum/tasks.py`` under the same names; nothing on the
request path imports that module.
"""
from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import timedelta

from flask import Flask, current_app
from sqlalchemy import delete, select, update

from ..extensions import db
from ..models import OutboxJob, utcnow

# The names the worker's tasks are registered under (forum/tasks.py).
MINE = "groundwork.mine"
ASSIGN_THREAD = "groundwork.assign_thread"
PATTERN_FIGURES = "groundwork.pattern_figures"

_handlers: dict[str, Callable] = {}


def register(task_name: str, handler: Callable) -> None:
    """Run ``handler(*args)`` for ``task_name`` jobs in this process when there is no broker."""
    _handlers[task_name] = handler


def has_broker() -> bool:
    """Whether background work goes to Celery workers (``CELERY_BROKER_URL`` is configured)."""
    return "celery" in current_app.extensions


def send(task_name: str, *args) -> bool:
    """Queue ``task_name`` on a Celery worker now (only when ``has_broker()``); False if the broker is down.

    For work that is asked for again when it does not arrive (pattern figures); a job that must not be lost
    goes through ``enqueue`` and ``dispatch``.
    """
    try:
        current_app.extensions["celery"].send_task(task_name, args=args, retry=False, ignore_result=True)
    except Exception as exc:  # noqa: BLE001 - kombu, redis and socket errors alike: the broker is unreachable
        current_app.logger.warning("broker unreachable, %s not sent: %s", task_name, exc)
        return False
    return True


# --- jobs that must not be lost: enqueue before the commit, dispatch after it ---------------------------------

@dataclass
class Job:
    task: str
    args: tuple
    row: OutboxJob | None = field(default=None, repr=False)


def enqueue(task_name: str, *args) -> Job:
    """A job to leave after the caller's commit; with a broker its outbox row joins the caller's transaction."""
    job = Job(task_name, tuple(args))
    if has_broker():
        job.row = OutboxJob(task=task_name, args=list(args), due_at=utcnow())
        db.session.add(job.row)
    return job


def dispatch(*jobs: Job | None) -> None:
    """Send committed jobs on their way: to the broker (their outbox rows), the pool, or inline."""
    for job in jobs:
        if job is None:
            continue
        if job.row is not None:
            _ensure_sweeper()
            _send_rows([job.row.id])
        elif current_app.config.get("MINING_IN_BACKGROUND", True):
            start_once((job.task, *job.args), _handlers[job.task], *job.args, name=f"groundwork-{job.task}")
        else:
            _handlers[job.task](*job.args)


def redispatch_outbox(limit: int = 100) -> int:
    """Send the outbox rows that are due (the broker was down when they were written); how many were sent."""
    ids = list(db.session.execute(select(OutboxJob.id).where(OutboxJob.due_at <= utcnow())
                                  .order_by(OutboxJob.id).limit(limit)).scalars())
    db.session.rollback()
    return _send_rows(ids)


def _send_rows(ids: list[int]) -> int:
    """Claim each row (so no other process sends it at the same time), send it, delete it once sent."""
    engine, table, sent = db.engine, OutboxJob.__table__, 0
    retry_after = timedelta(seconds=float(current_app.config.get("OUTBOX_RETRY_SECONDS", 10)))
    for job_id in ids:
        now = utcnow()
        with engine.begin() as conn:
            claimed = conn.execute(update(table).where(table.c.id == job_id, table.c.due_at <= now)
                                   .values(due_at=now + retry_after, attempts=table.c.attempts + 1)).rowcount
            row = conn.execute(select(table.c.task, table.c.args).where(table.c.id == job_id)).first()
        if not claimed or row is None:
            continue
        if not send(row.task, *row.args):
            with engine.begin() as conn:
                conn.execute(update(table).where(table.c.id == job_id).values(last_error="broker unreachable"))
            break  # the broker is down: the rest wait for the next sweep as well
        with engine.begin() as conn:
            conn.execute(delete(table).where(table.c.id == job_id))
        sent += 1
    return sent


_sweepers: dict[int, tuple[threading.Thread, threading.Event]] = {}


def _ensure_sweeper() -> None:
    """One thread per process and app that sends the outbox rows left behind while the broker was down."""
    app = current_app._get_current_object()
    with _lock:
        running = _sweepers.get(id(app))
        if running is not None and running[0].is_alive():
            return
        stop = threading.Event()
        sweeper = threading.Thread(target=_sweep, args=(app, stop), name="groundwork-outbox", daemon=True)
        _sweepers[id(app)] = (sweeper, stop)
    sweeper.start()


def stop_sweeper(app: Flask) -> None:
    """Stop the app's outbox sweeper (an app that is done serving: tests, shutdown)."""
    with _lock:
        running = _sweepers.pop(id(app), None)
    if running is not None:
        running[1].set()
        running[0].join(timeout=10)


def _sweep(app: Flask, stop: threading.Event) -> None:
    interval = float(app.config.get("OUTBOX_SWEEP_SECONDS", 10))
    while not stop.wait(interval):
        try:
            with app.app_context():
                try:
                    redispatch_outbox()
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the database may be down too: try again at the next sweep
            app.logger.warning("outbox sweep failed", exc_info=True)


def init_app(app: Flask) -> None:
    """With a broker, make sure each serving process sweeps the outbox (rows left by a previous process too)."""
    if "celery" not in app.extensions:
        return

    @app.before_request
    def _start_sweeper() -> None:
        if id(app) not in _sweepers:
            _ensure_sweeper()


# --- the pool: a queue and a few threads per process ---------------------------------------------------------

_lock = threading.Lock()
_idle = threading.Condition(_lock)  # the pool has no job queued or running
_ready = threading.Condition(_lock)  # a job was queued, or the pool shrank
_tasks: deque[_Task] = deque()
_workers: list[threading.Thread] = []  # the pool: a thread taken out of it stops before its next job
_pending = 0  # jobs queued or running
_size = 0  # pool threads asked for last (BACKGROUND_THREADS)
_running: dict[Hashable, threading.Event] = {}
_native_ids: dict[Hashable, int | None] = {}  # None: asked to lower its priority before it started
_lowered = threading.local()


@dataclass
class _Task:
    app: Flask
    key: Hashable
    target: Callable
    args: tuple
    name: str
    low_priority: bool
    done: threading.Event


def start_once(key: Hashable, target: Callable, *args, name: str = "groundwork-background",
               low_priority: bool = False) -> threading.Event:
    """Run ``target(*args)`` on the pool unless a run for ``key`` is queued or running; its done-event.

    ``low_priority`` lowers the running thread's CPU priority (Linux) so page requests of this process go first.
    A failure is logged; the next request that needs the result starts it again.
    """
    global _pending
    app = current_app._get_current_object()
    with _lock:
        event = _running.get(key)
        if event is not None:
            return event
        event = _running[key] = threading.Event()
        _pending += 1
        _ensure_workers(int(app.config.get("BACKGROUND_THREADS", 2)))
        _tasks.append(_Task(app, key, target, args, name, low_priority, event))
        _ready.notify()
    return event


def _ensure_workers(size: int) -> None:
    """Keep ``size`` pool threads (called with ``_lock`` held).

    Membership of ``_workers`` is what keeps a thread working: one taken out finishes the job it runs, if any,
    and stops (a stop message in the queue could be taken by another thread than the one meant).
    """
    global _size
    _size = size
    _workers[:] = [t for t in _workers if t.is_alive()]
    if len(_workers) > size:  # fewer asked for (tests hold the pool with 0): the extra ones stop
        del _workers[size:]
        _ready.notify_all()
    while len(_workers) < size:
        thread = threading.Thread(target=_work, name=f"groundwork-pool-{len(_workers)}", daemon=True)
        _workers.append(thread)
        thread.start()


def _work() -> None:
    me = threading.current_thread()
    _lowered.value = False
    while True:
        with _lock:
            while me in _workers and not _tasks:
                _ready.wait()
            if me not in _workers:
                return
            task = _tasks.popleft()
        _execute(task)
        with _lock:
            # An unprivileged thread cannot raise its priority again: a lowered one makes way for a fresh one.
            native_id = threading.get_native_id()
            retire = _lowered.value or native_id in _lowered_ids
            _lowered_ids.discard(native_id)
            if retire and me in _workers:
                _workers.remove(me)
                _ensure_workers(_size)  # a fresh thread in its place (none while tests hold the pool)
        if retire:
            return


def _execute(task: _Task) -> None:
    """Run one job in its own app context and session, then mark it done (in whichever thread calls it)."""
    native_id = threading.get_native_id()
    with _lock:
        low = task.low_priority or (task.key in _native_ids and _native_ids[task.key] is None)
        _native_ids[task.key] = native_id
    if low and threading.current_thread() in _workers:
        _lower_priority(native_id)
    try:
        with task.app.app_context():
            try:
                task.target(*task.args)
            finally:
                db.session.remove()
    except Exception:  # noqa: BLE001 - whoever needs the result starts it again; log why
        task.app.logger.exception("background work %s failed", task.name)
    finally:
        _done(task)


def _done(task: _Task) -> None:
    global _pending
    with _lock:
        if _running.get(task.key) is task.done:
            del _running[task.key]
        _native_ids.pop(task.key, None)
        _pending -= 1
        _idle.notify_all()
    task.done.set()


def queued() -> list[_Task]:
    """The jobs waiting for a pool thread (with ``BACKGROUND_THREADS`` 0, as tests set it, all of them)."""
    with _lock:
        return list(_tasks)


def run_queued(task: _Task) -> None:
    """Run a waiting job now, in the calling thread (tests that hold the pool with ``BACKGROUND_THREADS`` 0)."""
    with _lock:
        try:
            _tasks.remove(task)
        except ValueError:
            return  # a pool thread took it
    _execute(task)


def drop_queued() -> None:
    """Forget the jobs still waiting (tests): each counts as done without running."""
    with _lock:
        tasks = list(_tasks)
        _tasks.clear()
    for task in tasks:
        _done(task)


def is_running(key: Hashable) -> bool:
    """Whether a computation for ``key`` is queued or under way in this process."""
    with _lock:
        return key in _running


def forget(match: Callable[[Hashable], bool]) -> None:
    """No longer count the matching computations as under way (queued or running ones still finish)."""
    with _lock:
        for key in [key for key in _running if match(key)]:
            del _running[key]
            _native_ids.pop(key, None)


def wait_all(timeout: float = 60.0) -> None:
    """Block until the pool has no job queued or running (tests, benchmarks, shutdown)."""
    with _idle:
        _idle.wait_for(lambda: _pending == 0, timeout)


def lower_priority(key: Hashable) -> None:
    """Nobody waits for the computation of ``key`` any more: let page requests of this process go first."""
    with _lock:
        if key not in _running:
            return
        native_id = _native_ids.setdefault(key, None)
    if native_id is not None:
        _lower_priority(native_id)


def _lower_priority(native_id: int) -> None:
    try:
        os.setpriority(os.PRIO_PROCESS, native_id, 19)  # Linux: one thread's own nice value
    except (AttributeError, OSError):
        return  # elsewhere it runs at the process's priority
    if native_id == threading.get_native_id():
        _lowered.value = True
    else:
        _lowered_ids.add(native_id)


_lowered_ids: set[int] = set()  # pool threads lowered from another thread: they retire after their job


# --- periodic sweeps: one thread per process and app ----------------------------------------------------------

class Periodic:
    """Run ``job()`` in an app context every ``interval_key`` seconds, on one thread per process and app.

    The interval is the app's setting, else ``default`` (0, off, under ``TESTING``: tests call the job themselves
    or ``ensure_running`` it). ``init_app`` starts it with each serving process's first request, so a forked
    worker gets its own. A failing round is logged; the next one tries again.
    """

    def __init__(self, name: str, interval_key: str, default: float, job: Callable[[], object]) -> None:
        self.name, self.interval_key, self.default, self.job = name, interval_key, default, job
        self._threads: dict[int, tuple[threading.Thread, threading.Event]] = {}
        _periodics.append(self)

    def interval(self, app: Flask) -> float:
        if self.interval_key in app.config:
            return float(app.config[self.interval_key])
        return 0.0 if app.testing else float(self.default)

    def _run(self, app: Flask, stop: threading.Event) -> None:
        interval = self.interval(app)
        _periodic_stop.event = stop
        while not stop.wait(interval):
            try:
                with app.app_context():
                    try:
                        self.job()
                    finally:
                        db.session.remove()
            except Exception:  # noqa: BLE001 - the database may be away: the next round tries again
                app.logger.warning("%s failed", self.name, exc_info=True)

    def ensure_running(self, app: Flask) -> None:
        """Start the thread for ``app`` unless it runs or its interval is 0."""
        if self.interval(app) <= 0:
            return
        with _lock:
            running = self._threads.get(id(app))
            if running is not None and running[0].is_alive():
                return
            stop = threading.Event()
            thread = threading.Thread(target=self._run, args=(app, stop), name=self.name, daemon=True)
            self._threads[id(app)] = (thread, stop)
        thread.start()

    def stop(self, app: Flask) -> None:
        """Stop the thread for ``app`` (tests, shutdown)."""
        with _lock:
            running = self._threads.pop(id(app), None)
        if running is not None:
            running[1].set()
            running[0].join(timeout=10)

    def init_app(self, app: Flask) -> None:
        """Start with each serving process's first request."""

        @app.before_request
        def _start_periodic() -> None:
            if id(app) not in self._threads:
                self.ensure_running(app)


_periodics: list[Periodic] = []
_periodic_stop = threading.local()


def stop_all() -> None:
    """Stop every outbox sweeper and periodic job of every app in this process (shutdown, and tests: an app a test
    is done with must not go on taking the next test's due rows)."""
    with _lock:
        running = [pair for periodic in _periodics for pair in periodic._threads.values()]
        outbox = list(_sweepers.values())
        _sweepers.clear()
        for periodic in _periodics:
            periodic._threads.clear()
    for _thread, stop in running + outbox:
        stop.set()
    for thread, _stop in running + outbox:
        thread.join(timeout=10)


def stopping() -> bool:
    """Whether this thread is a periodic job's and was asked to stop: a long round ends early on it (a round
    that ran on after ``stop`` returned would work on whatever the database holds by then)."""
    event = getattr(_periodic_stop, "event", None)
    return event is not None and event.is_set()


def _reset_after_fork() -> None:
    """A forked child (a server's worker) has none of the parent's threads: it starts its own pool."""
    global _lock, _idle, _ready, _pending
    _lock = threading.Lock()
    _idle = threading.Condition(_lock)
    _ready = threading.Condition(_lock)
    _tasks.clear()
    _pending = 0
    _workers.clear()
    _running.clear()
    _native_ids.clear()
    _sweepers.clear()
    for periodic in _periodics:
        periodic._threads.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)
