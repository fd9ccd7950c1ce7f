"""mail texts

Revision ID: 0025
Revises: 0024

A campaign's own wording of a mail template (an invitation, a reminder, a confirmation...) in
one language, edited in the web UI. A campaign without a row sends the shipped text, as before.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0025'
down_revision: Union[str, Sequence[str], None] = '0024'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'mail_text',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('subject', sa.String(length=500), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=True),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user_account.id'],
            name=op.f('fk_mail_text_author_id_user_account'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaign.id'],
            name=op.f('fk_mail_text_campaign_id_campaign'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_text')),
        sa.UniqueConstraint(
            'campaign_id', 'name', 'language', name=op.f('uq_mail_text_campaign_id_name_language')
        ),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('mail_text')
