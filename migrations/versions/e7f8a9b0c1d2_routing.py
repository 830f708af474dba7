"""Routing questions to members who solved their pattern: the opt-in and daily limit, and the notification kind.

Revision ID: e7f8a9b0c1d2
Revises: d6e7f8a9b0c1
Create Date: 2026-12-06 20:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e7f8a9b0c1d2'
down_revision = 'd6e7f8a9b0c1'
branch_labels = None
depends_on = None

KINDS_BEFORE = ('reply', 'new_thread', 'mention', 'accepted', 'confirmed', 'assigned', 'pattern_emerging',
                'playbook_updated', 'reminder', 'message', 'idea_status')
KINDS_AFTER = KINDS_BEFORE + ('routed',)


def _notification_kinds(kinds):
    # The kind is a non-native enum: its allowed values live in a CHECK constraint, replaced whole.
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notification_notification_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notification_notification_kind'), sa.column('kind').in_(kinds))


def upgrade():
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('routing_opt_in', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('routing_daily_limit', sa.Integer(), nullable=False, server_default='3'))
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.alter_column('routing_opt_in', server_default=None)
        batch_op.alter_column('routing_daily_limit', server_default=None)
    _notification_kinds(KINDS_AFTER)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'routed'")
    _notification_kinds(KINDS_BEFORE)
    with op.batch_alter_table('notification_setting', schema=None) as batch_op:
        batch_op.drop_column('routing_daily_limit')
        batch_op.drop_column('routing_opt_in')
