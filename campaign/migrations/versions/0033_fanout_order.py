"""fan-out order

Revision ID: 0033
Revises: 0032

A fan-out reads a campaign's participants (or an event's invitations) in id order, a batch after
the last one queued (`WHERE campaign_id = ? AND id > ? ORDER BY id LIMIT n`). With only the
(campaign_id, email) index the database reads and sorts the whole campaign for every batch; with
(campaign_id, id) it reads the batch. The same for (event_id, id) of the invitations.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0033'
down_revision: Union[str, Sequence[str], None] = '0032'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_participant_campaign_id_id', 'participant', ['campaign_id', 'id'])
    op.create_index('ix_invitation_event_id_id', 'invitation', ['event_id', 'id'])


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_invitation_event_id_id', table_name='invitation')
    op.drop_index('ix_participant_campaign_id_id', table_name='participant')
