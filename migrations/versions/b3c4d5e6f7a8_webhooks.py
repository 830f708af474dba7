"""Webhooks: URLs subscribed to events, and the log of their deliveries.

Revision ID: b3c4d5e6f7a8
Revises: a1f2e3d4c5b6
Create Date: 2026-12-06 19:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b3c4d5e6f7a8'
down_revision = 'a1f2e3d4c5b6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('events', sa.JSON(), nullable=False),
        sa.Column('secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=300), nullable=False),
        sa.Column('consecutive_failures', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_webhook_organisation_id_organisation'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_webhook_owner_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook')),
    )
    op.create_index(op.f('ix_webhook_organisation_id'), 'webhook', ['organisation_id'], unique=False)
    op.create_index(op.f('ix_webhook_owner_id'), 'webhook', ['owner_id'], unique=False)
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.Integer(), nullable=False),
        sa.Column('event', sa.String(length=40), nullable=False),
        sa.Column('event_key', sa.String(length=36), nullable=False),
        sa.Column('subject_type', sa.String(length=20), nullable=False),
        sa.Column('subject_id', sa.Integer(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.Enum('pending', 'delivered', 'failed', 'withheld', name='webhook_delivery_status',
                                    native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=300), nullable=False),
        sa.Column('response_ms', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['webhook_id'], ['webhook.id'], name=op.f('fk_webhook_delivery_webhook_id_webhook'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('event_key', name=op.f('uq_webhook_delivery_event_key')),
    )
    op.create_index('ix_webhook_delivery_due', 'webhook_delivery', ['status', 'next_attempt_at'], unique=False)
    op.create_index(op.f('ix_webhook_delivery_webhook_id'), 'webhook_delivery', ['webhook_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_webhook_delivery_webhook_id'), table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_due', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index(op.f('ix_webhook_owner_id'), table_name='webhook')
    op.drop_index(op.f('ix_webhook_organisation_id'), table_name='webhook')
    op.drop_table('webhook')
