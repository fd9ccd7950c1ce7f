"""national scale indexes

Revision ID: 0032
Revises: 0031

What the report, the dashboard and the dispatcher need at a million participants and fifteen
million mails (bench/scale_report.py): the mail not yet sent in claim order (a partial index,
so a claim reads a few entries whatever the backlog), narrow covering indexes that the report's
and the dashboard's counts of mail read instead of the wide table, and indexes on the foreign
keys that erasure's cascades and the report's joins follow. On PostgreSQL the message table gets
its own autovacuum settings (README, sizing): the counts read the covering indexes only where
the visibility map is up to date, and the table grows by inserts.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0032'
down_revision: Union[str, Sequence[str], None] = '0031'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UNSENT = "state IN ('queued', 'retry', 'sending')"
STEPS = "kind = 'sequence_step' AND state = 'sent'"
QUESTIONNAIRES = "kind = 'questionnaire'"
AUTOVACUUM = (
    'autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.01,'
    ' autovacuum_vacuum_insert_scale_factor = 0.02'
)


def upgrade() -> None:
    """Upgrade schema."""
    op.create_index(
        'ix_message_due', 'message', ['due_at', 'id'], unique=False,
        postgresql_where=sa.text(UNSENT), sqlite_where=sa.text(UNSENT),
    )
    op.create_index(
        'ix_message_report', 'message', ['campaign_id', 'state', 'sent_at'], unique=False,
        postgresql_include=['organisation_id', 'participant_id', 'due_at'],
    )
    op.create_index(
        'ix_message_steps', 'message', ['campaign_id', 'organisation_id', 'participant_id'],
        unique=False, postgresql_include=['sent_at', 'source_key'],
        postgresql_where=sa.text(STEPS), sqlite_where=sa.text(STEPS),
    )
    op.create_index(
        'ix_message_questionnaire', 'message', ['source_key'], unique=False,
        postgresql_ops={'source_key': 'varchar_pattern_ops'},
        postgresql_include=['participant_id', 'state'],
        postgresql_where=sa.text(QUESTIONNAIRES), sqlite_where=sa.text(QUESTIONNAIRES),
    )
    op.create_index('ix_participant_status', 'participant', ['status'], unique=False)
    op.create_index('ix_consent_participant_id', 'consent', ['participant_id'], unique=False)
    op.create_index(
        'ix_invitation_participant_id', 'invitation', ['participant_id'], unique=False
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'ALTER TABLE message SET ({AUTOVACUUM})')


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(
            'ALTER TABLE message RESET (autovacuum_vacuum_scale_factor,'
            ' autovacuum_analyze_scale_factor, autovacuum_vacuum_insert_scale_factor)'
        )
    op.drop_index('ix_invitation_participant_id', table_name='invitation')
    op.drop_index('ix_consent_participant_id', table_name='consent')
    op.drop_index('ix_participant_status', table_name='participant')
    op.drop_index('ix_message_questionnaire', table_name='message')
    op.drop_index('ix_message_steps', table_name='message')
    op.drop_index('ix_message_report', table_name='message')
    op.drop_index('ix_message_due', table_name='message')
