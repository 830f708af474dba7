"""The board's generation: a count of the commits that changed what the thread lists can show.

A process keeps the home and space lists it read (``pages.list_threads``) under the generation it read first in
the same transaction. Every commit that wrote what those lists read (threads, their tags, spaces, the names of
authors and organisations, partner engagements) adds one to the count in that same transaction, whichever
process or connection made it: the web workers, a Celery worker, the command line. A list kept under an older
count is never served again, so no reader sees a list from before a commit they could have seen.

The count lives in the database (``BoardGeneration``), not in a process: every process reads the one row. A write
that does not go through the app's engine (SQL typed into ``psql``) is not counted; the kept lists expire after
``LIST_CACHE_SECONDS`` all the same.
"""
from __future__ import annotations

import sqlite3
import weakref
from typing import Any

from sqlalchemy import Delete, Engine, Insert, Select, Update, event, inspect, select
from sqlalchemy.orm import Session

from ...models import BoardGeneration

# The tables the lists read: pages.threads_query and LIST_ROW_COLUMNS, the tags, permissions.visible_threads and
# visible_spaces. Of the people table only what a row shows (the author's name and organisation) and deletions.
LIST_TABLES = frozenset({"thread", "thread_tag", "tag", "space", "organisation", "engagement", "user_account"})
_PEOPLE = "user_account"
_PEOPLE_COLUMNS = frozenset({"display_name", "organisation_id"})
# SQL written as text that begins with one of these changes no rows of those tables.
_READING_WORDS = frozenset({"SELECT", "SHOW", "EXPLAIN", "SET", "PRAGMA", "BEGIN", "SAVEPOINT", "RELEASE",
                            "ROLLBACK", "COMMIT", "ANALYZE", "VACUUM"})

_BUMP = "UPDATE board_generation SET value = value + 1 WHERE id = 1"
# On PostgreSQL a failed statement would abort the whole transaction: a database not yet migrated to the table
# must still commit its writes.
_BUMP_POSTGRES = ("DO $$ BEGIN " + _BUMP + "; EXCEPTION WHEN undefined_table THEN NULL; END $$")

_CHANGED = "board_lists_changed"  # in a pooled connection's info: its open transaction changed the lists
_readable: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()
_READ = select(BoardGeneration.value).where(BoardGeneration.id == 1)


def changes_lists(context: Any, statement: str) -> bool:
    """Whether a statement about to run may change what a thread list shows (its compiled form, else its text)."""
    built = getattr(getattr(context, "compiled", None), "statement", None)
    if isinstance(built, Select):
        return False
    if isinstance(built, (Insert, Update, Delete)):
        table = getattr(built.table, "name", None)
        if table not in LIST_TABLES:
            return False
        if table == _PEOPLE:
            if isinstance(built, Insert):
                return False  # a new member has written nothing yet
            if isinstance(built, Update):
                return not _PEOPLE_COLUMNS.isdisjoint(_set_columns(context.compiled, built))
        return True
    words = statement.lstrip().split(None, 1)
    return not words or words[0].upper() not in _READING_WORDS


def _set_columns(compiled: Any, update: Update) -> set[str]:
    # The ORM's flush names the columns it sets as the statement's parameters; update(...).values(...) in the
    # statement itself. A statement that says neither is taken to set everything.
    keys = set(compiled.column_keys or ())
    values = getattr(update, "_values", None) or {}
    keys |= {getattr(column, "key", str(column)) for column in values}
    return keys or set(_PEOPLE_COLUMNS)


def watch(engine: Engine) -> None:
    """Count, on this engine, every commit whose transaction changed what the lists can show."""
    dialect = engine.dialect
    commit, rollback = dialect.do_commit, dialect.do_rollback
    bump = _BUMP_POSTGRES if dialect.name == "postgresql" else _BUMP

    @event.listens_for(engine, "before_cursor_execute")
    def _note(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if changes_lists(context, statement):
            conn.connection.info[_CHANGED] = True

    # Both are handed the pooled connection (its info is kept with the DBAPI connection).
    def do_commit(connection) -> None:  # noqa: ANN001
        if _changed(connection):
            cursor = connection.cursor()
            try:
                cursor.execute(bump)
            except sqlite3.OperationalError as error:
                if "no such table" not in str(error):  # not migrated yet: nothing keeps lists from it
                    raise
            finally:
                cursor.close()
        commit(connection)
        _forget(connection)

    def do_rollback(connection) -> None:  # noqa: ANN001
        _forget(connection)
        rollback(connection)

    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


def _changed(connection: Any) -> bool:
    try:
        return bool(connection.info.get(_CHANGED))
    except (AttributeError, NotImplementedError):  # the engine's first connect hands over one without info
        return False


def _forget(connection: Any) -> None:
    if _changed(connection):
        del connection.info[_CHANGED]


def current(session: Session) -> int | None:
    """The generation the session's transaction reads lists under; None where kept lists must not be used: the
    transaction itself changed the lists (its own writes are not counted until it commits), or the database has no
    generation (not migrated yet, or its row was removed)."""
    connection = session.connection()
    if _changed(connection.connection):
        return None
    transaction = session.get_transaction()
    held = session.info.get("board_generation")
    if held is not None and held[0] is transaction:
        return held[1]
    engine = connection.engine
    if not _readable.get(engine):  # checked until the table is there (a server started before its migration)
        _readable[engine] = inspect(connection).has_table(BoardGeneration.__tablename__)
    value = session.execute(_READ).scalar() if _readable[engine] else None
    session.info["board_generation"] = (transaction, value)
    return value


__all__ = ["LIST_TABLES", "changes_lists", "current", "watch"]
