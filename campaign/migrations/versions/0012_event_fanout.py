"""event fan-out: the calendar mail of an event version on its way, and how far it is

Revision ID: 0012
Revises: 0011

"""
from typing import Sequence, Union

from alembic import op
import campaign.db
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: Union[str, Sequence[str], None] = '0011'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('event_fanout',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('invitation', 'update', 'cancel', name='fanout_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', name='fanout_state', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint('total >= 0 AND done >= 0', name=op.f('ck_event_fanout_counts')),
    sa.CheckConstraint("state <> 'done' OR finished_at IS NOT NULL", name=op.f('ck_event_fanout_done_has_time')),
    sa.ForeignKeyConstraint(['event_id'], ['event.id'], name=op.f('fk_event_fanout_event_id_event'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_fanout'))
    )
    with op.batch_alter_table('event_fanout', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_fanout_event_id'), ['event_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('event_fanout', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_event_fanout_event_id'))

    op.drop_table('event_fanout')
