"""Names of the full-text objects the migrations create beside the models, and the hook that hides them
from schema comparison (autogenerate and the migrations-vs-models test).

SQLite keeps an FTS5 external-content table over ``thread`` (title, body) in sync by triggers; PostgreSQL
keeps a generated ``tsvector`` column on ``thread`` with a GIN index. Neither is in the models, because
SQLAlchemy cannot describe them, so the comparison must not report them as "to be dropped".

The search and patterns-page filters on a thread's deployment snapshot use expression indexes
(``SNAPSHOT_INDEXES``), written differently per database and so also kept out of the models.

At most one mining run is queued or running: a unique index over a constant, partial to those states
(``RUN_ACTIVE_INDEX``, the same SQL on both databases); SQLAlchemy cannot describe it either.

A later SQLite migration that rebuilds ``thread`` with ``batch_alter_table`` drops the triggers with the
old table: such a migration must run ``SQLITE_TRIGGERS`` again and rebuild the index (``SQLITE_REBUILD``).
"""
from __future__ import annotations

FTS_TABLE = "thread_fts"
PG_COLUMN = "search_vector"
PG_INDEX = "ix_thread_search_vector"
SQLITE_TRIGGERS = ("thread_fts_insert", "thread_fts_delete", "thread_fts_update")
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SNAPSHOT_INDEXES = frozenset({"ix_thread_snapshot_product_version", "ix_thread_snapshot_version",
                              "ix_thread_snapshot_hosting", "ix_thread_snapshot_database"})
RUN_ACTIVE_INDEX = "uq_mining_run_one_active"


def include_name(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name``: skip the FTS5 virtual table and its shadow tables when reflecting."""
    if type_ == "table" and name is not None and (name == FTS_TABLE or name.startswith(FTS_TABLE + "_")):
        return False
    return True


def include_object(obj, name: str | None, type_: str, reflected: bool, compare_to) -> bool:
    """Alembic ``include_object``: skip the database-only search column and indexes."""
    if type_ == "column" and name == PG_COLUMN and getattr(getattr(obj, "table", None), "name", None) == "thread":
        return False
    if type_ == "index" and (name == PG_INDEX or name in SNAPSHOT_INDEXES or name == RUN_ACTIVE_INDEX):
        return False
    if type_ == "table" and not include_name(name, type_, {}):
        return False
    return True
