"""report at scale

Revision ID: 0035
Revises: 0034

What the network's dashboard needs at a million participants (bench/scale_report.py), on
PostgreSQL: the answers as JSONB, which the results read in the database answer by answer
(json text is parsed again for each); statistics on the expression that names a mail's
sequence step, without which the planner expects as many steps as mails and counts eight
million mails in one process instead of in parallel; and, on both databases, a partial index of
the steps sent once per meeting, which the dashboard counts per participant apart from the rest.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql


# revision identifiers, used by Alembic.
revision: str = '0035'
down_revision: Union[str, Sequence[str], None] = '0034'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# '\:e': text() would read ':e' as a bind parameter and write NULL into the predicate.
MEETING_STEPS = "kind = 'sequence_step' AND state = 'sent' AND source_key LIKE '%:seq:%\\:e%'"
STEP = "split_part(split_part(source_key, ':seq:', 2), ':', 1)"  # as campaign/report/dashboard.py


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        'ix_message_meeting_steps', 'message', ['campaign_id', 'organisation_id'], unique=False,
        postgresql_include=['participant_id', 'sent_at', 'source_key'],
        postgresql_where=sa.text(MEETING_STEPS), sqlite_where=sa.text(MEETING_STEPS),
    )
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.alter_column(
        'response', 'answers', type_=postgresql.JSONB(), existing_type=sa.JSON(),
        postgresql_using='answers::jsonb',
    )
    if op.get_bind().dialect.server_version_info >= (14,):  # statistics on an expression
        op.execute(f'CREATE STATISTICS st_message_step ON ({STEP}) FROM message')
        op.execute('ANALYZE message')


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP STATISTICS IF EXISTS st_message_step')
        op.alter_column(
            'response', 'answers', type_=sa.JSON(), existing_type=postgresql.JSONB(),
            postgresql_using='answers::json',
        )
    op.drop_index('ix_message_meeting_steps', table_name='message')
