"""A webhook subscription (a receiver of a campaign's events, or of one member's) and the
deliveries queued for it, a table like the outbox's."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from campaign.db import Base, enum_column

URL_LENGTH = 2000


class DeliveryState(enum.Enum):
    PENDING = "pending"  # due at next_attempt_at, not tried yet
    SENDING = "sending"  # claimed by the webhooks job until lease_until
    RETRYING = "retrying"  # failed, tried again at next_attempt_at
    SUCCEEDED = "succeeded"  # the receiver answered 2xx
    FAILED = "failed"  # given up: a final 4xx, or three days of failures


class WebhookSubscription(Base):
    """A receiver of events: the whole campaign's (no organisation: the lead administrator's) or
    one member's (its representatives')."""

    __tablename__ = "webhook_subscription"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisation.id", ondelete="CASCADE")
    )
    url: Mapped[str] = mapped_column(String(URL_LENGTH))
    event_types: Mapped[str] = mapped_column(String(1000))  # space-separated
    # Standard Webhooks secrets (whsec_ + base64); the previous one still signs until its time.
    secret: Mapped[str] = mapped_column(String(100))
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_secret_until: Mapped[datetime | None]
    is_enabled: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str] = mapped_column(String(500), default="")
    disabled_at: Mapped[datetime | None]
    # The run of failed attempts going on now (reset by a success): auto-disable reads it.
    failing_since: Mapped[datetime | None]
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_webhook_subscription_campaign_id", "campaign_id"),)

    @property
    def events(self) -> frozenset[str]:
        """The event types the receiver subscribes to."""
        return frozenset(self.event_types.split())


class WebhookDelivery(Base):
    """One event on its way to one receiver: its Standard Webhooks id, body and attempts."""

    __tablename__ = "webhook_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscription.id", ondelete="CASCADE")
    )
    webhook_id: Mapped[str] = mapped_column(String(40), unique=True)  # the webhook-id header
    event_type: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    occurred_at: Mapped[datetime]
    state: Mapped[DeliveryState] = mapped_column(
        enum_column(DeliveryState, "webhook_delivery_state"), default=DeliveryState.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime]
    # The three days of retries count from the first attempt (a redelivery starts them again).
    first_attempt_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    last_status: Mapped[int | None]  # the receiver's HTTP status, None when none came
    last_error: Mapped[str] = mapped_column(String(500), default="")
    response_ms: Mapped[int | None]
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_webhook_delivery_state_next_attempt_at", "state", "next_attempt_at"),
        Index("ix_webhook_delivery_subscription_id_id", "subscription_id", "id"),
        CheckConstraint("attempts >= 0", name="attempts_count"),
        CheckConstraint("state <> 'sending' OR lease_until IS NOT NULL", name="sending_leased"),
    )
