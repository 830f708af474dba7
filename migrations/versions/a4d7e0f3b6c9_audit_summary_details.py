"""Audit entries keep what happened as a key and its values, so the audit page writes it in the reader's language.

Revision ID: a4d7e0f3b6c9
Revises: f3c6d9e2a5b8
Create Date: 2026-12-07 05:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a4d7e0f3b6c9'
down_revision = 'f3c6d9e2a5b8'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary_details', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_column('summary_details')
