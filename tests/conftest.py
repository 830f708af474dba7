"""Shared fixtures: the app on SQLite and on the real PostgreSQL, schema made by the migrations.

Every test that uses ``app`` (or ``client``/``db_session``/``make``) runs once per database. Choose with
``--db sqlite``, ``--db postgres`` or the default ``--db sqlite,postgres``.
"""
from __future__ import annotations

import itertools
import os
import re
import tempfile
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--db", default="sqlite,postgres",
                     help="comma-separated databases to run database tests on: sqlite, postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        backends = [b.strip() for b in metafunc.config.getoption("--db").split(",") if b.strip()]
        metafunc.parametrize("db_backend", backends, scope="session")


def _worker_suffix() -> str:
    return re.sub(r"\W", "", os.environ.get("PYTEST_XDIST_WORKER", "main"))


_databases_made = itertools.count()


def _fresh_database_name() -> str:
    """A PostgreSQL database name used once, so a run never works on a database another run (or an earlier
    backend of this one) left behind. The process id keeps concurrent runs on one server apart."""
    return f"groundwork_test_{_worker_suffix()}_{os.getpid()}_{next(_databases_made)}"


class _Backends:
    """Each backend's database and migrated app, made the first time a test asks and kept for the session.

    The backend is a session-scoped parameter, and under xdist each file's tests arrive together, so every file
    switches it: pytest then tears its fixtures down and sets them up again. Kept here instead, the database is
    made and migrated once per backend and process (it was remade and migrated again for every file, about
    3 s each time, and a sweeper or worker a file before left running went on working on the new one).
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp, self._urls, self._apps, self._made = tmp_path_factory, {}, {}, []

    def url(self, backend: str) -> str:
        if backend not in self._urls:
            self._urls[backend] = self._make_database(backend)
        return self._urls[backend]

    def _make_database(self, backend: str) -> str:
        if backend == "sqlite":
            return "sqlite:///" + str(self._tmp.mktemp("sqlite") / "test.sqlite")
        if backend != "postgres":
            raise pytest.UsageError(f"unknown --db backend {backend!r}")
        name = _fresh_database_name()
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        self._made.append(name)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name

    def app(self, backend: str):
        """The backend's app, its schema built by running every migration."""
        if backend not in self._apps:
            from flask_migrate import upgrade

            from forum import create_app

            app = create_app(base_config(self.url(backend)))
            with app.app_context():
                upgrade(revision="heads")  # "heads": parallel revisions run before their merge revision exists
            self._apps[backend] = app
        return self._apps[backend]

    def close(self) -> None:
        from forum.extensions import db
        from forum.services import background

        background.stop_all()
        for app in self._apps.values():
            with app.app_context():
                db.session.remove()
                db.engine.dispose()
        if not self._made:
            return
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                for name in self._made:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        finally:
            admin.dispose()


@pytest.fixture(scope="session")
def _backends(tmp_path_factory: pytest.TempPathFactory):
    backends = _Backends(tmp_path_factory)
    yield backends
    backends.close()


@pytest.fixture(scope="session")
def database_url(db_backend: str, _backends: _Backends) -> str:
    """An empty database of the backend for this test session (and xdist worker), dropped at the end."""
    return _backends.url(db_backend)


def base_config(database_url: str) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "WTF_CSRF_ENABLED": True,
        "SERVER_NAME": "forum.test",
        "MINING_IN_BACKGROUND": False,
        # Posting would otherwise embed with the real model whenever a finished run exists;
        # the tests that check assignment after posting switch it on with a light embedder.
        "MINING_ASSIGN_NEW_THREADS": False,
        # Every test user is brand new: the new-member limits are switched on only by the tests about them.
        "NEW_USER_HOURS": 0,
        # Attached files go to a folder of this test run, never the instance folder of the checkout.
        "ATTACHMENT_DIR": os.path.join(tempfile.gettempdir(), f"groundwork-test-files-{os.getpid()}"),
        # Test employees sign in with a password only; the tests about two-factor sign-in switch the staff
        # requirement on (tests/forum/identity/).
        "TWO_FACTOR_REQUIRED_FOR_STAFF": False,
    }


@pytest.fixture(scope="session")
def _migrated_app(db_backend: str, _backends: _Backends):
    """One app per backend, its schema built by running every migration (once per session and process)."""
    return _backends.app(db_backend)


def _empty_all_tables(app) -> None:
    from flask import has_app_context

    from forum.extensions import db

    if has_app_context():
        # The caller's session would otherwise keep rows (and their ids) from before the wipe.
        db.session.remove()
    with app.app_context():
        db.session.remove()
        # The board's generation keeps its one row (the wipe's own commit counts in it): the lists a process
        # keeps are then in use in every test, as in a running forum, and none from the test before is served.
        tables = [t.name for t in reversed(db.metadata.sorted_tables) if t.name != "board_generation"]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # DELETE and a restart of each sequence, not TRUNCATE: a test's tables hold a few rows, and
                # TRUNCATE of the 56 tables cost 1.3-1.9 s per test against 0.11 s for this. Foreign keys are not
                # checked meanwhile (replica role), since reply and thread refer to each other.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
                sequences = conn.execute(text("SELECT sequence_name FROM information_schema.sequences "
                                              "WHERE sequence_schema = current_schema()")).scalars().all()
                for sequence in sequences:
                    conn.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))
            else:
                conn.execute(text("PRAGMA foreign_keys=OFF"))
                for table in tables:
                    conn.execute(text(f'DELETE FROM "{table}"'))
        if db.engine.dialect.name == "sqlite":
            # The pragma cannot be switched back on inside the transaction above: fresh connections
            # get it (and the other connect-time pragmas) from the app's connect hook.
            db.engine.dispose()


def _settle_process(app) -> None:
    """Let the background jobs of the test before finish, then drop what this process remembers.

    The app is shared by every test of a backend, and its caches are keyed by the database URL: a metrics or
    figures job still running from the test before would otherwise store its figures into the next test's
    cache, or count as "under way" there (CI saw both).
    """
    from forum.services import background
    from forum.services.metrics import results as metrics
    from forum.services.patterns import detail, snapshots
    from forum.services.vectors import index

    background.stop_all()  # sweepers a test started, of any app: they would take this test's due rows
    from forum.extensions import limiter

    # The limiter is one object for every app: a test's app with limits on switched it on for this app too.
    limiter.enabled = bool(app.config.get("RATELIMIT_ENABLED"))
    background.drop_queued()  # held jobs nobody ran: they never will
    background.wait_all(timeout=120)
    background.forget(lambda job: True)
    with app.app_context():
        metrics.clear_cache()
        index.clear_caches()
    detail._derived.clear()
    snapshots._decoded.clear()
    snapshots._sent.clear()
    snapshots.page_copies.clear()


@pytest.fixture()
def app(_migrated_app):
    """The app with empty tables and a pushed app context."""
    _settle_process(_migrated_app)
    _empty_all_tables(_migrated_app)
    _migrated_app.test_client_class = FreshContextClient
    saved = dict(_migrated_app.config)
    with _migrated_app.app_context():
        yield _migrated_app
    _migrated_app.config.clear()
    _migrated_app.config.update(saved)
    from forum.extensions import db

    with _migrated_app.app_context():
        db.session.remove()


class FreshContextClient(FlaskClient):
    """A test client whose every request runs in its own app context, as in a real server.

    The ``app`` fixture keeps one app context pushed for factories; without this, requests would reuse
    it and share ``g`` (cached user, CSRF token) and the database session with each other.
    """

    def open(self, *args, **kwargs):
        from forum.extensions import db

        with self.application.app_context():
            response = super().open(*args, **kwargs)
        # The test's own session may hold rows the request just changed.
        db.session.expire_all()
        return response


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def make(app):
    """Factories for rows, committed: ``make.customer_org()``, ``make.user(org)``, ``make.thread(user)``."""
    from tests.factories import Factory

    return Factory()


@pytest.fixture()
def login(client):
    """``login(user)`` signs the test client in as that user (password ``Factory.PASSWORD``)."""
    from tests.factories import Factory, login_as

    def _login(user, c=None):
        return login_as(c or client, user, Factory.PASSWORD)

    return _login


def shared_data_path(*parts: str) -> Path:
    """Path inside ../shared/data; tests skip with a clear message where it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data not found at ../shared/data/{'/'.join(parts)} (beside the project root)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashing():
    """argon2id with minimal cost for the test process: every login verifies a hash, and the production
    parameters cost ~0.1-0.3 s each. Hashes keep their argon2id format; served apps (browser tests,
    ``./gw demo``) run in their own processes with the real parameters."""
    from argon2 import PasswordHasher

    from forum import passwords

    real = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher = real
    passwords._dummy_hash.cache_clear()


class HeldJobs:
    """The background pool's waiting jobs, live: ``len``, ``[i].run()`` here in the test's thread, ``clear()``."""

    def __len__(self) -> int:
        from forum.services import background

        return len(background.queued())

    def __getitem__(self, index: int):
        from forum.services import background

        task = background.queued()[index]
        task.run = lambda: background.run_queued(task)
        return task

    def clear(self) -> None:
        from forum.services import background

        background.drop_queued()


@pytest.fixture()
def held_jobs(app):
    """Background jobs queue up but no pool thread runs them; the test runs them itself, in its own thread."""
    from forum.services import background

    app.config["BACKGROUND_THREADS"] = 0
    held = HeldJobs()
    yield held
    held.clear()
    background.forget(lambda job: True)  # computations never started must not look under way to later tests
