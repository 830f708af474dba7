"""Mining run lease: a heartbeat column, and at most one queued or running run (a partial unique index)

A run renews ``heartbeat_at`` while it runs; one whose heartbeat is too old died with its process and is
marked interrupted by the next start. The unique index over a constant, partial to the active states, makes
starting a run atomic on both databases (same SQL on SQLite and PostgreSQL; forum/fulltext_schema.py hides
it from the schema comparison, as SQLAlchemy cannot describe it). Runs left active by crashes before this
revision are marked interrupted, all but the newest, so the index can be built.

Revision ID: 7d548fe9de35
Revises: f4b2c6d8e1a3
Create Date: 2026-12-06 11:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = '7d548fe9de35'
down_revision = 'f4b2c6d8e1a3'
branch_labels = None
depends_on = None

INDEX = 'uq_mining_run_one_active'


def upgrade():
    with op.batch_alter_table('mining_run', schema=None) as batch_op:
        batch_op.add_column(sa.Column('heartbeat_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE mining_run SET status = 'interrupted', error = 'left active by a crashed process' "
               "WHERE status IN ('queued', 'running') AND id < (SELECT max(id) FROM mining_run "
               "WHERE status IN ('queued', 'running'))")
    op.execute(f"CREATE UNIQUE INDEX {INDEX} ON mining_run ((1)) WHERE status IN ('queued', 'running')")


def downgrade():
    op.execute(f"DROP INDEX {INDEX}")
    with op.batch_alter_table('mining_run', schema=None) as batch_op:
        batch_op.drop_column('heartbeat_at')
