"""Index for the space page's pinned-then-latest order.

Revision ID: b7c1e2f3a4d5
Revises: 1aadc96147e9
Create Date: 2026-11-26 16:50:00

"""
from alembic import op

revision = 'b7c1e2f3a4d5'
down_revision = '1aadc96147e9'
branch_labels = None
depends_on = None


def upgrade():
    # A plain CREATE INDEX: a batch operation would rebuild "thread" on SQLite and drop its search triggers.
    op.create_index('ix_thread_space_pinned_activity', 'thread', ['space_id', 'is_pinned', 'last_activity_at'],
                    unique=False)


def downgrade():
    op.drop_index('ix_thread_space_pinned_activity', table_name='thread')
