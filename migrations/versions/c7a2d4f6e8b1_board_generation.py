"""The board's generation: one row counting the commits that changed what the thread lists can show.

Processes keep the lists they read under it (``services.board.generation``).

Revision ID: c7a2d4f6e8b1
Revises: b5e8f1a4c7d0
Create Date: 2026-12-07 14:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c7a2d4f6e8b1'
down_revision = 'b5e8f1a4c7d0'
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        'board_generation',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('value', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_board_generation')),
    )
    op.bulk_insert(table, [{'id': 1, 'value': 0}])


def downgrade():
    op.drop_table('board_generation')
