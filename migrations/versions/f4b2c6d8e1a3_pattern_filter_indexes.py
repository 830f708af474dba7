"""Expression indexes on the hosting and database of a thread's deployment snapshot (patterns page filters)

With the product and version indexes of e8f1a2b3c4d5, every filter of the common-patterns page can start
from the threads it matches instead of joining every membership to its thread first. Written by hand, like
e8f1a2b3c4d5: the expressions must be spelled exactly as ``forum/services/patterns.py`` writes its filters;
forum/fulltext_schema.py hides them from the schema comparison. Plain CREATE INDEX, no batch operation (a
batch would rebuild ``thread`` on SQLite and drop its full-text triggers).

The tables are analysed too: without statistics for ``pattern_member`` SQLite joins every membership of
every pattern to its thread before it looks at a filter.

Revision ID: f4b2c6d8e1a3
Revises: e8f1a2b3c4d5
Create Date: 2026-12-05 18:20:00

"""
from alembic import op

revision = 'f4b2c6d8e1a3'
down_revision = 'e8f1a2b3c4d5'
branch_labels = None
depends_on = None

FIELDS = ('hosting', 'database')


def upgrade():
    dialect = op.get_bind().dialect.name
    for name in FIELDS:
        if dialect == 'sqlite':
            op.execute(f"CREATE INDEX ix_thread_snapshot_{name} ON thread "
                       f"(json_extract(deployment_snapshot, '$.{name}'))")
        elif dialect == 'postgresql':
            op.execute(f"CREATE INDEX ix_thread_snapshot_{name} ON thread ((deployment_snapshot ->> '{name}'))")
    if dialect in ('sqlite', 'postgresql'):
        for table in ('thread', 'pattern_member', 'pattern'):
            op.execute(f"ANALYZE {table}")


def downgrade():
    for name in reversed(FIELDS):
        op.execute(f"DROP INDEX IF EXISTS ix_thread_snapshot_{name}")
