"""Stored figures of the common-patterns page (one row per set of filters).

Revision ID: d5e6f7a8b9c0
Revises: c3d4e5f6a7b8
Create Date: 2026-12-05 14:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd5e6f7a8b9c0'
down_revision = 'c3d4e5f6a7b8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pattern_snapshot',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=400), nullable=False),
        sa.Column('fingerprint', sa.String(length=400), nullable=False),
        sa.Column('computed_at', sa.DateTime(), nullable=False),
        sa.Column('compute_seconds', sa.Float(), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pattern_snapshot')),
        sa.UniqueConstraint('key', name=op.f('uq_pattern_snapshot_key')),
    )


def downgrade():
    op.drop_table('pattern_snapshot')
