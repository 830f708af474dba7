"""Direct messages (conversations, members, messages, blocks, reports), product ideas (ideas spaces, statuses,
votes, a pattern's idea), uploaded avatars, and the message and idea-status notification kinds

Revision ID: e9b8c7d6a5f4
Revises: d7a1c2b3e4f5
Create Date: 2026-12-06 19:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'e9b8c7d6a5f4'
down_revision = 'd7a1c2b3e4f5'
branch_labels = None
depends_on = None

KINDS_BEFORE = ('reply', 'new_thread', 'mention', 'accepted', 'confirmed', 'assigned', 'pattern_emerging',
                'playbook_updated', 'reminder')
KINDS_AFTER = KINDS_BEFORE + ('message', 'idea_status')
FLAG_REASONS = ('spam', 'offensive', 'off_topic', 'confidential', 'duplicate', 'other')
FLAG_STATUSES = ('open', 'resolved', 'dismissed')
IDEA_STATUSES = ('new', 'under_review', 'planned', 'shipped', 'declined')


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20)


def _notification_kinds(kinds):
    # The kind is a non-native enum: its allowed values live in a CHECK constraint, replaced whole.
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notification_notification_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notification_notification_kind'), sa.column('kind').in_(kinds))


def upgrade():
    op.create_table(
        'conversation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_message_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_conversation_created_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation')),
    )
    with op.batch_alter_table('conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversation_last_message_at'), ['last_message_at'], unique=False)

    op.create_table(
        'conversation_member',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('joined_at', sa.DateTime(), nullable=False),
        sa.Column('last_read_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'],
                                name=op.f('fk_conversation_member_conversation_id_conversation'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_conversation_member_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_member')),
        sa.UniqueConstraint('conversation_id', 'user_id', name=op.f('uq_conversation_member_conversation_id_user_id')),
    )
    with op.batch_alter_table('conversation_member', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_member_user', ['user_id', 'conversation_id'], unique=False)

    op.create_table(
        'message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('conversation_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body_md', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('hidden_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_message_author_id_user_account')),
        sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'],
                                name=op.f('fk_message_conversation_id_conversation'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_conversation_id_id', ['conversation_id', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_author_id'), ['author_id'], unique=False)

    op.create_table(
        'member_block',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('blocker_id', sa.Integer(), nullable=False),
        sa.Column('blocked_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['blocked_id'], ['user_account.id'],
                                name=op.f('fk_member_block_blocked_id_user_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['blocker_id'], ['user_account.id'],
                                name=op.f('fk_member_block_blocker_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_member_block')),
        sa.UniqueConstraint('blocker_id', 'blocked_id', name=op.f('uq_member_block_blocker_id_blocked_id')),
    )
    with op.batch_alter_table('member_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_block_blocked_id'), ['blocked_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_block_blocker_id'), ['blocker_id'], unique=False)

    op.create_table(
        'message_report',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('reporter_id', sa.Integer(), nullable=False),
        sa.Column('reason', _enum(FLAG_REASONS, 'flag_reason'), nullable=False),
        sa.Column('detail', sa.String(length=1000), nullable=False),
        sa.Column('status', _enum(FLAG_STATUSES, 'flag_status'), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
        sa.Column('reviewed_at', sa.DateTime(), nullable=True),
        sa.Column('review_note', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_report_message_id_message'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reporter_id'], ['user_account.id'],
                                name=op.f('fk_message_report_reporter_id_user_account'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reviewed_by_id'], ['user_account.id'],
                                name=op.f('fk_message_report_reviewed_by_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message_report')),
    )
    with op.batch_alter_table('message_report', schema=None) as batch_op:
        batch_op.create_index('ix_message_report_status_created', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_report_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_report_reporter_id'), ['reporter_id'], unique=False)

    op.create_table(
        'idea',
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('status', _enum(IDEA_STATUSES, 'idea_status'), nullable=False),
        sa.Column('status_note', sa.Text(), nullable=False),
        sa.Column('status_changed_by_id', sa.Integer(), nullable=True),
        sa.Column('status_changed_at', sa.DateTime(), nullable=True),
        sa.Column('votes', sa.Integer(), nullable=False),
        sa.Column('customer_org_votes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['status_changed_by_id'], ['user_account.id'],
                                name=op.f('fk_idea_status_changed_by_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_idea_thread_id_thread'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('thread_id', name=op.f('pk_idea')),
    )
    with op.batch_alter_table('idea', schema=None) as batch_op:
        batch_op.create_index('ix_idea_org_votes', ['customer_org_votes', 'votes'], unique=False)
        batch_op.create_index(batch_op.f('ix_idea_status'), ['status'], unique=False)

    op.create_table(
        'idea_vote',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_idea_vote_organisation_id_organisation'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['idea.thread_id'], name=op.f('fk_idea_vote_thread_id_idea'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_idea_vote_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_idea_vote')),
        sa.UniqueConstraint('thread_id', 'user_id', name=op.f('uq_idea_vote_thread_id_user_id')),
    )
    with op.batch_alter_table('idea_vote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idea_vote_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_idea_vote_thread_id'), ['thread_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_idea_vote_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('space', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', _enum(('discussion', 'ideas'), 'space_kind'),
                                      server_default='discussion', nullable=False))
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allow_customer_messages', sa.Boolean(), server_default='0', nullable=False))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('avatar_sha256', sa.String(length=64), nullable=True))
    with op.batch_alter_table('pattern', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idea_thread_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pattern_idea_thread_id_thread'), 'thread', ['idea_thread_id'],
                                    ['id'], ondelete='SET NULL')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_conversation_id_conversation'), 'conversation',
                                    ['conversation_id'], ['id'], ondelete='CASCADE')
    _notification_kinds(KINDS_AFTER)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind IN ('message', 'idea_status')")
    _notification_kinds(KINDS_BEFORE)
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_conversation_id_conversation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_conversation_id'))
        batch_op.drop_column('conversation_id')
    with op.batch_alter_table('pattern', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pattern_idea_thread_id_thread'), type_='foreignkey')
        batch_op.drop_column('idea_thread_id')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('avatar_sha256')
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('allow_customer_messages')
    with op.batch_alter_table('space', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_space_space_kind'), type_='check')
        batch_op.drop_column('kind')
    op.drop_table('idea_vote')
    op.drop_table('idea')
    op.drop_table('message_report')
    op.drop_table('member_block')
    op.drop_table('message')
    op.drop_table('conversation_member')
    op.drop_table('conversation')
