"""Expression indexes on the product and version of a thread's deployment snapshot (search filters)

Written by hand: the indexed expressions differ per database (``json_extract`` on SQLite, ``->>`` on
PostgreSQL) and must be written exactly as ``forum/services/search.py`` writes its filters, or the planner
cannot match them; forum/fulltext_schema.py hides the indexes from the schema comparison.

Plain CREATE INDEX, no batch operation: a batch would rebuild ``thread`` on SQLite and drop its full-text
triggers.

Revision ID: e8f1a2b3c4d5
Revises: d5e6f7a8b9c0
Create Date: 2026-12-05 14:40:00

"""
from alembic import op

revision = 'e8f1a2b3c4d5'
down_revision = 'd5e6f7a8b9c0'
branch_labels = None
depends_on = None

# Product with version answers "product", "product and version"; the version alone needs its own index.
SQLITE_UP = [
    """CREATE INDEX ix_thread_snapshot_product_version ON thread (
           json_extract(deployment_snapshot, '$.product'), json_extract(deployment_snapshot, '$.version'))""",
    "CREATE INDEX ix_thread_snapshot_version ON thread (json_extract(deployment_snapshot, '$.version'))",
]
POSTGRES_UP = [
    """CREATE INDEX ix_thread_snapshot_product_version ON thread (
           (deployment_snapshot ->> 'product'), (deployment_snapshot ->> 'version'))""",
    "CREATE INDEX ix_thread_snapshot_version ON thread ((deployment_snapshot ->> 'version'))",
]
DOWN = [
    "DROP INDEX IF EXISTS ix_thread_snapshot_version",
    "DROP INDEX IF EXISTS ix_thread_snapshot_product_version",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    statements = {'sqlite': SQLITE_UP, 'postgresql': POSTGRES_UP}.get(dialect, [])
    for statement in statements:
        op.execute(statement)
    if dialect == 'postgresql':
        # Expression indexes have no statistics until analysed; without them the planner guesses 0.5%.
        op.execute("ANALYZE thread")


def downgrade():
    for statement in DOWN:
        op.execute(statement)
