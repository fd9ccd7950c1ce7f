"""identity links

Revision ID: 0030
Revises: 0029

Single sign-on (OpenID Connect): an account's identity at a provider, issuer and subject.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0030'
down_revision: Union[str, Sequence[str], None] = '0029'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'identity_link',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=300), nullable=False),
        sa.Column('subject', sa.String(length=255), nullable=False),
        sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'],
            name=op.f('fk_identity_link_user_id_user_account'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_link')),
        sa.UniqueConstraint('issuer', 'subject', name=op.f('uq_identity_link_issuer_subject')),
    )
    with op.batch_alter_table('identity_link', schema=None) as batch_op:
        batch_op.create_index('ix_identity_link_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('identity_link', schema=None) as batch_op:
        batch_op.drop_index('ix_identity_link_user_id')
    op.drop_table('identity_link')
