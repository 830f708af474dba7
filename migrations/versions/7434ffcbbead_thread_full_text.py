"""thread full-text search: FTS5 table and triggers on SQLite, generated tsvector and GIN index on PostgreSQL

Written by hand: autogenerate cannot describe these objects, and forum/fulltext_schema.py hides them from
the schema comparison.

Revision ID: 7434ffcbbead
Revises: 5d1c0a7e9b21
Create Date: 2026-11-26 16:00:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '7434ffcbbead'
down_revision = '5d1c0a7e9b21'
branch_labels = None
depends_on = None

# External content: the index stores only tokens; text is read from ``thread`` by rowid. The column names
# must be the content table's. Porter stemming so "timeouts" finds "timeout", as PostgreSQL's english does.
SQLITE_UP = [
    """CREATE VIRTUAL TABLE thread_fts USING fts5(
           title, body_md, content='thread', content_rowid='id',
           tokenize='porter unicode61 remove_diacritics 2')""",
    """CREATE TRIGGER thread_fts_insert AFTER INSERT ON thread BEGIN
           INSERT INTO thread_fts(rowid, title, body_md) VALUES (new.id, new.title, new.body_md);
       END""",
    # An external-content index must be told the old text to remove its tokens.
    """CREATE TRIGGER thread_fts_delete AFTER DELETE ON thread BEGIN
           INSERT INTO thread_fts(thread_fts, rowid, title, body_md)
           VALUES ('delete', old.id, old.title, old.body_md);
       END""",
    # Only text changes touch the index (reply counts and activity times change far more often).
    """CREATE TRIGGER thread_fts_update AFTER UPDATE OF title, body_md ON thread BEGIN
           INSERT INTO thread_fts(thread_fts, rowid, title, body_md)
           VALUES ('delete', old.id, old.title, old.body_md);
           INSERT INTO thread_fts(rowid, title, body_md) VALUES (new.id, new.title, new.body_md);
       END""",
    "INSERT INTO thread_fts(thread_fts) VALUES ('rebuild')",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS thread_fts_update",
    "DROP TRIGGER IF EXISTS thread_fts_delete",
    "DROP TRIGGER IF EXISTS thread_fts_insert",
    "DROP TABLE IF EXISTS thread_fts",
]

# The title weighs A, the body B (ts_rank counts A hits 2.5 times B hits). The body is cut at 200,000
# characters because a tsvector is limited to 1 MB and an error here would refuse the insert itself.
POSTGRES_UP = [
    """ALTER TABLE thread ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
           setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A')
           || setweight(to_tsvector('english'::regconfig, left(coalesce(body_md, ''), 200000)), 'B')
       ) STORED""",
    "CREATE INDEX ix_thread_search_vector ON thread USING gin (search_vector)",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_thread_search_vector",
    "ALTER TABLE thread DROP COLUMN IF EXISTS search_vector",
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        _run(SQLITE_UP)
    elif dialect == 'postgresql':
        _run(POSTGRES_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        _run(SQLITE_DOWN)
    elif dialect == 'postgresql':
        _run(POSTGRES_DOWN)
