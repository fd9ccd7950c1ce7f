"""participant paused until a date

Revision ID: 0018
Revises: 0017

A pause may end on a day of its own (`paused_until`, resumed that morning by the `pauses` job),
and the moment a participant last resumed (`resumed_at`) tells the drip engine which steps came
due during the pause. Both NULL for everyone: existing pauses stay until further notice.
"""
from typing import Sequence, Union

from alembic import op
import campaign.db
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0018'
down_revision: Union[str, Sequence[str], None] = '0017'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('paused_until', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('resumed_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_participant_paused_until'), ['paused_until'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_paused_until'))
        batch_op.drop_column('resumed_at')
        batch_op.drop_column('paused_until')
