"""moderation: flags, space moderators, audit log, internal links, assignments, new-user limits

Revision ID: 5d1c0a7e9b21
Revises: 13b28b799e17
Create Date: 2026-11-26 16:05:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1c0a7e9b21'
down_revision = '13b28b799e17'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('moderation_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('new_user_hours', sa.Integer(), nullable=False),
    sa.Column('new_user_max_threads', sa.Integer(), nullable=False),
    sa.Column('new_user_max_links', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_moderation_settings'))
    )
    op.create_table('audit_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_audit_entry_actor_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry'))
    )
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_entry_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_entry_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_audit_entry_target', ['target_type', 'target_id'], unique=False)

    op.create_table('space_moderator',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('space_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['space_id'], ['space.id'], name=op.f('fk_space_moderator_space_id_space'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_space_moderator_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_space_moderator')),
    sa.UniqueConstraint('space_id', 'user_id', name=op.f('uq_space_moderator_space_id_user_id'))
    )
    with op.batch_alter_table('space_moderator', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_space_moderator_space_id'), ['space_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_space_moderator_user_id'), ['user_id'], unique=False)

    op.create_table('assignment',
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['user_account.id'], name=op.f('fk_assignment_assigned_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assignee_id'], ['user_account.id'], name=op.f('fk_assignment_assignee_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_assignment_thread_id_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('thread_id', name=op.f('pk_assignment'))
    )
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assignment_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_assignment_due_at'), ['due_at'], unique=False)

    op.create_table('internal_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('internal_thread_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_internal_link_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['internal_thread_id'], ['thread.id'], name=op.f('fk_internal_link_internal_thread_id_thread'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_internal_link_thread_id_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_internal_link')),
    sa.UniqueConstraint('thread_id', 'internal_thread_id', name=op.f('uq_internal_link_thread_id_internal_thread_id'))
    )
    with op.batch_alter_table('internal_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_internal_link_internal_thread_id'), ['internal_thread_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_internal_link_thread_id'), ['thread_id'], unique=False)

    op.create_table('flag',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('thread_id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=True),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('spam', 'offensive', 'off_topic', 'confidential', 'duplicate', 'other', name='flag_reason', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=False),
    sa.Column('status', sa.Enum('open', 'resolved', 'dismissed', name='flag_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('review_note', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_flag_reply_id_reply'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'], name=op.f('fk_flag_reporter_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'], name=op.f('fk_flag_reviewed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_flag_thread_id_thread'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag'))
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index('ix_flag_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_thread_id'), ['thread_id'], unique=False)

    # Constant server defaults fill existing rows, and let SQLite add the columns without copying the table.
    with op.batch_alter_table('thread', schema=None) as batch_op:
        batch_op.add_column(sa.Column('is_locked', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('is_pinned', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('hidden_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_thread_merged_into_id'), ['merged_into_id'], unique=False)


def downgrade():
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+ has it): a batch copy of ``thread`` would lose the
    # triggers other revisions put on it.
    op.drop_index(op.f('ix_thread_merged_into_id'), table_name='thread')
    for column in ('merged_into_id', 'hidden_at', 'is_pinned', 'is_locked'):
        op.drop_column('thread', column)

    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_thread_id'))
        batch_op.drop_index('ix_flag_status_created')
        batch_op.drop_index(batch_op.f('ix_flag_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_flag_reply_id'))

    op.drop_table('flag')
    with op.batch_alter_table('internal_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_internal_link_thread_id'))
        batch_op.drop_index(batch_op.f('ix_internal_link_internal_thread_id'))

    op.drop_table('internal_link')
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assignment_due_at'))
        batch_op.drop_index(batch_op.f('ix_assignment_assignee_id'))

    op.drop_table('assignment')
    with op.batch_alter_table('space_moderator', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_space_moderator_user_id'))
        batch_op.drop_index(batch_op.f('ix_space_moderator_space_id'))

    op.drop_table('space_moderator')
    with op.batch_alter_table('audit_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_entry_target')
        batch_op.drop_index(batch_op.f('ix_audit_entry_created_at'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_entry_action'))

    op.drop_table('audit_entry')
    op.drop_table('moderation_settings')
