"""webhooks

Revision ID: 0031
Revises: 0030

Signed webhooks: a receiver subscribes to a campaign's events (or one member's), and each event
on its way to it is a delivery row that the webhooks job sends, retries and records.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import campaign.db


# revision identifiers, used by Alembic.
revision: str = '0031'
down_revision: Union[str, Sequence[str], None] = '0030'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

STATES = ('pending', 'sending', 'retrying', 'succeeded', 'failed')


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'webhook_subscription',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('url', sa.String(length=2000), nullable=False),
        sa.Column('event_types', sa.String(length=1000), nullable=False),
        sa.Column('secret', sa.String(length=100), nullable=False),
        sa.Column('previous_secret', sa.String(length=100), nullable=True),
        sa.Column('previous_secret_until', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('is_enabled', sa.Boolean(), nullable=False),
        sa.Column('disabled_reason', sa.String(length=500), nullable=False),
        sa.Column('disabled_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('failing_since', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('failures_in_a_row', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaign.id'],
            name=op.f('fk_webhook_subscription_campaign_id_campaign'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['organisation_id'], ['organisation.id'],
            name=op.f('fk_webhook_subscription_organisation_id_organisation'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['created_by_id'], ['user_account.id'],
            name=op.f('fk_webhook_subscription_created_by_id_user_account'), ondelete='SET NULL',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription')),
    )
    op.create_index(
        'ix_webhook_subscription_campaign_id', 'webhook_subscription', ['campaign_id']
    )
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('webhook_id', sa.String(length=40), nullable=False),
        sa.Column('event_type', sa.String(length=60), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('occurred_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            'state',
            sa.Enum(*STATES, name='webhook_delivery_state', native_enum=False,
                    create_constraint=True, length=9),
            nullable=False,
        ),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('first_attempt_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('lease_until', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_status', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=False),
        sa.Column('response_ms', sa.Integer(), nullable=True),
        sa.Column('delivered_at', campaign.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', campaign.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('attempts >= 0', name=op.f('ck_webhook_delivery_attempts_count')),
        sa.CheckConstraint(
            "state <> 'sending' OR lease_until IS NOT NULL",
            name=op.f('ck_webhook_delivery_sending_leased'),
        ),
        sa.ForeignKeyConstraint(
            ['subscription_id'], ['webhook_subscription.id'],
            name=op.f('fk_webhook_delivery_subscription_id_webhook_subscription'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('webhook_id', name=op.f('uq_webhook_delivery_webhook_id')),
    )
    op.create_index(
        'ix_webhook_delivery_state_next_attempt_at', 'webhook_delivery',
        ['state', 'next_attempt_at'],
    )
    op.create_index(
        'ix_webhook_delivery_subscription_id_id', 'webhook_delivery', ['subscription_id', 'id']
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_webhook_delivery_subscription_id_id', table_name='webhook_delivery')
    op.drop_index('ix_webhook_delivery_state_next_attempt_at', table_name='webhook_delivery')
    op.drop_table('webhook_delivery')
    op.drop_index('ix_webhook_subscription_campaign_id', table_name='webhook_subscription')
    op.drop_table('webhook_subscription')
