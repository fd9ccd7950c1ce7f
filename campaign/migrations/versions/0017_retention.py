"""retention: how long a campaign keeps personal data, the warning, the purge

Revision ID: 0017
Revises: 0016

Every campaign keeps its participants' personal data 12 months after its end unless the lead
administrator says otherwise; the `retention` job warns the lead administrators 30 days before
(a mail of the new kind 'notice') and then purges. A purged participant keeps the moment their
address went on the suppression list (the address itself goes), so the report still counts it.
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0017'
down_revision: Union[str, Sequence[str], None] = '0016'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

KINDS = (
    "'sequence_step', 'invitation', 'reminder', 'questionnaire', 'confirmation', "
    "'staff_invitation', 'login_link', 'test'"
)


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('retention_months', sa.Integer(), nullable=False, server_default='12')
        )
        batch_op.add_column(sa.Column('retention_warned_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('purged_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(
            'retention_months_range', "retention_months BETWEEN 0 AND 120"
        )
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('suppressed_at', campaign.db.UTCDateTime(timezone=True), nullable=True))
    _allow_kinds(KINDS + ", 'notice'")


def downgrade() -> None:
    """Downgrade schema: a notice becomes a test mail, which staff see the envelope of."""
    op.execute("UPDATE message SET kind = 'test' WHERE kind = 'notice'")
    _allow_kinds(KINDS)
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('suppressed_at')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_campaign_retention_months_range'), type_='check')
        batch_op.drop_column('purged_at')
        batch_op.drop_column('retention_warned_at')
        batch_op.drop_column('retention_months')


def _allow_kinds(kinds: str) -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_message_message_kind'), type_='check')
        batch_op.create_check_constraint('message_kind', f"kind IN ({kinds})")
