"""Pattern theme and pair similarity: the broad topic a pattern falls under, and how alike its threads are

Revision ID: a7c3e9d2f1b4
Revises: 7d548fe9de35
Create Date: 2026-12-06 12:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c3e9d2f1b4'
down_revision = '7d548fe9de35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pattern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('theme', sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column('pair_similarity', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('pattern', schema=None) as batch_op:
        batch_op.drop_column('pair_similarity')
        batch_op.drop_column('theme')
