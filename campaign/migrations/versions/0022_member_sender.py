"""member sender

Revision ID: 0022
Revises: 0021

How each member's participants see the sender of their mail: a From display name (always on
the campaign's own address), a Reply-To at the member, and a small logo for the HTML part. A
member without a row keeps the campaign's sender, as before.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0022'
down_revision: Union[str, Sequence[str], None] = '0021'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'member_sender',
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('display_name', sa.String(length=100), nullable=False),
        sa.Column('reply_to', sa.String(length=320), nullable=False),
        sa.Column('logo', sa.LargeBinary(), nullable=True),
        sa.Column('logo_type', sa.String(length=20), nullable=True),
        sa.Column('logo_digest', sa.String(length=64), nullable=True),
        sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "logo_type IS NULL OR logo_type IN ('image/png', 'image/jpeg')",
            name=op.f('ck_member_sender_logo_type_known'),
        ),
        sa.ForeignKeyConstraint(
            ['membership_id'], ['membership.id'],
            name=op.f('fk_member_sender_membership_id_membership'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('membership_id', name=op.f('pk_member_sender')),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('member_sender')
