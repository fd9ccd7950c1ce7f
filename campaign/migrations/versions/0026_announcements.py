"""announcements

Revision ID: 0026
Revises: 0025

An announcement is staff's ad-hoc mail to a segment of a campaign's participants: its texts in
both languages, the segment's criteria, when it goes and how far its queueing has come. Its
mails are messages of the new kind 'announcement', which staff may read like a sequence step.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0026'
down_revision: Union[str, Sequence[str], None] = '0025'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KINDS = (
    "'sequence_step', 'invitation', 'reminder', 'questionnaire', 'confirmation', "
    "'staff_invitation', 'login_link', 'test', 'notice'"
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'announcement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('segment', sa.JSON(), nullable=False),
        sa.Column('subject_sv', sa.String(length=500), nullable=False),
        sa.Column('body_sv', sa.Text(), nullable=False),
        sa.Column('subject_en', sa.String(length=500), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('send_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('state', sa.Enum('scheduled', 'sending', 'sent', 'cancelled', name='announcement_state', native_enum=False, create_constraint=True, length=9), nullable=False),
        sa.Column('reached', sa.Integer(), nullable=False),
        sa.Column('queued', sa.Integer(), nullable=False),
        sa.Column('queued_up_to', sa.Integer(), nullable=False),
        sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('form_key', sa.String(length=64), nullable=False),
        sa.CheckConstraint('queued >= 0 AND reached >= 0', name=op.f('ck_announcement_counts_positive')),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_announcement_author_id_user_account'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_announcement_campaign_id_campaign'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_announcement_organisation_id_organisation')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_announcement')),
        sa.UniqueConstraint('form_key', name=op.f('uq_announcement_form_key')),
    )
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.create_index('ix_announcement_campaign_id', ['campaign_id'], unique=False)
        batch_op.create_index('ix_announcement_state_send_at', ['state', 'send_at'], unique=False)
    _allow_kinds(KINDS + ", 'announcement'")


def downgrade() -> None:
    """Downgrade schema: an announcement's mail becomes a test mail, which staff see the
    envelope of."""
    op.execute("UPDATE message SET kind = 'test' WHERE kind = 'announcement'")
    _allow_kinds(KINDS)
    with op.batch_alter_table('announcement', schema=None) as batch_op:
        batch_op.drop_index('ix_announcement_state_send_at')
        batch_op.drop_index('ix_announcement_campaign_id')
    op.drop_table('announcement')


def _allow_kinds(kinds: str) -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_message_message_kind'), type_='check')
        batch_op.create_check_constraint('message_kind', f"kind IN ({kinds})")
