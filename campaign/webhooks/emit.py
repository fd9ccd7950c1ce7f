"""An event happened: queue one delivery to each enabled receiver that subscribes to it, in the
caller's transaction (nothing is sent in a web request: the webhooks job sends).

A member's receiver hears of its own member's events only; a campaign-wide receiver of all the
campaign's. An event of no member (the campaign's phase) goes to the campaign-wide ones.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from campaign.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from campaign.webhooks.payloads import PAYLOADS


def emit(
    db_session: Session,
    *,
    campaign_id: int,
    organisation_id: int | None,
    event_type: str,
    data: BaseModel | dict[str, Any],
    now: datetime,
) -> int:
    """Queue the event for every enabled subscription to it; return how many were queued.

    `data` is checked against the event type's model (payloads.PAYLOADS); a mismatch raises
    pydantic's ValidationError: a programming error, never a receiver's.
    """
    body = checked(event_type, campaign_id, data)
    queued = 0
    for subscription in listening(db_session, campaign_id, organisation_id):
        if event_type in subscription.events:
            queue(db_session, subscription, event_type, body, now)
            queued += 1
    return queued


def checked(event_type: str, campaign_id: int, data: BaseModel | dict[str, Any]) -> dict[str, Any]:
    """Return the event's data as JSON values, checked against its documented model."""
    given = data.model_dump() if isinstance(data, BaseModel) else data
    model = PAYLOADS[event_type].model_validate({"campaign_id": campaign_id, **given})
    return model.model_dump(mode="json")


def listening(
    db_session: Session, campaign_id: int, organisation_id: int | None
) -> list[WebhookSubscription]:
    """Return the enabled subscriptions that may hear of an event of the member (None: none)."""
    whose: ColumnElement[bool] = WebhookSubscription.organisation_id.is_(None)
    if organisation_id is not None:
        whose = or_(whose, WebhookSubscription.organisation_id == organisation_id)
    query = select(WebhookSubscription).where(
        WebhookSubscription.campaign_id == campaign_id, WebhookSubscription.is_enabled, whose
    )
    return list(db_session.scalars(query.order_by(WebhookSubscription.id)))


def queue(
    db_session: Session,
    subscription: WebhookSubscription,
    event_type: str,
    data: dict[str, Any],
    now: datetime,
) -> WebhookDelivery:
    """Add one delivery of the event to the subscription, due at once."""
    delivery = WebhookDelivery(
        subscription_id=subscription.id,
        webhook_id="msg_" + secrets.token_urlsafe(18),
        event_type=event_type,
        data=data,
        occurred_at=now,
        state=DeliveryState.PENDING,
        attempts=0,
        next_attempt_at=now,
        last_error="",
        created_at=now,
    )
    db_session.add(delivery)
    return delivery


def send_test(db_session: Session, subscription: WebhookSubscription, now: datetime) -> None:
    """Queue a `test` event to the subscription only."""
    data = checked("test", subscription.campaign_id, {"subscription_id": subscription.id})
    queue(db_session, subscription, "test", data, now)
