"""Groundwork forum: the Flask application factory."""
from __future__ import annotations

import os
import time
import weakref
from typing import Any

import psycopg
from flask import Flask
from psycopg.pq import TransactionStatus
from sqlalchemy import Select, event, exc

# models is imported for its side effect too: importing the package registers every table on the metadata
from . import auth, errors, i18n, inputs, models, security, templating  # noqa: F401
from .celery_app import init_celery
from .cli import register_cli
from .config import DEV_SECRET_KEY, Config, apply_environment
from .extensions import csrf, db, limiter, login_manager, migrate
from .services import background
from .services.board import generation as board_generation
from .services.community import mail as community_mail
from .services.mail import outbox as mail_outbox
from .services.mail import sweeper as mail_sweeper
from .views import register_blueprints
from .views.email import mail_bodies, notification_bodies


class ConfigurationError(RuntimeError):
    """The configuration cannot be run safely."""


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then the environment, then ``config`` (tests) last."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Config)
    apply_environment(app)
    if config:
        app.config.from_mapping(config)
    _finish_config(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    auth.init_login(app)
    security.init_security(app)
    inputs.init_inputs(app)
    i18n.init_i18n(app)
    templating.init_templating(app)
    register_blueprints(app)
    community_mail.render_bodies = notification_bodies
    mail_outbox.render = mail_bodies
    errors.init_errors(app)
    register_cli(app)
    init_celery(app)
    background.init_app(app)
    mail_sweeper.init_app(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        _tune_sqlite(app)
    elif app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql+psycopg:"):
        _keep_prepared_statements(app)
        _ping_idle_connections(app)
    with app.app_context():
        board_generation.watch(db.engine)
    return app


def _finish_config(app: Flask) -> None:
    debug_or_test = app.debug or app.testing or app.config.get("DEBUG") or app.config.get("TESTING")
    if app.config["SECRET_KEY"] == DEV_SECRET_KEY and not debug_or_test:
        raise ConfigurationError(
            "SECRET_KEY is the development default. Set SECRET_KEY in the environment "
            "(for example: export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')).")
    if app.config["QUERY_EMBEDDING"] not in ("process", "worker"):
        raise ConfigurationError(
            f"QUERY_EMBEDDING is {app.config['QUERY_EMBEDDING']!r}: use 'process' (each web worker embeds) or "
            "'worker' (a query worker embeds; needs CELERY_BROKER_URL).")
    if app.config["QUERY_EMBEDDING"] == "worker" and not str(app.config.get("CELERY_BROKER_URL") or "").startswith(
            ("redis://", "rediss://", "unix://")):
        raise ConfigurationError("QUERY_EMBEDDING=worker needs a Redis CELERY_BROKER_URL: the query worker takes its "
                                 "texts from the broker and answers on a Redis list.")
    if debug_or_test:
        app.config.setdefault("SESSION_COOKIE_SECURE", False)
        if not app.config.get("FORCE_SECURE_COOKIES"):
            app.config["SESSION_COOKIE_SECURE"] = False
            app.config["REMEMBER_COOKIE_SECURE"] = False
    if app.config.get("INSECURE_COOKIES"):
        # Plain-HTTP serving on localhost (the demo); never set behind a real deployment.
        app.config["SESSION_COOKIE_SECURE"] = False
        app.config["REMEMBER_COOKIE_SECURE"] = False

    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL")
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        url = "sqlite:///" + os.path.join(app.instance_path, "groundwork.sqlite")
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://"):]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if url.startswith("postgresql"):
        # psycopg 3: not on every checkout (_ping_idle_connections pings a connection that has been idle a
        # while); any other driver keeps SQLAlchemy's ping on every checkout.
        options.setdefault("pool_pre_ping", not url.startswith("postgresql+psycopg:"))
    else:
        options.setdefault("connect_args", {"timeout": 15})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    if app.config.get("REDIS_URL") and not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = app.config["REDIS_URL"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")


IDLE_PING_SECONDS = 1.0


def _ping_idle_connections(app: Flask) -> None:
    """Ping a pooled PostgreSQL connection before handing it out only when it has been idle ``IDLE_PING_SECONDS``.

    A ping on every checkout (``pool_pre_ping``) was a round trip on every request. A connection back in the pool
    a moment ago was working then; one idle for longer may have lost its server (a restart), and is pinged and,
    when gone, replaced before the request sees it. A restart while requests are running fails those requests
    either way (503, ``forum.errors``), and the first lost connection found empties the pool of the others.
    """
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect

    @event.listens_for(engine, "connect")
    def _connected(dbapi_connection, record) -> None:  # noqa: ANN001
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:  # noqa: ANN001
        if record is not None:
            record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:  # noqa: ANN001
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise exc.DisconnectionError(str(error)) from error  # the pool connects anew
            raise


def _keep_prepared_statements(app: Flask) -> None:
    """A transaction that only read ends in COMMIT rather than ROLLBACK (both leave the data as it was).

    psycopg prepares a statement on a connection once it has run it a few times, so PostgreSQL stops planning
    it on every execution; but it deallocates every prepared statement on ROLLBACK, and each request's session
    ends its transaction with one: nothing stayed prepared from one request to the next. A transaction that ran
    anything but a SELECT built as one (a write, DDL, a savepoint, SQL written as text), or that failed, still ends
    in ROLLBACK.
    """
    with app.app_context():
        engine = db.engine
    dialect = engine.dialect
    rollback, commit = dialect.do_rollback, dialect.do_commit
    wrote: weakref.WeakSet[psycopg.Connection] = weakref.WeakSet()

    @event.listens_for(engine, "before_cursor_execute")
    def _note_writes(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        # Only a statement built as a SELECT reads: SQL written as text may write whatever its first word
        # ("SELECT ... INTO" makes a table; a function called from a SELECT may change rows).
        compiled = getattr(context, "compiled", None)
        if not isinstance(getattr(compiled, "statement", None), Select):
            wrote.add(conn.connection.dbapi_connection)

    def do_rollback(connection) -> None:  # noqa: ANN001
        raw = getattr(connection, "dbapi_connection", connection)
        if (isinstance(raw, psycopg.Connection) and raw not in wrote
                and raw.info.transaction_status == TransactionStatus.INTRANS):
            raw.commit()  # read only and not failed: nothing to undo
        else:
            rollback(connection)
        wrote.discard(raw)

    def do_commit(connection) -> None:  # noqa: ANN001
        commit(connection)
        wrote.discard(getattr(connection, "dbapi_connection", connection))

    dialect.do_rollback, dialect.do_commit = do_rollback, do_commit


def _tune_sqlite(app: Flask) -> None:
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # noqa: ANN001
        cursor = dbapi_connection.cursor()
        # WAL lets readers run beside the one writer; the busy timeout waits instead of failing.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
