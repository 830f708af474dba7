"""Files attached to questions and replies (the bytes live in the content-addressed attachment store)

Revision ID: d7a1c2b3e4f5
Revises: b3c4d5e6f7a8
Create Date: 2026-12-06 19:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'd7a1c2b3e4f5'
down_revision = 'b3c4d5e6f7a8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('reply_id', sa.Integer(), nullable=True),
        sa.Column('uploader_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.Enum('image', 'text', name='attachment_kind', native_enum=False, create_constraint=True,
                                  length=20), nullable=False),
        sa.Column('content_type', sa.String(length=80), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=True),
        sa.Column('height', sa.Integer(), nullable=True),
        sa.Column('head_text', sa.Text(), nullable=False),
        sa.Column('signatures', sa.JSON(), nullable=False),
        sa.Column('signature_lines', sa.Text(), nullable=False),
        sa.Column('search_text', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('deleted_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_attachment_reply_id_reply'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_attachment_thread_id_thread'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['uploader_id'], ['user_account.id'],
                                name=op.f('fk_attachment_uploader_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment')),
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_thread_reply', ['thread_id', 'reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_uploader_id'), ['uploader_id'], unique=False)


def downgrade():
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index(batch_op.f('ix_attachment_reply_id'))
        batch_op.drop_index('ix_attachment_thread_reply')
    op.drop_table('attachment')
