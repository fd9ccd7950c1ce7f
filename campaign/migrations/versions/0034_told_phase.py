"""the phase a campaign's webhook receivers were last told of

Revision ID: 0034
Revises: 0033

The `phases` job compares it with the phase computed from the dates and sends
`campaign.phase_changed` once per change; NULL (every campaign at this upgrade) stands for the
phase the campaign was created in, so a campaign is never "changed" into the phase it began in.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0034'
down_revision: Union[str, Sequence[str], None] = '0033'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.add_column(sa.Column('told_phase', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('campaign') as batch_op:
        batch_op.drop_column('told_phase')
