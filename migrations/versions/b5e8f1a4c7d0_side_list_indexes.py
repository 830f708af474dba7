"""Partial indexes for the home page's side lists: unanswered questions and threads waiting for staff.

Through the list index both databases walked every newer thread to find the few these lists show (286-349 rows
for 6 at 100k threads on PostgreSQL); these hold only the threads each list can show, in activity order.

Revision ID: b5e8f1a4c7d0
Revises: a4d7e0f3b6c9
Create Date: 2026-12-07 12:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b5e8f1a4c7d0'
down_revision = 'a4d7e0f3b6c9'
branch_labels = None
depends_on = None

VISIBILITY = ['visibility', 'organisation_id', 'merged_into_id', 'hidden_at']
UNANSWERED = "kind = 'question' AND reply_count = 0 AND merged_into_id IS NULL"
NEEDS_STAFF = "status = 'needs_staff' AND merged_into_id IS NULL"


def upgrade():
    # Plain CREATE INDEX: a batch operation would rebuild "thread" on SQLite and drop its search triggers.
    op.create_index('ix_thread_unanswered', 'thread', ['last_activity_at', 'id', *VISIBILITY, 'status'],
                    sqlite_where=sa.text(UNANSWERED), postgresql_where=sa.text(UNANSWERED))
    op.create_index('ix_thread_needs_staff', 'thread', ['last_activity_at', 'id', *VISIBILITY],
                    sqlite_where=sa.text(NEEDS_STAFF), postgresql_where=sa.text(NEEDS_STAFF))


def downgrade():
    op.drop_index('ix_thread_needs_staff', table_name='thread')
    op.drop_index('ix_thread_unanswered', table_name='thread')
