"""Outbox of background jobs waiting for the broker, and API responses kept by Idempotency-Key

Revision ID: e54552f632ca
Revises: a7c3e9d2f1b4
Create Date: 2026-12-06 12:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e54552f632ca'
down_revision = 'a7c3e9d2f1b4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'outbox_job',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('task', sa.String(length=80), nullable=False),
        sa.Column('args', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_job')),
    )
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_job_due_at'), ['due_at'], unique=False)

    op.create_table(
        'idempotent_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=True),
        sa.Column('response_body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_idempotent_request_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotent_request')),
        sa.UniqueConstraint('user_id', 'key', name=op.f('uq_idempotent_request_user_id_key')),
    )
    with op.batch_alter_table('idempotent_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotent_request_created_at'), ['created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('idempotent_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotent_request_created_at'))
    op.drop_table('idempotent_request')
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_job_due_at'))
    op.drop_table('outbox_job')
