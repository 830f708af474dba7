"""Embedding chunks: a mining run's texts to embed, split into chunks that workers claim one at a time

Revision ID: f1a2b3c4d5e6
Revises: e7f8a9b0c1d2
Create Date: 2026-12-06 20:35:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f1a2b3c4d5e6'
down_revision = 'e7f8a9b0c1d2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'embedding_chunk',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('thread_ids', sa.JSON(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('claimed_by', sa.String(length=120), nullable=False),
        sa.Column('heartbeat_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['mining_run.id'], name=op.f('fk_embedding_chunk_run_id_mining_run'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_embedding_chunk')),
    )
    with op.batch_alter_table('embedding_chunk', schema=None) as batch_op:
        batch_op.create_index('ix_embedding_chunk_run_state', ['run_id', 'state'], unique=False)


def downgrade():
    with op.batch_alter_table('embedding_chunk', schema=None) as batch_op:
        batch_op.drop_index('ix_embedding_chunk_run_state')
    op.drop_table('embedding_chunk')
