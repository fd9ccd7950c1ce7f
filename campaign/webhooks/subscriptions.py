"""Staff's changes to webhook subscriptions: create, rotate the secret, switch off and on,
delete, send a delivery again, send a test event. Each flushes and is audited; the caller
commits. Whether the user may touch the subscription is the views' (accounts/scope.py)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from campaign.audit import record
from campaign.webhooks import emit, receivers, signing
from campaign.webhooks.models import DeliveryState, WebhookDelivery, WebhookSubscription
from campaign.webhooks.payloads import SUBSCRIBABLE


def create(
    db_session: Session,
    *,
    campaign_id: int,
    organisation_id: int | None,
    url: str,
    event_types: Iterable[str],
    actor: Any,
    now: datetime,
    allowed: Collection[str] = (),
) -> WebhookSubscription:
    """Add an enabled subscription with a new secret; raise receivers.Refused for a receiver
    the service will not call."""
    events = [name for name in SUBSCRIBABLE if name in set(event_types)]
    subscription = WebhookSubscription(
        campaign_id=campaign_id,
        organisation_id=organisation_id,
        url=receivers.check(url, allowed),
        event_types=" ".join(events),
        secret=signing.new_secret(),
        is_enabled=True,
        disabled_reason="",
        failures_in_a_row=0,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        updated_at=now,
    )
    db_session.add(subscription)
    db_session.flush()
    _audit(db_session, actor, "webhook.created", subscription, now, url=subscription.url,
           events=events)  # fmt: skip
    return subscription


def rotate(
    db_session: Session, subscription: WebhookSubscription, actor: Any, now: datetime
) -> str:
    """Give the subscription a new secret (the old one signs beside it for a day); return it."""
    secret = signing.rotate(subscription, now)
    subscription.updated_at = now
    _audit(db_session, actor, "webhook.secret_rotated", subscription, now)
    return secret


def set_enabled(
    db_session: Session, subscription: WebhookSubscription, enabled: bool, actor: Any, now: datetime
) -> bool:
    """Switch the receiver on (its run of failures forgotten) or off; False if it already was."""
    if subscription.is_enabled is enabled:
        return False
    subscription.is_enabled, subscription.updated_at = enabled, now
    subscription.disabled_at = None if enabled else now
    subscription.disabled_reason = "" if enabled else "staff"
    if enabled:
        subscription.failing_since, subscription.failures_in_a_row = None, 0
    action = "webhook.enabled" if enabled else "webhook.disabled"
    _audit(db_session, actor, action, subscription, now)
    return True


def delete(
    db_session: Session, subscription: WebhookSubscription, actor: Any, now: datetime
) -> None:
    """Delete the subscription and its delivery log."""
    _audit(db_session, actor, "webhook.deleted", subscription, now, url=subscription.url)
    db_session.delete(subscription)
    db_session.flush()


def redeliver(
    db_session: Session, delivery: WebhookDelivery, actor: Any, now: datetime
) -> WebhookDelivery:
    """Send a delivery again as it was (its webhook-id too), its three days starting anew."""
    delivery.state, delivery.next_attempt_at = DeliveryState.PENDING, now
    delivery.first_attempt_at, delivery.lease_until = None, None
    subscription = db_session.get(WebhookSubscription, delivery.subscription_id)
    assert subscription is not None
    _audit(db_session, actor, "webhook.redelivered", subscription, now, delivery=delivery.id)
    return delivery


def send_test(
    db_session: Session, subscription: WebhookSubscription, actor: Any, now: datetime
) -> None:
    """Queue a test event to the subscription."""
    emit.send_test(db_session, subscription, now)
    _audit(db_session, actor, "webhook.test_sent", subscription, now)


def of_campaign(campaign_id: int) -> Select[WebhookSubscription]:
    """The query of a campaign's subscriptions, the campaign-wide first, then by member."""
    return (
        select(WebhookSubscription)
        .where(WebhookSubscription.campaign_id == campaign_id)
        .order_by(WebhookSubscription.organisation_id.is_not(None), WebhookSubscription.id)
    )


def log_of(subscription: WebhookSubscription) -> Select[WebhookDelivery]:
    """The query of a subscription's deliveries, the latest first."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(WebhookDelivery.id.desc())
    )


def _audit(
    db_session: Session,
    actor: Any,
    action: str,
    subscription: WebhookSubscription,
    now: datetime,
    **details: Any,
) -> None:
    """Audit a change of the subscription (never its secret)."""
    record(
        db_session, actor, action, now=now, campaign_id=subscription.campaign_id,
        organisation_id=subscription.organisation_id, target=f"webhook:{subscription.id}",
        **details,
    )  # fmt: skip
