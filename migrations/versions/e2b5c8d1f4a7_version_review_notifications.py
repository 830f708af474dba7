"""A new version in the catalog tells leads of its playbook review list: the notification kind and its version.

Revision ID: e2b5c8d1f4a7
Revises: d4f8b2c6e1a9
Create Date: 2026-12-07 05:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e2b5c8d1f4a7'
down_revision = 'd4f8b2c6e1a9'
branch_labels = None
depends_on = None

KINDS_BEFORE = ('reply', 'new_thread', 'mention', 'accepted', 'confirmed', 'assigned', 'pattern_emerging',
                'playbook_updated', 'reminder', 'message', 'idea_status', 'routed')
KINDS_AFTER = KINDS_BEFORE + ('version_review',)


def _notification_kinds(kinds):
    # The kind is a non-native enum: its allowed values live in a CHECK constraint, replaced whole.
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notification_notification_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notification_notification_kind'), sa.column('kind').in_(kinds))


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_version_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_product_version_id'), ['product_version_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_product_version_id_product_version'),
                                    'product_version', ['product_version_id'], ['id'], ondelete='CASCADE')
    _notification_kinds(KINDS_AFTER)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'version_review'")
    _notification_kinds(KINDS_BEFORE)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_product_version_id_product_version'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_product_version_id'))
        batch_op.drop_column('product_version_id')
