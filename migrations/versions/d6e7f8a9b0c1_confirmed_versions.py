"""The product version each confirmation was made on (answers and playbooks go stale with versions).

Existing confirmations take their deployment's current version, the best that is known of them.

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-12-06 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None

TABLES = ('confirmation', 'playbook_confirmation')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('product_version_id', sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f(f'ix_{table}_product_version_id'), ['product_version_id'], unique=False)
            batch_op.create_foreign_key(batch_op.f(f'fk_{table}_product_version_id_product_version'),
                                        'product_version', ['product_version_id'], ['id'], ondelete='SET NULL')
        op.execute(f"UPDATE {table} SET product_version_id = (SELECT deployment.product_version_id FROM deployment "
                   f"WHERE deployment.id = {table}.deployment_id)")


def downgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f(f'fk_{table}_product_version_id_product_version'), type_='foreignkey')
            batch_op.drop_index(batch_op.f(f'ix_{table}_product_version_id'))
            batch_op.drop_column('product_version_id')
