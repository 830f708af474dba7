"""Covering indexes for the space and home lists: deep pages count their skipped threads in the index alone.

A page deep in a list is found as the ids of its threads first (``pages.fetch_page``); with the visibility
columns in the index, the threads skipped by OFFSET are never read from the table. They replace the indexes
with the same leading columns.

Revision ID: d4f8b2c6e1a9
Revises: c9e4a1b7d3f2
Create Date: 2026-12-07 04:30:00

"""
from alembic import op

revision = 'd4f8b2c6e1a9'
down_revision = 'c9e4a1b7d3f2'
branch_labels = None
depends_on = None

VISIBILITY = ['visibility', 'organisation_id', 'merged_into_id', 'hidden_at']


def upgrade():
    # Plain CREATE/DROP INDEX: a batch operation would rebuild "thread" on SQLite and drop its search triggers.
    op.create_index('ix_thread_space_list', 'thread', ['space_id', 'is_pinned', 'last_activity_at', 'id', *VISIBILITY],
                    unique=False)
    op.drop_index('ix_thread_space_pinned_activity', table_name='thread')
    op.create_index('ix_thread_list', 'thread', ['last_activity_at', 'id', *VISIBILITY], unique=False)
    op.drop_index('ix_thread_last_activity_at', table_name='thread')


def downgrade():
    op.create_index('ix_thread_last_activity_at', 'thread', ['last_activity_at'], unique=False)
    op.drop_index('ix_thread_list', table_name='thread')
    op.create_index('ix_thread_space_pinned_activity', 'thread', ['space_id', 'is_pinned', 'last_activity_at'],
                    unique=False)
    op.drop_index('ix_thread_space_list', table_name='thread')
