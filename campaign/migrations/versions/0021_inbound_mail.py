"""inbound mail: the messages that come back, and the participant status 'bounced'

Revision ID: 0021
Revises: 0020

Each message received by the IMAP job or `campaign inbound` is kept with its raw bytes and what
was done with it. A participant whose address the mail servers refuse for good is now 'bounced'
(0014 removed the value when nothing set it).
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0021'
down_revision: Union[str, Sequence[str], None] = '0020'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATUSES = "'invited', 'active', 'paused', 'unsubscribed', 'completed', 'erased'"
KINDS = (
    'hard_bounce', 'soft_bounce', 'delayed', 'calendar_reply', 'calendar_counter', 'auto_reply',
    'complaint', 'other', 'unreadable',
)
OUTCOMES = ('applied', 'recorded', 'stale', 'no_match', 'erased', 'kept')


def upgrade() -> None:
    """Upgrade schema."""
    _allow(STATUSES.replace("'completed'", "'bounced', 'completed'"))
    op.create_table('inbound_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('outbox_message_id', sa.Integer(), nullable=True),
    sa.Column('event_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('received_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('envelope_to', sa.String(length=320), nullable=False),
    sa.Column('from_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=500), nullable=False),
    sa.Column('header_message_id', sa.String(length=300), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('raw', sa.LargeBinary(), nullable=False),
    sa.Column('kind', sa.Enum(*KINDS, name='inbound_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('outcome', sa.Enum(*OUTCOMES, name='inbound_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('detail', sa.String(length=1000), nullable=False),
    sa.Column('needs_attention', sa.Boolean(), nullable=False),
    sa.Column('dismissed_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('dismissed_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_inbound_message_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_inbound_message_organisation_id_organisation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_inbound_message_participant_id_participant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['outbox_message_id'], ['message.id'], name=op.f('fk_inbound_message_outbox_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['dismissed_by'], ['user_account.id'], name=op.f('fk_inbound_message_dismissed_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_message'))
    )
    with op.batch_alter_table('inbound_message', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_message_campaign_received', ['campaign_id', 'received_at'], unique=False)
        batch_op.create_index('ix_inbound_message_participant_id', ['participant_id'], unique=False)
        batch_op.create_index('ix_inbound_message_digest', ['digest'], unique=True)
        batch_op.create_index('ix_inbound_message_from_address', ['from_address'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('inbound_message')
    op.execute("UPDATE participant SET status = 'unsubscribed' WHERE status = 'bounced'")
    _allow(STATUSES)


def _allow(statuses: str) -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_participant_participant_status'), type_='check')
        batch_op.create_check_constraint('participant_status', f"status IN ({statuses})")
