"""Spaces for vendor posts only (announcements): everyone reads and replies, only employees start threads

Revision ID: b2d9f0c4e7a1
Revises: e54552f632ca
Create Date: 2026-12-06 16:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b2d9f0c4e7a1'
down_revision = 'e54552f632ca'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('space', schema=None) as batch_op:
        batch_op.add_column(sa.Column('staff_posts_only', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('space', schema=None) as batch_op:
        batch_op.drop_column('staff_posts_only')
