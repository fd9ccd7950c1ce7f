"""questionnaire versions

Revision ID: 0024
Revises: 0023

Each questionnaire of a campaign can keep its own copy of its definition, edited in the web UI:
every save is a version holding the same YAML text as the shipped file. A questionnaire copied
as a new version starts unsent (is_sending false); those there before keep being sent.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0024'
down_revision: Union[str, Sequence[str], None] = '0023'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'questionnaire_version',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('questionnaire_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('note', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['user_account.id'],
            name=op.f('fk_questionnaire_version_author_id_user_account'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['questionnaire_id'], ['questionnaire.id'],
            name=op.f('fk_questionnaire_version_questionnaire_id_questionnaire'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_questionnaire_version')),
        sa.UniqueConstraint(
            'questionnaire_id', 'number',
            name=op.f('uq_questionnaire_version_questionnaire_id_number'),
        ),
    )
    with op.batch_alter_table('questionnaire', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('is_sending', sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('questionnaire', schema=None) as batch_op:
        batch_op.drop_column('is_sending')
    op.drop_table('questionnaire_version')
