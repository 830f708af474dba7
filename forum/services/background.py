"""The one way off the request path: tasks sent by name to Celery workers, or threads of this process.

This is the only module that knows whether a broker is configured (``has_broker``). With one, work is sent to
a worker by task name (``send``): the tasks themselves live in ``forum/tasks.py``, which nothing on the request
path imports. Without one, computations run once per key in a thread of this process (``start_once``).

Threads are used by the pages whose figures take seconds at scale (measured results, common patterns): a request starts
the computation, may wait for it a little, and otherwise answers at once with what it has. One thread per
key at a time, however many requests ask; each runs in its own app context and database session.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable

from flask import current_app

from ..extensions import db

# The names the worker's tasks are registered under (forum/tasks.py).
MINE = "groundwork.mine"
ASSIGN_THREAD = "groundwork.assign_thread"
PATTERN_FIGURES = "groundwork.pattern_figures"

_lock = threading.Lock()
_running: dict[Hashable, threading.Event] = {}
_native_ids: dict[Hashable, int | None] = {}  # None: asked to lower its priority before it started
_threads: list[threading.Thread] = []


def has_broker() -> bool:
    """Whether background work goes to Celery workers (``CELERY_BROKER_URL`` is configured)."""
    return "celery" in current_app.extensions


def send(task_name: str, *args) -> None:
    """Queue the task registered as ``task_name`` on a Celery worker (only when ``has_broker()``)."""
    current_app.extensions["celery"].send_task(task_name, args=args)


def start_once(key: Hashable, target: Callable, *args, name: str = "groundwork-background",
               low_priority: bool = False) -> threading.Event:
    """Run ``target(*args)`` in a background thread unless one for ``key`` is running; its done-event.

    ``low_priority`` lowers the thread's CPU priority (Linux) so page requests of this process go first.
    A failure is logged; the next request that needs the result starts it again.
    """
    app = current_app._get_current_object()
    with _lock:
        event = _running.get(key)
        if event is not None:
            return event
        event = _running[key] = threading.Event()

    def work() -> None:
        with _lock:
            low = low_priority or (key in _native_ids and _native_ids[key] is None)
            _native_ids[key] = threading.get_native_id()
        if low:
            _lower_priority(threading.get_native_id())
        try:
            with app.app_context():
                try:
                    target(*args)
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - whoever needs the result starts it again; log why
            app.logger.exception("background computation %s failed", name)
        finally:
            with _lock:
                _running.pop(key, None)
                _native_ids.pop(key, None)
            event.set()

    thread = threading.Thread(target=work, name=name, daemon=True)
    with _lock:
        _threads[:] = [t for t in _threads if t.is_alive()] + [thread]
    thread.start()
    return event


def is_running(key: Hashable) -> bool:
    """Whether a computation for ``key`` is under way in this process."""
    with _lock:
        return key in _running


def forget(match: Callable[[Hashable], bool]) -> None:
    """No longer count the matching computations as under way (their threads, if any, still finish)."""
    with _lock:
        for key in [key for key in _running if match(key)]:
            del _running[key]
            _native_ids.pop(key, None)


def wait_all(timeout: float = 60.0) -> None:
    """Block until the computations started so far have finished (tests, benchmarks, shutdown)."""
    with _lock:
        threads = list(_threads)
    for thread in threads:
        if thread.is_alive():
            thread.join(timeout)


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
        pass  # elsewhere it runs at the process's priority
