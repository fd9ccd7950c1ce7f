"""campaign phases: invitations before the start, and the archive

Revision ID: 0016
Revises: 0015

Existing campaigns keep their participants' meeting invitations until the start (the
setting is off) and are not archived.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0016'
down_revision: Union[str, Sequence[str], None] = '0015'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'has_early_invitations', sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
        batch_op.add_column(
            sa.Column('archived_at', campaign.db.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_column('archived_at')
        batch_op.drop_column('has_early_invitations')
