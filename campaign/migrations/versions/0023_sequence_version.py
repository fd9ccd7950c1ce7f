"""sequence version

Revision ID: 0023
Revises: 0022

Each campaign's own copy of its sequences, kept as versions of the shipped Markdown files (one
JSON object of file texts per version). A campaign without a row follows the shipped files.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0023'
down_revision: Union[str, Sequence[str], None] = '0022'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'sequence_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.String(length=64), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaign.id'],
            name=op.f('fk_sequence_version_campaign_id_campaign'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user_account.id'],
            name=op.f('fk_sequence_version_author_id_user_account'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sequence_version')),
        sa.UniqueConstraint(
            'campaign_id', 'sequence', 'number',
            name=op.f('uq_sequence_version_campaign_id_sequence_number'),
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('sequence_version')
