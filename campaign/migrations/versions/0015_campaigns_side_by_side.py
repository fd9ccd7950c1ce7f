"""campaigns side by side: the audit trail per campaign

Revision ID: 0015
Revises: 0014

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0015'
down_revision: Union[str, Sequence[str], None] = '0014'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The one campaign of a database made before several could run side by side (none: no rows).
ONLY_CAMPAIGN = "(SELECT MIN(id) FROM campaign HAVING COUNT(*) = 1)"


def upgrade() -> None:
    """Upgrade schema: each audit event names its campaign. A database with one campaign gives
    it everything that named none (its audit trail, its staff's mail), so each page of that
    campaign shows what it showed before."""
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('campaign_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_audit_event_campaign_id_campaign'), 'campaign', ['campaign_id'], ['id'], ondelete='CASCADE')
        batch_op.create_index('ix_audit_event_campaign_id_occurred_at', ['campaign_id', 'occurred_at'], unique=False)
    op.execute(f"UPDATE audit_event SET campaign_id = {ONLY_CAMPAIGN} WHERE campaign_id IS NULL")
    op.execute(f"UPDATE message SET campaign_id = {ONLY_CAMPAIGN} WHERE campaign_id IS NULL")


def downgrade() -> None:
    """Downgrade schema (the staff's mail keeps its campaign)."""
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_event_campaign_id_occurred_at')
        batch_op.drop_constraint(batch_op.f('fk_audit_event_campaign_id_campaign'), type_='foreignkey')
        batch_op.drop_column('campaign_id')
