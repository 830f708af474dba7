"""Revisions record the files an edit added to or removed from its post

Revision ID: b8d2f4a6c0e1
Revises: a7c1e2d3f4b5
Create Date: 2026-12-06 22:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d2f4a6c0e1'
down_revision = 'a7c1e2d3f4b5'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_changes', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('revision', schema=None) as batch_op:
        batch_op.drop_column('file_changes')
