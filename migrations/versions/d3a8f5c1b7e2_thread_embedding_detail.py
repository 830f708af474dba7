"""Stored embeddings keep the encoder's word-level detail beside the sentence vector (NULL until re-embedded).

Revision ID: d3a8f5c1b7e2
Revises: c7a2d4f6e8b1
Create Date: 2026-12-07 17:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd3a8f5c1b7e2'
down_revision = 'c7a2d4f6e8b1'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('thread_embedding', schema=None) as batch_op:
        batch_op.add_column(sa.Column('detail', sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table('thread_embedding', schema=None) as batch_op:
        batch_op.drop_column('detail')
