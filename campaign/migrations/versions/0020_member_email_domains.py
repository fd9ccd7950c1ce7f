"""member email domains

Revision ID: 0020
Revises: 0019

Each member's known e-mail domains: self-enrolment warns (never refuses) when an address is at
none of them. Existing members start with none, so nobody is warned until a list is given.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0020'
down_revision: Union[str, Sequence[str], None] = '0019'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_domains', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('organisation', schema=None) as batch_op:
        batch_op.drop_column('email_domains')
