"""Mail outbox, read markers per member and thread, bookmarks with reminders, the previous visit, reminder notices

Revision ID: c1d2e3f4a5b6
Revises: b2d9f0c4e7a1
Create Date: 2026-12-06 19:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c1d2e3f4a5b6'
down_revision = 'b2d9f0c4e7a1'
branch_labels = None
depends_on = None

KINDS_BEFORE = ('reply', 'new_thread', 'mention', 'accepted', 'confirmed', 'assigned', 'pattern_emerging',
                'playbook_updated')
KINDS_AFTER = KINDS_BEFORE + ('reminder',)


def _notification_kinds(kinds):
    # The kind is a non-native enum: its allowed values live in a CHECK constraint, replaced whole.
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notification_notification_kind'), type_='check')
        batch_op.create_check_constraint(op.f('ck_notification_notification_kind'), sa.column('kind').in_(kinds))


def upgrade():
    op.create_table(
        'mail_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('notification_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body_text', sa.Text(), nullable=False),
        sa.Column('body_html', sa.Text(), nullable=False),
        sa.Column('secret', sa.String(length=200), nullable=False),
        sa.Column('status', sa.Enum('queued', 'sent', 'failed', 'held', 'cancelled', name='mail_status',
                                    native_enum=False, create_constraint=True, length=20), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['notification_id'], ['notification.id'],
                                name=op.f('fk_mail_message_notification_id_notification'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_mail_message_user_id_user_account'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_message')),
    )
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.create_index('ix_mail_message_status_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_message_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_message_notification_id'), ['notification_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_message_user_id'), ['user_id'], unique=False)

    op.create_table(
        'thread_read',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('last_read_reply_id', sa.Integer(), nullable=False),
        sa.Column('read_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_thread_read_thread_id_thread'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_thread_read_user_id_user_account'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id', 'thread_id', name=op.f('pk_thread_read')),
    )
    with op.batch_alter_table('thread_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_thread_read_thread_id'), ['thread_id'], unique=False)

    op.create_table(
        'bookmark',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('thread_id', sa.Integer(), nullable=False),
        sa.Column('reply_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('remind_at', sa.DateTime(), nullable=True),
        sa.Column('reminded_at', sa.DateTime(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['reply_id'], ['reply.id'], name=op.f('fk_bookmark_reply_id_reply'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['thread_id'], ['thread.id'], name=op.f('fk_bookmark_thread_id_thread'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_bookmark_user_id_user_account'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bookmark')),
    )
    with op.batch_alter_table('bookmark', schema=None) as batch_op:
        batch_op.create_index('ix_bookmark_remind', ['remind_at', 'reminded_at'], unique=False)
        batch_op.create_index('ix_bookmark_user_created', ['user_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookmark_reply_id'), ['reply_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookmark_thread_id'), ['thread_id'], unique=False)

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('previous_visit_at', sa.DateTime(), nullable=True))

    _notification_kinds(KINDS_AFTER)


def downgrade():
    op.execute("DELETE FROM notification WHERE kind = 'reminder'")
    _notification_kinds(KINDS_BEFORE)
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('previous_visit_at')
    with op.batch_alter_table('bookmark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookmark_thread_id'))
        batch_op.drop_index(batch_op.f('ix_bookmark_reply_id'))
        batch_op.drop_index('ix_bookmark_user_created')
        batch_op.drop_index('ix_bookmark_remind')
    op.drop_table('bookmark')
    with op.batch_alter_table('thread_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_thread_read_thread_id'))
    op.drop_table('thread_read')
    with op.batch_alter_table('mail_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_message_user_id'))
        batch_op.drop_index(batch_op.f('ix_mail_message_notification_id'))
        batch_op.drop_index(batch_op.f('ix_mail_message_created_at'))
        batch_op.drop_index('ix_mail_message_status_due')
    op.drop_table('mail_message')
