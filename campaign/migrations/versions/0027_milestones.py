"""milestones

Revision ID: 0027
Revises: 0026

Named dates of a campaign, or of one member in it ("teams": 2027-03-01), that sequence steps can
be anchored to (`anchor: milestone:teams`). A member's milestone stands in place of the
campaign's of the same name for that member's participants.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0027'
down_revision: Union[str, Sequence[str], None] = '0026'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'milestone',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=40), nullable=False),
        sa.Column('description', sa.String(length=200), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaign.id'],
            name=op.f('fk_milestone_campaign_id_campaign'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisation.id'],
            name=op.f('fk_milestone_organisation_id_organisation'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_milestone')),
        sa.UniqueConstraint(
            'campaign_id', 'organisation_id', 'name',
            name=op.f('uq_milestone_campaign_id_organisation_id_name'),
        ),
    )
    op.create_index(
        'uq_milestone_campaign_wide', 'milestone', ['campaign_id', 'name'], unique=True,
        sqlite_where=sa.text('organisation_id IS NULL'),
        postgresql_where=sa.text('organisation_id IS NULL'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('uq_milestone_campaign_wide', table_name='milestone')
    op.drop_table('milestone')
