"""Member locale: the language a member chose (NULL follows the browser)

Revision ID: a7c1e2d3f4b5
Revises: f1a2b3c4d5e6
Create Date: 2026-12-06 21:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a7c1e2d3f4b5'
down_revision = 'f1a2b3c4d5e6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=10), nullable=True))


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('locale')
