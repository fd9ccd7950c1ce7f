"""message participant index

Revision ID: 0019
Revises: 0018

A participant's mail is read and changed whenever they are paused, resumed, unsubscribed or
erased; without an index each of those scanned the whole outbox (a third of a second a person
at 600,000 mails, measured by bench/purge.py's one-by-one baseline).
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0019'
down_revision: Union[str, Sequence[str], None] = '0018'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index('ix_message_participant_id', 'message', ['participant_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_message_participant_id', table_name='message')
