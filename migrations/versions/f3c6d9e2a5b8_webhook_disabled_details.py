"""Why a webhook was switched off, as a code and its figures (written in the reader's language when shown).

Revision ID: f3c6d9e2a5b8
Revises: e2b5c8d1f4a7
Create Date: 2026-12-07 05:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f3c6d9e2a5b8'
down_revision = 'e2b5c8d1f4a7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.add_column(sa.Column('disabled_details', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('webhook', schema=None) as batch_op:
        batch_op.drop_column('disabled_details')
