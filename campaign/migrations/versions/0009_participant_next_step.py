"""participant next step

Revision ID: 0009
Revises: 0008

"""
from typing import Sequence, Union

from alembic import op
import campaign.db
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema: NULL for everyone, so the drip engine looks at each participant once."""
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_step_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_participant_next_step_at'), ['next_step_at'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participant_next_step_at'))
        batch_op.drop_column('next_step_at')
