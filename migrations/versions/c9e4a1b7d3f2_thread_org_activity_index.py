"""Index for the home page's "open in your organisation" list: an organisation's threads, latest activity first.

Revision ID: c9e4a1b7d3f2
Revises: b8d2f4a6c0e1
Create Date: 2026-12-07 02:15:00

"""
from alembic import op

revision = 'c9e4a1b7d3f2'
down_revision = 'b8d2f4a6c0e1'
branch_labels = None
depends_on = None


def upgrade():
    # A plain CREATE INDEX: a batch operation would rebuild "thread" on SQLite and drop its search triggers.
    op.create_index('ix_thread_org_activity', 'thread', ['organisation_id', 'last_activity_at'], unique=False)


def downgrade():
    op.drop_index('ix_thread_org_activity', table_name='thread')
