"""Single sign-on: organisations' OpenID Connect providers, and members' accounts there.

Revision ID: c5d6e7f8a9b0
Revises: e9b8c7d6a5f4
Create Date: 2026-12-06 19:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c5d6e7f8a9b0'
down_revision = 'e9b8c7d6a5f4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sso_provider',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('issuer', sa.String(length=500), nullable=False),
        sa.Column('client_id', sa.String(length=200), nullable=False),
        sa.Column('client_secret_encrypted', sa.LargeBinary(), nullable=False),
        sa.Column('email_domains', sa.JSON(), nullable=False),
        sa.Column('sso_only', sa.Boolean(), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_sso_provider_organisation_id_organisation'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_provider')),
        sa.UniqueConstraint('organisation_id', name=op.f('uq_sso_provider_organisation_id')),
    )
    op.create_table(
        'sso_identity',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_login_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['provider_id'], ['sso_provider.id'],
                                name=op.f('fk_sso_identity_provider_id_sso_provider'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sso_identity_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_identity')),
        sa.UniqueConstraint('provider_id', 'subject', name=op.f('uq_sso_identity_provider_id_subject')),
    )
    op.create_index(op.f('ix_sso_identity_provider_id'), 'sso_identity', ['provider_id'], unique=False)
    op.create_index(op.f('ix_sso_identity_user_id'), 'sso_identity', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sso_identity_user_id'), table_name='sso_identity')
    op.drop_index(op.f('ix_sso_identity_provider_id'), table_name='sso_identity')
    op.drop_table('sso_identity')
    op.drop_table('sso_provider')
