"""local paragraphs

Revision ID: 0028
Revises: 0027

Member-level wording: each member's own paragraph at the marked places (`{{ local.help }}`)
of a sequence step, per step (by its stable ident), place and language.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0028'
down_revision: Union[str, Sequence[str], None] = '0027'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'local_paragraph',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('membership_id', sa.Integer(), nullable=False),
        sa.Column('sequence', sa.String(length=100), nullable=False),
        sa.Column('step_ident', sa.String(length=40), nullable=False),
        sa.Column('place', sa.String(length=40), nullable=False),
        sa.Column('language', sa.String(length=2), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by', sa.Integer(), nullable=True),
        sa.CheckConstraint('length(text) <= 2000', name=op.f('ck_local_paragraph_text_length')),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaign.id'],
            name=op.f('fk_local_paragraph_campaign_id_campaign'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['membership_id'], ['membership.id'],
            name=op.f('fk_local_paragraph_membership_id_membership'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['updated_by'], ['user_account.id'],
            name=op.f('fk_local_paragraph_updated_by_user_account'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_paragraph')),
        sa.UniqueConstraint(
            'membership_id', 'sequence', 'step_ident', 'place', 'language',
            name=op.f('uq_local_paragraph_membership_id_sequence_step_ident_place_language'),
        ),
    )
    with op.batch_alter_table('local_paragraph', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_local_paragraph_membership_id'), ['membership_id'], unique=False
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('local_paragraph', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_local_paragraph_membership_id'))
    op.drop_table('local_paragraph')
