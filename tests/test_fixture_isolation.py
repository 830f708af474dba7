"""The test harness itself: a test starts from a quiet process, whatever the test before left running.

The app is shared by every test of a backend and its caches are keyed by the database URL, so a background
job of one test that finishes during the next one stored its figures there (CI: the next test saw another
test's figures, or a computation "under way" that it never started). The two tests run in this order.
"""
import threading
import time

from forum.extensions import db
from forum.services import background
from forum.services.metrics import results as metrics

_started = threading.Event()


def _slow_store(key: tuple, period: str) -> None:
    _started.set()
    time.sleep(1.5)
    metrics._store(key, period)


def test_a_job_still_running_when_the_test_ends(app):
    app.config.update(BACKGROUND_THREADS=1, MINING_IN_BACKGROUND=True)
    key = (str(db.engine.url), "all")
    background.start_once(metrics._job(key), _slow_store, key, "all")
    assert _started.wait(10)


def test_the_next_test_sees_neither_its_figures_nor_its_job(app):
    key = (str(db.engine.url), "all")
    time.sleep(2)  # past the moment the job of the test before would have stored its figures
    assert not background.is_running(metrics._job(key))
    assert key not in metrics._cache
