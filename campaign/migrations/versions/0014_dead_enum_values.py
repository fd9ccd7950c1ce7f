"""dead enum values: the participant status 'bounced' and the message kind 'announcement'

Revision ID: 0014
Revises: 0013

Nothing ever set a participant's status to 'bounced' (a hard bounce puts the address on the
suppression list; the participant keeps their status), and nothing ever queued an
'announcement'. Both leave the CHECK constraints, so that a database made by the migrations and
one made from the models allow the same values.
"""
from typing import Sequence, Union

from alembic import op


# revision identifiers, used by Alembic.
revision: str = '0014'
down_revision: Union[str, Sequence[str], None] = '0013'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATUSES = "'invited', 'active', 'paused', 'unsubscribed', 'completed', 'erased'"
KINDS = (
    "'sequence_step', 'invitation', 'reminder', 'questionnaire', 'confirmation', "
    "'staff_invitation', 'login_link', 'test'"
)


def upgrade() -> None:
    """Upgrade schema."""
    # Were there any: a bounced participant stays stopped, and counts alike in the report; an
    # announcement becomes a test mail, which no engine counts and staff see the envelope of.
    op.execute("UPDATE participant SET status = 'unsubscribed' WHERE status = 'bounced'")
    op.execute("UPDATE message SET kind = 'test' WHERE kind = 'announcement'")
    _allow(STATUSES, KINDS)


def downgrade() -> None:
    """Downgrade schema."""
    _allow(
        STATUSES.replace("'completed'", "'bounced', 'completed'"),
        KINDS.replace("'confirmation'", "'announcement', 'confirmation'"),
    )


def _allow(statuses: str, kinds: str) -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_participant_participant_status'), type_='check')
        batch_op.create_check_constraint('participant_status', f"status IN ({statuses})")
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_message_message_kind'), type_='check')
        batch_op.create_check_constraint('message_kind', f"kind IN ({kinds})")
