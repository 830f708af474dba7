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


_SWEEPERS = ("groundwork-webhooks", "groundwork-mail", "groundwork-outbox")


def test_sweepers_still_running_when_the_test_ends(app):
    # CI: a delivery of the next test was attempted while that test's own worker was held still, and another
    # was never handed to its worker. A sweeper a test leaves running (the session app's, or another app's on the
    # same database) goes on taking the next tests' due rows.
    from forum import create_app
    from forum.services.mail import sweeper as mail_sweeper
    from forum.services.webhooks import sweeper as webhook_sweeper
    from tests.conftest import base_config

    other = create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]), "WEBHOOK_SWEEP_SECONDS": 5,
                        "MAIL_SWEEP_SECONDS": 5, "CELERY_BROKER_URL": "redis://127.0.0.1:6379/15"})
    webhook_sweeper.start(other)
    mail_sweeper._periodic.ensure_running(other)
    with other.app_context():
        background._ensure_sweeper()
    app.config["WEBHOOK_SWEEP_SECONDS"] = 5
    webhook_sweeper.start(app)
    alive = {t.name for t in threading.enumerate() if t.is_alive()}
    assert set(_SWEEPERS) <= alive


def test_the_next_test_starts_with_no_sweeper_of_any_app(app):
    left = [t.name for t in threading.enumerate() if t.is_alive() and t.name in _SWEEPERS]
    assert left == []


def test_each_postgres_database_of_a_run_has_a_name_of_its_own():
    # Under xdist each file switched the backend, and the PostgreSQL database was dropped and made again under the
    # same name: whatever a file before left connected to it (a thread, a worker process) worked on the new one.
    # It is now made once per backend and process; a name used once still keeps a leftover off the next one.
    from tests.conftest import _fresh_database_name

    assert _fresh_database_name() != _fresh_database_name()


def test_an_app_with_rate_limits_made_by_a_test(app):
    # CI-like run: a test that made an app with rate limits on switched the one shared limiter on, and a later
    # file's test, on the session app that has them off, got 429 at login (the session app is no longer made
    # again for every file, which had switched it back off).
    from forum import create_app
    from forum.extensions import limiter
    from tests.conftest import base_config

    create_app({**base_config(app.config["SQLALCHEMY_DATABASE_URI"]), "RATELIMIT_ENABLED": True})
    assert limiter.enabled


def test_the_next_test_has_the_session_apps_rate_limits(app):
    from forum.extensions import limiter

    assert limiter.enabled is bool(app.config["RATELIMIT_ENABLED"]) is False
