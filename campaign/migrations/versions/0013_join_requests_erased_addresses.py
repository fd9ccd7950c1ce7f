"""join requests and erased addresses

Revision ID: 0013
Revises: 0012

"""
from typing import Sequence, Union

from alembic import op
import campaign.db
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0013'
down_revision: Union[str, Sequence[str], None] = '0012'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: pending self-enrolments live in a table, erasures leave a tombstone.

    Confirmation mails of the old format carried the person's name, address and IP in their
    link; those links confirm nothing any more, so the mails keep only kind, state and times.
    """
    op.create_table('erased_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('erased_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_erased_address_campaign_id_campaign'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erased_address')),
    sa.UniqueConstraint('campaign_id', 'address_hash', name=op.f('uq_erased_address_campaign_id_address_hash'))
    )
    op.create_table('join_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('pilot_group_id', sa.Integer(), nullable=True),
    sa.Column('group_key', sa.String(length=64), nullable=False),
    sa.Column('secret', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('shown_language', sa.String(length=2), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('requested_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('participant_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_join_request_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_join_request_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], name=op.f('fk_join_request_participant_id_participant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['pilot_group_id'], ['pilot_group.id'], name=op.f('fk_join_request_pilot_group_id_pilot_group'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_join_request'))
    )
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.create_index('ix_join_request_campaign_email', ['campaign_id', 'email'], unique=False)
        batch_op.create_index(batch_op.f('ix_join_request_expires_at'), ['expires_at'], unique=False)

    op.execute(
        "UPDATE message SET state = 'cancelled', last_answer = 'cancelled: expired'"
        " WHERE kind = 'confirmation' AND state IN ('queued', 'retry')"
    )
    op.execute(
        "UPDATE message SET source_key = 'join:expired:' || CAST(id AS VARCHAR(20)),"
        " recipient = 'confirmation@expired.invalid', subject = '', text_body = '',"
        " html_body = '', headers = '{}'"
        " WHERE kind = 'confirmation' AND state <> 'sending'"
    )


def downgrade() -> None:
    """Downgrade schema (pending requests and tombstones are lost; emptied mails stay empty)."""
    with op.batch_alter_table('join_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_join_request_expires_at'))
        batch_op.drop_index('ix_join_request_campaign_email')

    op.drop_table('join_request')
    op.drop_table('erased_address')
